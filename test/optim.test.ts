// The optimizers' updates (assembly/optim.ts) against torch.optim's formulas evaluated in f32 here,
// operation by operation, with the constants torch's kernels receive: beta, 1 - beta (Adam),
// alpha, 1 - alpha (RMSProp), the step size and the bias correction each computed in f64 and
// rounded to f32 once. The module must give the same bits for the new weights and moments.
// Separately, a property that does not depend on the order of operations: Adam's first step moves
// every weight by the learning rate (m / sqrt(v) is +-1 after bias correction), for any beta2.
import { describe, expect, it } from 'vitest';
import { adam, dense, rmsprop, sequential, sgd, type Model, type Optimizer, type Weights } from '../src/index';
import { BUILDS, bits, prng, useBackend } from './helpers';

const f = Math.fround;

function freshModel(seed: number): { model: Model; x: Float32Array; t: Float32Array } {
  const model = sequential([dense({ inputs: 3, outputs: 2 })], { seed });
  const rand = prng(seed);
  const x = Float32Array.from({ length: 5 * 3 }, () => 4 * rand() - 2);
  const t = Float32Array.from({ length: 5 * 2 }, () => 4 * rand() - 2);
  return { model, x, t };
}

interface Moments { m: Weights; v: Weights }

const zerosLike = (w: Weights): Weights =>
  w.map((rec) => Object.fromEntries(Object.entries(rec).map(([k, a]) => [k, new Float32Array(a.length)])));

/** One step of torch.optim.Adam or RMSprop in f32, in place on w and s (t: the step number, from 1). */
function torchStep(o: Optimizer, t: number, w: Weights, g: Weights, s: Moments): void {
  const lr = o.learningRate, eps = f(o.epsilon);
  const b1 = f(o.beta1), c1 = f(1 - o.beta1), b2 = f(o.beta2), c2 = f(1 - o.beta2);
  const stepSize = f(lr / (1 - o.beta1 ** t)), bc = f(Math.sqrt(1 - o.beta2 ** t));
  w.forEach((rec, l) => {
    for (const [name, p] of Object.entries(rec)) {
      const gr = g[l]![name]!, m = s.m[l]![name]!, v = s.v[l]![name]!;
      for (let i = 0; i < p.length; i++) {
        const gi = gr[i]!;
        v[i] = f(f(v[i]! * b2) + f(f(gi * gi) * c2));
        if (o.kind === 'adam') {
          m[i] = f(f(m[i]! * b1) + f(gi * c1));
          const denom = f(f(f(Math.sqrt(v[i]!)) / bc) + eps);
          p[i] = f(p[i]! + f(-stepSize * f(m[i]! / denom)));
        } else {
          p[i] = f(p[i]! + f(-f(lr) * f(gi / f(f(Math.sqrt(v[i]!)) + eps))));
        }
      }
    }
  });
}

const flat = (w: Weights): Float32Array => Float32Array.from(w.flatMap((rec) => Object.values(rec).flatMap((a) => [...a])));

const OPTIMIZERS: Array<[string, Optimizer]> = [
  ['adam, defaults', adam()],
  ['adam, beta2 0.9999999', adam({ learningRate: 0.01, beta2: 0.9999999 })],
  ['adam, beta1 0.99, beta2 0.9999, epsilon 1e-4', adam({ learningRate: 0.003, beta1: 0.99, beta2: 0.9999, epsilon: 1e-4 })],
  ['rmsprop, defaults', rmsprop()],
  ['rmsprop, alpha 0.9999999', rmsprop({ learningRate: 1e-3, alpha: 0.9999999 })],
];

describe.each(BUILDS)('optimizer updates, %s build', (backend) => {
  it.each(OPTIMIZERS)('%s: 5 steps give the bits of torch\'s formula in f32', async (_, o) => {
    await useBackend(backend);
    const { model, x, t } = freshModel(7);
    const w = model.getWeights();
    const s: Moments = { m: zerosLike(w), v: zerosLike(w) };
    for (let step = 1; step <= 5; step++) {
      const { grads } = model.gradients(x, t);
      model.trainStep(x, t, o);
      torchStep(o, step, w, grads, s);
      expect(bits(flat(model.getWeights()))).toEqual(bits(flat(w)));
      const state = model.optimizerState()!;
      expect(bits(flat(state.v))).toEqual(bits(flat(s.v)));
      if (o.kind === 'adam') expect(bits(flat(state.m))).toEqual(bits(flat(s.m)));
    }
    model.dispose();
  });

  it.each([0.9, 0.999, 0.9999999])('adam\'s first step moves each weight by the learning rate, beta2 %s', async (beta2) => {
    await useBackend(backend);
    const { model, x, t } = freshModel(3);
    const before = flat(model.getWeights());
    const g = flat(model.gradients(x, t).grads);
    model.trainStep(x, t, adam({ learningRate: 0.1, beta2, epsilon: 1e-12 }));
    const after = flat(model.getWeights());
    for (let i = 0; i < before.length; i++) {
      expect(Math.abs(g[i]!)).toBeGreaterThan(1e-3); // so that epsilon does not matter
      expect((before[i]! - after[i]!) / (0.1 * Math.sign(g[i]!))).toBeCloseTo(1, 5);
    }
    model.dispose();
  });
});

