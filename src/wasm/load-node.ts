import { readFile } from 'node:fs/promises';
import type { Build } from './exports.js';
import { compileBytes } from './init.js';

/**
 * Node (and Deno or Bun when they resolve the `node` condition): read the .wasm file beside
 * this module, the package's dist/. Node's fetch cannot load file: URLs. Running from source
 * (src/wasm/load-node.ts under tsx or vitest), the files are the development build in build/.
 */
export async function loadFromFile(backend: Build): Promise<WebAssembly.Module> {
  const fromSource = /\/src\/wasm\/load-node\.[cm]?[jt]s$/.test(new URL(import.meta.url).pathname);
  const url = fromSource
    ? new URL(`../../build/nalu-${backend}.wasm`, import.meta.url)
    : backend === 'simd'
      ? new URL('./nalu-simd.wasm', import.meta.url)
      : backend === 'relaxed'
        ? new URL('./nalu-relaxed.wasm', import.meta.url)
        : backend === 'threads'
          ? new URL('./nalu-threads.wasm', import.meta.url)
          : backend === 'relaxed-threads'
            ? new URL('./nalu-relaxed-threads.wasm', import.meta.url)
            : new URL('./nalu-scalar.wasm', import.meta.url);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await readFile(url);
  } catch (err) {
    throw new Error(`nalu-wasm: cannot read nalu-${backend}.wasm beside the package's code (${(err as Error).message})`);
  }
  return compileBytes(bytes, url.href);
}
