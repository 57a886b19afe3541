// The multiply-add of the matrix products, c + a b.
//
// The default builds compute it as a mul then an add: two roundings, the same bits on every
// engine and CPU, and the same bits as the scalar build. The relaxed-SIMD build (an opt-in extra:
// init({ relaxed: true })) uses f32x4.relaxed_madd, which an engine computes fused (one rounding)
// where the CPU has FMA and as mul + add elsewhere: faster products, results that differ in the
// last bits from the default builds and may differ between engines and CPUs. Within one engine
// every product of that build rounds the same way, so its batch-1 path still matches its batches.

// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** The scalar c + a b of the SIMD builds' remainders, rounded as madd rounds its lanes. */
// @ts-ignore: decorator
@inline export function maddS(a: f32, b: f32, c: f32): f32 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
  return c + a * b;
}
