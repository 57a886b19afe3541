// iNALU, the improved NALU (Schlor, Ring & Hotho 2020).
//
//   W = tanh(W_hat) sigmoid(M_hat);  Wm = tanh(W_hat_mul) sigmoid(M_hat_mul)      [in, out]
//   a = x W
//   lx = log(max(|x|, eps));  zm = lx Wm;  m = exp(min(zm, omega))               (eps 1e-7, omega 20)
//   f_io = (1 - |Wm_io|) + sign(x_i) |Wm_io|;  sr_o = prod_i f_io;  s = clip(sr, -1, 1)
//   G = sigmoid(g)                                                                g: [out], no input
//   y = G a + (1 - G) (m s)
// Evaluated in this order, every factor f lies in [-1, 1] in f32 as in real arithmetic ((1 - w) + w
// rounds to exactly 1 for w in [0, 1]), so the clip never binds; it is kept, with its gradient rule.
//
// Backward, for upstream d [out, ld] (h = 1 - G):
//   da = d G;  dzm = d h s m where zm <= omega, else 0;  ds = d h m where -1 <= sr <= 1, else 0
//   dg = sigmoid'(g) sum_b d (a - m s), with sigmoid'(g) = e / (1 + e)^2, e = exp(-|g|)
//   dW = x^T da
//   dWm = lx^T dzm + sign(Wm) sum_b ds (sign(x) - 1) L      (|.|' = 0 at 0; sign(x)' = 0)
//   with the leave-one-out products L_io = prod_{k != i} f_ko from prefix and suffix products
//   (never by dividing by a factor, which can be exactly 0)
//   dx = da W^T + (dzm Wm^T) sign(x) / |x| where |x| >= eps, else 0 (max passes its boundary)
// then through the weight transforms as for the NAC (vnacWeightsBack). min and max pass the
// gradient inside their range and on its boundary, none outside (../shared/DESIGN.md section 1).
//
// Buffers: L_E = W, L_EM = Wm, L_TMP = G ([out]), L_LOG = lx, L_A = [a; zm] ([2 out, ld]),
// L_M = m, L_T2 = sr (forward) then ds (backward), L_T = [da; dzm] ([2 out, ld]), L_T3 = the
// prefix products of one output ([in, ld]), later dzm Wm^T; row 0 of L_M = the running suffix
// product ([ld]) once m has been used; L_DE = dW, L_DEM = dWm.
// Parameters: W_hat, M_hat, W_hat_mul, M_hat_mul, g.

import { gemmAB, gemmABt } from "../gemm";
import { fillOnes, fillPad, hsum, vnacWeights, vnacWeightsBack, vsigmoid } from "../elementwise";
import { abs4, exp4, expS, log4, logS } from "../math";
import {
  at, fld, fldF, fldI, round4, L_A, L_OMEGA, L_DE, L_DEM, L_DX, L_DY, L_E, L_EM, L_EPS, L_G, L_IN, L_LOG, L_M, L_OUT, L_P,
  L_T, L_T2, L_T3, L_TMP, L_WC, L_WCM, L_X, L_Y,
} from "../memory";

export function inaluWeights(L: usize): void {
  const n4 = round4(fldI(L, L_IN) * fldI(L, L_OUT));
  vnacWeights(fld(L, L_E), fld(L, L_P), fld(L, L_P + 1), n4, fld(L, L_WC));
  vnacWeights(fld(L, L_EM), fld(L, L_P + 2), fld(L, L_P + 3), n4, fld(L, L_WCM));
  vsigmoid(fld(L, L_TMP), fld(L, L_P + 4), round4(fldI(L, L_OUT)));
}

/** dst = log(max(|x|, eps)) over n floats. */
function logMaxAbs(dst: usize, x: usize, n: i32, eps: f32): void {
  if (ASC_FEATURE_SIMD) {
    const e = f32x4.splat(eps);
    for (let i = 0; i < n; i += 4) v128.store(at(dst, i), log4(f32x4.max(abs4(v128.load(at(x, i))), e)));
  } else {
    for (let i = 0; i < n; i++) store<f32>(at(dst, i), logS(Mathf.max(Mathf.abs(load<f32>(at(x, i))), eps)));
  }
}

