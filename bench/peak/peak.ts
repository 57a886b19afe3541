// @ts-nocheck -- AssemblyScript, compiled by asc (bench/peak/tsconfig.json types it for editors); the
// repository tsconfig includes bench/**/*.ts and does not know its builtins.
// WebAssembly SIMD128 mul + add peak throughput of this machine (AssemblyScript).
//
//   npx asc bench/peak/peak.ts --config bench/peak/asconfig.json -O3 --enable simd --runtime stub \
//       -o bench/build/peak.wasm
// (bench/peak/run.ts does this when the .wasm is missing or stale). Without --config, asc also
// reads the repository's asconfig.json and compiles its entry, assembly/index.ts, into the file.
//
// Two kernels, both f32x4 mul followed by a separate add; compiled with --enable relaxed-simd as
// well (bench/build/peak-relaxed.wasm), the matrix kernel uses f32x4.relaxed_madd instead, the
// multiply-add of nalu-wasm's opt-in relaxed build (fused on CPUs with FMA):
//   gemm4x8(k, reps)  the register-blocked micro-kernel of a matrix product: a 4 x 8 block of C
//                     in 8 accumulators, per k two v128 loads of B and four load32_splat of A,
//                     8 mul + 8 add = 64 flops. A [4, k] and B [k, 8] stay in L1 (k <= 512).
//   regs(reps)        no memory traffic: 12 independent accumulators, 12 mul + 12 add per
//                     iteration on operands held in registers (an upper bound: if V8 spills,
//                     the matrix kernel is the realistic figure).
// Both return a checksum so that nothing is optimised away. Flops = 2 per lane per mul+add.

const A: usize = memory.data(4 * 512 * 4, 16); // A: 4 x 512 floats, k-major (4 floats per k)
const B: usize = memory.data(512 * 8 * 4, 16); // B: 512 x 8 floats
const C: usize = memory.data(32 * 4, 16); // C: 32 floats

export function setup(): void {
  for (let i: usize = 0; i < 4 * 512; i++) store<f32>(A + (i << 2), <f32>((i % 7) + 1) * 0.001);
  for (let i: usize = 0; i < 512 * 8; i++) store<f32>(B + (i << 2), <f32>((i % 5) + 1) * 0.001);
}

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** reps repetitions of C[4x8] += A[4xk] B[kx8]; returns a checksum of C. 64 * k * reps flops. */
export function gemm4x8(k: i32, reps: i32): f32 {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let r = 0; r < reps; r++) {
    let pa = A, pb = B;
    for (let i = 0; i < k; i++) {
      const b0 = v128.load(pb), b1 = v128.load(pb, 16);
      const a0 = v128.load32_splat(pa), a1 = v128.load32_splat(pa, 4);
      const a2 = v128.load32_splat(pa, 8), a3 = v128.load32_splat(pa, 12);
      c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
      c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
      c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
      c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
      pa += 16;
      pb += 32;
    }
  }
  v128.store(C, c00); v128.store(C, c01, 16); v128.store(C, c10, 32); v128.store(C, c11, 48);
  v128.store(C, c20, 64); v128.store(C, c21, 80); v128.store(C, c30, 96); v128.store(C, c31, 112);
  let s: f32 = 0;
  for (let i: usize = 0; i < 32; i++) s += load<f32>(C + (i << 2));
  return s;
}

/** reps iterations of 12 independent mul + add chains on register operands; 96 flops each. */
export function regs(reps: i32): f32 {
  const m0 = v128.load(A), m1 = v128.load(A, 16), m2 = v128.load(B);
  let c0 = v128.load(B, 16), c1 = v128.load(B, 32), c2 = v128.load(B, 48), c3 = v128.load(B, 64);
  let c4 = v128.load(B, 80), c5 = v128.load(B, 96), c6 = v128.load(B, 112), c7 = v128.load(B, 128);
  let c8 = v128.load(B, 144), c9 = v128.load(B, 160), c10 = v128.load(B, 176), c11 = v128.load(B, 192);
  for (let r = 0; r < reps; r++) {
    c0 = f32x4.add(f32x4.mul(c0, m0), m1); c1 = f32x4.add(f32x4.mul(c1, m0), m1);
    c2 = f32x4.add(f32x4.mul(c2, m0), m2); c3 = f32x4.add(f32x4.mul(c3, m0), m2);
    c4 = f32x4.add(f32x4.mul(c4, m1), m0); c5 = f32x4.add(f32x4.mul(c5, m1), m0);
    c6 = f32x4.add(f32x4.mul(c6, m1), m2); c7 = f32x4.add(f32x4.mul(c7, m1), m2);
    c8 = f32x4.add(f32x4.mul(c8, m2), m0); c9 = f32x4.add(f32x4.mul(c9, m2), m0);
    c10 = f32x4.add(f32x4.mul(c10, m2), m1); c11 = f32x4.add(f32x4.mul(c11, m2), m1);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)),
    f32x4.add(f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)), f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11))));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
