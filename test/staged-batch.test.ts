// Staged batches (Model.stageBatch + trainStepOn, predict): the same bits as trainStep and
// predict on the same arrays, the model's own buffers untouched between calls, and clear errors.
import { describe, expect, it } from 'vitest';
import {
  adam, dense, inalu, nac, nacMul, nalu, nau, nmu, npu, sequential, sgd, staticTask, NaluError, Sampler, StagedBatch,
  type LayerSpec, type Model,
} from '../src/index';
import { BUILDS, bits, prng, useBackend } from './helpers';

function data(seed: number, batch: number, inputs: number, outputs: number): { x: Float32Array; t: Float32Array } {
  const r = prng(seed);
  const x = new Float32Array(batch * inputs).map(() => r() * 4 - 2);
  const t = new Float32Array(batch * outputs).map(() => r() * 2 - 1);
  return { x, t };
}

function weightBits(m: Model): number[][] {
  return m.getWeights().flatMap((l) => Object.values(l).map((v) => Array.from(bits(v))));
}

// First layers with and without a log of their input (nalu, nacMul keep it staged; the others
// compute their own or none), batches with and without padding lanes.
const STACKS: Array<[string, () => LayerSpec[], number]> = [
  ['nalu 100-2-1 (tied)', () => [nalu({ inputs: 100, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })], 128],
  ['nalu separate 7-3', () => [nalu({ inputs: 7, outputs: 3, sharedWeights: false, eps: 1e-7 })], 37],
  ['nacMul 5-2, nac 2-1', () => [nacMul({ inputs: 5, outputs: 2 }), nac({ inputs: 2, outputs: 1 })], 6],
  ['nac 6-4, dense 4-2', () => [nac({ inputs: 6, outputs: 4 }), dense({ inputs: 4, outputs: 2, activation: 'tanh' })], 9],
  ['nau 4-3, nmu 3-1', () => [nau({ inputs: 4, outputs: 3 }), nmu({ inputs: 3, outputs: 1 })], 1],
  ['inalu 6-2', () => [inalu({ inputs: 6, outputs: 2 })], 11],
  ['npu 3-2', () => [npu({ inputs: 3, outputs: 2 })], 5],
];

