// Optimizers as flat loops over the state arena: parameters p, gradients g and the two
// moment regions m and v share one layout of n floats (n a multiple of 4).
//
// Adam, as torch.optim.Adam (no weight decay, not amsgrad): at step t
//   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
//   p = p - stepSize * m / (sqrt(v) / bc2sqrt + eps),  stepSize = lr / (1 - beta1^t),
//   bc2sqrt = sqrt(1 - beta2^t)   (both computed by the host in f64, passed as f32).
// RMSProp, as torch.optim.RMSprop (no momentum, not centered): v = alpha v + (1 - alpha) g^2;
//   p = p - lr g / (sqrt(v) + eps).
// The betas and alpha arrive in f64: beta and 1 - beta are each rounded to f32 once, the
// constants torch's kernels get. (1 - beta in f32 from the rounded beta differs: 1.19e-7 for
// beta2 = 0.9999999 instead of 1e-7, which made Adam's first step 0.92 lr instead of lr.)
// SGD: p = p - lr g.
// Gradient clipping (the clip option) clamps every gradient to [-c, c] first: vclamp (elementwise.ts).
//
// Each optimizer is one inlined pass with two uses (commit is a constant at each call site). With
// commit it writes the new p, m and v. Without, it computes the same values, writes nothing, and
// returns the index of the first parameter whose new value or moment would not be finite (a
// finite gradient can still overflow them: g^2 beyond f32 makes v infinite, which freezes that
// parameter for good), or -1. A checked training step runs updateSafe, a cheap screen, and the
// exact check only when the screen cannot rule an overflow out; then the commit. So a refused
// step leaves the state as it was.

import { abs4 } from "./math";

/** True in each lane where x is neither NaN nor infinite. */
@inline function finite4(x: v128): v128 {
  return f32x4.lt(abs4(x), f32x4.splat(Infinity));
}

/** The first lane of the vector at index i that is not set in the mask ok, as an index. */
@inline function firstUnset(ok: v128, i: i32): i32 {
  return i + ctz(~i32x4.bitmask(ok));
}

@inline export function adamPass(commit: bool, p: usize, g: usize, m: usize, v: usize, n: i32,
                                  beta1: f64, beta2: f64, eps: f32, stepSize: f32, bc2sqrt: f32): i32 {
  const d1 = <f32>beta1, d2 = <f32>beta2, c1 = <f32>(1 - beta1), c2 = <f32>(1 - beta2);
  if (ASC_FEATURE_SIMD) {
    const b1 = f32x4.splat(d1), b2 = f32x4.splat(d2), k1 = f32x4.splat(c1), k2 = f32x4.splat(c2);
    const ev = f32x4.splat(eps), sv = f32x4.splat(-stepSize), bc = f32x4.splat(bc2sqrt);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      const gv = v128.load(g + o);
      const mv = f32x4.add(f32x4.mul(v128.load(m + o), b1), f32x4.mul(gv, k1));
      const vv = f32x4.add(f32x4.mul(v128.load(v + o), b2), f32x4.mul(f32x4.mul(gv, gv), k2));
      const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), bc), ev);
      const pv = f32x4.add(v128.load(p + o), f32x4.mul(sv, f32x4.div(mv, denom)));
      if (commit) {
        v128.store(m + o, mv);
        v128.store(v + o, vv);
        v128.store(p + o, pv);
      } else {
        const ok = v128.and(v128.and(finite4(mv), finite4(vv)), finite4(pv));
        if (!i32x4.all_true(ok)) return firstUnset(ok, i);
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      const gv = load<f32>(g + o);
      const mv = load<f32>(m + o) * d1 + gv * c1;
      const vv = load<f32>(v + o) * d2 + (gv * gv) * c2;
      const denom = Mathf.sqrt(vv) / bc2sqrt + eps;
      const pv = load<f32>(p + o) + (-stepSize) * (mv / denom);
      if (commit) {
        store<f32>(m + o, mv);
        store<f32>(v + o, vv);
        store<f32>(p + o, pv);
      } else if (!isFinite(mv) || !isFinite(vv) || !isFinite(pv)) return i;
    }
  }
  return -1;
}

@inline export function sgdPass(commit: bool, p: usize, g: usize, n: i32, lr: f32): i32 {
  if (ASC_FEATURE_SIMD) {
    const k = f32x4.splat(-lr);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      const pv = f32x4.add(v128.load(p + o), f32x4.mul(k, v128.load(g + o)));
      if (commit) v128.store(p + o, pv);
      else {
        const ok = finite4(pv);
        if (!i32x4.all_true(ok)) return firstUnset(ok, i);
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      const pv = load<f32>(p + o) + (-lr) * load<f32>(g + o);
      if (commit) store<f32>(p + o, pv);
      else if (!isFinite(pv)) return i;
    }
  }
  return -1;
}

