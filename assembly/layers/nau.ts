// NAU, the neural addition unit (Madsen & Johansen 2020).
//
//   Wc = clamp(W, -1, 1)                                 W: [in, out]
//   y = x Wc                                             x: [in, ld], y: [out, ld]
//
// Backward, for upstream d [out, ld]:
//   dWc = x^T d;  dW = dWc where -1 <= W <= 1, else 0 (a clamp passes its boundary);  dx = d Wc^T
//
// Training adds lambda * R with R = mean(min(|W|, 1 - |W|)) (regularize() below) and projects
// W back to [-1, 1] after each optimizer step (eachUnit in model.ts).
//
// Buffers: L_E = Wc, L_DE = dWc. The forward, y = x Wc, is the NAC's (nacForward, nacForwardRow
// in nac.ts, which read the effective weights in L_E).

import { gemmAB, gemmABt } from "../gemm";
import { vclamp, vclampBack } from "../elementwise";
import { fld, fldI, round4, L_DE, L_DX, L_DY, L_E, L_G, L_IN, L_OUT, L_P, L_X } from "../memory";

/**
 * Adds lambda * dR/dW to the gradient g, for the sparsity regulariser R over `count` weights:
 *   NAU (nmu false): R = mean(min(|w|, 1 - |w|)), slope sign(w) for |w| < 1/2, -sign(w) above;
 *   NMU (nmu true):  R = mean(min(w, 1 - w)),     slope 1 for w < 1/2, -1 above;
 * 0 at the ties (PyTorch's minimum splits a tie evenly) and, for the NAU, at w = 0.
 */
export function regularize(g: usize, W: usize, count: i32, lambda: f32, nmu: bool): void {
  const k = lambda / <f32>count;
  for (let i = 0; i < count; i++) {
    const o = <usize>i << 2;
    const w = load<f32>(W + o);
    let s: f32;
    if (nmu) {
      s = w < <f32>1 - w ? 1 : (w > <f32>1 - w ? -1 : 0);
    } else {
      const a = Mathf.abs(w), u: f32 = 1 - a;
      const sign: f32 = w > 0 ? 1 : (w < 0 ? -1 : 0);
      s = a < u ? sign : (a > u ? -sign : 0);
    }
    store<f32>(g + o, load<f32>(g + o) + k * s);
  }
}

export function nauWeights(L: usize): void {
  vclamp(fld(L, L_E), fld(L, L_P), round4(fldI(L, L_IN) * fldI(L, L_OUT)), -1, 1);
}

export function nauBackward(L: usize, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const dE = fld(L, L_DE), dy = fld(L, L_DY);
  gemmABt(dE, fld(L, L_X), nin, dy, nout, ld, nout, 1, false);
  vclampBack(fld(L, L_G), dE, fld(L, L_P), round4(nin * nout), -1, 1);
  const dx = fld(L, L_DX);
  if (dx) gemmAB(dx, fld(L, L_E), nout, 1, dy, nout, nin, ld, false);
}
