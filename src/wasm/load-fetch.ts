import type { Build } from './exports.js';
import { buildUrl } from './files.js';
import { compileResponse, loadFailed } from './init.js';

/**
 * Browsers, Deno and the `default` condition: fetch the .wasm file beside this module.
 * compileResponse streams the compilation when the server sends application/wasm and falls back
 * to the bytes otherwise.
 */
export async function loadFromUrl(build: Build): Promise<WebAssembly.Module> {
  const url = buildUrl(build);
  return compileResponse(fetch(url).catch((err: unknown) => loadFailed(url.href, err)));
}
