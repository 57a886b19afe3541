// One operation of a benchmark shape on nalu-wasm, called over and over: what bench/ab.ts times
// and bench/profile.ts profiles. It drives the model through the benchmark's own runner
// (lib/runners.ts wasmRunner), so these tools run what bench/run.ts measures.

import { wasmRunner } from './runners';
import { RESET_EVERY, SHAPES, type ShapeKey } from './shapes';
import { makePool } from './tasks';
import type { Build } from '../../src/wasm/exports';

export interface WorkloadOptions {
  /** the module's build (default simd) and, to run another file than build/'s, its bytes */
  build?: Build;
  bytes?: Uint8Array;
  threads?: number;
  /** Adam steps taken first, untimed */
  pretrain?: number;
}

/**
 * `op`: train (Adam steps over a pool of 8 batches), task (Adam steps on a fresh static-task batch
 * drawn in Wasm; shape S), forward (predictions of the pool's batches) or predict1 (batch 1).
 * Training goes back to the state after `pretrain` steps, with a fresh Adam, every RESET_EVERY
 * calls, so that the cost of a step stays that of the same state.
 */
export async function naluWorkload(key: string, op: string, options: WorkloadOptions = {}): Promise<() => void> {
  const shape = SHAPES[key as ShapeKey];
  if (!shape) throw new Error(`unknown shape ${key}: S, E, M or L`);
  if (!['train', 'task', 'forward', 'predict1'].includes(op)) throw new Error(`unknown op ${op}: train, task, forward or predict1`);
  const runner = await wasmRunner({ layers: shape.layers, seed: 1, learningRate: shape.learningRate }, options.build ?? 'simd', options);
  const inputs = shape.layers[0]!.inputs, outputs = shape.layers.at(-1)!.outputs;
  const batch = op === 'predict1' ? 1 : shape.batch;
  const pool = makePool(inputs, outputs, batch, 8, 42);
  const pretrain = options.pretrain ?? 0;
  const trainPool = pretrain > 0 ? makePool(inputs, outputs, shape.batch, 8, 42) : null;
  for (let s = 0; s < pretrain; s++) runner.train(trainPool!.x[s & 7]!, trainPool!.t[s & 7]!, shape.batch);
  const start = runner.getWeights();
  runner.reset(start);
  const { trainTask } = runner;
  if (op === 'task' && !trainTask) throw new Error(`shape ${key} has no static-task sampler (S only)`);
  const training = op === 'train' || op === 'task';
  let calls = 0;
  return () => {
    const k = calls++ & 7;
    if (op === 'train') runner.train(pool.x[k]!, pool.t[k]!, batch);
    else if (op === 'task') trainTask!(batch);
    else runner.predict(pool.x[k]!, batch);
    if (training && calls % RESET_EVERY === 0) runner.reset(start);
  };
}
