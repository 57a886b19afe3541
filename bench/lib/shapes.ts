// The shapes of the performance issue.
//
//   S  the NALU stack 100 -> 2 -> 1 (tied weights), batch 128: train step and forward, each also
//      on data held inside the library
//   E  S at batch 1: predict only (latency)
//   M  one NALU 64 -> 64, batch 1024: train step and forward
//   L  one NALU 256 -> 256, batch 4096: train step and forward
// Adam lr 1e-3 everywhere, eps 1e-7 in the log path.

import type { NaiveLayerSpec } from '../naive/nalu';
import { mulberry32, uniformArray } from './rng';
import type { F32Weights } from './check';

export type ShapeKey = 'S' | 'E' | 'M' | 'L';
/** train: Adam steps over a pool of fixed batches handed over as Float32Arrays every step;
 * resident: the same steps with the pool held inside each library once (nalu-wasm stageBatch,
 * tfjs tensors and PyTorch tensors made once; naive JS computes on the arrays as in train);
 * task: Adam steps on a fresh batch of the static arithmetic task (add) generated every step;
 * forward: predictions of the pool handed over as Float32Arrays every call;
 * residentForward: the same predictions of the pool held inside each library once (nalu-wasm
 * stageBatch, tfjs tensors made once; PyTorch's forward reads tensors in both, naive JS arrays). */
export type OpKey = 'train' | 'resident' | 'task' | 'forward' | 'residentForward';

/** Operations that predict (their figure is samples/s, not calls/s). */
export const isForward = (op: OpKey): boolean => op === 'forward' || op === 'residentForward';

export interface BenchShape {
  key: ShapeKey;
  title: string;
  layers: NaiveLayerSpec[];
  batch: number;
  ops: OpKey[];
  learningRate: number;
  /** batch of the correctness check against the float64 reference */
  checkBatch: number;
}

/** Training loops go back to the initial weights (and a fresh Adam) every this many steps. */
export const RESET_EVERY = 1000;

export const SHAPES: Record<ShapeKey, BenchShape> = {
  S: { key: 'S', title: 'NALU 100-2-1, batch 128', layers: [{ inputs: 100, outputs: 2 }, { inputs: 2, outputs: 1 }], batch: 128, ops: ['train', 'resident', 'task', 'forward', 'residentForward'], learningRate: 1e-3, checkBatch: 128 },
  E: { key: 'E', title: 'NALU 100-2-1, batch 1', layers: [{ inputs: 100, outputs: 2 }, { inputs: 2, outputs: 1 }], batch: 1, ops: ['forward'], learningRate: 1e-3, checkBatch: 1 },
  M: { key: 'M', title: 'NALU 64-64, batch 1024', layers: [{ inputs: 64, outputs: 64 }], batch: 1024, ops: ['train', 'resident', 'forward'], learningRate: 1e-3, checkBatch: 64 },
  L: { key: 'L', title: 'NALU 256-256, batch 4096', layers: [{ inputs: 256, outputs: 256 }], batch: 4096, ops: ['train', 'resident', 'forward'], learningRate: 1e-3, checkBatch: 32 },
};

/**
 * Matrix-product flops of one step of a shape (mul + add = 2 per multiply-add): forward
 * a = x W, l W and x G (3 products), backward x^T da, l^T dmm, x^T dg (3 products) and, for every
 * layer but the first, da W^T, dmm W^T, dg G^T (3 more).
 */
export function matmulFlops(shape: BenchShape, op: OpKey): number {
  let f = 0;
  shape.layers.forEach((l, k) => {
    const p = 2 * shape.batch * l.inputs * l.outputs;
    f += 3 * p;
    if (!isForward(op)) f += 3 * p + (k > 0 ? 3 * p : 0);
  });
  return f;
}

/** Glorot-uniform initial weights of every layer (W_hat, M_hat, G), the same for every implementation. */
export function initialWeights(shape: BenchShape, seed = 1): F32Weights {
  const rand = mulberry32(seed);
  return shape.layers.map((l) => {
    const r = Math.sqrt(6 / (l.inputs + l.outputs));
    const names = (l.sharedWeights ?? true) ? ['W_hat', 'M_hat', 'G'] : ['W_hat', 'M_hat', 'W_hat_mul', 'M_hat_mul', 'G'];
    return Object.fromEntries(names.map((n) => [n, uniformArray(rand, l.inputs * l.outputs, -r, r)]));
  });
}

/** What bench/torch_worker.py needs of a shape (its --spec argument), so that it keeps no table of its own. */
export function torchSpec(shape: ShapeKey): string {
  const s = SHAPES[shape];
  return JSON.stringify({ layers: s.layers.map((l) => [l.inputs, l.outputs]), batch: s.batch, ops: s.ops, learningRate: s.learningRate, resetEvery: RESET_EVERY });
}
