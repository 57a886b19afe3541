// One operation of a benchmark shape on nalu-wasm, called over and over: what bench/ab.ts times
// and bench/profile.ts profiles (after init()).

import { adam, nalu, sequential, staticTask } from '../../src/index';
import { RESET_EVERY, SHAPES, type ShapeKey } from './shapes';
import { makePool } from './tasks';

/**
 * `op`: train (Adam steps over a pool of 8 batches), task (Adam steps on a fresh static-task batch
 * drawn in Wasm; shape S), forward (predictions of the pool's batches) or predict1 (batch 1).
 * `pretrain` Adam steps are taken first; training then goes back to that state, with a fresh
 * Adam, every RESET_EVERY calls, so that the cost of a step stays that of the same state.
 */
export function naluWorkload(key: string, op: string, pretrain = 0): () => void {
  const shape = SHAPES[key as ShapeKey];
  if (!shape) throw new Error(`unknown shape ${key}: S, E, M or L`);
  const model = sequential(shape.layers.map(({ inputs, outputs }) => nalu({ inputs, outputs })), { seed: 1 });
  const inputs = shape.layers[0]!.inputs, outputs = shape.layers.at(-1)!.outputs;
  const batch = op === 'predict1' ? 1 : shape.batch;
  const pool = makePool(inputs, outputs, batch, 8, 42);
  let optim = adam({ learningRate: shape.learningRate });
  if (pretrain > 0) {
    const trainPool = makePool(inputs, outputs, shape.batch, 8, 42);
    for (let s = 0; s < pretrain; s++) model.trainStep(trainPool.x[s & 7]!, trainPool.t[s & 7]!, optim, shape.batch);
  }
  const start = model.getWeights();
  optim = adam({ learningRate: shape.learningRate });
  const sampler = op === 'task' ? staticTask({ op: 'add', seed: 0 }).trainSampler() : null;
  const training = op === 'train' || op === 'task';
  let calls = 0;
  return () => {
    const k = calls++ & 7;
    if (op === 'train') model.trainStep(pool.x[k]!, pool.t[k]!, optim, batch);
    else if (op === 'task') model.trainStepOn(sampler!, optim, batch);
    else model.predict(pool.x[k]!, batch);
    if (training && calls % RESET_EVERY === 0) {
      model.setWeights(start);
      optim = adam({ learningRate: shape.learningRate });
    }
  };
}
