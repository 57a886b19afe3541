// NALU (Trask et al. 2018): a NAC and a NAC* blended by a learned gate.
//
//   W = tanh(W_hat) * sigmoid(M_hat)                     [in, out]
//   W' = W (tied, the paper's default) or tanh(W_hat_mul) * sigmoid(M_hat_mul) (separate)
//   a = x W;  m = exp(log(|x| + eps) W');  g = sigmoid(x G (+ G_bias));  y = g a + (1 - g) m
//
// Backward, for upstream d [out, ld]:
//   da = d g;  dmm = d (1 - g) m;  dgz = d (a - m) g (1 - g)
//   dW = x^T da (+ l^T dmm when tied);  dW' = l^T dmm (separate);  dG = x^T dgz;
//   dG_bias = sum over the batch of dgz (with the gateBias option)
//   dx = da W^T + dgz G^T + ((dmm W'^T) * sign(x) / (|x| + eps))
//
// W and G are stacked as the effective matrix E = [W | G] ([in, 2 out]), so one product
// gives a and the gate input, one gives both weight gradients and one gives da W^T + dgz G^T.
// Buffers: L_E = [W | G], L_EM = W' when separate, L_TMP = W contiguous, L_LOG = l,
// L_A = [a; g] ([2 out, ld]), L_M = m, L_T = [da; dgz], L_T2 = dmm, L_T3 = dmm W'^T,
// L_DE = [dW | dG], L_DEM = dW'.

import { gemmAB, gemmABt } from "../gemm";
import { vecMat, vecMat2 } from "../vecmat";
import {
  addBias, addRowBias, fillPad, joinCols, splitCols, rowSums, vexp, vlogAbsEps, vlogGrad, vnacWeights, vnacWeightsBack, vnaluMix, vnaluMixBack, vnaluOut, vsigmoid,
} from "../elementwise";
import {
  F_GATE_BIAS, F_LOG_READY, F_SEPARATE, fld, fldF, fldI, round4, L_A, L_DE, L_DEM, L_DX, L_DY, L_E, L_EM, L_EPS, L_FLAGS, L_G, L_IN, L_LOG,
  L_M, L_OUT, L_P, L_T, L_T2, L_T3, L_TMP, L_WC, L_WCM, L_X, L_Y,
} from "../memory";

// @ts-ignore: decorator
@inline function separate(L: usize): bool { return (fldI(L, L_FLAGS) & F_SEPARATE) != 0; }

/** Index of the gate parameter G among the layer's parameters. */
// @ts-ignore: decorator
@inline function gateIndex(L: usize): i32 { return separate(L) ? 4 : 2; }

export function naluWeights(L: usize): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const n4 = round4(nin * nout);
  const w = fld(L, L_TMP), e = fld(L, L_E), gp = fld(L, L_P + gateIndex(L));
  vnacWeights(w, fld(L, L_P), fld(L, L_P + 1), n4, fld(L, L_WC));
  joinCols(e, w, gp, nin, nout);
  if (separate(L)) vnacWeights(fld(L, L_EM), fld(L, L_P + 2), fld(L, L_P + 3), n4, fld(L, L_WCM));
}

export function naluForward(L: usize, batch: i32, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const x = fld(L, L_X), lg = fld(L, L_LOG), ag = fld(L, L_A), m = fld(L, L_M), y = fld(L, L_Y);
  const e = fld(L, L_E);
  const n = nout * ld;
  const g = ag + (<usize>n << 2);
  gemmAB(ag, e, 1, 2 * nout, x, nin, 2 * nout, ld, false);
  if (fldI(L, L_FLAGS) & F_GATE_BIAS) addRowBias(g, fld(L, L_P + gateIndex(L) + 1), nout, ld);
  vsigmoid(g, g, n);
  if (!(fldI(L, L_FLAGS) & F_LOG_READY)) vlogAbsEps(lg, x, nin * ld, fldF(L, L_EPS));
  if (separate(L)) gemmAB(m, fld(L, L_EM), 1, nout, lg, nin, nout, ld, false);
  else gemmAB(m, e, 1, 2 * nout, lg, nin, nout, ld, false);
  vexp(m, m, n);
  vnaluMix(y, ag, g, m, n);
  fillPad(y, nout, batch, ld, 1);
}

/**
 * The forward of one sample: x [in] to y [out], through the same elementwise kernels; `finite`:
 * x is known to hold no NaN or infinity.
 */
export function naluForwardRow(L: usize, x: usize, y: usize, finite: bool): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const lg = fld(L, L_LOG), ag = fld(L, L_A), m = fld(L, L_M), e = fld(L, L_E);
  const g = ag + (<usize>nout << 2);
  vlogAbsEps(lg, x, nin, fldF(L, L_EPS), finite);
  if (separate(L)) {
    vecMat(ag, x, e, nin, 2 * nout, 2 * nout);
    vecMat(m, lg, fld(L, L_EM), nin, nout, nout);
  } else {
    vecMat2(ag, x, m, lg, e, nin, 2 * nout, nout, 2 * nout);
  }
  if (fldI(L, L_FLAGS) & F_GATE_BIAS) addBias(g, fld(L, L_P + gateIndex(L) + 1), nout);
  vnaluOut(y, ag, g, m, nout);
}

export function naluBackward(L: usize, ld: i32): void {
  const nin = fldI(L, L_IN), nout = fldI(L, L_OUT);
  const sep = separate(L);
  const n = nout * ld;
  const x = fld(L, L_X), lg = fld(L, L_LOG), ag = fld(L, L_A);
  const t = fld(L, L_T), t2 = fld(L, L_T2), dE = fld(L, L_DE);
  vnaluMixBack(t, t2, t + (<usize>n << 2), fld(L, L_DY), ag, ag + (<usize>n << 2), fld(L, L_M), n);

  // [dW | dG] = x^T [da; dgz]; the log path adds l^T dmm to dW (tied) or fills dW' (separate).
  gemmABt(dE, x, nin, t, 2 * nout, ld, 2 * nout, 1, false);
  const n4 = round4(nin * nout);
  if (sep) {
    const dEm = fld(L, L_DEM);
    gemmABt(dEm, lg, nin, t2, nout, ld, nout, 1, false);
    vnacWeightsBack(fld(L, L_G + 2), fld(L, L_G + 3), dEm, fld(L, L_P + 2), fld(L, L_P + 3), n4, fld(L, L_WCM));
  } else {
    gemmABt(dE, lg, nin, t2, nout, ld, 2 * nout, 1, true);
  }
  const dw = fld(L, L_TMP);
  splitCols(dw, fld(L, L_G + gateIndex(L)), dE, nin, nout);
  vnacWeightsBack(fld(L, L_G), fld(L, L_G + 1), dw, fld(L, L_P), fld(L, L_P + 1), n4, fld(L, L_WC));
  if (fldI(L, L_FLAGS) & F_GATE_BIAS) rowSums(fld(L, L_G + gateIndex(L) + 1), t + (<usize>n << 2), nout, ld);

  const dx = fld(L, L_DX);
  if (dx) {
    const t3 = fld(L, L_T3);
    gemmAB(dx, fld(L, L_E), 2 * nout, 1, t, 2 * nout, nin, ld, false);
    if (sep) gemmAB(t3, fld(L, L_EM), nout, 1, t2, nout, nin, ld, false);
    else gemmAB(t3, fld(L, L_E), 2 * nout, 1, t2, nout, nin, ld, false);
    vlogGrad(dx, t3, x, nin * ld, fldF(L, L_EPS), true);
  }
}
