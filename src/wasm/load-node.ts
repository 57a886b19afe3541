import { readFile } from 'node:fs/promises';
import type { Backend } from './exports.js';

/**
 * Node, Deno and Bun: read the .wasm file beside this module (the package's dist/), or the
 * development build (build/) when running from source. Node's fetch cannot load file: URLs.
 */
export async function loadFromFile(backend: Backend): Promise<WebAssembly.Module> {
  const candidates = [
    new URL(`./nalu-${backend}.wasm`, import.meta.url),
    new URL(`../../build/nalu-${backend}.wasm`, import.meta.url),
  ];
  let lastError: unknown;
  for (const url of candidates) {
    try {
      return await WebAssembly.compile(await readFile(url));
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`nalu-wasm: cannot read nalu-${backend}.wasm beside the package's code (${(lastError as Error).message})`);
}
