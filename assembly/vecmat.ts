// The product of one sample's row and a weight matrix: the batch-1 forward of the layers.
//
//   y[j] = sum_k x[k] * W[k * ldW + j]      for j < N;   x: [K], W: [K, ldW] row-major
//
// Each y[j] accumulates over k in order, from +0, by madd (madd.ts): the operations of one lane
// of gemmAB (gemm.ts). A sample's outputs therefore have the same bits whether it is predicted
// alone, through this kernel, or inside a batch. Vectorized over j (16 columns, then 4 while the
// lanes stay inside a row of W, then one at a time); the lanes j >= N of a vector are stored as
// well, so y needs room for N rounded up to 4. At batch 1 the time is the latency of these
// accumulation chains, so vecMat2 runs two rows' chains side by side over the same W.

import { madd, maddS } from "./madd";

/** y[j] = sum_k x[k] W[k, j] for the columns j0 <= j < N. */
export function vecMat(y: usize, x: usize, W: usize, K: i32, N: i32, ldW: i32, j0: i32 = 0): void {
  const rowBytes = <usize>ldW << 2;
  let j = j0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 16 <= N; j += 16) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let pw = W + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const xk = v128.load32_splat(x + (<usize>k << 2));
        c0 = madd(xk, v128.load(pw), c0);
        c1 = madd(xk, v128.load(pw, 16), c1);
        c2 = madd(xk, v128.load(pw, 32), c2);
        c3 = madd(xk, v128.load(pw, 48), c3);
        pw += rowBytes;
      }
      const py = y + (<usize>j << 2);
      v128.store(py, c0); v128.store(py, c1, 16); v128.store(py, c2, 32); v128.store(py, c3, 48);
    }
    for (; j < N && j + 4 <= ldW; j += 4) {
      let c0 = f32x4.splat(0);
      let pw = W + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        c0 = madd(v128.load32_splat(x + (<usize>k << 2)), v128.load(pw), c0);
        pw += rowBytes;
      }
      v128.store(y + (<usize>j << 2), c0);
    }
  }
  for (; j < N; j++) {
    let s: f32 = 0;
    let pw = W + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      s = maddS(load<f32>(x + (<usize>k << 2)), load<f32>(pw), s);
      pw += rowBytes;
    }
    store<f32>(y + (<usize>j << 2), s);
  }
}

/** y = x W[:, :N] and z = l W[:, :Nz] (Nz <= N) in one pass over W: two independent chains. */
export function vecMat2(y: usize, x: usize, z: usize, l: usize, W: usize, K: i32, N: i32, Nz: i32, ldW: i32): void {
  const rowBytes = <usize>ldW << 2;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j < Nz && j + 4 <= ldW; j += 4) {
      let cy = f32x4.splat(0), cz = f32x4.splat(0);
      let pw = W + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const w = v128.load(pw);
        const o = <usize>k << 2;
        cy = madd(v128.load32_splat(x + o), w, cy);
        cz = madd(v128.load32_splat(l + o), w, cz);
        pw += rowBytes;
      }
      v128.store(y + (<usize>j << 2), cy);
      v128.store(z + (<usize>j << 2), cz);
    }
  }
  vecMat(z, l, W, K, Nz, ldW, j);
  vecMat(y, x, W, K, N, ldW, j);
}
