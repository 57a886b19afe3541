// The matrix products of the layers, over feature-major activations.
//
// Activations are [rows, ld] with ld a multiple of 4 (the batch, padded), so every product
// vectorizes over the batch. Two shapes cover every layer:
//
//   gemmAB:  C[m, :] (+)= sum_k A(m, k) * B[k, :]        C [M, ld], B [K, ld]
//            A(m, k) = A[m * sRow + k * sK]: the forward y = x W reads A = W^T (sRow 1,
//            sK = outputs) and the input gradient dx = d W^T reads A = W (sRow = outputs, sK 1).
//   gemmABt: C(p, q) (+)= sum_b P[p, b] * Q[q, b]        P [NP, ld], Q [NQ, ld]
//            C(p, q) = C[p * sP + q * sQ]: the weight gradient dW = x^T d.
//
// Determinism: in gemmAB each output lane accumulates over k in order, from 0, and C is
// updated once at the end, whatever the blocking. In gemmABt each (p, q) keeps four lane
// accumulators (lane j sums b = j, j + 4, ...) combined as (l0 + l1) + (l2 + l3), whatever the
// blocking; rowSums (elementwise.ts) sums a row in the same order, so a bias's gradient equals
// the weight gradient of a constant-1 input column. The scalar build performs the same
// operations in the same order, so both builds give identical bits. Every multiply-add is
// madd (madd.ts): a mul then an add, except in the opt-in relaxed-SIMD build.

import { madd } from "./madd";
import { heapAlloc } from "./memory";
import { ewPart, hsum, JOB_EW } from "./elementwise";
import { partArgs, partBound, poolJoin, poolStart, poolThreads, threadTable } from "./pool";

// ---- gemmAB -----------------------------------------------------------------------------
//
// Register blocks of 4 rows x 8 lanes (8 accumulators; x86 has 16 xmm registers) and their
// 4 x 4, 2 x 8, 2 x 4, 1 x 8 and 1 x 4 tails; products of fewer than 4 rows take 2 x 16 blocks,
// whose 8 accumulators hide the latency of the adds (an odd last row, two 1 x 8 blocks). `pb`
// points at the block's first lane in row 0 of B and `bs` is B's row stride in bytes; `pc` and
// `cs` likewise for C. When more than one block of rows reads a column strip of B, up to STRIPS
// strips are first packed side by side into contiguous [K, 8] panels (together at most
// PANEL_BYTES), and every block of A runs against all of them while it is in L1: walking B itself
// with a stride of ld floats maps every row to the same L1 set when ld is a multiple of 1024
// (4 KiB), and the strip would not stay in L1. Likewise, when A is strided along k (the forward
// reads W^T, whose k-stride is `outputs` floats, so that a block's k-steps fall on a few L1
// sets), its blocks of 4 rows are first packed into contiguous [K, 4] strips, once per call.
// Packing moves data only: the float operations and their order are those of the unpacked kernel.

// @ts-ignore: decorator
@inline function abRows4x8(pc: usize, cs: usize, A: usize, sRow: i32, sK: i32, pb: usize, bs: usize, K: i32, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let pa = A;
  const stepA = <usize>sK << 2;
  const r1 = <usize>sRow << 2, r2 = r1 << 1, r3 = r1 * 3;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa);
    const a1 = v128.load32_splat(pa + r1);
    const a2 = v128.load32_splat(pa + r2);
    const a3 = v128.load32_splat(pa + r3);
    c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
    c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
    pb += bs;
    pa += stepA;
  }
  if (acc) {
    c00 = f32x4.add(v128.load(pc), c00); c01 = f32x4.add(v128.load(pc, 16), c01);
    c10 = f32x4.add(v128.load(pc + cs), c10); c11 = f32x4.add(v128.load(pc + cs, 16), c11);
    c20 = f32x4.add(v128.load(pc + (cs << 1)), c20); c21 = f32x4.add(v128.load(pc + (cs << 1), 16), c21);
    c30 = f32x4.add(v128.load(pc + cs * 3), c30); c31 = f32x4.add(v128.load(pc + cs * 3, 16), c31);
  }
  v128.store(pc, c00); v128.store(pc, c01, 16);
  v128.store(pc + cs, c10); v128.store(pc + cs, c11, 16);
  v128.store(pc + (cs << 1), c20); v128.store(pc + (cs << 1), c21, 16);
  v128.store(pc + cs * 3, c30); v128.store(pc + cs * 3, c31, 16);
}

/**
 * abRows4x8 with A packed ([K, 4], see packA) and B packed ([K, 8]): every load has a constant
 * offset from one of two pointers.
 */
