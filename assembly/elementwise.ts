// Lane-parallel elementwise kernels over contiguous f32 arrays whose length n is a multiple
// of 4. Each has an f32x4 body and a scalar body that performs the same IEEE f32 operations
// in the same order per element, so that the SIMD and scalar builds agree bit for bit.

import { abs4, exp4, EXP_NORMAL_MAX, expNormal4, expS, logPos4, logPosCore4, logPosNormalFor, logPosS, nonFinite4, sigmoidOfExp4, sigmoidOfExpS, sigmoidS, tanh4, tanhS } from "./math";
import { at } from "./memory";
import { partArgs, partBound, poolJoin, poolStart, poolThreads } from "./pool";

// ---- sharing among threads (the threads build) -----------------------------------------------
//
// The long kernels of a NALU's forward and backward (vexp, vsigmoid, vnaluMix, vnaluMixBack) and
// the loss gradient (vscaledDiff) split their range among the pool's threads in multiples of 4
// elements (pool.ts), and the staging of a batch (toFeatureMajor, firstNonFinite) in multiples of
// 4 features or 16 values: each element is computed as on one thread, and the first non-finite
// value found is the first in the array.

export const JOB_EW: i32 = 3;
const EW_EXP: i32 = 1, EW_SIGMOID: i32 = 2, EW_MIX: i32 = 3, EW_MIXBACK: i32 = 4, EW_TRANSPOSE: i32 = 5, EW_FINITE: i32 = 6, EW_SCALEDDIFF: i32 = 7;
/** Elements from which a kernel is shared. */
const EW_PAR_MIN: i32 = 1 << 14;

// @ts-ignore: decorator
@inline function shareable(n: i32): bool {
  return ASC_FEATURE_THREADS && poolThreads() > 1 && n >= EW_PAR_MIN;
}

/**
 * Runs kernel `fn` on the range [0, n) shared among the threads, in parts of whole `grain`s
 * (elements, or features for EW_TRANSPOSE), over the arrays and arguments p0 .. p6 (unused ones
 * 0). Returns the first part's result that is not -1 (EW_FINITE), else -1.
 */
function ewShare(fn: i32, n: i32, grain: i32, p0: usize, p1: usize, p2: usize, p3: usize, p4: usize, p5: usize, p6: usize): i32 {
  const T = poolThreads();
  for (let t = 1; t < T; t++) {
    const i0 = partBound(n, grain, t), i1 = partBound(n, grain, t + 1);
    const a = partArgs(t);
    store<i32>(a, fn); store<i32>(a, i0, 4); store<i32>(a, i1 - i0, 8);
    store<u32>(a, <u32>p0, 12); store<u32>(a, <u32>p1, 16); store<u32>(a, <u32>p2, 20); store<u32>(a, <u32>p3, 24);
    store<u32>(a, <u32>p4, 28); store<u32>(a, <u32>p5, 32); store<u32>(a, <u32>p6, 36);
  }
  poolStart(JOB_EW);
  let r = ewRun(fn, 0, partBound(n, grain, 1), p0, p1, p2, p3, p4, p5, p6);
  poolJoin();
  for (let t = 1; t < T && r < 0; t++) r = load<i32>(partArgs(t), EW_RESULT);
  return r;
}

/** Where a part's result goes in its arguments. */
const EW_RESULT: usize = 40;

/** A worker's part of a shared kernel: its arguments at `a` (see ewShare). */
export function ewPart(a: usize): void {
  store<i32>(a, ewRun(load<i32>(a), load<i32>(a, 4), load<i32>(a, 8), <usize>load<u32>(a, 12), <usize>load<u32>(a, 16),
    <usize>load<u32>(a, 20), <usize>load<u32>(a, 24), <usize>load<u32>(a, 28), <usize>load<u32>(a, 32), <usize>load<u32>(a, 36)), EW_RESULT);
}

function ewRun(fn: i32, i0: i32, n: i32, p0: usize, p1: usize, p2: usize, p3: usize, p4: usize, p5: usize, p6: usize): i32 {
  if (ASC_FEATURE_SIMD) {
    if (fn == EW_TRANSPOSE) return transposeTiles(p0, p1, <i32>p3, <i32>p4, <i32>p5, p2, reinterpret<f32>(<u32>p6), i0, i0 + n);
  }
  const o = <usize>i0 << 2;
  if (fn == EW_FINITE) {
    const r = firstNonFiniteIn(p0 + o, n);
    return r < 0 ? r : i0 + r;
  }
  if (fn == EW_EXP) expRange(p0 + o, p1 + o, n);
  else if (fn == EW_SIGMOID) sigmoidRange(p0 + o, p1 + o, n);
  else if (fn == EW_MIX) mixRange(p0 + o, p1 + o, p2 + o, p3 + o, n);
  else if (fn == EW_MIXBACK) mixBackRange(p0 + o, p1 + o, p2 + o, p3 + o, p4 + o, p5 + o, p6 + o, n);
  else if (fn == EW_SCALEDDIFF) scaledDiffRange(p0 + o, p1 + o, p2 + o, n, reinterpret<f32>(<u32>p3));
  return -1;
}

