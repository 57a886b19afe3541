import { readFile } from 'node:fs/promises';
import type { Build } from './exports.js';
import { buildUrl } from './load-fetch.js';
import { compileBytes, loadFailed, packagedUrl } from './init.js';

/** Where loadFromFile reads the module of `backend`. */
export function wasmFile(backend: Build): URL {
  const here = packagedUrl(() => new URL(import.meta.url));
  return /\/src\/wasm\/load-node\.[cm]?[jt]s$/.test(here.pathname) ? new URL(`../../build/nalu-${backend}.wasm`, here) : buildUrl(backend);
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