// @ts-ignore: decorator
@inline function abRows4x8p(pc: usize, cs: usize, pa: usize, pb: usize, K: i32, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = pa + (<usize>K << 4);
  while (pa < end) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa);
    c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(pa, 4);
    c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(pa, 8);
    c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(pa, 12);
    c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
    pb += 32;
    pa += 16;
  }
  if (acc) {
    c00 = f32x4.add(v128.load(pc), c00); c01 = f32x4.add(v128.load(pc, 16), c01);
    c10 = f32x4.add(v128.load(pc + cs), c10); c11 = f32x4.add(v128.load(pc + cs, 16), c11);
    c20 = f32x4.add(v128.load(pc + (cs << 1)), c20); c21 = f32x4.add(v128.load(pc + (cs << 1), 16), c21);
    c30 = f32x4.add(v128.load(pc + cs * 3), c30); c31 = f32x4.add(v128.load(pc + cs * 3, 16), c31);
  }
  v128.store(pc, c00); v128.store(pc, c01, 16);
  v128.store(pc + cs, c10); v128.store(pc + cs, c11, 16);
  v128.store(pc + (cs << 1), c20); v128.store(pc + (cs << 1), c21, 16);
  v128.store(pc + cs * 3, c30); v128.store(pc + cs * 3, c31, 16);
}

// @ts-ignore: decorator
@inline function abRows4x4(pc: usize, cs: usize, A: usize, sRow: i32, sK: i32, pb: usize, bs: usize, K: i32, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let pa = A;
  const stepA = <usize>sK << 2;
  const r1 = <usize>sRow << 2, r2 = r1 << 1, r3 = r1 * 3;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    c0 = madd(v128.load32_splat(pa), b0, c0);
    c1 = madd(v128.load32_splat(pa + r1), b0, c1);
    c2 = madd(v128.load32_splat(pa + r2), b0, c2);
    c3 = madd(v128.load32_splat(pa + r3), b0, c3);
    pb += bs;
    pa += stepA;
  }
  if (acc) {
    c0 = f32x4.add(v128.load(pc), c0);
    c1 = f32x4.add(v128.load(pc + cs), c1);
    c2 = f32x4.add(v128.load(pc + (cs << 1)), c2);
    c3 = f32x4.add(v128.load(pc + cs * 3), c3);
  }
  v128.store(pc, c0);
  v128.store(pc + cs, c1);
  v128.store(pc + (cs << 1), c2);
  v128.store(pc + cs * 3, c3);
}

// @ts-ignore: decorator
@inline function abRows2x8(pc: usize, cs: usize, A: usize, sRow: i32, sK: i32, pb: usize, bs: usize, K: i32, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let pa = A;
  const stepA = <usize>sK << 2;
  const r1 = <usize>sRow << 2;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa);
    const a1 = v128.load32_splat(pa + r1);
    c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    pb += bs;
    pa += stepA;
  }
  if (acc) {
    c00 = f32x4.add(v128.load(pc), c00); c01 = f32x4.add(v128.load(pc, 16), c01);
    c10 = f32x4.add(v128.load(pc + cs), c10); c11 = f32x4.add(v128.load(pc + cs, 16), c11);
  }
  v128.store(pc, c00); v128.store(pc, c01, 16);
  v128.store(pc + cs, c10); v128.store(pc + cs, c11, 16);
}

// @ts-ignore: decorator
@inline function abRows2x4(pc: usize, cs: usize, A: usize, sRow: i32, sK: i32, pb: usize, bs: usize, K: i32, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let pa = A;
  const stepA = <usize>sK << 2;
  const r1 = <usize>sRow << 2;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    c0 = madd(v128.load32_splat(pa), b0, c0);
    c1 = madd(v128.load32_splat(pa + r1), b0, c1);
    pb += bs;
    pa += stepA;
  }
  if (acc) {
    c0 = f32x4.add(v128.load(pc), c0);
    c1 = f32x4.add(v128.load(pc + cs), c1);
  }
  v128.store(pc, c0);
  v128.store(pc + cs, c1);
}

// @ts-ignore: decorator
@inline function abRows2x16(pc: usize, cs: usize, A: usize, sRow: i32, sK: i32, pb: usize, bs: usize, K: i32, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
  let pa = A;
  const stepA = <usize>sK << 2;
  const r1 = <usize>sRow << 2;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16), b2 = v128.load(pb, 32), b3 = v128.load(pb, 48);
    const a0 = v128.load32_splat(pa);
    const a1 = v128.load32_splat(pa + r1);
    c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01); c02 = madd(a0, b2, c02); c03 = madd(a0, b3, c03);
    c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11); c12 = madd(a1, b2, c12); c13 = madd(a1, b3, c13);
    pb += bs;
    pa += stepA;
  }
  if (acc) {
    c00 = f32x4.add(v128.load(pc), c00); c01 = f32x4.add(v128.load(pc, 16), c01);
    c02 = f32x4.add(v128.load(pc, 32), c02); c03 = f32x4.add(v128.load(pc, 48), c03);
    c10 = f32x4.add(v128.load(pc + cs), c10); c11 = f32x4.add(v128.load(pc + cs, 16), c11);
    c12 = f32x4.add(v128.load(pc + cs, 32), c12); c13 = f32x4.add(v128.load(pc + cs, 48), c13);
  }
  v128.store(pc, c00); v128.store(pc, c01, 16); v128.store(pc, c02, 32); v128.store(pc, c03, 48);
  v128.store(pc + cs, c10); v128.store(pc + cs, c11, 16); v128.store(pc + cs, c12, 32); v128.store(pc + cs, c13, 48);
}