/** dst[i] = c * (a[i] - b[i]) (the loss gradient). */
export function vscaledDiff(dst: usize, a: usize, b: usize, n: i32, c: f32): void {
  if (shareable(n)) ewShare(EW_SCALEDDIFF, n, 4, dst, a, b, reinterpret<u32>(c), 0, 0, 0);
  else scaledDiffRange(dst, a, b, n, c);
}

function scaledDiffRange(dst: usize, a: usize, b: usize, n: i32, c: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const cv = f32x4.splat(c);
    for (; i + 4 <= n; i += 4) v128.store(at(dst, i), f32x4.mul(cv, f32x4.sub(v128.load(at(a, i)), v128.load(at(b, i)))));
  }
  for (; i < n; i++) store<f32>(at(dst, i), c * (load<f32>(at(a, i)) - load<f32>(at(b, i))));
}

/** Below this, exp(x) is not a normal f32 (ln 2^-126 = -87.33654...). */
export const EXP_NORMAL_MIN: f32 = -87.33654;

/**
 * dst[i] = exp(src[i]), flushed to 0 where the result would be subnormal. The layers' log
 * paths use it: WebAssembly has no flush-to-zero mode, and subnormal activations make every
 * later product that reads them take the slow microcoded path (a NALU's step slowed 2.5x
 * once a third of its exp(l W) lanes underflowed). Values below 1.2e-38 change no result that
 * f32 can tell apart at the tolerances of the tests; NaN stays NaN.
 */
export function vexp(dst: usize, src: usize, n: i32): void {
  if (shareable(n)) ewShare(EW_EXP, n, 4, dst, src, 0, 0, 0, 0, 0);
  else expRange(dst, src, n);
}

function expRange(dst: usize, src: usize, n: i32): void {
  if (ASC_FEATURE_SIMD) {
    const lo = f32x4.splat(EXP_NORMAL_MIN);
    for (let i = 0; i < n; i += 4) v128.store(at(dst, i), expFlush4(v128.load(at(src, i)), lo));
  } else {
    for (let i = 0; i < n; i++) store<f32>(at(dst, i), expFlushS(load<f32>(at(src, i))));
  }
}

// @ts-ignore: decorator
@inline export function expFlush4(x: v128, lo: v128): v128 {
  const under = f32x4.lt(x, lo);
  // exp(0) stands in for the flushed lanes: exp4 itself would pass through subnormals
  const xs = v128.bitselect(f32x4.splat(0), x, under);
  const big = v128.any_true(f32x4.gt(xs, f32x4.splat(EXP_NORMAL_MAX)));
  return v128.andnot(big ? exp4(xs) : expNormal4(xs), under);
}

// @ts-ignore: decorator
@inline export function expFlushS(x: f32): f32 {
  return x < EXP_NORMAL_MIN ? 0 : expS(x);
}

/**
 * dst[i] = sigmoid(src[i]), flushed to 0 where it would be subnormal (src below -87.33, as in
 * vexp). The argument is clamped to [-87.33, 87.33] first, so that exp(-|x|) inside never passes
 * through subnormals either (a gate saturated by large inputs slowed every step); above 17 the
 * sigmoid is 1 in f32 anyway. NaN stays NaN.
 */
export function vsigmoid(dst: usize, src: usize, n: i32): void {
  if (shareable(n)) ewShare(EW_SIGMOID, n, 4, dst, src, 0, 0, 0, 0, 0);
  else sigmoidRange(dst, src, n);
}

function sigmoidRange(dst: usize, src: usize, n: i32): void {
  if (ASC_FEATURE_SIMD) {
    const lo = f32x4.splat(EXP_NORMAL_MIN), hi = f32x4.splat(-EXP_NORMAL_MIN);
    for (let i = 0; i < n; i += 4) v128.store(at(dst, i), sigmoidFlush4(v128.load(at(src, i)), lo, hi));
  } else {
    for (let i = 0; i < n; i++) store<f32>(at(dst, i), sigmoidFlushS(load<f32>(at(src, i))));
  }
}

// @ts-ignore: decorator
@inline export function sigmoidFlush4(x: v128, lo: v128, hi: v128): v128 {
  const xc = f32x4.pmax(f32x4.pmin(x, hi), lo);
  return v128.andnot(sigmoidOfExp4(xc, expNormal4(v128.or(xc, f32x4.splat(-0.0)))), f32x4.lt(x, lo));
}

