// f32 exp, log, tanh and sigmoid: f32x4 versions and scalar twins.
//
// Every f32x4 function has a scalar twin (suffix S) that performs exactly the same sequence of
// IEEE f32 operations on each lane: same range reduction, same polynomial, same constants, same
// evaluation order, no FMA, no f64. The SIMD build and the scalar build therefore produce
// identical bits (test/math.test.ts checks this; NaN results are NaN in both, but their payload
// and sign bits are not guaranteed, as WebAssembly leaves them nondeterministic).
//
// Constants of the f32x4 versions live in 16-byte aligned data segments, pre-splatted to four
// lanes, and are loaded with v128.load: on V8 a v128.const or f32x4.splat(constant) inside a
// hot loop is rebuilt every iteration (../shared/DESIGN.md section 6). The scalar twins use the
// same named constants as f32.const / i32.const immediates.
//
// Polynomial coefficients were fitted for this file (minimax in the relative error, by linear
// programming on 3000 Chebyshev points, coefficients rounded to f32 one at a time from the lowest
// degree up, refitting the rest after each rounding).
//
// Errors below are measured against Math.fround(Math.<fn>(x)) computed in f64 (the correctly
// rounded f32 of the f64 result), counting ulps as the distance between the f32 bit patterns.
// They hold for both builds (they give identical bits).

// ---------------------------------------------------------------------------------------------
// Constants

const ONE: f32 = 1.0;
const TWO: f32 = 2.0;
const SIGN: i32 = 0x80000000;
const NAN_BITS: i32 = 0x7fc00000;

// exp
const EXP_HI: f32 = 90.0; // clamp: exp(90) overflows to +Inf through the scaling below
const EXP_LO: f32 = -110.0; // clamp: exp(-110) underflows to 0 through the scaling below
const LOG2E: f32 = 1.44269502162933349609375; // 0x3fb8aa3b
const MAGIC: f32 = 12582912.0; // 1.5 * 2^23: adding it rounds to an integer in the low bits
const MAGIC_BITS: i32 = 0x4b400000;
const LN2_HI: f32 = 0.693145751953125; // 0x3f317200, 15 significant bits: n * LN2_HI is exact
const LN2_LO: f32 = 1.428606765330187045037746429443359375e-6; // 0x35bfbe8e, ln2 - LN2_HI
// exp(r) = 1 + r + r^2 Q(r), |r| <= ln2/2 (+ 2e-5); minimax rel. error of the fit 3.1e-9 (2^-28.3)
const EXP_Q0: f32 = 0.4999999403953552; // 0x3efffffe
const EXP_Q1: f32 = 0.1666652113199234; // 0x3e2aaa49
const EXP_Q2: f32 = 0.041668254882097244; // 0x3d2aac55
const EXP_Q3: f32 = 0.008368661627173424; // 0x3c091cb6
const EXP_Q4: f32 = 0.0013821457978338003; // 0x3ab5291e
const EXP_BIAS: i32 = 127;

// log
const LOG_MIN_NORMAL: i32 = 0x00800000;
const LOG_NORMAL_SPAN: i32 = 0x7f000000; // bits - MIN_NORMAL < SPAN (unsigned) <=> normal, > 0, finite
const LOG_SQRTH_BITS: i32 = 0x3f3504f3; // sqrt(1/2): mantissa reduced to [sqrt(1/2), sqrt(2))
const LOG_OFFSET: i32 = 0x004afb0d; // 0x3f800000 - LOG_SQRTH_BITS
const LOG_MANT: i32 = 0x007fffff;
const LOG_SUB_SCALE: f32 = 8388608.0; // 2^23: subnormals are scaled into the normal range
const LOG_SUB_K: i32 = 23 << 23; // 23 subtracted from the exponent field
const NEG_INF: f32 = -Infinity;
const POS_INF: f32 = Infinity;
// log(1 + f) = f + f^2 Q(f), f in [sqrt(1/2) - 1, sqrt(2) - 1]; minimax rel. error 4.2e-9 (2^-27.8)
const LOG_Q0: f32 = -0.49999988079071045; // 0xbefffffc
const LOG_Q1: f32 = 0.33333325386047363; // 0x3eaaaaa8
const LOG_Q2: f32 = -0.25001609325408936; // 0xbe80021c
const LOG_Q3: f32 = 0.20002004504203796; // 0x3e4cd20e
const LOG_Q4: f32 = -0.16608411073684692; // 0xbe2a11f4
const LOG_Q5: f32 = 0.14180853962898254; // 0x3e113642
const LOG_Q6: f32 = -0.1324806809425354; // 0xbe07a904
const LOG_Q7: f32 = 0.12912940979003906; // 0x3e043a80
const LOG_Q8: f32 = -0.0761905238032341; // 0xbd9c09c7

