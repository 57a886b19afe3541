/**
 * nalu-wasm for Node, Deno and Bun: the .wasm files are read from beside this module.
 */
import { readFile } from 'node:fs/promises';
import { makeInit } from './wasm/init.js';
import { loadFromFile } from './wasm/load-node.js';
import { spawnNodeThreads } from './wasm/threads-node.js';

export * from './api.js';

/** Loads and instantiates the module (once per build per process); call and await it first. */
export const init = makeInit(loadFromFile, spawnNodeThreads, readFile);