// @ts-ignore: decorator
@inline export function sigmoidFlushS(x: f32): f32 {
  return x < EXP_NORMAL_MIN ? 0 : sigmoidS(min<f32>(x, -EXP_NORMAL_MIN));
}

/**
 * dst[i] = log(|src[i]| + eps), with logPos (<= 2 ulps; see math.ts). `finite`: the caller
 * knows every src[i] is finite, which with a normal eps spares the test for special arguments.
 */
export function vlogAbsEps(dst: usize, src: usize, n: i32, eps: f32, finite: bool = false): void {
  if (ASC_FEATURE_SIMD) {
    const normal = finite && logPosNormalFor(eps);
    for (let i = 0; i < n; i += 4) v128.store(at(dst, i), logAbsEps4(abs4(v128.load(at(src, i))), eps, normal));
  } else {
    for (let i = 0; i < n; i++) store<f32>(at(dst, i), logPosS(Mathf.abs(load<f32>(at(src, i))) + eps));
  }
}

/** The smallest normal f32, 2^-126. */
const MIN_NORMAL: f32 = 1.1754943508222875e-38;
/**
 * Backward signals (the gradient at a unit's output or at exp's input, per sample) below 2^-80
 * are flushed to 0, not only the subnormal ones: the weight-gradient products multiply them by
 * activations, and a product below 2^-126 is subnormal again (a trained NALU's S step ran 12%
 * slower on such products). A contribution below 2^-80 |x| to a parameter's gradient changes no
 * optimizer step: with Adam, a gradient that small moves the weight by about g / eps < 1e-16.
 */
const GRAD_FLUSH: f32 = 8.271806125530277e-25; // 2^-80

/** v, or 0 where |v| is below the normal range (NaN stays NaN). */
// @ts-ignore: decorator
@inline function flush4(v: v128, below: f32 = MIN_NORMAL): v128 {
  return v128.andnot(v, f32x4.lt(abs4(v), f32x4.splat(below)));
}

// @ts-ignore: decorator
@inline function flushS(v: f32, below: f32 = MIN_NORMAL): f32 {
  return Mathf.abs(v) < below ? 0 : v;
}

/** dst[i] = a[i] * b[i], a backward signal: flushed to 0 below GRAD_FLUSH. */
export function vmul(dst: usize, a: usize, b: usize, n: i32): void {
  if (ASC_FEATURE_SIMD) {
    for (let i = 0; i < n; i += 4) {
      v128.store(at(dst, i), flush4(f32x4.mul(v128.load(at(a, i)), v128.load(at(b, i))), GRAD_FLUSH));
    }
  } else {
    for (let i = 0; i < n; i++) store<f32>(at(dst, i), flushS(load<f32>(at(a, i)) * load<f32>(at(b, i)), GRAD_FLUSH));
  }
}

/**
 * The log path's input gradient: dst[i] (+)= t[i] * sign(x[i]) / (|x[i]| + eps), with
 * sign(0) = 0 (the derivative of |x| at 0 is 0).
 */
export function vlogGrad(dst: usize, t: usize, x: usize, n: i32, eps: f32, acc: bool): void {
  if (ASC_FEATURE_SIMD) {
    const e = f32x4.splat(eps);
    const zero = f32x4.splat(0);
    for (let i = 0; i < n; i += 4) {
      const xv = v128.load(at(x, i));
      const r = f32x4.div(v128.load(at(t, i)), f32x4.add(abs4(xv), e));
      let s = v128.bitselect(r, f32x4.neg(r), f32x4.gt(xv, zero));
      s = v128.bitselect(zero, s, f32x4.eq(xv, zero));
      if (acc) s = f32x4.add(v128.load(at(dst, i)), s);
      v128.store(at(dst, i), s);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const xv = load<f32>(at(x, i));
      const r = load<f32>(at(t, i)) / (Mathf.abs(xv) + eps);
      let s: f32 = xv > 0 ? r : -r;
      if (xv == 0) s = 0;
      if (acc) s = load<f32>(at(dst, i)) + s;
      store<f32>(at(dst, i), s);
    }
  }
}

/** NALU output: y = g * a + (1 - g) * m. */
export function vnaluMix(y: usize, a: usize, g: usize, m: usize, n: i32): void {
  if (shareable(n)) ewShare(EW_MIX, n, 4, y, a, g, m, 0, 0, 0);
  else mixRange(y, a, g, m, n);
}

