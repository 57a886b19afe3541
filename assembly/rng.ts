// xoshiro128** (Blackman & Vigna): a 4-word state seeded from 32 bits by four rounds of
// SplitMix32, as src/rng.ts does. The task generators (tasks.ts) run four of them, one per
// SIMD lane; seedState writes a state whose words are `stride` bytes apart.

export function seedState(state: usize, stride: usize, seed: u32): void {
  let x = seed;
  let nonzero: u32 = 0;
  for (let i = 0; i < 4; i++) {
    x += 0x9e3779b9;
    let z = x;
    z = (z ^ (z >>> 16)) * 0x85ebca6b;
    z = (z ^ (z >>> 13)) * 0xc2b2ae35;
    z = z ^ (z >>> 16);
    store<u32>(state + <usize>i * stride, z);
    nonzero |= z;
  }
  if (nonzero == 0) store<u32>(state, 1);
}
