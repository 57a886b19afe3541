// Mean squared error over the true lanes of feature-major y and target ([out, ld]):
//   L = sum (y - t)^2 / (batch * out),   dL/dy = 2 (y - t) / (batch * out), 0 in the padding.
// The sum of squares runs in f64, row by row and lane by lane, identically in both builds.

import { fillPad } from "./elementwise";

export function sumSquares(y: usize, t: usize, out: i32, batch: i32, ld: i32): f64 {
  let s: f64 = 0;
  for (let r = 0; r < out; r++) {
    const row = <usize>(r * ld) << 2;
    for (let b = 0; b < batch; b++) {
      const d = <f64>load<f32>(y + row + (<usize>b << 2)) - <f64>load<f32>(t + row + (<usize>b << 2));
      s += d * d;
    }
  }
  return s;
}

export function mseGrad(dy: usize, y: usize, t: usize, out: i32, batch: i32, ld: i32): void {
  const c = <f32>(2.0 / <f64>(batch * out));
  const n = out * ld;
  if (ASC_FEATURE_SIMD) {
    const cv = f32x4.splat(c);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dy + o, f32x4.mul(cv, f32x4.sub(v128.load(y + o), v128.load(t + o))));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(dy + o, c * (load<f32>(y + o) - load<f32>(t + o)));
    }
  }
  fillPad(dy, out, batch, ld, 0);
}
