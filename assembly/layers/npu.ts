// NPU and RealNPU, the neural power units (Heim, Pevny & Smidl 2020).
//
//   gc = clamp(g, 0, 1)                                   g: [in] (the relevance gate)
//   r_i = gc_i (|x_i| + eps) + (1 - gc_i)                 eps (default 1e-7) keeps r > 0, so
//                                                         log r is finite at x = 0
//   l_i = log r_i;   k_i = gc_i where x_i < 0, else 0
//   u = l W_re - pi k W_im;   v = pi k W_re + l W_im      W_re, W_im: [in, out]
//   y = exp(u) cos(v)                                     (RealNPU: W_im = 0, y = exp(l W_re) cos(pi k W_re))
// This is the real part of prod_i (gated x_i)^(W_re + i W_im) with log(x) = log|x| + i pi for
// x < 0: the paper's layer, written for x [batch, in] and W [in, out] (the paper's W is [out, in]).
//
// Backward, for upstream d [out, ld]:
//   du = d y;   dv = -d exp(u) sin(v)
//   dW_re = l^T du + pi k^T dv;   dW_im = l^T dv - pi k^T du   (summed over the batch)
//   dl = W_re du + W_im dv;   dk = pi W_re dv - pi W_im du      ([in, ld])
//   dr = dl / r;   dgc_i = sum_b dr (|x_i| + eps - 1) + dk [x_i < 0]
//   dg = dgc where 0 <= g <= 1, else 0 (a clamp passes its boundary, none outside)
//   dx = dr gc sign(x), sign(0) = 0 (the derivative of |x| at 0 is 0; k, a step in x, has none)
// After each optimizer step g is projected back to [0, 1] (model.ts eachUnit). The paper's code
// clamps g in the forward pass only; the projection leaves every forward value unchanged and
// keeps g where its gradient flows (on the boundary), so Adam's momentum cannot carry a gate
// into the region where its gradient is exactly 0 for good.
//
// Effective weights, stacked so that one product gives [u; v] and one gives [dl; dk]:
//   NPU:     E = [[W_re, W_im], [-pi W_im, pi W_re]]  [2 in, 2 out]  ([u; v] = E^T [l; k])
//   RealNPU: E = [W_re; pi W_re]                      [2 in, out]    (two products of in rows)
// Buffers: L_E = E, L_DE = its gradient (same layout), L_TMP = gc ([in]), L_LOG = [l; k]
// ([2 in, ld]), L_A = [u; v] ([2 out, ld]), L_M = exp(u) sin(v) ([out, ld]), L_T = [du; dv]
// ([2 out, ld]), L_T3 = [dl; dk] ([2 in, ld]).
// Parameters: NPU W_re, W_im, g; RealNPU W_re, g.

import { gemmAB, gemmABt } from "../gemm";
import { fillPad, hsum, vclamp } from "../elementwise";
import { abs4, exp4, expS, log4, logS } from "../math";
import { sincos4, sincosS } from "../trig";
import {
  at, fld, fldF, fldI, round4, L_A, L_DE, L_DX, L_DY, L_E, L_EPS, L_G, L_IN, L_LOG, L_M, L_OUT, L_P, L_T, L_T3, L_TMP, L_X, L_Y,
} from "../memory";

const PI_F: f32 = 3.1415927410125732; // the f32 nearest to pi

/** Index of the gate g among the layer's parameters. */
// @ts-ignore: decorator
@inline function gateIndex(real: bool): i32 { return real ? 1 : 2; }

export function npuWeights(L: usize, real: bool): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const e = fld(L, L_E), wre = fld(L, L_P);
  vclamp(fld(L, L_TMP), fld(L, L_P + gateIndex(real)), round4(nin), 0, 1);
  if (real) {
    const io = nin * nout;
    for (let j = 0; j < io; j++) {
      const w = load<f32>(at(wre, j));
      store<f32>(at(e, j), w);
      store<f32>(at(e, io + j), PI_F * w);
    }
    return;
  }
  const wim = fld(L, L_P + 1);
  const w2 = 2 * nout;
  for (let i = 0; i < nin; i++) {
    for (let o = 0; o < nout; o++) {
      const wr = load<f32>(at(wre, i * nout + o)), wi = load<f32>(at(wim, i * nout + o));
      store<f32>(at(e, i * w2 + o), wr);
      store<f32>(at(e, i * w2 + nout + o), wi);
      store<f32>(at(e, (nin + i) * w2 + o), -(PI_F * wi));
      store<f32>(at(e, (nin + i) * w2 + nout + o), PI_F * wr);
    }
  }
}

