/**
 * nalu-wasm for workerd (Cloudflare Workers). workerd refuses to compile Wasm from bytes
 * ("Wasm code generation disallowed by embedder"), so both default builds are imported as
 * modules: workerd and wrangler compile them at deploy time and hand over a WebAssembly.Module.
 * The opt-in relaxed build is not bundled: import nalu-wasm/nalu-relaxed.wasm and pass it as
 * init({ relaxed: true, wasm }).
 */
import scalar from './nalu-scalar.wasm';
import simd from './nalu-simd.wasm';
import { fail } from '../errors.js';
import { makeInit } from '../wasm/init.js';

export * from '../api.js';

/** Instantiates the chosen build (once per isolate); call and await it first. */
export const init = makeInit(async (backend) => {
  if (backend === 'relaxed') fail('init: the workerd entry does not bundle the relaxed build: pass init({ relaxed: true, wasm }) with `import wasm from "nalu-wasm/nalu-relaxed.wasm"`');
  return backend === 'simd' ? simd : scalar;
});