// tanh
const TANH_CUT: f32 = 0.625; // |x| < CUT: odd polynomial; above: 1 - 2 / (exp(2|x|) + 1)
// tanh(a) = a + a^3 P(a^2), a in [0, 0.625]; minimax rel. error 4.5e-9 (2^-27.7)
const TANH_P0: f32 = -0.3333328068256378; // 0xbeaaaa99
const TANH_P1: f32 = 0.13331405818462372; // 0x3e08837b
const TANH_P2: f32 = -0.05373651534318924; // 0xbd5c1ad2
const TANH_P3: f32 = 0.02062816731631756; // 0x3ca8fc67
const TANH_P4: f32 = -0.0056922961957752705; // 0xbbba8671

// Pre-splatted copies for the f32x4 versions.
const V_ONE = memory.data<f32>([ONE, ONE, ONE, ONE], 16);
const V_TWO = memory.data<f32>([TWO, TWO, TWO, TWO], 16);
const V_SIGN = memory.data<i32>([SIGN, SIGN, SIGN, SIGN], 16);
const V_MAX_FINITE_BITS = memory.data<i32>([0x7f7fffff, 0x7f7fffff, 0x7f7fffff, 0x7f7fffff], 16);
const V_NAN = memory.data<i32>([NAN_BITS, NAN_BITS, NAN_BITS, NAN_BITS], 16);

const V_EXP_HI = memory.data<f32>([EXP_HI, EXP_HI, EXP_HI, EXP_HI], 16);
const V_EXP_LO = memory.data<f32>([EXP_LO, EXP_LO, EXP_LO, EXP_LO], 16);
const V_LOG2E = memory.data<f32>([LOG2E, LOG2E, LOG2E, LOG2E], 16);
const V_MAGIC = memory.data<f32>([MAGIC, MAGIC, MAGIC, MAGIC], 16);
const V_MAGIC_BITS = memory.data<i32>([MAGIC_BITS, MAGIC_BITS, MAGIC_BITS, MAGIC_BITS], 16);
const V_LN2_HI = memory.data<f32>([LN2_HI, LN2_HI, LN2_HI, LN2_HI], 16);
const V_LN2_LO = memory.data<f32>([LN2_LO, LN2_LO, LN2_LO, LN2_LO], 16);
const V_EXP_Q0 = memory.data<f32>([EXP_Q0, EXP_Q0, EXP_Q0, EXP_Q0], 16);
const V_EXP_Q1 = memory.data<f32>([EXP_Q1, EXP_Q1, EXP_Q1, EXP_Q1], 16);
const V_EXP_Q2 = memory.data<f32>([EXP_Q2, EXP_Q2, EXP_Q2, EXP_Q2], 16);
const V_EXP_Q3 = memory.data<f32>([EXP_Q3, EXP_Q3, EXP_Q3, EXP_Q3], 16);
const V_EXP_Q4 = memory.data<f32>([EXP_Q4, EXP_Q4, EXP_Q4, EXP_Q4], 16);
const V_EXP_BIAS = memory.data<i32>([EXP_BIAS, EXP_BIAS, EXP_BIAS, EXP_BIAS], 16);