// @ts-ignore: decorator
@inline function abRow1x8(pc: usize, A: usize, sK: i32, pb: usize, bs: usize, K: i32, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let pa = A;
  const stepA = <usize>sK << 2;
  for (let k = 0; k < K; k++) {
    const a = v128.load32_splat(pa);
    c0 = madd(a, v128.load(pb), c0);
    c1 = madd(a, v128.load(pb, 16), c1);
    pb += bs;
    pa += stepA;
  }
  if (acc) {
    c0 = f32x4.add(v128.load(pc), c0);
    c1 = f32x4.add(v128.load(pc, 16), c1);
  }
  v128.store(pc, c0);
  v128.store(pc, c1, 16);
}

// @ts-ignore: decorator
@inline function abRow1x4(pc: usize, A: usize, sK: i32, pb: usize, bs: usize, K: i32, acc: bool): void {
  let c0 = f32x4.splat(0);
  let pa = A;
  const stepA = <usize>sK << 2;
  for (let k = 0; k < K; k++) {
    c0 = madd(v128.load32_splat(pa), v128.load(pb), c0);
    pb += bs;
    pa += stepA;
  }
  if (acc) c0 = f32x4.add(v128.load(pc), c0);
  v128.store(pc, c0);
}

/** Strips of B packed at once, and the bytes they may take. */
const STRIPS = 4;
const PANEL_BYTES: usize = 32 << 10;

/**
 * Scratch buffers of the products, one per use, grown on demand and kept: the packed strips of B
 * (also gemmABt's packed rows of P), the packed blocks of rows of A, gemmABt's packed rows of Q
 * and its lane accumulators between chunks. A table holds a record per slot (pointer, bytes):
 * SCRATCH for the main thread, one per worker thread in the pool's control block (pool.ts).
 */
const PANEL: i32 = 0, APACK: i32 = 1, QPACK: i32 = 2, ABT_ACC: i32 = 3;
export const SCRATCH = memory.data(4 * 8, 8);

/**
 * A 16-byte aligned buffer of at least `bytes` in `slot` of table `tab`, kept for the next call.
 * Only the main thread may grow one (workers' tables are grown before their part starts).
 */
function scratch(tab: usize, slot: i32, bytes: usize): usize {
  const rec = tab + (<usize>slot << 3);
  if (bytes > <usize>load<u32>(rec, 4)) {
    // The slot is emptied before the old block is freed: if the allocation traps (linear memory
    // exhausted), no later call finds the freed block there.
    const old = <usize>load<u32>(rec);
    store<u64>(rec, 0);
    if (old) heap.free(old);
    store<u32>(rec, <u32>heapAlloc(bytes + 16));
    store<u32>(rec, <u32>bytes, 4);
  }
  return (<usize>load<u32>(rec) + 15) & ~15;
}

/**
 * Copies the blocks of 4 rows of A into Ap, block i as a contiguous [K, 4] strip at
 * Ap + i * K * 16: Ap[(i * K + k) * 4 + r] = A(4 i + r, k).
 */
function packA(Ap: usize, A: usize, sRow: i32, sK: i32, K: i32, M4: i32): void {
  const stepA = <usize>sK << 2;
  const r1 = <usize>sRow << 2, r2 = r1 << 1, r3 = r1 * 3;
  let d = Ap;
  for (let m = 0; m < M4; m += 4) {
    let pa = A + (<usize>(m * sRow) << 2);
    if (sRow == 1) {
      for (let k = 0; k < K; k++) {
        v128.store(d, v128.load(pa));
        d += 16;
        pa += stepA;
      }
    } else {
      for (let k = 0; k < K; k++) {
        store<f32>(d, load<f32>(pa));
        store<f32>(d, load<f32>(pa + r1), 4);
        store<f32>(d, load<f32>(pa + r2), 8);
        store<f32>(d, load<f32>(pa + r3), 12);
        d += 16;
        pa += stepA;
      }
    }
  }
}

/**
 * Runs every block of rows of C against one column strip of B (8 or 4 lanes wide). The blocks
 * of 4 rows read A from Ap when it is not 0 (packed by packA), the remaining rows from A.
 */
