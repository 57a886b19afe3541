// f32 sine and cosine together (the NPU needs both of one argument): an f32x4 version and a
// scalar twin that performs exactly the same sequence of IEEE f32 operations on each lane (same
// reduction, same polynomials and constants, same evaluation order, no FMA, no f64), so the SIMD
// and scalar builds give identical bits (test/trig.test.ts checks this). The conventions are
// those of math.ts: constants of the f32x4 version live pre-splatted in 16-byte aligned data
// segments (../shared/DESIGN.md section 6); the scalar twin uses the same named constants as
// immediates.
//
// Reduction: n = round(x * 2/pi) by adding 1.5 * 2^23 (round to nearest even, the integer read
// from the low bits of the sum); r = (((x - n P1) - n P2) - n P3) - n P4 with pi/2 split as
// P1 + P2 + P3 + P4: P1, P2 and P3 carry at most 11 significant bits, so n * Pk is exact for
// |n| < 2^13, and x - n P1 is exact (Sterbenz); P4 is the f32 nearest to the rest (the split
// is good to 2^-79 relative). r is clamped to [-1, 1]: a no-op wherever the reduction is
// accurate (|r| <= pi/4 + 1e-6 there), it keeps every result within [-1, 1] and free of NaN
// for every finite x, however large.
// Kernels on z = r^2 (polynomials fitted for this file: minimax in the relative error by linear
// programming on 4000 Chebyshev points of [0, pi/4 + 2e-5], coefficients rounded to f32 one at a
// time from the lowest degree up, refitting the rest after each rounding):
//   sin r = r + r (z S(z)) (r itself at r = +-0, so that sin(-0) = -0),  S of degree 2, fit error
//   3.97e-9 relative (2^-27.9);
//   cos r = w + (((1 - w) - z/2) + z (z C(z))),  w = 1 - z/2 (the rounding error of w is
//   recovered, as in fdlibm's __kernel_cos),  C of degree 2, fit error 1.18e-10 relative.
// Quadrant q = n mod 4 (two's complement bits, so negative n works): sin x = S, C, -S, -C and
// cos x = C, -S, -C, S for q = 0..3; the swap is a bitselect and the sign flips are XORs of the
// sign bit ((n & 2) << 30 for sin, ((n + 1) & 2) << 30 for cos).
//
// Special values: NaN and +-Inf give NaN; sin(+-0) = +-0, cos(+-0) = 1; tiny x gives sin = x.
// Measured error (test/trig.test.ts, against Math.fround(Math.sin/cos(x)) in f64, ulps as the
// distance between f32 bit patterns): at most 1 ulp and at most 6.3e-8 absolute on [-100, 100]
// (6.4e6 points: 2^22 evenly spaced, every 1021st f32 bit pattern with |x| <= 100, and the 100
// f32 on either side of each k pi/2 with |k| <= 63, where sin or cos is smallest; both results
// correctly rounded for 70.8% of the evenly spaced points); also at most 1 ulp and 6.4e-8
// absolute over every f32 in [-100, 100] (2.24e9 points; 99.1% of sines and 99.0% of cosines
// correctly rounded; checked once outside the test suite, on a numpy emulation of exactly these
// f32 operations, which matches the module's worst points).
// Accurate range: |x| < 2^13 pi/2 = 12868 (n P1, n P2 and n P3 exact), absolute error at most
// 1.1e-7 there (7.7e-8 measured over 2^21 evenly spaced points). Beyond, the error grows with
// |x| (about 1e-6 absolute at |x| = 1e5, 3e-2 at 1e6); from |x| = 2^22 pi/2 on the result
// carries no information, but stays within [-1, 1].

import { k4 } from "./math";

// ---------------------------------------------------------------------------------------------
// Constants