const V_LOG_MIN_NORMAL = memory.data<i32>([LOG_MIN_NORMAL, LOG_MIN_NORMAL, LOG_MIN_NORMAL, LOG_MIN_NORMAL], 16);
const V_LOG_NORMAL_SPAN = memory.data<i32>([LOG_NORMAL_SPAN, LOG_NORMAL_SPAN, LOG_NORMAL_SPAN, LOG_NORMAL_SPAN], 16);
const V_LOG_SQRTH_BITS = memory.data<i32>([LOG_SQRTH_BITS, LOG_SQRTH_BITS, LOG_SQRTH_BITS, LOG_SQRTH_BITS], 16);
const V_LOG_OFFSET = memory.data<i32>([LOG_OFFSET, LOG_OFFSET, LOG_OFFSET, LOG_OFFSET], 16);
const V_LOG_MANT = memory.data<i32>([LOG_MANT, LOG_MANT, LOG_MANT, LOG_MANT], 16);
const V_LOG_SUB_SCALE = memory.data<f32>([LOG_SUB_SCALE, LOG_SUB_SCALE, LOG_SUB_SCALE, LOG_SUB_SCALE], 16);
const V_LOG_SUB_K = memory.data<i32>([LOG_SUB_K, LOG_SUB_K, LOG_SUB_K, LOG_SUB_K], 16);
const V_NEG_INF = memory.data<f32>([NEG_INF, NEG_INF, NEG_INF, NEG_INF], 16);
const V_POS_INF = memory.data<f32>([POS_INF, POS_INF, POS_INF, POS_INF], 16);
const V_LOG_Q0 = memory.data<f32>([LOG_Q0, LOG_Q0, LOG_Q0, LOG_Q0], 16);
const V_LOG_Q1 = memory.data<f32>([LOG_Q1, LOG_Q1, LOG_Q1, LOG_Q1], 16);
const V_LOG_Q2 = memory.data<f32>([LOG_Q2, LOG_Q2, LOG_Q2, LOG_Q2], 16);
const V_LOG_Q3 = memory.data<f32>([LOG_Q3, LOG_Q3, LOG_Q3, LOG_Q3], 16);
const V_LOG_Q4 = memory.data<f32>([LOG_Q4, LOG_Q4, LOG_Q4, LOG_Q4], 16);
const V_LOG_Q5 = memory.data<f32>([LOG_Q5, LOG_Q5, LOG_Q5, LOG_Q5], 16);
const V_LOG_Q6 = memory.data<f32>([LOG_Q6, LOG_Q6, LOG_Q6, LOG_Q6], 16);
const V_LOG_Q7 = memory.data<f32>([LOG_Q7, LOG_Q7, LOG_Q7, LOG_Q7], 16);
const V_LOG_Q8 = memory.data<f32>([LOG_Q8, LOG_Q8, LOG_Q8, LOG_Q8], 16);

const V_TANH_CUT = memory.data<f32>([TANH_CUT, TANH_CUT, TANH_CUT, TANH_CUT], 16);
const V_TANH_P0 = memory.data<f32>([TANH_P0, TANH_P0, TANH_P0, TANH_P0], 16);
const V_TANH_P1 = memory.data<f32>([TANH_P1, TANH_P1, TANH_P1, TANH_P1], 16);
const V_TANH_P2 = memory.data<f32>([TANH_P2, TANH_P2, TANH_P2, TANH_P2], 16);
const V_TANH_P3 = memory.data<f32>([TANH_P3, TANH_P3, TANH_P3, TANH_P3], 16);
const V_TANH_P4 = memory.data<f32>([TANH_P4, TANH_P4, TANH_P4, TANH_P4], 16);

/** A pre-splatted constant of a data segment (see the note at the top of the file). */
// @ts-ignore: decorator
@inline export function k4(ptr: usize): v128 {
  return v128.load(ptr);
}

/**
 * |x| lane by lane: the sign bits cleared with a pre-splatted mask, one instruction where V8
 * compiles f32x4.abs to three (the mask rebuilt every time). The same bits as f32x4.abs.
 */
// @ts-ignore: decorator
@inline export function abs4(x: v128): v128 {
  return v128.andnot(x, k4(V_SIGN));
}

/**
 * All ones in the lanes of a = abs4(x) that hold an infinity or a NaN: one integer comparison of
 * the bits (their sign is clear), which leaves the floating-point pipes to the log beside it.
 */
// @ts-ignore: decorator
@inline export function nonFinite4(a: v128): v128 {
  return i32x4.gt_s(a, k4(V_MAX_FINITE_BITS));
}

