/**
 * nalu-wasm for workerd (Cloudflare Workers). workerd refuses to compile Wasm from bytes
 * ("Wasm code generation disallowed by embedder"), so both builds are imported as modules:
 * workerd and wrangler compile them at deploy time and hand over a WebAssembly.Module.
 */
import scalar from './nalu-scalar.wasm';
import simd from './nalu-simd.wasm';
import { makeInit } from '../wasm/init.js';

export * from '../api.js';

/** Instantiates the chosen build (once per isolate); call and await it first. */
export const init = makeInit(async (backend) => (backend === 'simd' ? simd : scalar));