const ONE: f32 = 1.0;
const HALF: f32 = 0.5;
const RCLAMP: f32 = 1.0;
const NRCLAMP: f32 = -1.0;
const TWO_OVER_PI: f32 = 0.6366197466850281; // 0x3f22f983
const MAGIC: f32 = 12582912.0; // 1.5 * 2^23
const MAGIC_BITS: i32 = 0x4b400000;
const PIO2_1: f32 = 1.5703125; // 0x3fc90000, 8 significant bits
const PIO2_2: f32 = 0.0004837512969970703; // 0x39fda000, 11 significant bits
const PIO2_3: f32 = 7.549533620476723e-8; // 0x33a22000, 11 significant bits
const PIO2_4: f32 = 2.5633440682570896e-12; // 0x2c34611a, nearest f32 to pi/2 - P1 - P2 - P3
const SIN_S0: f32 = -0.16666655242443085; // 0xbe2aaaa3
const SIN_S1: f32 = 0.008332189172506332; // 0x3c0883bc
const SIN_S2: f32 = -0.0001951829035533592; // 0xb94caa03
const COS_C0: f32 = 0.04166664555668831; // 0x3d2aaaa5
const COS_C1: f32 = -0.0013887309469282627; // 0xbab60614
const COS_C2: f32 = 0.000024432327336398885; // 0x37ccf406
const I_ONE: i32 = 1;
const I_TWO: i32 = 2;

const V_ONE = memory.data<f32>([ONE, ONE, ONE, ONE], 16);
const V_HALF = memory.data<f32>([HALF, HALF, HALF, HALF], 16);
const V_RCLAMP = memory.data<f32>([RCLAMP, RCLAMP, RCLAMP, RCLAMP], 16);
const V_NRCLAMP = memory.data<f32>([NRCLAMP, NRCLAMP, NRCLAMP, NRCLAMP], 16);
const V_TWO_OVER_PI = memory.data<f32>([TWO_OVER_PI, TWO_OVER_PI, TWO_OVER_PI, TWO_OVER_PI], 16);
const V_MAGIC = memory.data<f32>([MAGIC, MAGIC, MAGIC, MAGIC], 16);
const V_MAGIC_BITS = memory.data<i32>([MAGIC_BITS, MAGIC_BITS, MAGIC_BITS, MAGIC_BITS], 16);
const V_PIO2_1 = memory.data<f32>([PIO2_1, PIO2_1, PIO2_1, PIO2_1], 16);
const V_PIO2_2 = memory.data<f32>([PIO2_2, PIO2_2, PIO2_2, PIO2_2], 16);
const V_PIO2_3 = memory.data<f32>([PIO2_3, PIO2_3, PIO2_3, PIO2_3], 16);
const V_PIO2_4 = memory.data<f32>([PIO2_4, PIO2_4, PIO2_4, PIO2_4], 16);
const V_SIN_S0 = memory.data<f32>([SIN_S0, SIN_S0, SIN_S0, SIN_S0], 16);
const V_SIN_S1 = memory.data<f32>([SIN_S1, SIN_S1, SIN_S1, SIN_S1], 16);
const V_SIN_S2 = memory.data<f32>([SIN_S2, SIN_S2, SIN_S2, SIN_S2], 16);
const V_COS_C0 = memory.data<f32>([COS_C0, COS_C0, COS_C0, COS_C0], 16);
const V_COS_C1 = memory.data<f32>([COS_C1, COS_C1, COS_C1, COS_C1], 16);
const V_COS_C2 = memory.data<f32>([COS_C2, COS_C2, COS_C2, COS_C2], 16);
const V_I_ONE = memory.data<i32>([I_ONE, I_ONE, I_ONE, I_ONE], 16);
const V_I_TWO = memory.data<i32>([I_TWO, I_TWO, I_TWO, I_TWO], 16);

// ---------------------------------------------------------------------------------------------
// sincos