// ---------------------------------------------------------------------------------------------
// exp
//
// x is clamped to [-110, 90] (NaN passes through min/max). n = round(x * log2(e)) by adding
// 1.5 * 2^23 (round to nearest even; the integer is read from the low bits of the sum);
// r = (x - n * LN2_HI) - n * LN2_LO (Cody-Waite, the first product is exact), |r| <= ln2/2 + 2e-5;
// p = ((r * r) * Q(r) + r) + 1 with Q of degree 4 by Horner; result = (p * 2^n1) * 2^n2 with
// n1 = n >> 1, n2 = n - n1, so that results near overflow do not need 2^128 and subnormal results
// are rounded once (gradual underflow, not flushed). Above 88.7228 the result is +Inf, below
// -103.9721 it is 0; exp(NaN) = NaN, exp(+-0) = 1, exp(+Inf) = +Inf, exp(-Inf) = 0.
// Measured maximum error: 1 ulp (99.2% of results correctly rounded) over the test sweep,
// 4.55e6 points: x in [-87.3, 88.7] (2^21 evenly spaced points plus every 1021st f32 bit pattern
// with |x| <= 88.7) and the subnormal results on [-103.98, -87.3] (2^18 points). Also 1 ulp
// over every f32 in [-104, 89] (2.24e9 points, checked once outside the test suite).

// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  // pmin/pmax (one minps/maxps each; min/max cost several instructions for their NaN and -0
  // rules): the same lanes here, a NaN x is kept by both
  x = f32x4.pmax(f32x4.pmin(x, k4(V_EXP_HI)), k4(V_EXP_LO));
  let t = f32x4.add(f32x4.mul(x, k4(V_LOG2E)), k4(V_MAGIC));
  let n = i32x4.sub(t, k4(V_MAGIC_BITS));
  let p = expPoly4(x, f32x4.sub(t, k4(V_MAGIC)));
  let n1 = i32x4.shr_s(n, 1);
  let n2 = i32x4.sub(n, n1);
  let s1 = i32x4.shl(i32x4.add(n1, k4(V_EXP_BIAS)), 23);
  let s2 = i32x4.shl(i32x4.add(n2, k4(V_EXP_BIAS)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** The upper end of expNormal4's range: n = round(x log2(e)) <= 127 below 88.376. */
export const EXP_NORMAL_MAX: f32 = 88;

/** exp(r) for x = n ln2 + r (exp4's polynomial); nf = n as a float. */
// @ts-ignore: decorator
@inline function expPoly4(x: v128, nf: v128): v128 {
  let r = f32x4.sub(f32x4.sub(x, f32x4.mul(nf, k4(V_LN2_HI))), f32x4.mul(nf, k4(V_LN2_LO)));
  let q = f32x4.add(f32x4.mul(k4(V_EXP_Q4), r), k4(V_EXP_Q3));
  q = f32x4.add(f32x4.mul(q, r), k4(V_EXP_Q2));
  q = f32x4.add(f32x4.mul(q, r), k4(V_EXP_Q1));
  q = f32x4.add(f32x4.mul(q, r), k4(V_EXP_Q0));
  return f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(r, r), q), r), k4(V_ONE));
}

/**
 * exp4 for -87.33654 <= x <= EXP_NORMAL_MAX, where 2^n is a normal float (-126 <= n <= 127) and so
 * is the result: without the clamp, and with 2^n applied in one product instead of two. A product
 * by a power of two is exact while it stays normal, and both versions round the same exact p 2^n
 * once where it would not: the same bits as exp4, in seven operations fewer (for the flushed exp
 * and sigmoid of elementwise.ts).
 */
// @ts-ignore: decorator
@inline export function expNormal4(x: v128): v128 {
  let t = f32x4.add(f32x4.mul(x, k4(V_LOG2E)), k4(V_MAGIC));
  let n = i32x4.sub(t, k4(V_MAGIC_BITS));
  let p = expPoly4(x, f32x4.sub(t, k4(V_MAGIC)));
  return f32x4.mul(p, i32x4.shl(i32x4.add(n, k4(V_EXP_BIAS)), 23));
}

