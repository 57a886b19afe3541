/** nalu-wasm for Bun: Bun.file reads the .wasm file beside this module; threads are Bun's node:worker_threads. */
import { makeInit } from '../wasm/init.js';
import { loadWithBunFile } from '../wasm/load-bun.js';

export * from '../api.js';

/** Loads and instantiates the module (once per build per process); call and await it first. */
export const init = makeInit(loadWithBunFile, () => import('../wasm/threads-node.js').then((t) => t.spawnNodeThreads));
