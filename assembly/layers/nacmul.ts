// NAC*, the multiplicative NAC: the NAC in log space.
//
//   W = tanh(W_hat) * sigmoid(M_hat)                     W_hat, M_hat: [in, out]
//   l = log(|x| + eps)                                   [in, ld]
//   y = exp(l W)                                         [out, ld]
//
// Backward, for upstream d [out, ld]:
//   t = d * y                                            (the gradient at exp's input)
//   dW = l^T t,  then through the weight transform as in the NAC
//   dx = (t W^T) * sign(x) / (|x| + eps)                 (sign(0) = 0)
//
// Buffers: L_E = W, L_LOG = l, L_A = l W before exp, L_T = t, L_T3 = t W^T, L_DE = dW.

import { gemmAB, gemmABt } from "../gemm";
import { vecMat } from "../vecmat";
import { fillPad, vexp, vlogAbsEps, vlogGrad, vmul, vnacWeightsBack } from "../elementwise";
import { F_LOG_READY, fld, fldF, fldI, round4, L_A, L_FLAGS, L_DE, L_DX, L_DY, L_E, L_EPS, L_G, L_IN, L_LOG, L_OUT, L_P, L_T, L_T3, L_WC, L_X, L_Y } from "../memory";

export function nacMulForward(L: usize, batch: i32, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const lg = fld(L, L_LOG), z = fld(L, L_A), y = fld(L, L_Y);
  if (!(fldI(L, L_FLAGS) & F_LOG_READY)) vlogAbsEps(lg, fld(L, L_X), nin * ld, fldF(L, L_EPS));
  gemmAB(z, fld(L, L_E), 1, nout, lg, nin, nout, ld, false);
  vexp(y, z, nout * ld);
  fillPad(y, nout, batch, ld, 1);
}

/** The forward of one sample: x [in] to y [out]; `finite`: x is known to hold no NaN or infinity. */
export function nacMulForwardRow(L: usize, x: usize, y: usize, finite: bool): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const lg = fld(L, L_LOG), z = fld(L, L_A);
  vlogAbsEps(lg, x, nin, fldF(L, L_EPS), finite);
  vecMat(z, lg, fld(L, L_E), nin, nout, nout);
  vexp(y, z, nout);
}

export function nacMulBackward(L: usize, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const t = fld(L, L_T), dE = fld(L, L_DE);
  vmul(t, fld(L, L_DY), fld(L, L_Y), nout * ld);
  gemmABt(dE, fld(L, L_LOG), nin, t, nout, ld, nout, 1, false);
  vnacWeightsBack(fld(L, L_G), fld(L, L_G + 1), dE, fld(L, L_P), fld(L, L_P + 1), round4(nin * nout), fld(L, L_WC));
  const dx = fld(L, L_DX);
  if (dx) {
    const t3 = fld(L, L_T3);
    gemmAB(t3, fld(L, L_E), nout, 1, t, nout, nin, ld, false);
    vlogGrad(dx, t3, fld(L, L_X), nin * ld, fldF(L, L_EPS), false);
  }
}