function mixRange(y: usize, a: usize, g: usize, m: usize, n: i32): void {
  if (ASC_FEATURE_SIMD) {
    for (let i = 0; i < n; i += 4) v128.store(at(y, i), mix4(v128.load(at(g, i)), v128.load(at(a, i)), v128.load(at(m, i))));
  } else {
    for (let i = 0; i < n; i++) store<f32>(at(y, i), mixS(load<f32>(at(g, i)), load<f32>(at(a, i)), load<f32>(at(m, i))));
  }
}

/** g a + (1 - g) m. */
// @ts-ignore: decorator
@inline function mix4(g: v128, a: v128, m: v128): v128 {
  return f32x4.add(f32x4.mul(g, a), f32x4.mul(f32x4.sub(f32x4.splat(1), g), m));
}

// @ts-ignore: decorator
@inline function mixS(g: f32, a: f32, m: f32): f32 {
  return g * a + (1 - g) * m;
}

/**
 * The NALU's output for one sample's row, y = g a + (1 - g) m with g = sigmoid(gz) and
 * m = exp(mz): vsigmoid, vexp and vnaluMix lane for lane (the same bits) in one pass, for the
 * batch-1 forward, which keeps neither g nor m.
 */
export function vnaluOut(y: usize, a: usize, gz: usize, mz: usize, n: i32): void {
  if (ASC_FEATURE_SIMD) {
    const lo = f32x4.splat(EXP_NORMAL_MIN), hi = f32x4.splat(-EXP_NORMAL_MIN);
    for (let i = 0; i < n; i += 4) {
      const g = sigmoidFlush4(v128.load(at(gz, i)), lo, hi), m = expFlush4(v128.load(at(mz, i)), lo);
      v128.store(at(y, i), mix4(g, v128.load(at(a, i)), m));
    }
  } else {
    for (let i = 0; i < n; i++) {
      store<f32>(at(y, i), mixS(sigmoidFlushS(load<f32>(at(gz, i))), load<f32>(at(a, i)), expFlushS(load<f32>(at(mz, i)))));
    }
  }
}

/**
 * NALU backward through the mix, for upstream d:
 *   da = d g;   dmm = d (1 - g) m   (the gradient at exp's input);   dgz = d (a - m) g (1 - g).
 * All three are flushed to 0 below GRAD_FLUSH: m and g (1 - g) are often tiny, and subnormal
 * lanes, or products of them that are subnormal, would slow the weight-gradient products.
 */
export function vnaluMixBack(da: usize, dmm: usize, dgz: usize, d: usize, a: usize, g: usize, m: usize, n: i32): void {
  if (shareable(n)) ewShare(EW_MIXBACK, n, 4, da, dmm, dgz, d, a, g, m);
  else mixBackRange(da, dmm, dgz, d, a, g, m, n);
}

function mixBackRange(da: usize, dmm: usize, dgz: usize, d: usize, a: usize, g: usize, m: usize, n: i32): void {
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    for (let i = 0; i < n; i += 4) {
      const dv = v128.load(at(d, i)), gv = v128.load(at(g, i));
      const mv = v128.load(at(m, i)), av = v128.load(at(a, i));
      const h = f32x4.sub(one, gv);
      v128.store(at(da, i), flush4(f32x4.mul(dv, gv), GRAD_FLUSH));
      v128.store(at(dmm, i), flush4(f32x4.mul(f32x4.mul(dv, h), mv), GRAD_FLUSH));
      v128.store(at(dgz, i), flush4(f32x4.mul(f32x4.mul(f32x4.mul(dv, f32x4.sub(av, mv)), gv), h), GRAD_FLUSH));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const dv = load<f32>(at(d, i)), gv = load<f32>(at(g, i));
      const mv = load<f32>(at(m, i)), av = load<f32>(at(a, i));
      const h: f32 = 1 - gv;
      store<f32>(at(da, i), flushS(dv * gv, GRAD_FLUSH));
      store<f32>(at(dmm, i), flushS((dv * h) * mv, GRAD_FLUSH));
      store<f32>(at(dgz, i), flushS(((dv * (av - mv)) * gv) * h, GRAD_FLUSH));
    }
  }
}

/** The NAC weight transform: w = tanh(wHat) * sigmoid(mHat). */
export function vnacWeights(w: usize, wHat: usize, mHat: usize, n: i32, cache: usize): void {
  const ce = at(cache, n);
  if (ASC_FEATURE_SIMD) {
    const sign = f32x4.splat(-0.0);
    for (let i = 0; i < n; i += 4) {
      const v = v128.load(at(mHat, i));
      const t = tanh4(v128.load(at(wHat, i))), e = exp4(v128.or(v, sign)); // sigmoid4's exp(-|v|)
      v128.store(at(cache, i), t);
      v128.store(at(ce, i), e);
      v128.store(at(w, i), f32x4.mul(t, sigmoidOfExp4(v, e)));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = load<f32>(at(mHat, i));
      const t = tanhS(load<f32>(at(wHat, i))), e = expS(-Mathf.abs(v));
      store<f32>(at(cache, i), t);
      store<f32>(at(ce, i), e);
      store<f32>(at(w, i), t * sigmoidOfExpS(v, e));
    }
  }
}

