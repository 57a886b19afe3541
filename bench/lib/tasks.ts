// Fixed, seeded data for the timed loops: a pool of batches that the loops cycle through.
//
// x is U[-1, 1); the target of output o is the sum of two disjoint slices of x (an addition
// task in the spirit of Trask et al.'s static arithmetic task), so that Adam on it stays finite
// for as long as a benchmark runs (the models are also reset before every sample).

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