describe('restoreOptimizer with a copied state', () => {
  it.each([
    ['structuredClone', (s: unknown) => structuredClone(s)],
    ['JSON (moments as arrays)', (s: unknown) => JSON.parse(JSON.stringify(s, (_, v) => (v instanceof Float32Array ? [...v] : v)))],
  ])('%s: the model trains on with a new optimizer of the same settings, bit for bit', async (_, copy) => {
    await useBackend('simd');
    const { model, x, t } = freshModel(11);
    const o = adam({ learningRate: 0.02, beta2: 0.99, clipValue: 5 });
    for (let i = 0; i < 3; i++) model.trainStep(x, t, o);
    const twin = sequential([dense({ inputs: 3, outputs: 2 })], { seed: 99 });
    twin.setWeights(model.getWeights());
    const state = copy(model.optimizerState()) as ReturnType<Model['optimizerState']> & object;
    expect(state.optimizer).not.toBe(o);
    twin.restoreOptimizer(state);
    expect(twin.optimizer).not.toBe(o);
    expect({ ...twin.optimizer }).toEqual({ ...o });
    for (let i = 0; i < 3; i++) expect(twin.trainStep(x, t, twin.optimizer!)).toBe(model.trainStep(x, t, o));
    expect(bits(flat(twin.getWeights()))).toEqual(bits(flat(model.getWeights())));
    expect(twin.optimizerState()!.step).toBe(6);
    model.dispose();
    twin.dispose();
  });

  it('a state restored with another learning rate keeps the moments and the step count (Adam)', async () => {
    await useBackend('simd');
    const { model, x, t } = freshModel(12);
    const o = adam({ learningRate: 0.02 });
    for (let i = 0; i < 5; i++) model.trainStep(x, t, o);
    const slower = adam({ learningRate: 0.002 });
    const before = model.optimizerState()!;
    model.restoreOptimizer({ ...before, optimizer: slower });
    expect(model.optimizer).toBe(slower);
    expect(model.step).toBe(5);
    const g = flat(model.gradients(x, t).grads);
    const w0 = flat(model.getWeights());
    model.trainStep(x, t, slower);
    const after = model.optimizerState()!;
    expect(after.step).toBe(6);
    // m continues from the restored moments: m_6 = beta1 m_5 + (1 - beta1) g
    const m5 = flat(before.m), m6 = flat(after.m), v6 = flat(after.v);
    for (let i = 0; i < g.length; i++) expect(m6[i]).toBeCloseTo(0.9 * m5[i]! + 0.1 * g[i]!, 6);
    // and the update is the new rate's, with the bias correction of step 6
    const w1 = flat(model.getWeights());
    for (let i = 0; i < g.length; i++) {
      const want = (0.002 * m6[i]! / (1 - 0.9 ** 6)) / (Math.sqrt(v6[i]! / (1 - 0.999 ** 6)) + 1e-8);
      expect(w0[i]! - w1[i]!).toBeCloseTo(want, 6);
    }
    model.dispose();
  });

  it.each([
    [{ kind: 'lbfgs', learningRate: 1 }, /^restoreOptimizer: optimizer: unknown optimizer "lbfgs" \(known: adam, rmsprop, sgd\)$/],
    [{ kind: 'sgd', learningRate: 0.1 }, /^restoreOptimizer: optimizer: the setting beta1 of sgd is missing$/],
    [{ kind: 'sgd', learningRate: 0.1, beta1: 0, beta2: 0, epsilon: 0, clipValue: 0, momentum: 0.9 }, /^restoreOptimizer: optimizer: sgd has no setting momentum/],
    [{ kind: 'sgd', learningRate: -1, beta1: 0, beta2: 0, epsilon: 0, clipValue: 0 }, /^restoreOptimizer: optimizer: sgd: learningRate must be a finite number > 0/],
    [{ learningRate: 0.1 }, /^restoreOptimizer: optimizer must come from adam\(\), sgd\(\) or rmsprop\(\), got an object$/],
  ])('a copied optimizer that is not one: %j', async (optimizer, message) => {
    await useBackend('simd');
    const { model, x, t } = freshModel(5);
    model.trainStep(x, t, sgd({ learningRate: 0.1 }));
    const before = flat(model.getWeights());
    const state = { ...model.optimizerState()!, optimizer: optimizer as never };
    expect(() => model.restoreOptimizer(state)).toThrow(message);
    expect(bits(flat(model.getWeights()))).toEqual(bits(before));
    expect(model.optimizerState()!.step).toBe(1);
    model.dispose();
  });
});