/**
 * Backward of the weight transform, for upstream dW:
 *   dWhat = dW * sech^2(wHat) * sigmoid(mHat),   dMhat = dW * tanh(wHat) * sigmoid'(mHat),
 * with sech^2(u) = 4e / (1 + e)^2, e = exp(-2|u|), and sigmoid'(v) = e' / (1 + e')^2,
 * e' = exp(-|v|): both stay accurate (no 1 - t^2 cancellation) where tanh and sigmoid saturate.
 * tanh(wHat) and e' come from the forward's `cache` (vnacWeights), which computed them alike.
 */
export function vnacWeightsBack(dWhat: usize, dMhat: usize, dW: usize, wHat: usize, mHat: usize, n: i32, cache: usize): void {
  const ce = at(cache, n);
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1), four = f32x4.splat(4), mtwo = f32x4.splat(-2);
    for (let i = 0; i < n; i += 4) {
      const u = v128.load(at(wHat, i)), v = v128.load(at(mHat, i)), g = v128.load(at(dW, i));
      const e2 = exp4(f32x4.mul(mtwo, abs4(u)));
      const d2 = f32x4.add(one, e2);
      const sech2 = f32x4.div(f32x4.mul(four, e2), f32x4.mul(d2, d2));
      const e1 = v128.load(at(ce, i));
      const d1 = f32x4.add(one, e1);
      const sigp = f32x4.div(e1, f32x4.mul(d1, d1));
      v128.store(at(dWhat, i), f32x4.mul(f32x4.mul(g, sech2), sigmoidOfExp4(v, e1)));
      v128.store(at(dMhat, i), f32x4.mul(f32x4.mul(g, v128.load(at(cache, i))), sigp));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const u = load<f32>(at(wHat, i)), v = load<f32>(at(mHat, i)), g = load<f32>(at(dW, i));
      const e2 = expS(<f32>-2 * Mathf.abs(u));
      const d2: f32 = 1 + e2;
      const sech2 = (<f32>4 * e2) / (d2 * d2);
      const e1 = load<f32>(at(ce, i));
      const d1: f32 = 1 + e1;
      const sigp = e1 / (d1 * d1);
      store<f32>(at(dWhat, i), (g * sech2) * sigmoidOfExpS(v, e1));
      store<f32>(at(dMhat, i), (g * load<f32>(at(cache, i))) * sigp);
    }
  }
}

/** Adds b[r] to every lane of row r of a [rows, ld] array (a bias). */
export function addRowBias(z: usize, b: usize, rows: i32, ld: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = z + (<usize>(r * ld) << 2);
    const br = load<f32>(b + (<usize>r << 2));
    if (ASC_FEATURE_SIMD) {
      const bv = f32x4.splat(br);
      for (let i = 0; i < ld; i += 4) v128.store(row + (<usize>i << 2), f32x4.add(v128.load(row + (<usize>i << 2)), bv));
    } else {
      for (let i = 0; i < ld; i++) store<f32>(row + (<usize>i << 2), load<f32>(row + (<usize>i << 2)) + br);
    }
  }
}

/** z[j] += b[j] for j < n: the bias of one sample's row (one add per element, as addRowBias). */
export function addBias(z: usize, b: usize, n: i32): void {
  for (let j = 0; j < n; j++) store<f32>(at(z, j), load<f32>(at(z, j)) + load<f32>(at(b, j)));
}

/**
 * dst[r] = the sum over the lanes of row r of a [rows, ld] array (a bias gradient), with four
 * lane accumulators combined as (l0 + l1) + (l2 + l3), in both builds.
 */
export function rowSums(dst: usize, src: usize, rows: i32, ld: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = src + (<usize>(r * ld) << 2);
    let l0: f32 = 0, l1: f32 = 0, l2: f32 = 0, l3: f32 = 0;
    for (let i = 0; i < ld; i += 4) {
      const p = row + (<usize>i << 2);
      l0 += load<f32>(p); l1 += load<f32>(p, 4); l2 += load<f32>(p, 8); l3 += load<f32>(p, 12);
    }
    store<f32>(dst + (<usize>r << 2), (l0 + l1) + (l2 + l3));
  }
}

/**
 * dst = clamp(src, lo, hi) over n floats (n a multiple of 4): the NAU/NMU weight clamp and its
 * projection, the NPU gate's, and gradient clipping.
 */