/** dst[b] = src[b] * f(x[b]) over ld lanes, f = fp (x > 0), fn (x < 0), c (x = 0); dst may be src. */
// @ts-ignore: decorator
@inline function mulSignFactor(dst: usize, src: usize, x: usize, w: f32, ld: i32): void {
  const c: f32 = 1 - w;
  const fp: f32 = c + w, fn: f32 = c - w;
  if (ASC_FEATURE_SIMD) {
    const cv = f32x4.splat(c), pv = f32x4.splat(fp), nv = f32x4.splat(fn), zero = f32x4.splat(0);
    for (let b = 0; b < ld; b += 4) {
      const o = <usize>b << 2;
      const xv = v128.load(x + o);
      const f = v128.bitselect(pv, v128.bitselect(nv, cv, f32x4.lt(xv, zero)), f32x4.gt(xv, zero));
      v128.store(dst + o, f32x4.mul(v128.load(src + o), f));
    }
  } else {
    for (let b = 0; b < ld; b++) {
      const o = <usize>b << 2;
      const xv = load<f32>(x + o);
      const f = xv > 0 ? fp : (xv < 0 ? fn : c);
      store<f32>(dst + o, load<f32>(src + o) * f);
    }
  }
}

export function inaluForward(L: usize, batch: i32, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const x = fld(L, L_X), y = fld(L, L_Y), lx = fld(L, L_LOG), az = fld(L, L_A), m = fld(L, L_M);
  const sr = fld(L, L_T2), wm = fld(L, L_EM), gate = fld(L, L_TMP);
  const omega = fldF(L, L_OMEGA);
  const rowBytes = <usize>ld << 2;
  const n = nout * ld;
  const zOff = <usize>n << 2;
  gemmAB(az, fld(L, L_E), 1, nout, x, nin, nout, ld, false);
  logMaxAbs(lx, x, nin * ld, fldF(L, L_EPS));
  gemmAB(az + zOff, wm, 1, nout, lx, nin, nout, ld, false);
  for (let o = 0; o < nout; o++) {
    const so = sr + <usize>o * rowBytes;
    fillOnes(so, ld);
    for (let i = 0; i < nin; i++) {
      mulSignFactor(so, so, x + <usize>i * rowBytes, Mathf.abs(load<f32>(at(wm, i * nout + o))), ld);
    }
    // m = exp(min(zm, omega));  y = G a + (1 - G) (m clip(sr, -1, 1))
    const G = load<f32>(at(gate, o));
    const h: f32 = 1 - G;
    const row = <usize>o * rowBytes;
    if (ASC_FEATURE_SIMD) {
      const gv = f32x4.splat(G), hv = f32x4.splat(h), om = f32x4.splat(omega);
      const lo = f32x4.splat(-1), hi = f32x4.splat(1);
      for (let b = 0; b < ld; b += 4) {
        const p = row + (<usize>b << 2);
        const mv = exp4(f32x4.min(v128.load(az + zOff + p), om));
        const s = f32x4.min(f32x4.max(v128.load(sr + p), lo), hi);
        v128.store(m + p, mv);
        v128.store(y + p, f32x4.add(f32x4.mul(gv, v128.load(az + p)), f32x4.mul(hv, f32x4.mul(mv, s))));
      }
    } else {
      for (let b = 0; b < ld; b++) {
        const p = row + (<usize>b << 2);
        const mv = expS(Mathf.min(load<f32>(az + zOff + p), omega));
        const s = Mathf.min(Mathf.max(load<f32>(sr + p), -1), 1);
        store<f32>(m + p, mv);
        store<f32>(y + p, G * load<f32>(az + p) + h * (mv * s));
      }
    }
  }
  fillPad(y, nout, batch, ld, 1);
}

