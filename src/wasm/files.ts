import type { Build } from './exports.js';
import { packagedUrl } from './init.js';
import { wasmUrl } from './load-fetch.js';

/**
 * Every build's file beside the package's code, for the entries that run threads (Node, Deno,
 * Bun). The browser entry names only the single-thread builds (load-fetch.ts), so that bundlers
 * copy no file it cannot use. Each URL is a literal `new URL`, which bundlers see.
 */
const THREADS: Record<'threads' | 'relaxed-threads', () => URL> = {
  threads: () => new URL('./nalu-threads.wasm', import.meta.url),
  'relaxed-threads': () => new URL('./nalu-relaxed-threads.wasm', import.meta.url),
};

export function buildUrl(build: Build): URL {
  return build === 'threads' || build === 'relaxed-threads' ? packagedUrl(THREADS[build]) : wasmUrl(build);
}
