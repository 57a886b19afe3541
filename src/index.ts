/**
 * nalu-wasm: Neural Arithmetic Logic Units (NAC, NAC*, NALU) trained and run in WebAssembly.
 * This entry is the one for Node, Deno and Bun: it reads the .wasm files beside it.
 */
import { makeInit } from './wasm/init.js';
import { loadFromFile } from './wasm/load-node.js';

export const init = makeInit(loadFromFile);
export type { InitInfo, InitOptions, WasmSource } from './wasm/init.js';
export type { Backend } from './wasm/exports.js';
export { nac, nacMul, nalu, type LayerSpec, type LayerType, type InitScheme } from './layers.js';
export { sequential, Model, type SequentialOptions, type Weights, type Numbers } from './model.js';
export { adam, sgd, type Optimizer, type AdamOptions } from './optim.js';
export { NaluError } from './errors.js';
export { simdSupported } from './wasm/probe.js';