describe.each(BUILDS)('staged batches, %s build', (backend) => {
  it.each(STACKS)('%s: trainStepOn(stageBatch(x, t)) gives the losses and weights of trainStep(x, t)', async (_, layers, batch) => {
    await useBackend(backend);
    const a = sequential(layers(), { seed: 3 }), b = sequential(layers(), { seed: 3 });
    const sets = [0, 1, 2].map((k) => data(10 + k, batch, a.inputs, a.outputs));
    const staged = sets.map((d) => b.stageBatch(d.x, d.t));
    const oa = adam({ learningRate: 1e-2 }), ob = adam({ learningRate: 1e-2 });
    for (let step = 0; step < 12; step++) {
      const d = sets[step % 3]!;
      const la = a.trainStep(d.x, d.t, oa);
      const lb = b.trainStepOn(staged[step % 3]!, ob);
      expect(Object.is(lb, la), `step ${step}: ${lb} vs ${la}`).toBe(true);
    }
    expect(weightBits(b)).toEqual(weightBits(a));
    a.dispose();
    b.dispose();
  });

  it.each(STACKS)('%s: predict(stageBatch(x, t)) gives the bits of predict(x), before and after training', async (_, layers, batch) => {
    await useBackend(backend);
    const m = sequential(layers(), { seed: 4 });
    const d = data(20, batch, m.inputs, m.outputs), other = data(21, batch, m.inputs, m.outputs);
    const staged = m.stageBatch(d.x, d.t);
    const out = new Float32Array(batch * m.outputs);
    for (let round = 0; round < 2; round++) {
      const want = bits(m.predict(d.x));
      expect(bits(m.predict(other.x))).not.toEqual(want); // the model's own input now holds other.x
      expect(bits(m.predict(staged))).toEqual(want);
      expect(m.predict(staged, batch, out)).toBe(out);
      expect(bits(out)).toEqual(want);
      expect(bits(m.predict(other.x))).not.toEqual(want); // and the staged batch did not stay behind
      for (let i = 0; i < 3; i++) m.trainStepOn(staged, adam({ learningRate: 1e-2 }));
    }
    m.dispose();
  });

  it.each(STACKS)('%s: evaluate(stageBatch(x, t)) gives the bits of evaluate(x, t), before and after training', async (_, layers, batch) => {
    await useBackend(backend);
    const m = sequential(layers(), { seed: 5 });
    const d = data(22, batch, m.inputs, m.outputs), other = data(23, batch, m.inputs, m.outputs);
    const staged = m.stageBatch(d.x, d.t);
    for (let round = 0; round < 2; round++) {
      const want = m.evaluate(d.x, d.t);
      expect(m.evaluate(other.x, other.t)).not.toBe(want); // the model's own input and target now hold other's
      expect(m.evaluate(staged)).toBe(want);
      expect(m.evaluate(other.x, other.t)).not.toBe(want);
      for (let i = 0; i < 3; i++) m.trainStepOn(staged, adam({ learningRate: 1e-2 }));
    }
    m.dispose();
  });

  it('evaluate of a staged batch larger than a work block (4,096 samples) sums it at once: within rounding of evaluate(x, t)', async () => {
    await useBackend(backend);
    const m = sequential([nalu({ inputs: 6, outputs: 2 })], { seed: 6 });
    const d = data(24, 5000, 6, 2);
    const staged = m.stageBatch(d.x, d.t);
    const whole = m.evaluate(staged), chunked = m.evaluate(d.x, d.t);
    // The same f64 squared errors, grouped as one sum instead of 4,096 + 904.
    expect(Math.abs(whole - chunked)).toBeLessThanOrEqual(1e-12 * chunked);
    const first = m.stageBatch(d.x.subarray(0, 4096 * 6), d.t.subarray(0, 4096 * 2));
    expect(m.evaluate(first)).toBe(m.evaluate(d.x.subarray(0, 4096 * 6), d.t.subarray(0, 4096 * 2)));
    m.dispose();
  });

  it('the model\'s own input, log and target are left as they were: other calls in between agree', async () => {
    await useBackend(backend);
    const layers = () => [nalu({ inputs: 10, outputs: 3 }), nalu({ inputs: 3, outputs: 1 })];
    const a = sequential(layers(), { seed: 5 }), b = sequential(layers(), { seed: 5 });
    const d1 = data(1, 16, 10, 1), d2 = data(2, 16, 10, 1), big = data(3, 300, 10, 1);
    const staged = b.stageBatch(d1.x, d1.t);
    const oa = sgd({ learningRate: 1e-3 }), ob = sgd({ learningRate: 1e-3 });
    const sampler = () => staticTask({ op: 'mul', inputSize: 10, seed: 4 }).trainSampler();
    const sa = sampler(), sb = sampler();
    const runA = [a.trainStep(d1.x, d1.t, oa), a.trainStep(d2.x, d2.t, oa), a.trainStep(d1.x, d1.t, oa),
      a.trainStep(big.x, big.t, oa), a.trainStepOn(sa, oa, 16), a.trainStep(d1.x, d1.t, oa)];
    const runB = [b.trainStepOn(staged, ob), b.trainStep(d2.x, d2.t, ob), b.trainStepOn(staged, ob),
      b.trainStep(big.x, big.t, ob), b.trainStepOn(sb, ob, 16), b.trainStepOn(staged, ob)]; // the 300 regrows b's work memory
    expect(runB).toEqual(runA);
    expect(bits(b.predict(d2.x))).toEqual(bits(a.predict(d2.x)));
    expect(b.evaluate(d2.x, d2.t)).toBe(a.evaluate(d2.x, d2.t));
    expect(weightBits(b)).toEqual(weightBits(a));
    a.dispose();
    b.dispose();
  });

  it('keeps its own copy: changing x after staging changes nothing', async () => {
    await useBackend(backend);
    const m = sequential([nalu({ inputs: 4, outputs: 1 })], { seed: 1 });
    const d = data(7, 8, 4, 1);
    const staged = m.stageBatch(d.x, d.t);
    const before = m.gradients(d.x, d.t).loss;
    d.x.fill(0);
    expect(m.trainStepOn(staged, sgd({ learningRate: 1e-3 }))).toBe(before); // the loss before the update
    m.dispose();
  });
});