// @ts-ignore: decorator
@inline function abStrip(C: usize, cs: usize, A: usize, sRow: i32, sK: i32, Ap: usize, pb: usize, bs: usize, K: i32,
                         M: i32, n: i32, wide: bool, acc: bool): void {
  let m = 0;
  const blockBytes = <usize>K << 4;
  for (; m + 4 <= M; m += 4) {
    const pc = C + <usize>m * cs + (<usize>n << 2);
    if (Ap) {
      const Am = Ap + <usize>(m >> 2) * blockBytes;
      if (wide) abRows4x8(pc, cs, Am, 1, 4, pb, bs, K, acc);
      else abRows4x4(pc, cs, Am, 1, 4, pb, bs, K, acc);
    } else {
      const Am = A + (<usize>(m * sRow) << 2);
      if (wide) abRows4x8(pc, cs, Am, sRow, sK, pb, bs, K, acc);
      else abRows4x4(pc, cs, Am, sRow, sK, pb, bs, K, acc);
    }
  }
  if (m + 2 <= M) {
    const pc = C + <usize>m * cs + (<usize>n << 2);
    const Am = A + (<usize>(m * sRow) << 2);
    if (wide) abRows2x8(pc, cs, Am, sRow, sK, pb, bs, K, acc);
    else abRows2x4(pc, cs, Am, sRow, sK, pb, bs, K, acc);
    m += 2;
  }
  if (m < M) {
    const pc = C + <usize>m * cs + (<usize>n << 2);
    const Am = A + (<usize>(m * sRow) << 2);
    if (wide) abRow1x8(pc, Am, sK, pb, bs, K, acc);
    else abRow1x4(pc, Am, sK, pb, bs, K, acc);
  }
}

/** Products big enough to share among threads: multiply-adds per call. */
const PAR_MIN: i64 = 1 << 17;
const JOB_AB: i32 = 1, JOB_ABT: i32 = 2;

/** C[m, :] (+)= sum_k A[m * sRow + k * sK] * B[k, :]; C is [M, ld], B is [K, ld]. */
export function gemmAB(C: usize, A: usize, sRow: i32, sK: i32, B: usize, K: i32, M: i32, ld: i32, acc: bool): void {
  const T = poolThreads();
  if (ASC_FEATURE_THREADS && T > 1 && ld >= 16 * T && <i64>M * K * ld >= PAR_MIN) {
    // The lanes (columns) in parts of whole 8-lane strips: every output is one part's.
    for (let t = 1; t < T; t++) {
      const n0 = partBound(ld, 8, t), n1 = partBound(ld, 8, t + 1);
      const a = partArgs(t);
      store<u32>(a, <u32>(C + (<usize>n0 << 2))); store<u32>(a, <u32>A, 4); store<i32>(a, sRow, 8);
      store<i32>(a, sK, 12); store<u32>(a, <u32>(B + (<usize>n0 << 2)), 16); store<i32>(a, K, 20);
      store<i32>(a, M, 24); store<i32>(a, ld, 28); store<i32>(a, n1 - n0, 32); store<i32>(a, acc, 36);
      abScratch(threadTable(t), sK, K, M, n1 - n0);
    }
    // every allocation before the job starts: a failing one must not leave the workers running
    const w0 = partBound(ld, 8, 1);
    abScratch(SCRATCH, sK, K, M, w0);
    poolStart(JOB_AB);
    abPart(C, A, sRow, sK, B, K, M, ld, w0, acc, SCRATCH);
    poolJoin();
    return;
  }
  abPart(C, A, sRow, sK, B, K, M, ld, ld, acc, SCRATCH);
}

// @ts-ignore: decorator
@inline function abApack(tab: usize, sK: i32, K: i32, M: i32, width: i32): usize {
  // When more than one column strip reads A and A's rows are strided along k (sK != 1: the
  // forward, whose k-stride of `outputs` floats maps a block's k-steps onto few L1 sets), its
  // blocks of 4 rows are packed once.
  const M4 = M & ~3;
  return M4 > 0 && width > 8 && sK != 1 ? scratch(tab, APACK, <usize>(M4 * K) << 2) : 0;
}

/** Strips of B packed side by side: g of them, [K, 8] each, fit in PANEL_BYTES (at least 1). */
// @ts-ignore: decorator
@inline function abStrips(K: i32): i32 {
  return max(1, min(STRIPS, <i32>(PANEL_BYTES / (<usize>max(K, 1) << 5))));
}

// @ts-ignore: decorator
@inline function abPanel(tab: usize, K: i32, M: i32, width: i32): usize {
  // B's strips are packed when more than one block of rows reads them
  return M > 4 && width > 8 ? scratch(tab, PANEL, <usize>(K * abStrips(K)) << 5) : 0;
}

/** Grows table `tab` for abPart(..., width, ...). */
function abScratch(tab: usize, sK: i32, K: i32, M: i32, width: i32): void {
  if (!ASC_FEATURE_SIMD) return;
  abApack(tab, sK, K, M, width);
  abPanel(tab, K, M, width);
}