// @ts-ignore: decorator
@inline export function expS(x: f32): f32 {
  x = max<f32>(min<f32>(x, EXP_HI), EXP_LO);
  let t = x * LOG2E + MAGIC;
  let nf = t - MAGIC;
  let n = reinterpret<i32>(t) - MAGIC_BITS;
  let r = (x - nf * LN2_HI) - nf * LN2_LO;
  let q = EXP_Q4 * r + EXP_Q3;
  q = q * r + EXP_Q2;
  q = q * r + EXP_Q1;
  q = q * r + EXP_Q0;
  let p = ((r * r) * q + r) + ONE;
  let n1 = n >> 1;
  let n2 = n - n1;
  let s1 = reinterpret<f32>((n1 + EXP_BIAS) << 23);
  let s2 = reinterpret<f32>((n2 + EXP_BIAS) << 23);
  return (p * s1) * s2;
}

// ---------------------------------------------------------------------------------------------
// log
//
// x = 2^k * m with m in [sqrt(1/2), sqrt(2)) by integer arithmetic on the bits; f = m - 1
// (exact); log(x) = k * LN2_HI + (f + ((f * f) * Q(f) + k * LN2_LO)) with Q of degree 8 by Horner
// (k * LN2_HI is exact). Lanes that are not positive normal finite numbers take a slower path
// (only when some lane needs it): subnormals are multiplied by 2^23 first (k corrected by 23),
// log(+-0) = -Inf, log(x < 0) = NaN, log(+Inf) = +Inf, log(NaN) = NaN.
// Measured maximum error: 1 ulp (99.4% correctly rounded) over the test sweep, 4.19e6 points:
// every 1021st positive f32 bit pattern from the smallest subnormal to FLT_MAX, plus 2^21 evenly
// spaced points in [0.5, 2]. Also 1 ulp over every positive finite f32 (2.14e9 points, checked
// once outside the test suite).

// @ts-ignore: decorator
@inline function logCore4(xb: v128): v128 {
  let ix = i32x4.add(xb, k4(V_LOG_OFFSET));
  let k = i32x4.sub(i32x4.shr_s(ix, 23), k4(V_EXP_BIAS));
  let m = i32x4.add(v128.and(ix, k4(V_LOG_MANT)), k4(V_LOG_SQRTH_BITS));
  let f = f32x4.sub(m, k4(V_ONE));
  let kf = f32x4.convert_i32x4_s(k);
  let q = f32x4.add(f32x4.mul(k4(V_LOG_Q8), f), k4(V_LOG_Q7));
  q = f32x4.add(f32x4.mul(q, f), k4(V_LOG_Q6));
  q = f32x4.add(f32x4.mul(q, f), k4(V_LOG_Q5));
  q = f32x4.add(f32x4.mul(q, f), k4(V_LOG_Q4));
  q = f32x4.add(f32x4.mul(q, f), k4(V_LOG_Q3));
  q = f32x4.add(f32x4.mul(q, f), k4(V_LOG_Q2));
  q = f32x4.add(f32x4.mul(q, f), k4(V_LOG_Q1));
  q = f32x4.add(f32x4.mul(q, f), k4(V_LOG_Q0));
  let lo = f32x4.add(f32x4.mul(f32x4.mul(f, f), q), f32x4.mul(kf, k4(V_LN2_LO)));
  return f32x4.add(f32x4.mul(kf, k4(V_LN2_HI)), f32x4.add(f, lo));
}

function logSlow4(x: v128): v128 {
  let sub = i32x4.lt_u(x, k4(V_LOG_MIN_NORMAL)); // +0 and positive subnormals
  let xs = v128.bitselect(f32x4.mul(x, k4(V_LOG_SUB_SCALE)), x, sub);
  // subtracting 23 from the exponent field of the scaled bits (it may go negative: the
  // arithmetic shift in logCore4 reads it as a signed k) undoes the scaling
  let y = logCore4(i32x4.sub(xs, v128.and(sub, k4(V_LOG_SUB_K))));
  y = v128.bitselect(k4(V_NEG_INF), y, f32x4.eq(x, f32x4.splat(0)));
  y = v128.bitselect(k4(V_NAN), y, f32x4.lt(x, f32x4.splat(0)));
  return v128.bitselect(y, x, f32x4.lt(x, k4(V_POS_INF))); // +Inf and NaN give x
}