/** Stores sin(x) at `sinOut` and cos(x) at `cosOut` (16 bytes each, four lanes). */
// @ts-ignore: decorator
@inline export function sincos4(x: v128, sinOut: usize, cosOut: usize): void {
  const t = f32x4.add(f32x4.mul(x, k4(V_TWO_OVER_PI)), k4(V_MAGIC));
  const nf = f32x4.sub(t, k4(V_MAGIC));
  const n = i32x4.sub(t, k4(V_MAGIC_BITS));
  let r = f32x4.sub(x, f32x4.mul(nf, k4(V_PIO2_1)));
  r = f32x4.sub(r, f32x4.mul(nf, k4(V_PIO2_2)));
  r = f32x4.sub(r, f32x4.mul(nf, k4(V_PIO2_3)));
  r = f32x4.sub(r, f32x4.mul(nf, k4(V_PIO2_4)));
  r = f32x4.min(f32x4.max(r, k4(V_NRCLAMP)), k4(V_RCLAMP));
  const z = f32x4.mul(r, r);
  let p = f32x4.add(f32x4.mul(k4(V_SIN_S2), z), k4(V_SIN_S1));
  p = f32x4.add(f32x4.mul(p, z), k4(V_SIN_S0));
  // r + r (z p) is +0 at r = -0: keep r there (sin(-0) = -0)
  const s = v128.bitselect(r, f32x4.add(r, f32x4.mul(r, f32x4.mul(z, p))), f32x4.eq(r, f32x4.splat(0)));
  let q = f32x4.add(f32x4.mul(k4(V_COS_C2), z), k4(V_COS_C1));
  q = f32x4.add(f32x4.mul(q, z), k4(V_COS_C0));
  const hz = f32x4.mul(k4(V_HALF), z);
  const w = f32x4.sub(k4(V_ONE), hz);
  const c = f32x4.add(w, f32x4.add(f32x4.sub(f32x4.sub(k4(V_ONE), w), hz), f32x4.mul(z, f32x4.mul(z, q))));
  const swap = i32x4.eq(v128.and(n, k4(V_I_ONE)), k4(V_I_ONE));
  const sv = v128.bitselect(c, s, swap);
  const cv = v128.bitselect(s, c, swap);
  v128.store(sinOut, v128.xor(sv, i32x4.shl(v128.and(n, k4(V_I_TWO)), 30)));
  v128.store(cosOut, v128.xor(cv, i32x4.shl(v128.and(i32x4.add(n, k4(V_I_ONE)), k4(V_I_TWO)), 30)));
}

/** The scalar twin of sincos4: stores sin(x) at `sinOut` and cos(x) at `cosOut`. */
// @ts-ignore: decorator
@inline export function sincosS(x: f32, sinOut: usize, cosOut: usize): void {
  const t = x * TWO_OVER_PI + MAGIC;
  const nf = t - MAGIC;
  const n = reinterpret<i32>(t) - MAGIC_BITS;
  let r = x - nf * PIO2_1;
  r = r - nf * PIO2_2;
  r = r - nf * PIO2_3;
  r = r - nf * PIO2_4;
  r = min<f32>(max<f32>(r, NRCLAMP), RCLAMP);
  const z = r * r;
  let p = SIN_S2 * z + SIN_S1;
  p = p * z + SIN_S0;
  const s = select<f32>(r, r + r * (z * p), r == 0);
  let q = COS_C2 * z + COS_C1;
  q = q * z + COS_C0;
  const hz = HALF * z;
  const w = ONE - hz;
  const c = w + (((ONE - w) - hz) + z * (z * q));
  const swap = (n & I_ONE) == I_ONE;
  const sv = select<f32>(c, s, swap);
  const cv = select<f32>(s, c, swap);
  store<f32>(sinOut, reinterpret<f32>(reinterpret<i32>(sv) ^ ((n & I_TWO) << 30)));
  store<f32>(cosOut, reinterpret<f32>(reinterpret<i32>(cv) ^ (((n + I_ONE) & I_TWO) << 30)));
}
