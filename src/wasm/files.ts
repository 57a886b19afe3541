import type { Build } from './exports.js';
import { packagedUrl } from './init.js';

/**
 * The builds' files beside the package's code. Each URL is a literal
 * `new URL('./file.wasm', import.meta.url)`, the pattern that bundlers (Vite, webpack 5, Parcel,
 * esbuild with a plugin) recognise: they copy the file into their output and rewrite the URL.
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