// @ts-ignore: decorator
@inline export function log4(x: v128): v128 {
  let special = i32x4.ge_u(i32x4.sub(x, k4(V_LOG_MIN_NORMAL)), k4(V_LOG_NORMAL_SPAN));
  if (v128.any_true(special)) return logSlow4(x);
  return logCore4(x);
}

// @ts-ignore: decorator
@inline function logCoreS(xb: i32): f32 {
  let ix = xb + LOG_OFFSET;
  let k = (ix >> 23) - EXP_BIAS;
  let f = reinterpret<f32>((ix & LOG_MANT) + LOG_SQRTH_BITS) - ONE;
  let kf = <f32>k;
  let q = LOG_Q8 * f + LOG_Q7;
  q = q * f + LOG_Q6;
  q = q * f + LOG_Q5;
  q = q * f + LOG_Q4;
  q = q * f + LOG_Q3;
  q = q * f + LOG_Q2;
  q = q * f + LOG_Q1;
  q = q * f + LOG_Q0;
  let lo = (f * f) * q + kf * LN2_LO;
  return kf * LN2_HI + (f + lo);
}

function logSlowS(x: f32): f32 {
  let sub = <u32>reinterpret<i32>(x) < <u32>LOG_MIN_NORMAL;
  let xs = select<f32>(x * LOG_SUB_SCALE, x, sub);
  let y = logCoreS(reinterpret<i32>(xs) - select<i32>(LOG_SUB_K, 0, sub));
  y = select<f32>(NEG_INF, y, x == 0);
  y = select<f32>(reinterpret<f32>(NAN_BITS), y, x < 0);
  return select<f32>(y, x, x < POS_INF);
}

// @ts-ignore: decorator
@inline export function logS(x: f32): f32 {
  if (<u32>(reinterpret<i32>(x) - LOG_MIN_NORMAL) >= <u32>LOG_NORMAL_SPAN) return logSlowS(x);
  return logCoreS(reinterpret<i32>(x));
}

// ---------------------------------------------------------------------------------------------
// logPos: the layers' log(|x| + eps), where every argument is positive; faster than log, <= 2 ulps
//
// The same reduction as log, x = 2^k m with m in [sqrt(1/2), sqrt(2)), then log(m) = 2 atanh(s)
// with s = (m - 1) / (m + 1), evaluated through t = 2s = (2m - 2) / (m + 1): 2m is m's bits with
// the exponent one higher and 2m - 2 is exact, so t is one correctly rounded division. With
// w = t^2 <= 0.118, log(m) = t + t w Q(w), Q of degree 2: the fit P(s^2) of 2 atanh(s) = 2s +
// s^3 P(s^2) made for this file (least squares on s^2 in [0, 0.0295], relative error 5.8e-9),
// rescaled by powers of two, Q(w) = P(w / 4) / 8, so that every rounding is the s form's, scaled.
// k ln2 is split in two as in log, and k comes out of one arithmetic shift: the exponent bias is
// taken off in the add of the mantissa offset. One division and 20 other operations replace
// log's degree-10 polynomial; the rounding of t costs up to one more ulp: measured <= 2 ulps
// against the correctly rounded f32 of Math.log over positive normal floats
// (test/math-logpos.test.ts). Zero, subnormals, negatives, Inf and NaN go through log, lane by
// lane, so the scalar twin (which decides per element) gives the same bits.

// P(z) = P0 + P1 z + P2 z^2, P0 = 0.6666668057441711, P1 = 0.39990928769111633,
// P2 = 0.2948753237724304
const LOGP_Q0: f32 = <f32>0.6666668057441711 / 8;
const LOGP_Q1: f32 = <f32>0.39990928769111633 / 32;
const LOGP_Q2: f32 = <f32>0.2948753237724304 / 128;
const LOGP_OFFSET: i32 = LOG_OFFSET - 0x3f800000; // the mantissa offset and the exponent bias
const LOGP_SQRT2_BITS: i32 = LOG_SQRTH_BITS + 0x00800000; // 2 sqrt(1/2): 2m from the same bits
const V_LOGP_Q0 = memory.data<f32>([LOGP_Q0, LOGP_Q0, LOGP_Q0, LOGP_Q0], 16);
const V_LOGP_Q1 = memory.data<f32>([LOGP_Q1, LOGP_Q1, LOGP_Q1, LOGP_Q1], 16);
const V_LOGP_Q2 = memory.data<f32>([LOGP_Q2, LOGP_Q2, LOGP_Q2, LOGP_Q2], 16);
const V_LOGP_OFFSET = memory.data<i32>([LOGP_OFFSET, LOGP_OFFSET, LOGP_OFFSET, LOGP_OFFSET], 16);
const V_LOGP_SQRT2_BITS = memory.data<i32>([LOGP_SQRT2_BITS, LOGP_SQRT2_BITS, LOGP_SQRT2_BITS, LOGP_SQRT2_BITS], 16);

