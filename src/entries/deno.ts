/**
 * nalu-wasm for Deno: fetch() reads the .wasm file beside this module, from a file: URL (needs
 * --allow-read) or from the https: URL the package was imported from. Threads are Deno's
 * node:worker_threads.
 */
import { makeInit } from '../wasm/init.js';
import { loadFromUrl } from '../wasm/load-fetch.js';

export * from '../api.js';

/** Loads and instantiates the module (once per build per process); call and await it first. */
export const init = makeInit(loadFromUrl, () => import('../wasm/threads-node.js').then((t) => t.spawnNodeThreads));
