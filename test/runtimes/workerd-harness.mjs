// The harness as a Worker, run by `workerd serve` (bundled by the test as wrangler would, with
// the "workerd" condition and the .wasm files as modules).
//   GET /harness  the report of harness.mjs
//   GET /loading  the two ways of getting a module in workerd: compiling bytes (refused:
//                 "Wasm code generation disallowed by embedder") and an imported module (works)
import * as nalu from 'nalu-wasm';
import simdModule from 'nalu-wasm/nalu-simd.wasm';
import simdBytes from './nalu-simd.bytes'; // a Data module: the same file as an ArrayBuffer
import golden from './cases.mjs';
import { runHarness } from './harness.mjs';

const message = (err) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

async function loading() {
  const out = { bytesIsArrayBuffer: simdBytes instanceof ArrayBuffer, moduleIsModule: simdModule instanceof WebAssembly.Module };
  try {
    await WebAssembly.compile(simdBytes);
    out.compileBytes = 'compiled';
  } catch (err) {
    out.compileBytes = message(err);
  }
  try {
    await nalu.init({ wasm: simdBytes, simd: true });
    out.initBytes = 'ok';
  } catch (err) {
    out.initBytes = message(err);
    out.initBytesIsNaluError = err instanceof nalu.NaluError;
  }
  try {
    const info = await nalu.init({ wasm: simdModule, simd: true });
    const m = nalu.sequential([nalu.nac({ inputs: 2, outputs: 1 })]);
    m.setWeights([{ W_hat: [12, 12], M_hat: [20, 20] }]);
    out.initModule = { backend: info.backend, y: Array.from(m.predict([[1.5, 2.25]].flat(), 1)) };
    m.dispose();
  } catch (err) {
    out.initModule = message(err);
  }
  return out;
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === '/harness') {
      return Response.json(await runHarness(nalu, golden, { name: 'workerd', engine: 'V8', userAgent: navigator.userAgent }));
    }
    if (pathname === '/loading') return Response.json(await loading());
    return new Response('not found', { status: 404 });
  },
};
