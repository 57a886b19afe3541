import type { Backend } from './exports.js';
import { compileResponse, loadFailed, packagedUrl } from './init.js';

/**
 * Browsers, Deno and the `default` condition: fetch the .wasm file beside this module.
 *
 * Each URL is a literal `new URL('./file.wasm', import.meta.url)`, the pattern that bundlers
 * (Vite, webpack 5, Parcel, esbuild with a plugin) recognise: they copy the file into their
 * output and rewrite the URL. compileResponse streams the compilation when the server sends
 * application/wasm and falls back to the bytes otherwise.
 */
const PACKAGED: Record<Backend, () => URL> = {
  simd: () => new URL('./nalu-simd.wasm', import.meta.url),
  scalar: () => new URL('./nalu-scalar.wasm', import.meta.url),
  relaxed: () => new URL('./nalu-relaxed.wasm', import.meta.url),
};

export function wasmUrl(backend: Backend): URL {
  return packagedUrl(PACKAGED[backend]);
}

/** Fetches and compiles the module at `url` (a packaged file). */
export async function fetchModule(url: URL): Promise<WebAssembly.Module> {
  return compileResponse(fetch(url).catch((err: unknown) => loadFailed(url.href, err)));
}

export async function loadFromUrl(backend: Backend): Promise<WebAssembly.Module> {
  return fetchModule(wasmUrl(backend));
}
