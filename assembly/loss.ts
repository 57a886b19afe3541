// Mean squared error over the true lanes of feature-major y and target ([out, ld]):
//   L = sum (y - t)^2 / (batch * out),   dL/dy = 2 (y - t) / (batch * out), 0 in the padding.
// The sum of squares runs in f64 in four accumulators, sample b going to accumulator b mod 4
// (the four lanes of a vector), combined as (s0 + s1) + (s2 + s3): identically in both builds.

import { fillPad, vscaledDiff } from "./elementwise";

export function sumSquares(y: usize, t: usize, out: i32, batch: i32, ld: i32): f64 {
  let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
  const b4 = batch & ~3;
  if (ASC_FEATURE_SIMD) {
    let a01 = f64x2.splat(0), a23 = f64x2.splat(0);
    for (let r = 0; r < out; r++) {
      const row = <usize>(r * ld) << 2;
      for (let b = 0; b < b4; b += 4) {
        const o = row + (<usize>b << 2);
        const yv = v128.load(y + o), tv = v128.load(t + o);
        const d01 = f64x2.sub(f64x2.promote_low_f32x4(yv), f64x2.promote_low_f32x4(tv));
        const y23 = v128.shuffle<i32>(yv, yv, 2, 3, 2, 3), t23 = v128.shuffle<i32>(tv, tv, 2, 3, 2, 3);
        const d23 = f64x2.sub(f64x2.promote_low_f32x4(y23), f64x2.promote_low_f32x4(t23));
        a01 = f64x2.add(a01, f64x2.mul(d01, d01));
        a23 = f64x2.add(a23, f64x2.mul(d23, d23));
      }
      // the last batch % 4 samples: accumulators 0, 1, 2 in turn (see the scalar loop)
      for (let b = b4; b < batch; b++) {
        const o = row + (<usize>b << 2);
        const d = <f64>load<f32>(y + o) - <f64>load<f32>(t + o);
        const k = b & 3;
        if (k == 0) a01 = f64x2.replace_lane(a01, 0, f64x2.extract_lane(a01, 0) + d * d);
        else if (k == 1) a01 = f64x2.replace_lane(a01, 1, f64x2.extract_lane(a01, 1) + d * d);
        else a23 = f64x2.replace_lane(a23, 0, f64x2.extract_lane(a23, 0) + d * d);
      }
    }
    s0 = f64x2.extract_lane(a01, 0); s1 = f64x2.extract_lane(a01, 1);
    s2 = f64x2.extract_lane(a23, 0); s3 = f64x2.extract_lane(a23, 1);
  } else {
    for (let r = 0; r < out; r++) {
      const row = <usize>(r * ld) << 2;
      for (let b = 0; b < batch; b++) {
        const o = row + (<usize>b << 2);
        const d = <f64>load<f32>(y + o) - <f64>load<f32>(t + o);
        const k = b & 3;
        if (k == 0) s0 += d * d;
        else if (k == 1) s1 += d * d;
        else if (k == 2) s2 += d * d;
        else s3 += d * d;
      }
    }
  }
  return (s0 + s1) + (s2 + s3);
}

export function mseGrad(dy: usize, y: usize, t: usize, out: i32, batch: i32, ld: i32): void {
  vscaledDiff(dy, y, t, out * ld, <f32>(2.0 / <f64>(batch * out)));
  fillPad(dy, out, batch, ld, 0);
}