/**
 * logPos4 without the test for zero, subnormal, negative, infinite and NaN arguments: for callers
 * that know every lane is a positive normal float (see logPosNormalFor).
 */
// @ts-ignore: decorator
@inline export function logPosCore4(xb: v128): v128 {
  let ix = i32x4.add(xb, k4(V_LOGP_OFFSET));
  let mant = v128.and(ix, k4(V_LOG_MANT));
  let m = i32x4.add(mant, k4(V_LOG_SQRTH_BITS));
  let m2 = i32x4.add(mant, k4(V_LOGP_SQRT2_BITS));
  let t = f32x4.div(f32x4.sub(m2, k4(V_TWO)), f32x4.add(m, k4(V_ONE)));
  let kf = f32x4.convert_i32x4_s(i32x4.shr_s(ix, 23));
  let w = f32x4.mul(t, t);
  let q = f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(k4(V_LOGP_Q2), w), k4(V_LOGP_Q1)), w), k4(V_LOGP_Q0));
  let lo = f32x4.add(f32x4.mul(f32x4.mul(t, w), q), f32x4.mul(kf, k4(V_LN2_LO)));
  return f32x4.add(f32x4.mul(kf, k4(V_LN2_HI)), f32x4.add(t, lo));
}

// @ts-ignore: decorator
@inline function logPosCoreS(xb: i32): f32 {
  let ix = xb + LOGP_OFFSET;
  let mant = ix & LOG_MANT;
  let t = (reinterpret<f32>(mant + LOGP_SQRT2_BITS) - TWO) / (reinterpret<f32>(mant + LOG_SQRTH_BITS) + ONE);
  let kf = <f32>(ix >> 23);
  let w = t * t;
  let q = (LOGP_Q2 * w + LOGP_Q1) * w + LOGP_Q0;
  let lo = (t * w) * q + kf * LN2_LO;
  return kf * LN2_HI + (t + lo);
}

// @ts-ignore: decorator
@inline export function logPos4(x: v128): v128 {
  let special = i32x4.ge_u(i32x4.sub(x, k4(V_LOG_MIN_NORMAL)), k4(V_LOG_NORMAL_SPAN));
  let y = logPosCore4(x);
  if (v128.any_true(special)) y = v128.bitselect(logSlow4(x), y, special);
  return y;
}

// @ts-ignore: decorator
@inline export function logPosS(x: f32): f32 {
  if (<u32>(reinterpret<i32>(x) - LOG_MIN_NORMAL) >= <u32>LOG_NORMAL_SPAN) return logSlowS(x);
  return logPosCoreS(reinterpret<i32>(x));
}

/**
 * True when log(|x| + eps) of every finite x has a positive normal argument, so that logPosCore4
 * gives logPos4's bits: eps at least the smallest normal, and small enough that |x| + eps cannot
 * round up to infinity (below half an ulp of the largest float, 2^103).
 */
// @ts-ignore: decorator
@inline export function logPosNormalFor(eps: f32): bool {
  return eps >= reinterpret<f32>(LOG_MIN_NORMAL) && eps <= <f32>1e30;
}

