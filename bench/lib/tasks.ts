// Fixed, seeded data for the timed loops: a pool of batches that the loops cycle through.
//
// x is U[-1, 1); the target of output o is the sum of two disjoint slices of x (an addition
// task in the spirit of Trask et al.'s static arithmetic task), so that Adam on it stays finite
// for as long as a benchmark runs (the models are also reset before every sample).

import { staticTask } from '../../src/index';
import { mulberry32, uniformArray } from './rng';

export interface Pool {
  batch: number;
  x: Float32Array[];
  t: Float32Array[];
}

export function makePool(inputs: number, outputs: number, batch: number, count: number, seed: number): Pool {
  const rand = mulberry32(seed);
  const slice = Math.max(1, Math.floor(inputs / (2 * Math.max(outputs, 1))));
  const xs: Float32Array[] = [];
  const ts: Float32Array[] = [];
  for (let k = 0; k < count; k++) {
    const x = uniformArray(rand, batch * inputs, -1, 1);
    const t = new Float32Array(batch * outputs);
    for (let b = 0; b < batch; b++) {
      for (let o = 0; o < outputs; o++) {
        let s = 0;
        const start = (2 * o * slice) % inputs;
        for (let i = 0; i < 2 * slice; i++) s += x[b * inputs + ((start + i) % inputs)]!;
        t[b * outputs + o] = s / 2;
      }
    }
    xs.push(x);
    ts.push(t);
  }
  return { batch, x: xs, t: ts };
}

/**
 * Fresh batches of the static arithmetic task (add, seed 0: x in U[1, 2), target a + b over the
 * task's two overlapping subsets) generated in JavaScript, for the implementations that have no
 * generator of their own; nalu-wasm draws the same task inside Wasm (trainStepOn).
 */
export class TaskStream {
  readonly x: Float32Array;
  readonly t: Float32Array;
  private readonly rand = mulberry32(7);
  private readonly task = staticTask({ op: 'add', seed: 0 });

  constructor(readonly batch: number) {
    this.x = new Float32Array(batch * this.task.inputSize);
    this.t = new Float32Array(batch);
  }

  /** Overwrites x and t with a new batch. */
  next(): void {
    const { inputSize: n, start1, start2, subsetSize: s } = this.task;
    const [lo, hi] = this.task.interpolation;
    const { x, t, rand } = this;
    for (let i = 0; i < x.length; i++) x[i] = lo + (hi - lo) * rand();
    for (let b = 0; b < this.batch; b++) {
      let a = 0, c = 0;
      for (let i = 0; i < s; i++) { a += x[b * n + start1 + i]!; c += x[b * n + start2 + i]!; }
      t[b] = a + c;
    }
  }
}