export function vclamp(dst: usize, src: usize, n: i32, lo: f32, hi: f32): void {
  if (ASC_FEATURE_SIMD) {
    const l = f32x4.splat(lo), h = f32x4.splat(hi);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, f32x4.min(f32x4.max(v128.load(src + o), l), h));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(dst + o, Mathf.min(Mathf.max(load<f32>(src + o), lo), hi));
    }
  }
}

/** The backward of vclamp: dW = dWc where lo <= W <= hi, else 0 (a clamp passes its boundary). */
export function vclampBack(dW: usize, dWc: usize, W: usize, n: i32, lo: f32, hi: f32): void {
  if (ASC_FEATURE_SIMD) {
    const l = f32x4.splat(lo), h = f32x4.splat(hi);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      const w = v128.load(W + o);
      const inside = v128.and(f32x4.ge(w, l), f32x4.le(w, h));
      v128.store(dW + o, v128.and(v128.load(dWc + o), inside));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      const w = load<f32>(W + o);
      store<f32>(dW + o, w >= lo && w <= hi ? load<f32>(dWc + o) : 0);
    }
  }
}

/** Copies n floats (memory.copy costs a call, too much for the rows of a narrow layer). */
// @ts-ignore: decorator
@inline function copyFloats(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) for (; i + 4 <= n; i += 4) v128.store(at(dst, i), v128.load(at(src, i)));
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(src, i)));
}

/** dst = [a | b]: row i of dst ([rows, 2 cols]) is row i of a then row i of b ([rows, cols] each). */
export function joinCols(dst: usize, a: usize, b: usize, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    const d = at(dst, 2 * i * cols), o = <usize>(i * cols) << 2;
    copyFloats(d, a + o, cols);
    copyFloats(at(d, cols), b + o, cols);
  }
}

/** The inverse of joinCols: a and b get the left and right halves of the rows of src. */
export function splitCols(a: usize, b: usize, src: usize, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    const s = at(src, 2 * i * cols), o = <usize>(i * cols) << 2;
    copyFloats(a + o, s, cols);
    copyFloats(b + o, at(s, cols), cols);
  }
}

