import type { Backend } from './exports.js';
import { compileBytes, loadFailed, packagedUrl } from './init.js';

interface BunFile {
  arrayBuffer(): Promise<ArrayBuffer>;
}
declare const Bun: { file(path: string | URL): BunFile };

/** Bun: read the .wasm file beside this module with Bun.file. */
export async function loadWithBunFile(backend: Backend): Promise<WebAssembly.Module> {
  const url = packagedUrl(() => backend === 'simd'
    ? new URL('./nalu-simd.wasm', import.meta.url)
    : backend === 'relaxed'
      ? new URL('./nalu-relaxed.wasm', import.meta.url)
      : new URL('./nalu-scalar.wasm', import.meta.url));
  let bytes: ArrayBuffer;
  try {
    bytes = await Bun.file(url).arrayBuffer();
  } catch (err) {
    loadFailed(url.href, err);
  }
  return compileBytes(bytes, url.href);
}
