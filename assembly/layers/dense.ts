// Dense layer (the MLP baselines): z = x W + b;  y = act(z).
//
//   W: [in, out], b: [out];  x: [in, ld], z, y: [out, ld] (feature-major)
//
// Backward, for upstream d [out, ld]:
//   dz = d * act'(z);   dW = x^T dz;   db = sum over the batch of dz;   dx = dz W^T
//
// Buffers: L_A = z, L_T = dz. The batch sum of db keeps four lane accumulators combined as
// (l0 + l1) + (l2 + l3), as gemmABt does, in both builds.

import { activate, activateBack } from "../activations";
import { gemmAB, gemmABt } from "../gemm";
import { fillPad } from "../elementwise";
import { fld, fldI, L_A, L_ACT, L_DX, L_DY, L_G, L_IN, L_OUT, L_P, L_T, L_X, L_Y } from "../memory";

export function denseForward(L: usize, batch: i32, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const z = fld(L, L_A), y = fld(L, L_Y), b = fld(L, L_P + 1);
  gemmAB(z, fld(L, L_P), 1, nout, fld(L, L_X), nin, nout, ld, false);
  for (let o = 0; o < nout; o++) {
    const row = z + (<usize>(o * ld) << 2);
    const bo = load<f32>(b + (<usize>o << 2));
    if (ASC_FEATURE_SIMD) {
      const bv = f32x4.splat(bo);
      for (let i = 0; i < ld; i += 4) v128.store(row + (<usize>i << 2), f32x4.add(v128.load(row + (<usize>i << 2)), bv));
    } else {
      for (let i = 0; i < ld; i++) store<f32>(row + (<usize>i << 2), load<f32>(row + (<usize>i << 2)) + bo);
    }
  }
  activate(fldI(L, L_ACT), y, z, nout * ld);
  fillPad(y, nout, batch, ld, 1);
}

export function denseBackward(L: usize, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const dz = fld(L, L_T);
  activateBack(fldI(L, L_ACT), dz, fld(L, L_DY), fld(L, L_A), nout * ld);
  gemmABt(fld(L, L_G), fld(L, L_X), nin, dz, nout, ld, nout, 1, false);
  const db = fld(L, L_G + 1);
  for (let o = 0; o < nout; o++) {
    const row = dz + (<usize>(o * ld) << 2);
    let l0: f32 = 0, l1: f32 = 0, l2: f32 = 0, l3: f32 = 0;
    for (let i = 0; i < ld; i += 4) {
      const p = row + (<usize>i << 2);
      l0 += load<f32>(p); l1 += load<f32>(p, 4); l2 += load<f32>(p, 8); l3 += load<f32>(p, 12);
    }
    store<f32>(db + (<usize>o << 2), (l0 + l1) + (l2 + l3));
  }
  const dx = fld(L, L_DX);
  if (dx) gemmAB(dx, fld(L, L_P), nout, 1, dz, nout, nin, ld, false);
}