/** gemmAB on the first `width` lanes (a multiple of 4) of rows ld floats apart, with scratch table tab. */
function abPart(C: usize, A: usize, sRow: i32, sK: i32, B: usize, K: i32, M: i32, ld: i32, width: i32, acc: bool, tab: usize): void {
  const rowBytes = <usize>ld << 2;
  if (ASC_FEATURE_SIMD) {
    const w8 = width & ~7;
    const M4 = M & ~3;
    const Ap = abApack(tab, sK, K, M, width);
    if (Ap) packA(Ap, A, sRow, sK, K, M4);
    let n = 0;
    const P = abPanel(tab, K, M, width);
    if (P) {
      // g strips are packed side by side ([K, 8] each), and each block of A runs against all of
      // them while it is in L1.
      const G = abStrips(K);
      const stripBytes = <usize>K << 5;
      while (n < w8) {
        const g = min(G, (w8 - n) >> 3);
        for (let j = 0; j < g; j++) {
          let src = B + (<usize>(n + 8 * j) << 2);
          let d = P + <usize>j * stripBytes;
          for (let k = 0; k < K; k++) {
            v128.store(d, v128.load(src));
            v128.store(d, v128.load(src, 16), 16);
            src += rowBytes;
            d += 32;
          }
        }
        let m = 0;
        for (; m + 4 <= M; m += 4) {
          const pc = C + <usize>m * rowBytes + (<usize>n << 2);
          if (Ap) {
            const Am = Ap + <usize>(m >> 2) * (<usize>K << 4);
            for (let j = 0; j < g; j++) abRows4x8p(pc + (<usize>j << 5), rowBytes, Am, P + <usize>j * stripBytes, K, acc);
          } else {
            const Am = A + (<usize>(m * sRow) << 2);
            for (let j = 0; j < g; j++) abRows4x8(pc + (<usize>j << 5), rowBytes, Am, sRow, sK, P + <usize>j * stripBytes, 32, K, acc);
          }
        }
        if (m + 2 <= M) {
          const pc = C + <usize>m * rowBytes + (<usize>n << 2);
          const Am = A + (<usize>(m * sRow) << 2);
          for (let j = 0; j < g; j++) abRows2x8(pc + (<usize>j << 5), rowBytes, Am, sRow, sK, P + <usize>j * stripBytes, 32, K, acc);
          m += 2;
        }
        if (m < M) {
          const pc = C + <usize>m * rowBytes + (<usize>n << 2);
          const Am = A + (<usize>(m * sRow) << 2);
          for (let j = 0; j < g; j++) abRow1x8(pc + (<usize>j << 5), Am, sK, P + <usize>j * stripBytes, 32, K, acc);
        }
        n += 8 * g;
      }
    } else {
      if (M < 4) {
        // fewer than 4 rows: 16 lanes at a time
        const last = <usize>(M - 1);
        for (; n + 16 <= w8; n += 16) {
          const pc = C + (<usize>n << 2), pb = B + (<usize>n << 2);
          if (M >= 2) abRows2x16(pc, rowBytes, A, sRow, sK, pb, rowBytes, K, acc);
          if (M & 1) {
            const pl = pc + last * rowBytes, Al = A + ((last * <usize>sRow) << 2);
            abRow1x8(pl, Al, sK, pb, rowBytes, K, acc);
            abRow1x8(pl + 32, Al, sK, pb + 32, rowBytes, K, acc);
          }
        }
      }
      for (; n < w8; n += 8) abStrip(C, rowBytes, A, sRow, sK, Ap, B + (<usize>n << 2), rowBytes, K, M, n, true, acc);
    }
    if (n < width) abStrip(C, rowBytes, A, sRow, sK, Ap, B + (<usize>n << 2), rowBytes, K, M, n, false, acc);
  } else {
    for (let m = 0; m < M; m++) {
      const Cm = C + <usize>m * rowBytes;
      const Am = A + (<usize>(m * sRow) << 2);
      for (let n = 0; n < width; n++) {
        let s: f32 = 0;
        let pa = Am;
        let pb = B + (<usize>n << 2);
        for (let k = 0; k < K; k++) {
          s += load<f32>(pa) * load<f32>(pb);
          pa += <usize>sK << 2;
          pb += rowBytes;
        }
        const pc = Cm + (<usize>n << 2);
        store<f32>(pc, acc ? load<f32>(pc) + s : s);
      }
    }
  }
}

// ---- gemmABt ----------------------------------------------------------------------------
//
// Register blocks of 4 p x 2 q (8 lane accumulators), and tails. The blocks are computed over
// chunks of KC lanes of the batch (KC: a chunk of Q takes QP_BYTES, and KC >= 256). For each
// chunk, the rows of Q are packed in pairs and the rows of P in fours, interleaved by vectors
// (Qp[pair][i] = Q[2 pair][4 i ..], Q[2 pair + 1][4 i ..]; likewise Pp for four rows), so that the kernel walks two contiguous buffers; the packed block
// of P stays in L1 while the pairs of Q stream from L2. When the batch has more than one chunk,
// the 8 accumulators of each block are kept between chunks in scratch(ABT_ACC) and continue there: each
// lane still sums b = j, j + 4, ... in order from 0. Rows of P beyond the last block of 4 and
// the last row of Q when NQ is odd are computed over the whole batch at once, and so is
// everything when NQ < 4 (a packed block of P would serve a single pair of Q).

/** Bytes of packed rows of Q per chunk (the chunk is sized to keep them in L2). */
const QP_BYTES: u32 = 512 << 10;