describe('staged batches: errors', () => {
  const mk = () => sequential([nalu({ inputs: 3, outputs: 1 })], { seed: 2 });

  it('non-finite x or target: stageBatch says where, and the model is unchanged', async () => {
    await useBackend('simd');
    const m = mk();
    const w = weightBits(m);
    const x = new Float32Array(12).fill(0.5), t = new Float32Array(4);
    x[7] = NaN;
    expect(() => m.stageBatch(x, t)).toThrow('stageBatch: x holds NaN at index 7 (sample 2, input 1)');
    x[7] = 1;
    t[3] = Infinity;
    expect(() => m.stageBatch(x, t)).toThrow('stageBatch: target holds Infinity at index 3 (sample 3, output 0)');
    expect(() => m.stageBatch(x, new Float32Array(5))).toThrow(/target has 5 values.*batch 4/);
    expect(weightBits(m)).toEqual(w);
    t[3] = 0;
    const staged = m.stageBatch(x, t);
    expect(staged.batch).toBe(4);
    expect(typeof m.trainStepOn(staged, adam())).toBe('number');
    m.dispose();
  });

  it('trainStepOn refuses another model\'s batch, a disposed one, a different batch size and other sources', async () => {
    await useBackend('simd');
    const m = mk(), other = mk();
    const d = data(1, 4, 3, 1);
    const staged = other.stageBatch(d.x, d.t);
    const opt = adam();
    expect(() => m.trainStepOn(staged, opt)).toThrow(/staged by another model/);
    const own = m.stageBatch(d.x, d.t);
    expect(() => m.trainStepOn(own, opt, 8)).toThrow(/holds 4 samples, got batch 8/);
    expect(() => m.trainStepOn({} as never, opt)).toThrow(/source must be a task's trainSampler\(\) or a StagedBatch/);
    expect(() => m.trainStepOn(own, {} as never)).toThrow(/optimizer must come from/);
    const w = weightBits(m);
    own.dispose();
    expect(own.isDisposed).toBe(true);
    expect(() => m.trainStepOn(own, opt)).toThrow(/StagedBatch has been disposed/);
    expect(weightBits(m)).toEqual(w);
    own.dispose(); // twice is harmless
    other.dispose();
    expect(staged.isDisposed).toBe(true); // disposed with its model
    expect(() => other.stageBatch(d.x, d.t)).toThrow(NaluError);
    m.dispose();
  });

  it('predict refuses another model\'s batch, a disposed one, a different batch size and a wrong out', async () => {
    await useBackend('simd');
    const m = mk(), other = mk();
    const d = data(1, 4, 3, 1);
    const foreign = other.stageBatch(d.x, d.t), own = m.stageBatch(d.x, d.t);
    expect(() => m.predict(foreign)).toThrow('predict: this StagedBatch was staged by another model');
    expect(() => m.predict(own, 3)).toThrow('predict: the StagedBatch holds 4 samples, got batch 3 (leave batch out)');
    expect(() => m.predict(own, undefined, new Float32Array(3))).toThrow(/out must be a Float32Array of 4 values \(batch 4 x 1 output\), got one of 3/);
    // an object dressed as a batch of this model, pointing at address 0
    const forged = Object.create(StagedBatch.prototype, { model: { value: m }, batch: { value: 4 }, ptr: { value: 0 } }) as StagedBatch;
    for (const call of [() => m.predict(forged), () => m.evaluate(forged), () => m.trainStepOn(forged, adam())]) {
      expect(call).toThrow(/this StagedBatch was not made by the model's stageBatch/);
    }
    // the classes are exported for instanceof and types; their constructors are not the way in
    const NewStaged = StagedBatch as unknown as new () => StagedBatch, NewSampler = Sampler as unknown as new () => Sampler;
    expect(() => new NewStaged()).toThrow(new NaluError('new StagedBatch(): a staged batch comes from model.stageBatch(x, target)'));
    const Maker = StagedBatch as unknown as new (model: Model, batch: number, ptr: number) => StagedBatch;
    expect(() => new Maker(m, 4, own.ptr)).toThrow(new NaluError('new StagedBatch(): a staged batch comes from model.stageBatch(x, target)'));
    expect(() => new NewSampler()).toThrow(new NaluError("new Sampler(): a sampler comes from a task's trainSampler()"));
    const y = m.predict(own);
    own.dispose();
    expect(() => m.predict(own)).toThrow('predict: the StagedBatch has been disposed');
    expect(bits(m.predict(d.x))).toEqual(bits(y));
    other.dispose();
    m.dispose();
    expect(() => m.predict(foreign)).toThrow(/disposed/);
  });
});
