// Activations of `dense`, PyTorch's definitions (../shared/DESIGN.md section 1), with the
// derivative each one's PyTorch backward uses, including at the kinks:
//
//   linear   z                                   1
//   relu     max(z, 0)                           z > 0 ? 1 : 0          (threshold_backward: relu'(0) = 0)
//   relu6    min(max(z, 0), 6)                   0 < z < 6 ? 1 : 0      (F.relu6 is hardtanh(z, 0, 6); its
//                                                                        backward passes only strictly inside,
//                                                                        unlike torch.clamp, which passes on
//                                                                        the boundary too)
//   tanh     tanh(z)                             1 - tanh(z)^2
//   sigmoid  1 / (1 + e^-z)                      s (1 - s)
//   softsign z / (1 + |z|)                       1 / (1 + |z|)^2        (autograd of the composite; the
//                                                                        sign(0) = 0 term vanishes at 0)
//   elu      z > 0 ? z : e^z - 1                 z > 0 ? 1 : e^z        (elu_backward takes the negative
//                                                                        branch at z <= 0: elu'(0) = 1)
//   selu     scale * (z > 0 ? z : alpha (e^z - 1))   scale * (z > 0 ? 1 : alpha e^z)   (selu'(0) = scale * alpha)
//
// None of the golden dense cases puts a pre-activation exactly on a kink (checked in
// test/reference.test.ts), so the kink values above come from PyTorch's source, not from the
// golden files.

import type { Activation } from './types';

/** torch.selu's constants (aten/src/ATen/native/Activation.cpp). */
export const SELU_ALPHA = 1.6732632423543772848170429916717;
export const SELU_SCALE = 1.0507009873554804934193349852946;

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/**
 * tanh'(z) = 4e / (1 + e)^2 with e = exp(-2|z|), and sigmoid'(z) = e / (1 + e)^2 with
 * e = exp(-|z|): equal to 1 - tanh^2 and s (1 - s), but without their cancellation, so they stay
 * accurate where tanh and sigmoid round to +-1 (as the module's forms do).
 */
export function tanhGrad(z: number): number {
  const e = Math.exp(-2 * Math.abs(z));
  return (4 * e) / ((1 + e) * (1 + e));
}

export function sigmoidGrad(z: number): number {
  const e = Math.exp(-Math.abs(z));
  return e / ((1 + e) * (1 + e));
}

export function activate(act: Activation, z: number): number {
  switch (act) {
    case 'linear':
      return z;
    case 'relu':
      return z > 0 ? z : 0;
    case 'relu6':
      return z <= 0 ? 0 : z >= 6 ? 6 : z;
    case 'tanh':
      return Math.tanh(z);
    case 'sigmoid':
      return sigmoid(z);
    case 'softsign':
      return z / (1 + Math.abs(z));
    case 'elu':
      return z > 0 ? z : Math.expm1(z);
    case 'selu':
      return SELU_SCALE * (z > 0 ? z : SELU_ALPHA * Math.expm1(z));
    default:
      throw new Error(`unknown activation ${String(act)}`);
  }
}

/** d act(z) / dz, with PyTorch's choice at each kink (see the table above). */
export function activateGrad(act: Activation, z: number): number {
  switch (act) {
    case 'linear':
      return 1;
    case 'relu':
      return z > 0 ? 1 : 0;
    case 'relu6':
      return z > 0 && z < 6 ? 1 : 0;
    case 'tanh':
      return tanhGrad(z);
    case 'sigmoid':
      return sigmoidGrad(z);
    case 'softsign': {
      const d = 1 + Math.abs(z);
      return 1 / (d * d);
    }
    case 'elu':
      return z > 0 ? 1 : Math.exp(z);
    case 'selu':
      return z > 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * Math.exp(z);
    default:
      throw new Error(`unknown activation ${String(act)}`);
  }
}
