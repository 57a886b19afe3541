// One interface over the implementations the benchmarks compare, so that every one of them is
// checked and timed by the same code.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { adam, init, nalu, sequential, staticTask, type Model, type Optimizer, type StagedBatch } from '../../src/index';
import { buildOf, type Build } from '../../src/wasm/exports';
import { NaiveNaluStack, type NaiveLayerSpec } from '../naive/nalu';
import type { Computed, F32Weights } from './check';

export interface Runner {
  readonly label: string;
  /** What was loaded (for nalu-wasm: the bytes and sha256 of the module instantiated). */
  readonly info?: Record<string, unknown>;
  /** Back to `start` (default: the initial weights) with a fresh Adam (moments zero, step 0). */
  reset(start?: F32Weights): void;
  setWeights(w: F32Weights): void;
  getWeights(): F32Weights;
  /** One Adam step on [batch, inputs] x; returns the loss (the implementation's type). */
  train(x: Float32Array, t: Float32Array, batch: number): unknown;
  predict(x: Float32Array, batch: number): Float32Array;
  /**
   * For the 'resident' operation: hands the pool over once, in the library's own form, and
   * returns a step on pool entry k. Without it, the step is train(xs[k], ts[k], batch).
   */
  resident?(xs: Float32Array[], ts: Float32Array[], batch: number): (k: number) => unknown;
  /**
   * For the 'residentForward' operation: as resident, and returns a prediction of pool entry k.
   * Without it, the prediction is predict(xs[k], batch).
   */
  residentPredict?(xs: Float32Array[], ts: Float32Array[], batch: number): (k: number) => Float32Array;
  /** One Adam step on a fresh batch of the static task drawn by the implementation itself, if it can. */
  trainTask?(batch: number): unknown;
  /** y, loss and gradients of the current weights, for the correctness gate. */
  compute(x: Float32Array, t: Float32Array, batch: number): Computed;
  dispose(): void;
}

export interface StackShape {
  layers: NaiveLayerSpec[];
  seed: number;
  learningRate: number;
}

/**
 * nalu-wasm on one of its builds (`true`: simd, `false`: scalar, or by name); the model is
 * created right after init. The bytes of build/nalu-<build>.wasm (or `options.bytes`, a module of
 * that build from elsewhere) are read here and handed to init, so that the recorded sha256 is the
 * module actually measured even when the build is rewritten meanwhile. Threads builds run on
 * `options.threads` threads (default 2). The relaxed build needs an engine with relaxed SIMD
 * (Node 20: a flag).
 */
export async function wasmRunner(shape: StackShape, which: boolean | Build, options: { bytes?: Uint8Array; threads?: number } = {}): Promise<Runner> {
  const build: Build = which === true ? 'simd' : which === false ? 'scalar' : which;
  const bytes = options.bytes ?? readFileSync(fileURLToPath(new URL(`../../build/nalu-${build}.wasm`, import.meta.url)));
  const wasm = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  const info = await init({
    wasm: bytes,
    ...(build.startsWith('relaxed') ? { relaxed: true } : { simd: build !== 'scalar' }),
    ...(build.endsWith('threads') ? { threads: options.threads ?? 2 } : {}),
  });
  const got = buildOf(info.backend, info.threads);
  if (got !== build) throw new Error(`asked for the ${build} build, got ${got}`);
  const model: Model = sequential(shape.layers.map((l) => nalu({ inputs: l.inputs, outputs: l.outputs, eps: l.eps, sharedWeights: l.sharedWeights })), { seed: shape.seed });
  const initial = model.getWeights();
  let opt: Optimizer = adam({ learningRate: shape.learningRate });
  let staged: StagedBatch[] | undefined; // the pool, staged once for resident and residentPredict
  const stagedPool = (xs: Float32Array[], ts: Float32Array[]) => (staged ??= xs.map((x, k) => model.stageBatch(x, ts[k]!)));
  const sampler = shape.layers[0]!.inputs === 100 && shape.layers.at(-1)!.outputs === 1
    ? staticTask({ op: 'add', seed: 0 }).trainSampler() : null;
  return {
    label: `nalu-wasm ${info.backend}${info.threads > 1 ? `, ${info.threads} threads` : ''}`,
    info: { wasm },
    reset(start = initial) {
      model.setWeights(start);
      opt = adam({ learningRate: shape.learningRate });
    },
    setWeights: (w) => model.setWeights(w),
    getWeights: () => model.getWeights(),
    train: (x, t, batch) => model.trainStep(x, t, opt, batch),
    predict: (x, batch) => model.predict(x, batch),
    resident(xs, ts) {
      const pool = stagedPool(xs, ts);
      return (k) => model.trainStepOn(pool[k]!, opt);
    },
    residentPredict(xs, ts) {
      const pool = stagedPool(xs, ts);
      return (k) => model.predict(pool[k]!);
    },
    ...(sampler ? { trainTask: (batch: number) => model.trainStepOn(sampler, opt, batch) } : {}),
    compute(x, t, batch) {
      const y = model.predict(x, batch);
      const { loss, grads } = model.gradients(x, t, batch);
      return { y, loss, grads };
    },
    dispose: () => { sampler?.dispose(); model.dispose(); },
  };
}

/** The naive JavaScript implementation, started from `initial` (the wasm model's init). */
export function naiveRunner(shape: StackShape, initial: F32Weights): Runner {
  const net = new NaiveNaluStack(shape.layers, { learningRate: shape.learningRate });
  net.setWeights(initial);
  return {
    label: 'naive JS',
    reset(start = initial) {
      net.setWeights(start);
      net.resetOptimizer();
    },
    setWeights: (w) => net.setWeights(w),
    getWeights: () => net.getWeights(),
    train: (x, t, batch) => net.trainStep(x, t, batch),
    predict: (x, batch) => net.predict(x, batch),
    compute(x, t, batch) {
      const y = net.predict(x, batch);
      const loss = net.gradients(x, t, batch);
      return { y, loss, grads: net.getGradients() };
    },
    dispose() {},
  };
}
