import type { Build } from './exports.js';
import { buildUrl } from './load-fetch.js';
import { compileBytes, loadFailed } from './init.js';

interface BunFile {
  arrayBuffer(): Promise<ArrayBuffer>;
}
declare const Bun: { file(path: string | URL): BunFile };

/** Bun: read the .wasm file beside this module with Bun.file. */
export async function loadWithBunFile(build: Build): Promise<WebAssembly.Module> {
  const url = buildUrl(build); // load-fetch.ts sits beside this file in dist/ as in src/
  let bytes: ArrayBuffer;
  try {
    bytes = await Bun.file(url).arrayBuffer();
  } catch (err) {
    loadFailed(url.href, err);
  }
  return compileBytes(bytes, url.href);
}
