/**
 * nalu-wasm for browsers and the `default` condition: the .wasm file beside this module is
 * fetched and compiled while it streams in. Bundlers that understand
 * `new URL('./file.wasm', import.meta.url)` copy it along. Threads are Web Workers, on a
 * cross-origin isolated page.
 */
import { makeInit } from '../wasm/init.js';
import { loadFromUrl } from '../wasm/load-fetch.js';

export * from '../api.js';

/** Loads and instantiates the module (once per build); call and await it first. */
export const init = makeInit(loadFromUrl, () => import('../wasm/threads-web.js').then((t) => t.spawnWebThreads));
