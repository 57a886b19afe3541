/**
 * The arrays predict returns for a few values (one sample's outputs). Deno 2.9 pays about 0.3 us
 * for every new ArrayBuffer, about a whole batch-1 prediction, where Node pays 0.02 us (a loop of
 * `new Float32Array(1)` against views of one buffer: 0.28 against 0.01 us in Deno). There such
 * arrays are views into a shared 4 KiB buffer, replaced when full, as Node's Buffer.allocUnsafe
 * pools small buffers: each view is the caller's own (no two overlap, the library never writes
 * one again), but its `.buffer` is the shared one.
 */
const POOLED = typeof (globalThis as { Deno?: unknown }).Deno === 'object';
const SLAB_BYTES = 4096;

let slab = new ArrayBuffer(0);
let used = 0;

/** A new Float32Array of n (at most 16) values. */
export function smallResult(n: number): Float32Array {
  if (!POOLED) return new Float32Array(n);
  if (used + 4 * n > slab.byteLength) { // full, or detached by a transfer (byteLength 0)
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const view = new Float32Array(slab, used, n);
  used += 4 * n;
  return view;
}
