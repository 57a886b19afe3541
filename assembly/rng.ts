// xoshiro128** (Blackman & Vigna) over a 4-word state in linear memory, seeded from 32 bits
// by four rounds of SplitMix32: the same generator as src/rng.ts, draw for draw.
// Uniform draws take the top 24 bits: u = (next >>> 8) * 2^-24, in [0, 1).

// @ts-ignore: decorator
@inline function rotl(x: u32, k: u32): u32 { return (x << k) | (x >>> (32 - k)); }

export function rngSeed(state: usize, seed: u32): void {
  let x = seed;
  let nonzero: u32 = 0;
  for (let i = 0; i < 4; i++) {
    x += 0x9e3779b9;
    let z = x;
    z = (z ^ (z >>> 16)) * 0x85ebca6b;
    z = (z ^ (z >>> 13)) * 0xc2b2ae35;
    z = z ^ (z >>> 16);
    store<u32>(state + (<usize>i << 2), z);
    nonzero |= z;
  }
  if (nonzero == 0) store<u32>(state, 1);
}

export function rngNext(state: usize): u32 {
  const s0 = load<u32>(state), s1 = load<u32>(state, 4), s2 = load<u32>(state, 8), s3 = load<u32>(state, 12);
  const r = rotl(s1 * 5, 7) * 9;
  const t = s1 << 9;
  const n2 = s2 ^ s0;
  const n3 = s3 ^ s1;
  store<u32>(state, s0 ^ n3);
  store<u32>(state, s1 ^ n2, 4);
  store<u32>(state, n2 ^ t, 8);
  store<u32>(state, rotl(n3, 11), 12);
  return r;
}

/** Uniform in [lo, hi), computed in f64 from 24 random bits. */
// @ts-ignore: decorator
@inline export function rngRange(state: usize, lo: f64, hi: f64): f64 {
  return lo + (hi - lo) * (<f64>(rngNext(state) >>> 8) / 16777216.0);
}