/** Interleaves `rows` rows (row stride rs bytes) of kc lanes from src by vectors into d. */
// @ts-ignore: decorator
@inline function interleave(d: usize, src: usize, rs: usize, kc: i32, rows: i32): void {
  const end = src + (<usize>kc << 2);
  if (rows == 4) {
    const r2 = rs << 1, r3 = rs * 3;
    for (let o = src; o < end; o += 16) {
      v128.store(d, v128.load(o));
      v128.store(d, v128.load(o + rs), 16);
      v128.store(d, v128.load(o + r2), 32);
      v128.store(d, v128.load(o + r3), 48);
      d += 64;
    }
  } else {
    for (let o = src; o < end; o += 16) {
      v128.store(d, v128.load(o));
      v128.store(d, v128.load(o + rs), 16);
      d += 32;
    }
  }
}

// @ts-ignore: decorator
@inline function putC(pc: usize, s: f32, acc: bool): void {
  store<f32>(pc, acc ? load<f32>(pc) + s : s);
}

/**
 * One 4 p x 2 q block over one chunk of kc lanes: `pp` the packed block of P, `pq` the packed
 * pair of Q. The accumulators start at 0 (first) or from `pa`, and end in `pa` or, in the last
 * chunk (last), in C at `c` (strides bP, bQ in bytes).
 */
// @ts-ignore: decorator
@inline function abtBlock4x2(pp: usize, pq: usize, kc: i32, pa: usize, first: bool, last: bool,
                             c: usize, bP: usize, bQ: usize, acc: bool): void {
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0);
  let s10 = f32x4.splat(0), s11 = f32x4.splat(0);
  let s20 = f32x4.splat(0), s21 = f32x4.splat(0);
  let s30 = f32x4.splat(0), s31 = f32x4.splat(0);
  if (!first) {
    s00 = v128.load(pa); s01 = v128.load(pa, 16);
    s10 = v128.load(pa, 32); s11 = v128.load(pa, 48);
    s20 = v128.load(pa, 64); s21 = v128.load(pa, 80);
    s30 = v128.load(pa, 96); s31 = v128.load(pa, 112);
  }
  const end = pq + (<usize>kc << 3);
  while (pq < end) {
    const q0 = v128.load(pq), q1 = v128.load(pq, 16);
    const p0 = v128.load(pp);
    s00 = madd(p0, q0, s00); s01 = madd(p0, q1, s01);
    const p1 = v128.load(pp, 16);
    s10 = madd(p1, q0, s10); s11 = madd(p1, q1, s11);
    const p2 = v128.load(pp, 32);
    s20 = madd(p2, q0, s20); s21 = madd(p2, q1, s21);
    const p3 = v128.load(pp, 48);
    s30 = madd(p3, q0, s30); s31 = madd(p3, q1, s31);
    pq += 32;
    pp += 64;
  }
  if (last) {
    putC(c, hsum(s00), acc); putC(c + bQ, hsum(s01), acc);
    putC(c + bP, hsum(s10), acc); putC(c + bP + bQ, hsum(s11), acc);
    putC(c + (bP << 1), hsum(s20), acc); putC(c + (bP << 1) + bQ, hsum(s21), acc);
    putC(c + bP * 3, hsum(s30), acc); putC(c + bP * 3 + bQ, hsum(s31), acc);
  } else {
    v128.store(pa, s00); v128.store(pa, s01, 16);
    v128.store(pa, s10, 32); v128.store(pa, s11, 48);
    v128.store(pa, s20, 64); v128.store(pa, s21, 80);
    v128.store(pa, s30, 96); v128.store(pa, s31, 112);
  }
}

/** The blocks of 4 p x 2 q of the chunk [b0, b0 + kc), with Q's pairs packed at Qp. */
// @ts-ignore: decorator
@inline function abtChunk(C: usize, P: usize, NP4: i32, Qp: usize, NQ2: i32, rowBytes: usize, b0: i32, kc: i32,
                          Pp: usize, Acc: usize, first: bool, last: bool, bP: usize, bQ: usize, acc: bool): void {
  const pairBytes = <usize>kc << 3;
  let pa = Acc;
  for (let p = 0; p < NP4; p += 4) {
    interleave(Pp, P + <usize>p * rowBytes + (<usize>b0 << 2), rowBytes, kc, 4);
    let pq = Qp;
    for (let q = 0; q < NQ2; q += 2) {
      abtBlock4x2(Pp, pq, kc, pa, first, last, C + <usize>p * bP + <usize>q * bQ, bP, bQ, acc);
      pq += pairBytes;
      pa += 128;
    }
  }
}