/** P = [l; k]: l = log(gc (|x| + eps) + (1 - gc)), k = gc where x < 0, else 0, per input row. */
function gatedLog(P: usize, x: usize, gc: usize, nin: i32, ld: i32, eps: f32): void {
  const kOff = <usize>(nin * ld) << 2;
  for (let i = 0; i < nin; i++) {
    const g = load<f32>(at(gc, i));
    const c: f32 = 1 - g;
    const row = <usize>(i * ld) << 2;
    if (ASC_FEATURE_SIMD) {
      const gv = f32x4.splat(g), cv = f32x4.splat(c), ev = f32x4.splat(eps), zero = f32x4.splat(0);
      for (let b = 0; b < ld; b += 4) {
        const o = row + (<usize>b << 2);
        const xv = v128.load(x + o);
        const r = f32x4.add(f32x4.mul(gv, f32x4.add(abs4(xv), ev)), cv);
        v128.store(P + o, log4(r));
        v128.store(P + kOff + o, v128.bitselect(gv, zero, f32x4.lt(xv, zero)));
      }
    } else {
      for (let b = 0; b < ld; b++) {
        const o = row + (<usize>b << 2);
        const xv = load<f32>(x + o);
        store<f32>(P + o, logS(g * (Mathf.abs(xv) + eps) + c));
        store<f32>(P + kOff + o, xv < 0 ? g : 0);
      }
    }
  }
}

export function npuForward(L: usize, batch: i32, ld: i32, real: bool): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const x = fld(L, L_X), y = fld(L, L_Y), P = fld(L, L_LOG), uv = fld(L, L_A), es = fld(L, L_M);
  const e = fld(L, L_E);
  gatedLog(P, x, fld(L, L_TMP), nin, ld, fldF(L, L_EPS));
  const n = nout * ld;
  const vOff = <usize>n << 2;
  if (real) {
    gemmAB(uv, e, 1, nout, P, nin, nout, ld, false);
    gemmAB(uv + vOff, e + (<usize>(nin * nout) << 2), 1, nout, P + (<usize>(nin * ld) << 2), nin, nout, ld, false);
  } else {
    gemmAB(uv, e, 1, 2 * nout, P, 2 * nin, 2 * nout, ld, false);
  }
  // y = exp(u) cos(v), es = exp(u) sin(v): sincos writes sin into es and cos into y first.
  if (ASC_FEATURE_SIMD) {
    for (let j = 0; j < n; j += 4) {
      const o = <usize>j << 2;
      const ex = exp4(v128.load(uv + o));
      sincos4(v128.load(uv + vOff + o), es + o, y + o);
      v128.store(y + o, f32x4.mul(ex, v128.load(y + o)));
      v128.store(es + o, f32x4.mul(ex, v128.load(es + o)));
    }
  } else {
    for (let j = 0; j < n; j++) {
      const o = <usize>j << 2;
      const ex = expS(load<f32>(uv + o));
      sincosS(load<f32>(uv + vOff + o), es + o, y + o);
      store<f32>(y + o, ex * load<f32>(y + o));
      store<f32>(es + o, ex * load<f32>(es + o));
    }
  }
  // Padding lanes (x = 1) can overflow exp(u) where no sample does: y = 1 there, and es = 0, so
  // that dv = -(d es) is 0 and not 0 * infinity in the backward pass.
  fillPad(y, nout, batch, ld, 1);
  fillPad(es, nout, batch, ld, 0);
}