export function inaluBackward(L: usize, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const x = fld(L, L_X), lx = fld(L, L_LOG), az = fld(L, L_A), m = fld(L, L_M), sr = fld(L, L_T2);
  const dy = fld(L, L_DY), T = fld(L, L_T), gate = fld(L, L_TMP), wm = fld(L, L_EM);
  const omega = fldF(L, L_OMEGA), eps = fldF(L, L_EPS);
  const rowBytes = <usize>ld << 2;
  const n = nout * ld;
  const zOff = <usize>n << 2;
  const gHat = fld(L, L_P + 4), dgHat = fld(L, L_G + 4);

  // Pass 1, per output: da, dzm, ds (over sr) and the gate's gradient.
  for (let o = 0; o < nout; o++) {
    const G = load<f32>(at(gate, o));
    const h: f32 = 1 - G;
    const row = <usize>o * rowBytes;
    let sum: f32;
    if (ASC_FEATURE_SIMD) {
      const gv = f32x4.splat(G), hv = f32x4.splat(h), om = f32x4.splat(omega);
      const lo = f32x4.splat(-1), hi = f32x4.splat(1);
      let acc = f32x4.splat(0);
      for (let b = 0; b < ld; b += 4) {
        const p = row + (<usize>b << 2);
        const d = v128.load(dy + p), mv = v128.load(m + p), srv = v128.load(sr + p);
        const s = f32x4.min(f32x4.max(srv, lo), hi);
        const dms = f32x4.mul(d, hv);
        v128.store(T + p, f32x4.mul(d, gv));
        v128.store(T + zOff + p, v128.and(f32x4.mul(f32x4.mul(dms, s), mv), f32x4.le(v128.load(az + zOff + p), om)));
        v128.store(sr + p, v128.and(f32x4.mul(dms, mv), v128.and(f32x4.ge(srv, lo), f32x4.le(srv, hi))));
        acc = f32x4.add(acc, f32x4.mul(d, f32x4.sub(v128.load(az + p), f32x4.mul(mv, s))));
      }
      sum = hsum(acc);
    } else {
      let l0: f32 = 0, l1: f32 = 0, l2: f32 = 0, l3: f32 = 0;
      for (let b = 0; b < ld; b += 4) {
        for (let j = 0; j < 4; j++) {
          const p = row + (<usize>(b + j) << 2);
          const d = load<f32>(dy + p), mv = load<f32>(m + p), srv = load<f32>(sr + p);
          const s = Mathf.min(Mathf.max(srv, -1), 1);
          const dms = d * h;
          store<f32>(T + p, d * G);
          store<f32>(T + zOff + p, load<f32>(az + zOff + p) <= omega ? (dms * s) * mv : 0);
          store<f32>(sr + p, srv >= -1 && srv <= 1 ? dms * mv : 0);
          const t = d * (load<f32>(az + p) - mv * s);
          if (j == 0) l0 += t; else if (j == 1) l1 += t; else if (j == 2) l2 += t; else l3 += t;
        }
      }
      sum = (l0 + l1) + (l2 + l3);
    }
    const e = expS(-Mathf.abs(load<f32>(at(gHat, o))));
    const d1: f32 = 1 + e;
    store<f32>(at(dgHat, o), sum * (e / (d1 * d1)));
  }

  // dW = x^T da;  dWm = lx^T dzm, then the sign path.
  const dE = fld(L, L_DE), dEm = fld(L, L_DEM);
  gemmABt(dE, x, nin, T, nout, ld, nout, 1, false);
  gemmABt(dEm, lx, nin, T + zOff, nout, ld, nout, 1, false);
  const pre = fld(L, L_T3), suf = m; // m is no longer needed: its row 0 holds the suffix
  for (let o = 0; o < nout; o++) {
    const ds = sr + <usize>o * rowBytes;
    fillOnes(pre, ld);
    for (let i = 1; i < nin; i++) {
      mulSignFactor(pre + <usize>i * rowBytes, pre + <usize>(i - 1) * rowBytes, x + <usize>(i - 1) * rowBytes,
        Mathf.abs(load<f32>(at(wm, (i - 1) * nout + o))), ld);
    }
    fillOnes(suf, ld);
    for (let i = nin - 1; i >= 0; i--) {
      const w = load<f32>(at(wm, i * nout + o));
      const xi = x + <usize>i * rowBytes, pi = pre + <usize>i * rowBytes;
      // sum_b ds (pre suf) (sign(x) - 1), with sign(x) - 1 = 0, -1, -2 for x > 0, = 0, < 0
      let s: f32;
      if (ASC_FEATURE_SIMD) {
        const zero = f32x4.splat(0), m1 = f32x4.splat(-1), m2 = f32x4.splat(-2);
        let acc = f32x4.splat(0);
        for (let b = 0; b < ld; b += 4) {
          const ob = <usize>b << 2;
          const xv = v128.load(xi + ob);
          const sg = v128.bitselect(zero, v128.bitselect(m2, m1, f32x4.lt(xv, zero)), f32x4.gt(xv, zero));
          const dl = f32x4.mul(v128.load(ds + ob), f32x4.mul(v128.load(pi + ob), v128.load(suf + ob)));
          acc = f32x4.add(acc, f32x4.mul(dl, sg));
        }
        s = hsum(acc);
      } else {
        let l0: f32 = 0, l1: f32 = 0, l2: f32 = 0, l3: f32 = 0;
        for (let b = 0; b < ld; b += 4) {
          for (let j = 0; j < 4; j++) {
            const ob = <usize>(b + j) << 2;
            const xv = load<f32>(xi + ob);
            const sg: f32 = xv > 0 ? 0 : (xv < 0 ? -2 : -1);
            const t = (load<f32>(ds + ob) * (load<f32>(pi + ob) * load<f32>(suf + ob))) * sg;
            if (j == 0) l0 += t; else if (j == 1) l1 += t; else if (j == 2) l2 += t; else l3 += t;
          }
        }
        s = (l0 + l1) + (l2 + l3);
      }
      const sw: f32 = w > 0 ? s : (w < 0 ? -s : 0);
      const pe = at(dEm, i * nout + o);
      store<f32>(pe, load<f32>(pe) + sw);
      mulSignFactor(suf, suf, xi, Mathf.abs(w), ld);
    }
  }
  const n4 = round4(nin * nout);
  vnacWeightsBack(fld(L, L_G), fld(L, L_G + 1), dE, fld(L, L_P), fld(L, L_P + 1), n4, fld(L, L_WC));
  vnacWeightsBack(fld(L, L_G + 2), fld(L, L_G + 3), dEm, fld(L, L_P + 2), fld(L, L_P + 3), n4, fld(L, L_WCM));

  // dx = da W^T + (dzm Wm^T) sign(x) / |x| where |x| >= eps
  const dx = fld(L, L_DX);
  if (dx) {
    const t3 = fld(L, L_T3);
    gemmAB(dx, fld(L, L_E), nout, 1, T, nout, nin, ld, false);
    gemmAB(t3, wm, nout, 1, T + zOff, nout, nin, ld, false);
    const nn = nin * ld;
    if (ASC_FEATURE_SIMD) {
      const e = f32x4.splat(eps), zero = f32x4.splat(0);
      for (let i = 0; i < nn; i += 4) {
        const xv = v128.load(at(x, i));
        const ax = abs4(xv);
        const r = f32x4.div(v128.load(at(t3, i)), ax);
        let s = v128.bitselect(r, f32x4.neg(r), f32x4.gt(xv, zero));
        s = v128.and(s, f32x4.ge(ax, e));
        v128.store(at(dx, i), f32x4.add(v128.load(at(dx, i)), s));
      }
    } else {
      for (let i = 0; i < nn; i++) {
        const xv = load<f32>(at(x, i));
        const ax = Mathf.abs(xv);
        const r = load<f32>(at(t3, i)) / ax;
        let s: f32 = xv > 0 ? r : -r;
        if (!(ax >= eps)) s = 0;
        store<f32>(at(dx, i), load<f32>(at(dx, i)) + s);
      }
    }
  }
}