/** C[p * sP + q * sQ] (+)= sum_b P[p, b] * Q[q, b]; P is [NP, ld], Q is [NQ, ld]. */
export function gemmABt(C: usize, P: usize, NP: i32, Q: usize, NQ: i32, ld: i32, sP: i32, sQ: i32, acc: bool): void {
  const T = poolThreads();
  if (ASC_FEATURE_THREADS && T > 1 && NP >= 8 * T && <i64>NP * NQ * ld >= PAR_MIN) {
    // The rows of P in parts of whole blocks of 4: every output is one part's.
    const rowBytes = <usize>ld << 2;
    for (let t = 1; t < T; t++) {
      const p0 = partBound(NP, 4, t), p1 = partBound(NP, 4, t + 1);
      const a = partArgs(t);
      store<u32>(a, <u32>(C + (<usize>(p0 * sP) << 2))); store<u32>(a, <u32>(P + <usize>p0 * rowBytes), 4);
      store<i32>(a, p1 - p0, 8); store<u32>(a, <u32>Q, 12); store<i32>(a, NQ, 16); store<i32>(a, ld, 20);
      store<i32>(a, sP, 24); store<i32>(a, sQ, 28); store<i32>(a, acc, 32);
      abtScratch(threadTable(t), p1 - p0, NQ, ld);
    }
    const np0 = partBound(NP, 4, 1);
    abtScratch(SCRATCH, np0, NQ, ld);
    poolStart(JOB_ABT);
    abtPart(C, P, np0, Q, NQ, ld, sP, sQ, acc, SCRATCH);
    poolJoin();
    return;
  }
  abtPart(C, P, NP, Q, NQ, ld, sP, sQ, acc, SCRATCH);
}

/** Lanes of a chunk of the batch: its packed rows of Q take QP_BYTES, and it has at least 256. */
// @ts-ignore: decorator
@inline function abtChunkLanes(NQ2: i32): i32 {
  return max(256, <i32>(QP_BYTES / (<u32>NQ2 << 2)) & ~3);
}

/** Grows table `tab` for abtPart(..., NP, NQ, ld, ...). */
function abtScratch(tab: usize, NP: i32, NQ: i32, ld: i32): void {
  const NP4 = NP & ~3, NQ2 = NQ & ~1;
  if (!ASC_FEATURE_SIMD || NP4 == 0 || NQ2 < 4) return;
  const KC = abtChunkLanes(NQ2), kc0 = min(ld, KC);
  scratch(tab, QPACK, <usize>(NQ2 * kc0) << 2);
  scratch(tab, PANEL, <usize>kc0 << 4);
  if (ld > KC) scratch(tab, ABT_ACC, <usize>(NP4 * NQ2) << 4);
}