export function npuBackward(L: usize, ld: i32, real: bool): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const x = fld(L, L_X), y = fld(L, L_Y), es = fld(L, L_M), dy = fld(L, L_DY);
  const P = fld(L, L_LOG), T = fld(L, L_T), dP = fld(L, L_T3), e = fld(L, L_E), dE = fld(L, L_DE);
  const n = nout * ld;
  const vOff = <usize>n << 2;
  // [du; dv] = [d y; -(d exp(u) sin(v))]
  if (ASC_FEATURE_SIMD) {
    for (let j = 0; j < n; j += 4) {
      const o = <usize>j << 2;
      const d = v128.load(dy + o);
      v128.store(T + o, f32x4.mul(d, v128.load(y + o)));
      v128.store(T + vOff + o, f32x4.neg(f32x4.mul(d, v128.load(es + o))));
    }
  } else {
    for (let j = 0; j < n; j++) {
      const o = <usize>j << 2;
      const d = load<f32>(dy + o);
      store<f32>(T + o, d * load<f32>(y + o));
      store<f32>(T + vOff + o, -(d * load<f32>(es + o)));
    }
  }

  // Weight gradients, then [dl; dk].
  const io = nin * nout;
  const kOff = <usize>(nin * ld) << 2;
  const dWre = fld(L, L_G);
  if (real) {
    gemmABt(dE, P, nin, T, nout, ld, nout, 1, false);
    gemmABt(dE + (<usize>io << 2), P + kOff, nin, T + vOff, nout, ld, nout, 1, false);
    for (let j = 0; j < io; j++) {
      store<f32>(at(dWre, j), load<f32>(at(dE, j)) + PI_F * load<f32>(at(dE, io + j)));
    }
    gemmAB(dP, e, nout, 1, T, nout, nin, ld, false);
    gemmAB(dP + kOff, e + (<usize>io << 2), nout, 1, T + vOff, nout, nin, ld, false);
  } else {
    const w2 = 2 * nout;
    gemmABt(dE, P, 2 * nin, T, w2, ld, w2, 1, false);
    const dWim = fld(L, L_G + 1);
    for (let i = 0; i < nin; i++) {
      for (let o = 0; o < nout; o++) {
        const lu = load<f32>(at(dE, i * w2 + o)), lv = load<f32>(at(dE, i * w2 + nout + o));
        const ku = load<f32>(at(dE, (nin + i) * w2 + o)), kv = load<f32>(at(dE, (nin + i) * w2 + nout + o));
        store<f32>(at(dWre, i * nout + o), lu + PI_F * kv);
        store<f32>(at(dWim, i * nout + o), lv - PI_F * ku);
      }
    }
    gemmAB(dP, e, w2, 1, T, w2, 2 * nin, ld, false);
  }

  // Per input: dr = dl / r; the gate's gradient sums dr (|x| + eps - 1) + dk [x < 0] over the
  // batch in four lane accumulators; dx = dr gc sign(x).
  const eps = fldF(L, L_EPS);
  const gc = fld(L, L_TMP), gRaw = fld(L, L_P + gateIndex(real)), dg = fld(L, L_G + gateIndex(real));
  const dx = fld(L, L_DX);
  for (let i = 0; i < nin; i++) {
    const g = load<f32>(at(gc, i));
    const c: f32 = 1 - g;
    const row = <usize>(i * ld) << 2;
    let s: f32;
    if (ASC_FEATURE_SIMD) {
      const gv = f32x4.splat(g), cv = f32x4.splat(c), ev = f32x4.splat(eps);
      const zero = f32x4.splat(0), one = f32x4.splat(1);
      let acc = f32x4.splat(0);
      for (let b = 0; b < ld; b += 4) {
        const o = row + (<usize>b << 2);
        const xv = v128.load(x + o);
        const ax = f32x4.add(abs4(xv), ev);
        const dr = f32x4.div(v128.load(dP + o), f32x4.add(f32x4.mul(gv, ax), cv));
        const neg = f32x4.lt(xv, zero);
        acc = f32x4.add(acc, f32x4.add(f32x4.mul(dr, f32x4.sub(ax, one)), v128.and(v128.load(dP + kOff + o), neg)));
        if (dx) {
          const t = f32x4.mul(dr, gv);
          let sx = v128.bitselect(t, f32x4.neg(t), f32x4.gt(xv, zero));
          sx = v128.bitselect(zero, sx, f32x4.eq(xv, zero));
          v128.store(dx + o, sx);
        }
      }
      s = hsum(acc);
    } else {
      let l0: f32 = 0, l1: f32 = 0, l2: f32 = 0, l3: f32 = 0;
      for (let b = 0; b < ld; b += 4) {
        for (let j = 0; j < 4; j++) {
          const o = row + (<usize>(b + j) << 2);
          const xv = load<f32>(x + o);
          const ax = Mathf.abs(xv) + eps;
          const dr = load<f32>(dP + o) / (g * ax + c);
          const t = dr * (ax - 1) + (xv < 0 ? load<f32>(dP + kOff + o) : <f32>0);
          if (j == 0) l0 += t; else if (j == 1) l1 += t; else if (j == 2) l2 += t; else l3 += t;
          if (dx) {
            const u = dr * g;
            let sx: f32 = xv > 0 ? u : -u;
            if (xv == 0) sx = 0;
            store<f32>(dx + o, sx);
          }
        }
      }
      s = (l0 + l1) + (l2 + l3);
    }
    const gr = load<f32>(at(gRaw, i));
    store<f32>(at(dg, i), gr >= 0 && gr <= 1 ? s : 0);
  }
}
