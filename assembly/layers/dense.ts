// Dense layer (the MLP baselines): z = x W + b;  y = act(z).
//
//   W: [in, out], b: [out];  x: [in, ld], z, y: [out, ld] (feature-major)
//
// Backward, for upstream d [out, ld]:
//   dz = d * act'(z);   dW = x^T dz;   db = sum over the batch of dz;   dx = dz W^T
//
// Buffers: L_A = z, L_T = dz. The batch sum of db is rowSums (four lane accumulators).

import { activate, activateBack } from "../activations";
import { gemmAB, gemmABt } from "../gemm";
import { vecMat } from "../vecmat";
import { addBias, addRowBias, fillPad, rowSums } from "../elementwise";
import { fld, fldI, L_A, L_ACT, L_DX, L_DY, L_G, L_IN, L_OUT, L_P, L_T, L_X, L_Y } from "../memory";

export function denseForward(L: usize, batch: i32, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const z = fld(L, L_A), y = fld(L, L_Y), b = fld(L, L_P + 1);
  gemmAB(z, fld(L, L_P), 1, nout, fld(L, L_X), nin, nout, ld, false);
  addRowBias(z, b, nout, ld);
  activate(fldI(L, L_ACT), y, z, nout * ld);
  fillPad(y, nout, batch, ld, 1);
}

/** The forward of one sample: x [in] to y [out]. */
export function denseForwardRow(L: usize, x: usize, y: usize): void {
  const nout = fldI(L, L_OUT);
  const z = fld(L, L_A);
  vecMat(z, x, fld(L, L_P), fldI(L, L_IN), nout, nout);
  addBias(z, fld(L, L_P + 1), nout);
  activate(fldI(L, L_ACT), y, z, nout);
}

export function denseBackward(L: usize, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const dz = fld(L, L_T);
  activateBack(fldI(L, L_ACT), dz, fld(L, L_DY), fld(L, L_A), nout * ld);
  gemmABt(fld(L, L_G), fld(L, L_X), nin, dz, nout, ld, nout, 1, false);
  rowSums(fld(L, L_G + 1), dz, nout, ld);
  const dx = fld(L, L_DX);
  if (dx) gemmAB(dx, fld(L, L_P), nout, 1, dz, nout, nin, ld, false);
}
