// Activations of the dense layer, PyTorch's definitions, forward and derivative, as f32x4
// bodies and scalar twins with the same operations per lane:
//   0 linear   z
//   1 relu     max(z, 0)                 ' = 1 for z > 0, else 0 (PyTorch: 0 at 0)
//   2 relu6    min(max(z, 0), 6)         ' = 1 for 0 < z < 6, else 0 (hardtanh's backward)
//   3 tanh     tanh(z)                   ' = 4e / (1 + e)^2, e = exp(-2|z|)
//   4 sigmoid  1 / (1 + exp(-z))         ' = e / (1 + e)^2, e = exp(-|z|)
//   5 softsign z / (1 + |z|)             ' = 1 / (1 + |z|)^2
//   6 selu     S z for z > 0, else S A (exp(z) - 1)          ' = S, else S A exp(z)
//   7 elu      z for z > 0, else exp(z) - 1 (alpha 1)        ' = 1, else exp(z)
// with S = 1.0507009873554804934193349852946 and A = 1.6732632423543772848170429916717.
// The derivatives use the expressions above so that none cancels where the function saturates.

import { abs4, exp4, expS, sigmoid4, sigmoidS, tanh4, tanhS } from "./math";

export const ACT_LINEAR: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_RELU6: i32 = 2;
export const ACT_TANH: i32 = 3;
export const ACT_SIGMOID: i32 = 4;
export const ACT_SOFTSIGN: i32 = 5;
export const ACT_SELU: i32 = 6;
export const ACT_ELU: i32 = 7;

const SELU_SCALE: f32 = 1.0507009873554804934193349852946;
const SELU_SA: f32 = 1.7580993408473768599402175208123; // scale * alpha

// @ts-ignore: decorator
@inline function act4(kind: i32, z: v128): v128 {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  switch (kind) {
    case ACT_RELU: return f32x4.max(z, zero);
    case ACT_RELU6: return f32x4.min(f32x4.max(z, zero), f32x4.splat(6));
    case ACT_TANH: return tanh4(z);
    case ACT_SIGMOID: return sigmoid4(z);
    case ACT_SOFTSIGN: return f32x4.div(z, f32x4.add(one, abs4(z)));
    case ACT_SELU: {
      const neg = f32x4.mul(f32x4.splat(SELU_SA), f32x4.sub(exp4(f32x4.min(z, zero)), one));
      return v128.bitselect(f32x4.mul(f32x4.splat(SELU_SCALE), z), neg, f32x4.gt(z, zero));
    }
    case ACT_ELU: return v128.bitselect(z, f32x4.sub(exp4(f32x4.min(z, zero)), one), f32x4.gt(z, zero));
    default: return z;
  }
}

// @ts-ignore: decorator
@inline function actS(kind: i32, z: f32): f32 {
  switch (kind) {
    case ACT_RELU: return Mathf.max(z, 0);
    case ACT_RELU6: return Mathf.min(Mathf.max(z, 0), 6);
    case ACT_TANH: return tanhS(z);
    case ACT_SIGMOID: return sigmoidS(z);
    case ACT_SOFTSIGN: return z / (<f32>1 + Mathf.abs(z));
    case ACT_SELU: {
      const neg = SELU_SA * (expS(Mathf.min(z, 0)) - 1);
      return z > 0 ? SELU_SCALE * z : neg;
    }
    case ACT_ELU: return z > 0 ? z : expS(Mathf.min(z, 0)) - 1;
    default: return z;
  }
}

// @ts-ignore: decorator
@inline function grad4(kind: i32, z: v128): v128 {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  switch (kind) {
    case ACT_RELU: return v128.and(one, f32x4.gt(z, zero));
    case ACT_RELU6: return v128.and(one, v128.and(f32x4.gt(z, zero), f32x4.lt(z, f32x4.splat(6))));
    case ACT_TANH: {
      const e = exp4(f32x4.mul(f32x4.splat(-2), abs4(z)));
      const d = f32x4.add(one, e);
      return f32x4.div(f32x4.mul(f32x4.splat(4), e), f32x4.mul(d, d));
    }
    case ACT_SIGMOID: {
      const e = exp4(f32x4.neg(abs4(z)));
      const d = f32x4.add(one, e);
      return f32x4.div(e, f32x4.mul(d, d));
    }
    case ACT_SOFTSIGN: {
      const d = f32x4.add(one, abs4(z));
      return f32x4.div(one, f32x4.mul(d, d));
    }
    case ACT_SELU: {
      const neg = f32x4.mul(f32x4.splat(SELU_SA), exp4(f32x4.min(z, zero)));
      return v128.bitselect(f32x4.splat(SELU_SCALE), neg, f32x4.gt(z, zero));
    }
    case ACT_ELU: return v128.bitselect(one, exp4(f32x4.min(z, zero)), f32x4.gt(z, zero));
    default: return one;
  }
}

// @ts-ignore: decorator
@inline function gradS(kind: i32, z: f32): f32 {
  switch (kind) {
    case ACT_RELU: return z > 0 ? 1 : 0;
    case ACT_RELU6: return z > 0 && z < 6 ? 1 : 0;
    case ACT_TANH: {
      const e = expS(<f32>-2 * Mathf.abs(z));
      const d: f32 = 1 + e;
      return (<f32>4 * e) / (d * d);
    }
    case ACT_SIGMOID: {
      const e = expS(-Mathf.abs(z));
      const d: f32 = 1 + e;
      return e / (d * d);
    }
    case ACT_SOFTSIGN: {
      const d: f32 = 1 + Mathf.abs(z);
      return <f32>1 / (d * d);
    }
    case ACT_SELU: {
      const neg = SELU_SA * expS(Mathf.min(z, 0));
      return z > 0 ? SELU_SCALE : neg;
    }
    case ACT_ELU: return z > 0 ? 1 : expS(Mathf.min(z, 0));
    default: return 1;
  }
}

/** y = act(z) over n floats (n a multiple of 4). */
export function activate(kind: i32, y: usize, z: usize, n: i32): void {
  if (ASC_FEATURE_SIMD) {
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, act4(kind, v128.load(z + o)));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, actS(kind, load<f32>(z + o)));
    }
  }
}

/** dz = dy * act'(z) over n floats. */
export function activateBack(kind: i32, dz: usize, dy: usize, z: usize, n: i32): void {
  if (ASC_FEATURE_SIMD) {
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dz + o, f32x4.mul(v128.load(dy + o), grad4(kind, v128.load(z + o))));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(dz + o, load<f32>(dy + o) * gradS(kind, load<f32>(z + o)));
    }
  }
}
