import { readFile } from 'node:fs/promises';
import type { Build } from './exports.js';
import { compileBytes, loadFailed, packagedUrl } from './init.js';

/** The files beside the package's code, each a literal `new URL` that bundlers can see. */
const PACKAGED: Record<Build, () => URL> = {
  simd: () => new URL('./nalu-simd.wasm', import.meta.url),
  scalar: () => new URL('./nalu-scalar.wasm', import.meta.url),
  relaxed: () => new URL('./nalu-relaxed.wasm', import.meta.url),
  threads: () => new URL('./nalu-threads.wasm', import.meta.url),
  'relaxed-threads': () => new URL('./nalu-relaxed-threads.wasm', import.meta.url),
};

/** Where loadFromFile reads the module of `backend`. */
export function wasmFile(backend: Build): URL {
  const here = packagedUrl(() => new URL(import.meta.url));
  return /\/src\/wasm\/load-node\.[cm]?[jt]s$/.test(here.pathname) ? new URL(`../../build/nalu-${backend}.wasm`, here) : PACKAGED[backend]();
}

/**
 * Node (and Deno or Bun when they resolve the `node` condition): read the .wasm file beside
 * this module, the package's dist/. Node's fetch cannot load file: URLs. Running from source
 * (src/wasm/load-node.ts under tsx or vitest), the files are the development build in build/.
 */
export async function loadFromFile(backend: Build): Promise<WebAssembly.Module> {
  const url = wasmFile(backend);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await readFile(url);
  } catch (err) {
    loadFailed(url.href, err);
  }
  return compileBytes(bytes, url.href);
}
