// Correctness gates run before any timing: an implementation that computes something else is
// not benchmarked. Everything is compared with the float64 reference of test/reference/
// (refStack: forward, MSE, backward; refAdam), fed the same float32 values widened to f64.

import { refAdam, refAdamState, refStack, type Params, type RefLayer } from '../../test/reference/index';
import { mulberry32, uniformArray } from './rng';

export type F32Weights = Array<Record<string, Float32Array>>;

/** max_j |a_j - e_j| / max_j |e_j|. */
export function errRelToMax(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let scale = 0;
  let diff = 0;
  for (let j = 0; j < expected.length; j++) {
    scale = Math.max(scale, Math.abs(expected[j]!));
    const d = Math.abs(actual[j]! - expected[j]!);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
  }
  if (diff === 0) return 0;
  return scale === 0 ? Infinity : diff / scale;
}

export interface CheckCase {
  name: string;
  layers: RefLayer[];
  weights: F32Weights;
  x: Float32Array;
  target: Float32Array;
  batch: number;
}

function names(l: RefLayer): string[] {
  return (l.sharedWeights ?? true) ? ['W_hat', 'M_hat', 'G'] : ['W_hat', 'M_hat', 'W_hat_mul', 'M_hat_mul', 'G'];
}

/** A random NALU stack case: weights U[-0.5, 0.5), x U[-2, 2), target U[-1, 1). */
export function randomCase(name: string, layers: RefLayer[], batch: number, seed: number): CheckCase {
  const rand = mulberry32(seed);
  const weights = layers.map((l) =>
    Object.fromEntries(names(l).map((n) => [n, uniformArray(rand, l.inputs * l.outputs, -0.5, 0.5)])));
  const x = uniformArray(rand, batch * layers[0]!.inputs, -2, 2);
  const target = uniformArray(rand, batch * layers[layers.length - 1]!.outputs, -1, 1);
  return { name, layers, weights, x, target, batch };
}

const f64 = (w: F32Weights): Params[] =>
  w.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Float64Array.from(v)])));

export interface Computed {
  y: Float32Array;
  loss: number;
  grads: F32Weights;
}

/**
 * The worst error of y, the loss and every gradient against the reference (relative to each
 * tensor's largest magnitude), with a description of where it is.
 */
export function compareWithReference(c: CheckCase, got: Computed): { worst: number; where: string } {
  const ref = refStack(c.layers, f64(c.weights), Float64Array.from(c.x), Float64Array.from(c.target), c.batch);
  let worst = errRelToMax(got.y, ref.y);
  let where = 'y';
  const lossErr = Math.abs(got.loss - ref.loss) / Math.abs(ref.loss);
  if (!(lossErr <= worst)) { worst = Number.isNaN(lossErr) ? Infinity : lossErr; where = 'loss'; }
  ref.grads.forEach((g, k) => {
    for (const [n, want] of Object.entries(g)) {
      const have = got.grads[k]?.[n];
      const e = have ? errRelToMax(have, want) : Infinity;
      if (!(e <= worst)) { worst = e; where = `d${n} of layer ${k}`; }
    }
  });
  return { worst, where };
}

/**
 * Adam against refAdam: `steps` steps of `step` (which returns the implementation's gradients
 * before updating and its parameters after) against refAdam fed those same gradients, so that
 * the optimizer is checked on its own. Returns the worst parameter error relative to max.
 */
export function compareAdam(
  start: F32Weights, lr: number, steps: number,
  step: () => { grads: F32Weights; params: F32Weights },
): number {
  const p = f64(start);
  const state = refAdamState(p);
  let worst = 0;
  for (let s = 0; s < steps; s++) {
    const { grads, params } = step();
    refAdam(p, f64(grads), state, { lr });
    p.forEach((r, k) => {
      for (const [n, want] of Object.entries(r)) worst = Math.max(worst, errRelToMax(params[k]![n]!, want));
    });
  }
  return worst;
}

/** What checkRunner needs of an implementation (bench/lib/runners.ts's Runner). */
interface Checkable {
  setWeights(w: F32Weights): void;
  getWeights(): F32Weights;
  compute(x: Float32Array, t: Float32Array, batch: number): Computed;
  train(x: Float32Array, t: Float32Array, batch: number): unknown;
}

/**
 * The correctness gate of an implementation: y, loss and gradients of case c against the float64
 * reference, then `steps` Adam steps (learning rate lr) from c's weights against refAdam.
 */
export function checkRunner(r: Checkable, c: CheckCase, lr: number, steps: number): { worst: number; where: string; adam: number } {
  r.setWeights(c.weights);
  const { worst, where } = compareWithReference(c, r.compute(c.x, c.target, c.batch));
  r.setWeights(c.weights);
  const adam = compareAdam(c.weights, lr, steps, () => {
    const grads = r.compute(c.x, c.target, c.batch).grads;
    r.train(c.x, c.target, c.batch);
    return { grads, params: r.getWeights() };
  });
  return { worst, where, adam };
}
