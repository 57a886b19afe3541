// NAC, the additive neural accumulator (Trask et al. 2018).
//
//   W = tanh(W_hat) * sigmoid(M_hat)                     W_hat, M_hat: [in, out]
//   y = x W                                              x: [in, ld], y: [out, ld] (feature-major)
//
// Backward, for upstream d = dL/dy [out, ld]:
//   dW = x^T d                                           [in, out]
//   dW_hat = dW * sech^2(W_hat) * sigmoid(M_hat),  dM_hat = dW * tanh(W_hat) * sigmoid'(M_hat)
//   dx = d W^T                                           [in, ld]
//
// Buffers: L_E holds W [in, out]; L_DE holds dW. The forward reads only L_E, so the NAU (whose
// L_E is clamp(W)) runs it too.

import { gemmAB, gemmABt } from "../gemm";
import { vecMat } from "../vecmat";
import { fillPad, vnacWeights, vnacWeightsBack } from "../elementwise";
import { fld, fldI, round4, L_DE, L_DX, L_DY, L_E, L_G, L_IN, L_OUT, L_P, L_WC, L_X, L_Y } from "../memory";

export function nacWeights(L: usize): void {
  vnacWeights(fld(L, L_E), fld(L, L_P), fld(L, L_P + 1), round4(fldI(L, L_IN) * fldI(L, L_OUT)), fld(L, L_WC));
}

export function nacForward(L: usize, batch: i32, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const y = fld(L, L_Y);
  gemmAB(y, fld(L, L_E), 1, nout, fld(L, L_X), nin, nout, ld, false);
  fillPad(y, nout, batch, ld, 1);
}

/** The forward of one sample: x [in] to y [out]. */
export function nacForwardRow(L: usize, x: usize, y: usize): void {
  const nout = fldI(L, L_OUT);
  vecMat(y, x, fld(L, L_E), fldI(L, L_IN), nout, nout);
}

export function nacBackward(L: usize, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const dE = fld(L, L_DE), dy = fld(L, L_DY);
  gemmABt(dE, fld(L, L_X), nin, dy, nout, ld, nout, 1, false);
  vnacWeightsBack(fld(L, L_G), fld(L, L_G + 1), dE, fld(L, L_P), fld(L, L_P + 1), round4(nin * nout), fld(L, L_WC));
  const dx = fld(L, L_DX);
  if (dx) gemmAB(dx, fld(L, L_E), nout, 1, dy, nout, nin, ld, false);
}
