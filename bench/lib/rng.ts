// The benchmarks' seeded generator: mulberry32 (Tommy Ettinger's 32-bit state, 2^32 period),
// the same algorithm as test/helpers.ts's prng. Uniform floats are draws / 2^32, in [0, 1).
// No Math.random anywhere in bench/: every run times the same numbers.

export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n uniform values in [lo, hi), as float32. */
export function uniformArray(rand: () => number, n: number, lo: number, hi: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}