// ---------------------------------------------------------------------------------------------
// tanh
//
// a = |x|; for a < 0.625: a + a * ((a * a) * P(a * a)) with P of degree 4 by Horner (no
// cancellation near 0; tiny and subnormal x give x); otherwise 1 - 2 / (exp(2a) + 1), which is
// exactly 1 for a > 9.01 (and for +Inf, where exp overflows). The branch is chosen per lane with
// a bitselect and the sign of x is copied onto the result (tanh(-0) = -0, tanh(NaN) = NaN).
// Measured maximum error: 1 ulp (99.7% correctly rounded) over the test sweep, 4.51e6 points:
// x in [-20, 20] (2^21 evenly spaced points plus every 1021st f32 bit pattern with |x| <= 20) and
// every 4099th pattern in [20, FLT_MAX]; exactly +-1 checked on +-[9.02, FLT_MAX]. Also 1 ulp
// over every f32 with |x| <= 20 (2.2e9 points, checked once outside the test suite).

// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  let sign = v128.and(x, k4(V_SIGN));
  let a = abs4(x);
  let z = f32x4.mul(a, a);
  let p = f32x4.add(f32x4.mul(k4(V_TANH_P4), z), k4(V_TANH_P3));
  p = f32x4.add(f32x4.mul(p, z), k4(V_TANH_P2));
  p = f32x4.add(f32x4.mul(p, z), k4(V_TANH_P1));
  p = f32x4.add(f32x4.mul(p, z), k4(V_TANH_P0));
  let small = f32x4.add(a, f32x4.mul(a, f32x4.mul(z, p)));
  let e = exp4(f32x4.add(a, a));
  let big = f32x4.sub(k4(V_ONE), f32x4.div(k4(V_TWO), f32x4.add(e, k4(V_ONE))));
  let y = v128.bitselect(small, big, f32x4.lt(a, k4(V_TANH_CUT)));
  return v128.or(y, sign);
}

// @ts-ignore: decorator
@inline export function tanhS(x: f32): f32 {
  let sign = reinterpret<i32>(x) & SIGN;
  let a = abs<f32>(x);
  let y: f32;
  if (a < TANH_CUT) {
    // the f32x4 version computes both branches and selects; a branch gives the same bits here
    let z = a * a;
    let p = TANH_P4 * z + TANH_P3;
    p = p * z + TANH_P2;
    p = p * z + TANH_P1;
    p = p * z + TANH_P0;
    y = a + a * (z * p);
  } else {
    let e = expS(a + a);
    y = ONE - TWO / (e + ONE);
  }
  return reinterpret<f32>(reinterpret<i32>(y) | sign);
}

// ---------------------------------------------------------------------------------------------
// sigmoid
//
// e = exp(-|x|) (in [0, 1], so never overflows); sigmoid(x) = 1 / (1 + e) for x >= 0 and
// e / (1 + e) for x < 0 (one division, numerator chosen per lane), so the deep negative tail
// keeps its relative accuracy down to the subnormals and the result is always within [0, 1];
// no NaN for any non-NaN input (sigmoid(-Inf) = 0, sigmoid(+Inf) = 1).
// Measured maximum error: 2 ulps (94% correctly rounded, 0.01% at 2 ulps, worst near x = -1.1,
// where the errors of exp, of 1 + e and of the division add up) over the test sweep, 5.81e6
// points: x in [-20, 20] (2^21 evenly spaced points plus every 1021st f32 bit pattern with
// |x| <= 20), the tail [-104, -20] (2^20 points, down to subnormal results and 0) and every
// 4099th pattern of +-[20, FLT_MAX]; relative error <= 2^-22 on [-87.3, -20] (normal results).
// Also 2 ulps over every f32 in [-104, 20] (2.22e9 points, checked once outside the test suite).

// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  return sigmoidOfExp4(x, exp4(v128.or(x, k4(V_SIGN))));
}

// @ts-ignore: decorator
@inline export function sigmoidS(x: f32): f32 {
  return sigmoidOfExpS(x, expS(reinterpret<f32>(reinterpret<i32>(x) | SIGN)));
}

/** sigmoid(x) from e = exp(-|x|), for callers that have e already: e / (1 + e) below 0, else 1 / (1 + e). */
// @ts-ignore: decorator
@inline export function sigmoidOfExp4(x: v128, e: v128): v128 {
  return f32x4.div(v128.bitselect(e, k4(V_ONE), f32x4.lt(x, f32x4.splat(0))), f32x4.add(k4(V_ONE), e));
}

// @ts-ignore: decorator
@inline export function sigmoidOfExpS(x: f32, e: f32): f32 {
  return select<f32>(e, ONE, x < 0) / (ONE + e);
}
