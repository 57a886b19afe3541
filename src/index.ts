/**
 * nalu-wasm for Node (the "node" export condition; Deno and Bun have entries of their own): the
 * .wasm files are read from beside this module.
 */
import { readFile } from 'node:fs/promises';
import { makeInit } from './wasm/init.js';
import { loadFromFile } from './wasm/load-node.js';

export * from './api.js';

/** Loads and instantiates the module (once per build per process); call and await it first. */
export const init = makeInit(loadFromFile, () => import('./wasm/threads-node.js').then((t) => t.spawnNodeThreads), readFile);
