/** nalu-wasm for Bun: Bun.file reads the .wasm file beside this module. */
import { makeInit } from '../wasm/init.js';
import { loadWithBunFile } from '../wasm/load-bun.js';

export * from '../api.js';

/** Loads and instantiates the module (once per build per process); call and await it first. */
export const init = makeInit(loadWithBunFile);