@inline export function rmspropPass(commit: bool, p: usize, g: usize, v: usize, n: i32, lr: f32, alpha: f64, eps: f32): i32 {
  const a = <f32>alpha, c = <f32>(1 - alpha);
  if (ASC_FEATURE_SIMD) {
    const av = f32x4.splat(a), cv = f32x4.splat(c), ev = f32x4.splat(eps), lv = f32x4.splat(-lr);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      const gv = v128.load(g + o);
      const vv = f32x4.add(f32x4.mul(v128.load(v + o), av), f32x4.mul(f32x4.mul(gv, gv), cv));
      const pv = f32x4.add(v128.load(p + o), f32x4.mul(lv, f32x4.div(gv, f32x4.add(f32x4.sqrt(vv), ev))));
      if (commit) {
        v128.store(v + o, vv);
        v128.store(p + o, pv);
      } else {
        const ok = v128.and(finite4(vv), finite4(pv));
        if (!i32x4.all_true(ok)) return firstUnset(ok, i);
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      const gv = load<f32>(g + o);
      const vv = load<f32>(v + o) * a + (gv * gv) * c;
      const pv = load<f32>(p + o) + (-lr) * (gv / (Mathf.sqrt(vv) + eps));
      if (commit) {
        store<f32>(v + o, vv);
        store<f32>(p + o, pv);
      } else if (!isFinite(vv) || !isFinite(pv)) return i;
    }
  }
  return -1;
}

/**
 * A quick screen for the check: true when no parameter or moment can overflow in this update, by
 * bounds from the largest |p|, |g|, |m| and |v| alone (no square root or division).
 * With q = max(|m|, |g|) (Adam) or |g| (RMSProp, SGD), every value the update computes is
 * bounded, intermediates included:
 *   m' <= q;  g g and v' <= beta v + g^2;  the quotient m' / denom or g / denom <= q / eps
 *   (Adam's and RMSProp's denominators are at least eps);  |p'| <= |p| + rate q / eps
 *   (SGD: |p| + lr |g|).
 * Each bound is held to half of the largest f32, far beyond the rounding of the update's f32
 * operations. False only says that the exact check (a pass without commit) must decide.
 * withV: Adam or RMSProp (beta is Adam's beta2 or RMSProp's alpha); withM: Adam. rate is lr, or
 * Adam's stepSize.
 */
export function updateSafe(withV: bool, withM: bool, p: usize, g: usize, m: usize, v: usize, n: i32,
                           beta: f32, rate: f32, eps: f32): bool {
  let pMax: f32 = 0, gMax: f32 = 0, mMax: f32 = 0, vMax: f32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // The largest |value| as the largest bit pattern with the sign cleared: for floats >= 0 the
    // patterns order as the values do, NaNs above infinity, and i32x4.max_s is one instruction
    // (f32x4.max, with its NaN and -0 rules, is several, in each accumulator's chain).
    const abs = i32x4.splat(0x7fffffff);
    let pm = i32x4.splat(0), gm = pm, mm = pm, vm = pm;
    for (; i < n; i += 4) {
      const o = <usize>i << 2;
      pm = i32x4.max_s(pm, v128.and(v128.load(p + o), abs));
      gm = i32x4.max_s(gm, v128.and(v128.load(g + o), abs));
      if (withM) mm = i32x4.max_s(mm, v128.and(v128.load(m + o), abs));
      if (withV) vm = i32x4.max_s(vm, v128.and(v128.load(v + o), abs));
    }
    pMax = hmax(pm);
    gMax = hmax(gm);
    mMax = hmax(mm);
    vMax = hmax(vm);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    pMax = Mathf.max(pMax, Mathf.abs(load<f32>(p + o)));
    gMax = Mathf.max(gMax, Mathf.abs(load<f32>(g + o)));
    if (withM) mMax = Mathf.max(mMax, Mathf.abs(load<f32>(m + o)));
    if (withV) vMax = Mathf.max(vMax, Mathf.abs(load<f32>(v + o)));
  }
  // in f64, where none of these overflows; a NaN fails every comparison, and so the screen
  const half = <f64>F32.MAX_VALUE / 2, gm = <f64>gMax, q = Math.max(gm, <f64>mMax);
  const quotient = withV ? q / <f64>eps : q;
  return (!withV || <f64>beta * <f64>vMax + gm * gm < half) && q < half && quotient < half &&
    <f64>pMax + <f64>rate * quotient < half;
}

/** The largest of four non-negative float bit patterns, as the float (NaN if any is NaN). */
@inline function hmax(x: v128): f32 {
  const y = i32x4.max_s(x, v128.shuffle<i32>(x, x, 2, 3, 0, 1));
  return reinterpret<f32>(max(i32x4.extract_lane(y, 0), i32x4.extract_lane(y, 1)));
}
