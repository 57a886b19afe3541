// NMU, the neural multiplication unit (Madsen & Johansen 2020).
//
//   Wc = clamp(W, 0, 1)                                  W: [in, out]
//   f_io = Wc_io x_i + 1 - Wc_io;   y_o = prod_i f_io      x: [in, ld], y: [out, ld]
//
// Backward, for upstream d [out, ld], through the leave-one-out products
// L_io = prod_{k != i} f_ko, computed as prefix times suffix products (a factor may be exactly
// 0, so never by division):
//   dWc_io = sum_b d_o (x_i - 1) L_io;   dx_i = sum_o d_o Wc_io L_io;   dW = dWc inside [0, 1]
//
// Training adds lambda * R with R = mean(min(W, 1 - W)) and projects W to [0, 1] after each step.
//
// Buffers: L_E = Wc, L_DE = dWc, L_LOG = the prefix products of one output ([in, ld]),
// L_T2 = the running suffix product ([ld]).

import { fillOnes, fillPad, hsum, vclamp, vclampBack } from "../elementwise";
import { fld, fldI, round4, L_DE, L_DX, L_DY, L_E, L_G, L_IN, L_LOG, L_OUT, L_P, L_T2, L_X, L_Y } from "../memory";

export function nmuWeights(L: usize): void {
  vclamp(fld(L, L_E), fld(L, L_P), round4(fldI(L, L_IN) * fldI(L, L_OUT)), 0, 1);
}

/** dst[b] = src[b] * (w x[b] + 1 - w) over ld lanes (dst may be src). */
// @ts-ignore: decorator
@inline function mulFactor(dst: usize, src: usize, x: usize, w: f32, ld: i32): void {
  const c: f32 = 1 - w;
  if (ASC_FEATURE_SIMD) {
    const wv = f32x4.splat(w), cv = f32x4.splat(c);
    for (let b = 0; b < ld; b += 4) {
      const o = <usize>b << 2;
      v128.store(dst + o, f32x4.mul(v128.load(src + o), f32x4.add(f32x4.mul(wv, v128.load(x + o)), cv)));
    }
  } else {
    for (let b = 0; b < ld; b++) {
      const o = <usize>b << 2;
      store<f32>(dst + o, load<f32>(src + o) * (w * load<f32>(x + o) + c));
    }
  }
}

export function nmuForward(L: usize, batch: i32, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const x = fld(L, L_X), y = fld(L, L_Y), wc = fld(L, L_E);
  const rowBytes = <usize>ld << 2;
  for (let o = 0; o < nout; o++) {
    const yo = y + <usize>o * rowBytes;
    fillOnes(yo, ld);
    for (let i = 0; i < nin; i++) {
      mulFactor(yo, yo, x + <usize>i * rowBytes, load<f32>(wc + (<usize>(i * nout + o) << 2)), ld);
    }
  }
  fillPad(y, nout, batch, ld, 1);
}

export function nmuBackward(L: usize, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const x = fld(L, L_X), wc = fld(L, L_E), dE = fld(L, L_DE), dy = fld(L, L_DY);
  const pre = fld(L, L_LOG), suf = fld(L, L_T2), dx = fld(L, L_DX);
  const rowBytes = <usize>ld << 2;
  if (dx) memory.fill(dx, 0, <usize>nin * rowBytes);
  for (let o = 0; o < nout; o++) {
    const d = dy + <usize>o * rowBytes;
    // pre_i = prod_{k < i} f_k
    fillOnes(pre, ld);
    for (let i = 1; i < nin; i++) {
      mulFactor(pre + <usize>i * rowBytes, pre + <usize>(i - 1) * rowBytes, x + <usize>(i - 1) * rowBytes,
        load<f32>(wc + (<usize>((i - 1) * nout + o) << 2)), ld);
    }
    fillOnes(suf, ld);
    for (let i = nin - 1; i >= 0; i--) {
      const w = load<f32>(wc + (<usize>(i * nout + o) << 2));
      const xi = x + <usize>i * rowBytes, pi = pre + <usize>i * rowBytes;
      const dxi = dx + <usize>i * rowBytes;
      let s: f32;
      if (ASC_FEATURE_SIMD) {
        const one = f32x4.splat(1), wv = f32x4.splat(w);
        let acc = f32x4.splat(0);
        for (let b = 0; b < ld; b += 4) {
          const ob = <usize>b << 2;
          const dl = f32x4.mul(v128.load(d + ob), f32x4.mul(v128.load(pi + ob), v128.load(suf + ob)));
          acc = f32x4.add(acc, f32x4.mul(dl, f32x4.sub(v128.load(xi + ob), one)));
          if (dx) v128.store(dxi + ob, f32x4.add(v128.load(dxi + ob), f32x4.mul(dl, wv)));
        }
        s = hsum(acc);
      } else {
        let l0: f32 = 0, l1: f32 = 0, l2: f32 = 0, l3: f32 = 0;
        for (let b = 0; b < ld; b += 4) {
          for (let j = 0; j < 4; j++) {
            const ob = <usize>(b + j) << 2;
            const dl = load<f32>(d + ob) * (load<f32>(pi + ob) * load<f32>(suf + ob));
            const t = dl * (load<f32>(xi + ob) - 1);
            if (j == 0) l0 += t; else if (j == 1) l1 += t; else if (j == 2) l2 += t; else l3 += t;
            if (dx) store<f32>(dxi + ob, load<f32>(dxi + ob) + dl * w);
          }
        }
        s = (l0 + l1) + (l2 + l3);
      }
      store<f32>(dE + (<usize>(i * nout + o) << 2), s);
      mulFactor(suf, suf, xi, w, ld);
    }
  }
  vclampBack(fld(L, L_G), dE, fld(L, L_P), round4(nin * nout), 0, 1);
}