/**
 * The sum of a vector's lanes as (l0 + l1) + (l2 + l3): the order of the scalar twins' four
 * running sums, so that both builds give the same bits.
 */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
         (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Sets the ld floats at p to 1 (the running product of a multiplicative unit's output row). */
// @ts-ignore: decorator
@inline export function fillOnes(p: usize, ld: i32): void {
  for (let b = 0; b < ld; b++) store<f32>(at(p, b), 1);
}

/** Sets lanes [batch, ld) of each of `rows` rows of a [rows, ld] array to `value`. */
export function fillPad(p: usize, rows: i32, batch: i32, ld: i32, value: f32): void {
  if (batch == ld) return;
  for (let r = 0; r < rows; r++) {
    const row = p + (<usize>(r * ld) << 2);
    for (let b = batch; b < ld; b++) store<f32>(at(row, b), value);
  }
}

/**
 * dst = src transposed: [batch, cols] row-major to [cols, ld] feature-major, padding lanes set to
 * `pad`. With lg != 0 it also writes lg = log(|dst| + eps) (padding: log(|pad| + eps)) while
 * each block is in registers: the first layer's log path, without a second pass over memory.
 * Returns whether every value of src is finite, tested in the same pass on the bits of |x|; when
 * one is not, the caller discards what was written (its log skipped log's special cases).
 */
export function toFeatureMajor(dst: usize, src: usize, batch: i32, cols: i32, ld: i32, pad: f32,
                               lg: usize = 0, eps: f32 = 0): bool {
  let b = 0, finite = true;
  const lgOff = lg - dst; // the log of dst[i] goes to dst[i] + lgOff (wrapping arithmetic)
  const normal = logPosNormalFor(eps);
  if (ASC_FEATURE_SIMD && ld == 4) {
    // One vector per column: the samples' values over the padding.
    const rowBytes = <usize>cols << 2;
    const padv = f32x4.splat(pad);
    let top = i32x4.splat(0); // as in transposeTiles
    for (let c = 0; c < cols; c++) {
      const s = src + (<usize>c << 2);
      let v = f32x4.replace_lane(padv, 0, load<f32>(s));
      if (batch > 1) v = f32x4.replace_lane(v, 1, load<f32>(s + rowBytes));
      if (batch > 2) v = f32x4.replace_lane(v, 2, load<f32>(s + (rowBytes << 1)));
      if (batch > 3) v = f32x4.replace_lane(v, 3, load<f32>(s + rowBytes * 3));
      const d = dst + (<usize>c << 4);
      v128.store(d, v);
      const a = abs4(v);
      top = i32x4.max_s(top, a);
      if (lg) v128.store(d + lgOff, logAbsEps4(a, eps, normal));
    }
    return !v128.any_true(nonFinite4(top));
  }
  if (ASC_FEATURE_SIMD) {
    const c4 = cols & ~3, b4 = batch & ~3;
    finite = (shareable(c4 * b4) ? ewShare(EW_TRANSPOSE, c4, 4, dst, src, lg, batch, cols, ld, reinterpret<u32>(eps))
      : transposeTiles(dst, src, batch, cols, ld, lg, eps, 0, c4)) < 0;
    const rowBytes = <usize>cols << 2;
    for (; b < b4; b++) {
      const sr = src + <usize>b * rowBytes;
      for (let c = c4; c < cols; c++) finite &= putFeature(at(dst, c * ld + b), load<f32>(at(sr, c)), lg, lgOff, eps);
    }
  }
  for (; b < batch; b++) {
    const s = src + (<usize>(b * cols) << 2);
    for (let c = 0; c < cols; c++) finite &= putFeature(at(dst, c * ld + b), load<f32>(at(s, c)), lg, lgOff, eps);
  }
  fillPad(dst, cols, batch, ld, pad);
  if (lg) fillPad(lg, cols, batch, ld, logPosS(Mathf.abs(pad) + eps));
  return finite;
}

/**
 * The 4 x 4 blocks of toFeatureMajor for features [c0, c1) (multiples of 4) and the first
 * batch & ~3 samples, transposed in registers, in tiles of 16 features x 64 samples: a tile reads
 * 64 source rows of one 64-byte line each and writes 16 destination rows (and as many of lg) of
 * four lines each, so every line it touches is used whole while in L1 (walking the whole batch
 * for four features at a time read each source line four times, from memory once src outgrew
 * the cache). Within a tile each destination row is written front to back, four features at a
 * time: rows ld floats apart fall in one L1 set when ld is a power of two. Returns -1 when every
 * value read is finite, else 0 (ewShare's convention).
 */
function transposeTiles(dst: usize, src: usize, batch: i32, cols: i32, ld: i32, lg: usize, eps: f32, c0: i32, c1: i32): i32 {
  const rowBytes = <usize>cols << 2, ldBytes = <usize>ld << 2;
  const lgOff = lg - dst; // the log of dst[i] goes to dst[i] + lgOff (wrapping arithmetic)
  const normal = logPosNormalFor(eps);
  const b4 = batch & ~3;
  let top = i32x4.splat(0); // the largest |x| bits: infinities and NaNs are above every finite
  for (let ct = c0; ct < c1; ct += 16) {
    const cEnd = min(ct + 16, c1);
    for (let bt = 0; bt < b4; bt += 64) {
      const bEnd = min(bt + 64, b4);
      for (let c = ct; c < cEnd; c += 4) {
        const d0 = dst + (<usize>(c * ld) << 2);
        for (let bb = bt; bb < bEnd; bb += 4) {
          const p = src + <usize>bb * rowBytes + (<usize>c << 2);
          const r0 = v128.load(p), r1 = v128.load(p + rowBytes);
          const r2 = v128.load(p + (rowBytes << 1)), r3 = v128.load(p + rowBytes * 3);
          const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
          const t2 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
          const v0 = v128.shuffle<i32>(t0, t2, 0, 1, 4, 5), v1 = v128.shuffle<i32>(t0, t2, 2, 3, 6, 7);
          const v2 = v128.shuffle<i32>(t1, t3, 0, 1, 4, 5), v3 = v128.shuffle<i32>(t1, t3, 2, 3, 6, 7);
          const d = d0 + (<usize>bb << 2);
          v128.store(d, v0);
          v128.store(d + ldBytes, v1);
          v128.store(d + (ldBytes << 1), v2);
          v128.store(d + ldBytes * 3, v3);
          const a0 = abs4(v0), a1 = abs4(v1), a2 = abs4(v2), a3 = abs4(v3);
          top = i32x4.max_s(top, i32x4.max_s(i32x4.max_s(a0, a1), i32x4.max_s(a2, a3)));
          if (lg) {
            const dl = d + lgOff;
            v128.store(dl, logAbsEps4(a0, eps, normal));
            v128.store(dl + ldBytes, logAbsEps4(a1, eps, normal));
            v128.store(dl + (ldBytes << 1), logAbsEps4(a2, eps, normal));
            v128.store(dl + ldBytes * 3, logAbsEps4(a3, eps, normal));
          }
        }
      }
    }
  }
  return v128.any_true(nonFinite4(top)) ? 0 : -1;
}

/** log(a + eps) for a = |x| (see logPosNormalFor for `normal`). */
// @ts-ignore: decorator
@inline function logAbsEps4(a: v128, eps: f32, normal: bool): v128 {
  const y = f32x4.add(a, f32x4.splat(eps));
  return normal ? logPosCore4(y) : logPos4(y);
}

/** Stores v at d (and its log, see toFeatureMajor); whether v is finite. */
// @ts-ignore: decorator
@inline function putFeature(d: usize, v: f32, lg: usize, lgOff: usize, eps: f32): bool {
  store<f32>(d, v);
  if (lg) store<f32>(d + lgOff, logPosS(Mathf.abs(v) + eps));
  return v - v == 0;
}

/**
 * [rows, ld] feature-major to [batch, rows] row-major. The SIMD build transposes 4 x 4 blocks in
 * registers, in tiles of 16 rows x 16 samples: a tile reads one 64-byte line of each of its 16
 * source rows and writes its 16 destination rows' 64 bytes, so every destination line is written
 * whole while in L1 (walking the whole batch for four rows at a time wrote each line a quarter at
 * a time, from memory once the output outgrew the cache). Within a tile, four source rows at a
 * time: source rows ld floats apart fall in one L1 set when ld is a power of two.
 */
export function toRowMajor(dst: usize, src: usize, batch: i32, rows: i32, ld: i32): void {
  let r = 0;
  if (ASC_FEATURE_SIMD) {
    const ldBytes = <usize>ld << 2, rowBytes = <usize>rows << 2;
    const b4 = batch & ~3, r4 = rows & ~3;
    for (let rt = 0; rt < r4; rt += 16) {
      const rEnd = min(rt + 16, r4);
      for (let bt = 0; bt < b4; bt += 16) {
        const bEnd = min(bt + 16, b4);
        for (let rr = rt; rr < rEnd; rr += 4) {
          const s = src + <usize>rr * ldBytes;
          for (let b = bt; b < bEnd; b += 4) {
            const p = s + (<usize>b << 2);
            const r0 = v128.load(p), r1 = v128.load(p + ldBytes);
            const r2 = v128.load(p + (ldBytes << 1)), r3 = v128.load(p + ldBytes * 3);
            const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
            const t2 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
            const d = at(dst, b * rows + rr);
            v128.store(d, v128.shuffle<i32>(t0, t2, 0, 1, 4, 5));
            v128.store(d + rowBytes, v128.shuffle<i32>(t0, t2, 2, 3, 6, 7));
            v128.store(d + (rowBytes << 1), v128.shuffle<i32>(t1, t3, 0, 1, 4, 5));
            v128.store(d + rowBytes * 3, v128.shuffle<i32>(t1, t3, 2, 3, 6, 7));
          }
        }
      }
      for (let b = b4; b < batch; b++) {
        for (let j = rt; j < rEnd; j++) store<f32>(at(dst, b * rows + j), load<f32>(at(src + <usize>j * ldBytes, b)));
      }
    }
    r = r4;
  }
  for (; r < rows; r++) {
    const s = src + (<usize>(r * ld) << 2);
    for (let b = 0; b < batch; b++) store<f32>(at(dst, b * rows + r), load<f32>(at(s, b)));
  }
}

/** Index of the first NaN or infinity among n floats, or -1. */
export function firstNonFinite(p: usize, n: i32): i32 {
  return shareable(n) ? ewShare(EW_FINITE, n, 16, p, 0, 0, 0, 0, 0, 0) : firstNonFiniteIn(p, n);
}

function firstNonFiniteIn(p: usize, n: i32): i32 {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // x - x is +0 (all bits clear) for every finite x and NaN (exponent bits set) otherwise:
    // OR-ed over the whole array (four independent chains, no branch per vector); only a failing
    // array is searched again.
    let b0 = i32x4.splat(0), b1 = b0, b2 = b0, b3 = b0;
    for (; i + 16 <= n; i += 16) {
      const q = at(p, i);
      const x0 = v128.load(q), x1 = v128.load(q, 16), x2 = v128.load(q, 32), x3 = v128.load(q, 48);
      b0 = v128.or(b0, f32x4.sub(x0, x0));
      b1 = v128.or(b1, f32x4.sub(x1, x1));
      b2 = v128.or(b2, f32x4.sub(x2, x2));
      b3 = v128.or(b3, f32x4.sub(x3, x3));
    }
    for (; i + 4 <= n; i += 4) {
      const x = v128.load(at(p, i));
      b0 = v128.or(b0, f32x4.sub(x, x));
    }
    if (v128.any_true(v128.or(v128.or(b0, b1), v128.or(b2, b3)))) i = 0;
  }
  for (; i < n; i++) {
    const v = load<f32>(at(p, i));
    if (v - v != 0) return i;
  }
  return -1;
}
