// @ts-nocheck -- AssemblyScript, compiled by asc (see bench/peak/gemm-run.ts).
// The matrix kernels of assembly/gemm.ts on their own, for timing and for comparing builds.
export { gemmAB, gemmABt } from "../../assembly/gemm";

export function alloc(bytes: usize): usize {
  return (heap.alloc(bytes + 16) + 15) & ~15;
}
