import type { Build } from './exports.js';
import { compileResponse, loadFailed, packagedUrl } from './init.js';

/**
 * The builds' files beside the package's code (every entry but workerd's, which imports its
 * modules). Each URL is a literal `new URL('./file.wasm', import.meta.url)`, the pattern that
 * bundlers (Vite, webpack 5, Parcel, esbuild with a plugin) recognise: they copy the file into
 * their output and rewrite the URL.
 */
const PACKAGED: Record<Build, () => URL> = {
  simd: () => new URL('./nalu-simd.wasm', import.meta.url),
  scalar: () => new URL('./nalu-scalar.wasm', import.meta.url),
  relaxed: () => new URL('./nalu-relaxed.wasm', import.meta.url),
  threads: () => new URL('./nalu-threads.wasm', import.meta.url),
  'relaxed-threads': () => new URL('./nalu-relaxed-threads.wasm', import.meta.url),
};

export function buildUrl(build: Build): URL {
  return packagedUrl(PACKAGED[build]);
}

/**
 * Browsers, Deno and the `default` condition: fetch the .wasm file beside this module.
 * compileResponse streams the compilation when the server sends application/wasm and falls back
 * to the bytes otherwise.
 */
export async function loadFromUrl(build: Build): Promise<WebAssembly.Module> {
  const url = buildUrl(build);
  return compileResponse(fetch(url).catch((err: unknown) => loadFailed(url.href, err)));
}