/** gemmABt with scratch table tab. */
function abtPart(C: usize, P: usize, NP: i32, Q: usize, NQ: i32, ld: i32, sP: i32, sQ: i32, acc: bool, tab: usize): void {
  const rowBytes = <usize>ld << 2;
  const bytes = <usize>ld << 2;
  const bP = <usize>sP << 2, bQ = <usize>sQ << 2;
  if (ASC_FEATURE_SIMD) {
    const NP4 = NP & ~3, NQ2 = NQ & ~1;
    if (NP4 > 0 && NQ2 >= 4) {
      const KC = abtChunkLanes(NQ2);
      const kc0 = min(ld, KC);
      const Qp = scratch(tab, QPACK, <usize>(NQ2 * kc0) << 2);
      const Pp = scratch(tab, PANEL, <usize>kc0 << 4);
      const Acc = ld > KC ? scratch(tab, ABT_ACC, <usize>(NP4 * NQ2) << 4) : 0;
      for (let b0 = 0; b0 < ld; b0 += KC) {
        const kc = min(KC, ld - b0);
        let d = Qp;
        for (let q = 0; q < NQ2; q += 2) {
          interleave(d, Q + <usize>q * rowBytes + (<usize>b0 << 2), rowBytes, kc, 2);
          d += <usize>kc << 3;
        }
        const first = b0 == 0, last = b0 + kc >= ld;
        if (first && last) abtChunk(C, P, NP4, Qp, NQ2, rowBytes, b0, kc, Pp, Acc, true, true, bP, bQ, acc);
        else if (first) abtChunk(C, P, NP4, Qp, NQ2, rowBytes, b0, kc, Pp, Acc, true, false, bP, bQ, acc);
        else if (last) abtChunk(C, P, NP4, Qp, NQ2, rowBytes, b0, kc, Pp, Acc, false, true, bP, bQ, acc);
        else abtChunk(C, P, NP4, Qp, NQ2, rowBytes, b0, kc, Pp, Acc, false, false, bP, bQ, acc);
      }
    } else if (NP4 > 0 && NQ2 > 0) {
      // a single pair of Q: each block of P would be packed for one use; the rows are read as they are
      for (let p = 0; p < NP4; p += 4) {
        const P0 = P + <usize>p * rowBytes;
        const Q0 = Q;
        let s00 = f32x4.splat(0), s01 = f32x4.splat(0);
        let s10 = f32x4.splat(0), s11 = f32x4.splat(0);
        let s20 = f32x4.splat(0), s21 = f32x4.splat(0);
        let s30 = f32x4.splat(0), s31 = f32x4.splat(0);
        for (let o: usize = 0; o < bytes; o += 16) {
          const q0 = v128.load(Q0 + o), q1 = v128.load(Q0 + rowBytes + o);
          const p0 = v128.load(P0 + o);
          s00 = madd(p0, q0, s00); s01 = madd(p0, q1, s01);
          const p1 = v128.load(P0 + rowBytes + o);
          s10 = madd(p1, q0, s10); s11 = madd(p1, q1, s11);
          const p2 = v128.load(P0 + (rowBytes << 1) + o);
          s20 = madd(p2, q0, s20); s21 = madd(p2, q1, s21);
          const p3 = v128.load(P0 + rowBytes * 3 + o);
          s30 = madd(p3, q0, s30); s31 = madd(p3, q1, s31);
        }
        const c = C + <usize>p * bP;
        putC(c, hsum(s00), acc); putC(c + bQ, hsum(s01), acc);
        putC(c + bP, hsum(s10), acc); putC(c + bP + bQ, hsum(s11), acc);
        putC(c + (bP << 1), hsum(s20), acc); putC(c + (bP << 1) + bQ, hsum(s21), acc);
        putC(c + bP * 3, hsum(s30), acc); putC(c + bP * 3 + bQ, hsum(s31), acc);
      }
    }
    if (NQ2 < NQ) {
      // the last row of Q against the blocks of 4 rows of P
      const q = NQ2;
      const Q0 = Q + <usize>q * rowBytes;
      for (let p = 0; p < NP4; p += 4) {
        const P0 = P + <usize>p * rowBytes;
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
        for (let o: usize = 0; o < bytes; o += 16) {
          const q0 = v128.load(Q0 + o);
          s0 = madd(v128.load(P0 + o), q0, s0);
          s1 = madd(v128.load(P0 + rowBytes + o), q0, s1);
          s2 = madd(v128.load(P0 + (rowBytes << 1) + o), q0, s2);
          s3 = madd(v128.load(P0 + rowBytes * 3 + o), q0, s3);
        }
        const c = C + <usize>p * bP + <usize>q * bQ;
        putC(c, hsum(s0), acc); putC(c + bP, hsum(s1), acc);
        putC(c + (bP << 1), hsum(s2), acc); putC(c + bP * 3, hsum(s3), acc);
      }
    }
    for (let p = NP4; p < NP; p++) {
      // the last rows of P against every row of Q
      const P0 = P + <usize>p * rowBytes;
      let q = 0;
      for (; q + 4 <= NQ; q += 4) {
        const Q0 = Q + <usize>q * rowBytes;
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
        for (let o: usize = 0; o < bytes; o += 16) {
          const p0 = v128.load(P0 + o);
          s0 = madd(p0, v128.load(Q0 + o), s0);
          s1 = madd(p0, v128.load(Q0 + rowBytes + o), s1);
          s2 = madd(p0, v128.load(Q0 + (rowBytes << 1) + o), s2);
          s3 = madd(p0, v128.load(Q0 + rowBytes * 3 + o), s3);
        }
        const c = C + <usize>p * bP + <usize>q * bQ;
        putC(c, hsum(s0), acc); putC(c + bQ, hsum(s1), acc);
        putC(c + (bQ << 1), hsum(s2), acc); putC(c + bQ * 3, hsum(s3), acc);
      }
      for (; q < NQ; q++) {
        const Q0 = Q + <usize>q * rowBytes;
        let s0 = f32x4.splat(0);
        for (let o: usize = 0; o < bytes; o += 16) {
          s0 = madd(v128.load(P0 + o), v128.load(Q0 + o), s0);
        }
        putC(C + <usize>p * bP + <usize>q * bQ, hsum(s0), acc);
      }
    }
  } else {
    for (let p = 0; p < NP; p++) {
      const P0 = P + <usize>p * rowBytes;
      for (let q = 0; q < NQ; q++) {
        const Q0 = Q + <usize>q * rowBytes;
        let l0: f32 = 0, l1: f32 = 0, l2: f32 = 0, l3: f32 = 0;
        for (let o: usize = 0; o < bytes; o += 16) {
          l0 += load<f32>(P0 + o) * load<f32>(Q0 + o);
          l1 += load<f32>(P0 + o, 4) * load<f32>(Q0 + o, 4);
          l2 += load<f32>(P0 + o, 8) * load<f32>(Q0 + o, 8);
          l3 += load<f32>(P0 + o, 12) * load<f32>(Q0 + o, 12);
        }
        putC(C + <usize>p * bP + <usize>q * bQ, (l0 + l1) + (l2 + l3), acc);
      }
    }
  }
}

/** Runs a worker's part of a job (pool.ts): its arguments at `a`, its scratch table `tab`. */
export function runPart(kind: i32, a: usize, tab: usize): void {
  if (kind == JOB_AB) {
    abPart(<usize>load<u32>(a), <usize>load<u32>(a, 4), load<i32>(a, 8), load<i32>(a, 12), <usize>load<u32>(a, 16),
      load<i32>(a, 20), load<i32>(a, 24), load<i32>(a, 28), load<i32>(a, 32), load<i32>(a, 36) != 0, tab);
  } else if (kind == JOB_EW) {
    ewPart(a);
  } else if (kind == JOB_ABT) {
    abtPart(<usize>load<u32>(a), <usize>load<u32>(a, 4), load<i32>(a, 8), <usize>load<u32>(a, 12), load<i32>(a, 16),
      load<i32>(a, 20), load<i32>(a, 24), load<i32>(a, 28), load<i32>(a, 32) != 0, tab);
  }
}
