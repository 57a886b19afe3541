// NAU and NMU against the float64 reference on both builds (including zeros, negatives and
// weights on and beyond the clamp boundaries), their regulariser and projection, and what
// they learn.
import { describe, expect, it } from 'vitest';
import { adam, fromJSON, nac, nalu, nau, nmu, sequential, sgd, type LayerSpec, type Weights } from '../src/index';
import { maxErrRelToMax } from './golden';
import { BUILDS, bits, prng, useBackend } from './helpers';
import { refNauReg, refNmuReg, refStack, type RefLayer } from './reference';

const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

interface Case { name: string; layers: Array<{ type: 'nau' | 'nmu'; inputs: number; outputs: number }>; batch: number; W: number[][] }

// Weights chosen to sit inside, exactly on and beyond each clamp's boundaries.
const CASES: Case[] = [
  { name: 'nau 5x3', layers: [{ type: 'nau', inputs: 5, outputs: 3 }], batch: 7,
    W: [[1, -1, 0, 0.5, -0.5, 1.5, -1.5, 0.25, -0.75, 1, 0.1, -0.3, 2, -2, 0.999]] },
  { name: 'nmu 4x3', layers: [{ type: 'nmu', inputs: 4, outputs: 3 }], batch: 9,
    W: [[0, 1, 0.5, 1.3, -0.2, 0.75, 0.25, 1, 0, 0.6, 0.4, 1.01]] },
  { name: 'nau 10x2 then nmu 2x1', layers: [{ type: 'nau', inputs: 10, outputs: 2 }, { type: 'nmu', inputs: 2, outputs: 1 }], batch: 17,
    W: [Array.from({ length: 20 }, (_, i) => [1, 0, -1, 0.4, 1.2][i % 5]!), [0.9, 1]] },
  { name: 'nmu 17x5', layers: [{ type: 'nmu', inputs: 17, outputs: 5 }], batch: 64,
    W: [Array.from({ length: 85 }, (_, i) => ((i * 37) % 23) / 20 - 0.05)] },
];

function build(c: Case) {
  const specs: LayerSpec[] = c.layers.map((l) => (l.type === 'nau' ? nau({ inputs: l.inputs, outputs: l.outputs }) : nmu({ inputs: l.inputs, outputs: l.outputs })));
  const m = sequential(specs);
  m.setWeights(c.W.map((w) => ({ W: Float32Array.from(w) })));
  return m;
}

function data(c: Case, seed: number) {
  const rand = prng(seed);
  const nin = c.layers[0]!.inputs, nout = c.layers[c.layers.length - 1]!.outputs;
  const x = new Float32Array(c.batch * nin);
  for (let i = 0; i < x.length; i++) x[i] = i % 7 === 0 ? 0 : (rand() * 4 - 2);
  const t = new Float32Array(c.batch * nout).map(() => rand() * 2 - 1);
  return { x, t };
}

describe.each(BUILDS)('NAU and NMU against the float64 reference, %s build', (backend) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    await useBackend(backend);
    const m = build(c);
    const { x, t } = data(c, 3);
    const ref = refStack(c.layers as RefLayer[], c.W.map((w) => ({ W: Float32Array.from(w) as unknown as Float64Array })).map((p) => ({ W: f64(p.W) })), f64(x), f64(t), c.batch);
    expect(maxErrRelToMax(m.predict(x), ref.y)).toBeLessThan(1e-5);
    const g = m.gradients(x, t);
    expect(Math.abs(g.loss / ref.loss - 1)).toBeLessThan(1e-5);
    g.grads.forEach((rec, k) => expect(maxErrRelToMax(rec.W!, ref.grads[k]!.W!), `layer ${k}`).toBeLessThan(1e-4));
    // Beyond the boundary the gradient is exactly 0; on it, it passes.
    c.W.forEach((w, k) => {
      const [lo, hi] = c.layers[k]!.type === 'nau' ? [-1, 1] : [0, 1];
      w.forEach((v, i) => { if (v < lo || v > hi) expect(g.grads[k]!.W![i]).toBe(0); });
    });
    m.dispose();
  });
});

describe('NAU and NMU: the builds agree bit for bit', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const run = async (backend: 'simd' | 'scalar') => {
      await useBackend(backend);
      const m = sequential(c.layers.map((l) => (l.type === 'nau' ? nau({ inputs: l.inputs, outputs: l.outputs }) : nmu({ inputs: l.inputs, outputs: l.outputs }))), { regularizer: { lambda: 0.1 } });
      m.setWeights(c.W.map((w) => ({ W: Float32Array.from(w) })));
      const { x, t } = data(c, 5);
      const y = m.predict(x);
      const g = m.gradients(x, t).grads;
      const opt = adam({ learningRate: 0.05 });
      const losses = [0, 1, 2, 3].map(() => m.trainStep(x, t, opt));
      const w = m.getWeights();
      m.dispose();
      return { y, g, losses, w };
    };
    const a = await run('simd');
    const b = await run('scalar');
    expect(bits(a.y)).toEqual(bits(b.y));
    expect(a.losses).toEqual(b.losses);
    a.g.forEach((r, k) => expect(bits(r.W!)).toEqual(bits(b.g[k]!.W!)));
    a.w.forEach((r, k) => expect(bits(r.W!)).toEqual(bits(b.w[k]!.W!)));
  });
});

describe('regulariser and projection', () => {
  it('gradients() and an SGD step add lambda times the regulariser gradient, then the step projects W into range', async () => {
    await useBackend('simd');
    for (const c of CASES) {
      const lambda = 0.7, lr = 0.5;
      const specs = c.layers.map((l) => (l.type === 'nau' ? nau({ inputs: l.inputs, outputs: l.outputs }) : nmu({ inputs: l.inputs, outputs: l.outputs })));
      const m = sequential(specs, { regularizer: { lambda, start: 0, end: 0 } });
      const plain = sequential(specs);
      const W: Weights = c.W.map((w) => ({ W: Float32Array.from(w) }));
      m.setWeights(W);
      plain.setWeights(W);
      const { x, t } = data(c, 9);
      const { loss, grads } = m.gradients(x, t);
      const mse = plain.gradients(x, t);
      expect(loss).toBe(mse.loss); // the loss stays the mean squared error, as trainStep returns it
      m.trainStep(x, t, sgd({ learningRate: lr }));
      const after = m.getWeights();
      c.layers.forEach((l, k) => {
        const w = f64(W[k]!.W!);
        const reg = l.type === 'nau' ? refNauReg(w) : refNmuReg(w);
        const [lo, hi] = l.type === 'nau' ? [-1, 1] : [0, 1];
        const full = mse.grads[k]!.W!.map((g, i) => g + lambda * reg.grad[i]!);
        expect(maxErrRelToMax(grads[k]!.W!, Array.from(full)), `${c.name} layer ${k} gradients`).toBeLessThan(1e-6);
        const want = w.map((v, i) => Math.min(hi, Math.max(lo, v - lr * full[i]!)));
        expect(maxErrRelToMax(after[k]!.W!, want), `${c.name} layer ${k}`).toBeLessThan(1e-6);
        for (const v of after[k]!.W!) {
          expect(v).toBeGreaterThanOrEqual(lo);
          expect(v).toBeLessThanOrEqual(hi);
        }
      });
      m.dispose();
      plain.dispose();
    }
  });

  it('gradients() weigh the regulariser at the step a trainStep would take next', async () => {
    await useBackend('simd');
    const m = sequential([nau({ inputs: 2, outputs: 1 })], { regularizer: { lambda: 2, start: 2, end: 4 } });
    m.setWeights([{ W: [0.3, -0.8] }]);
    const plain = sequential([nau({ inputs: 2, outputs: 1 })]);
    const x = [1, 2], t = [0];
    const opt = sgd({ learningRate: 1e-3 });
    // lambda_t at t = step + 1: 0 (t = 1, 2), 1 (t = 3), 2 (t = 4 on)
    for (const lambda of [0, 0, 1, 2, 2]) {
      const w = m.getWeights()[0]!.W!;
      plain.setWeights([{ W: w }]);
      const reg = refNauReg(f64(w)).grad;
      const g = m.gradients(x, t).grads[0]!.W!, p = plain.gradients(x, t).grads[0]!.W!;
      expect(m.lambdaAt(m.step + 1)).toBe(lambda);
      expect(maxErrRelToMax(g, [p[0]! + lambda * reg[0]!, p[1]! + lambda * reg[1]!])).toBeLessThan(1e-6);
      m.trainStep(x, t, opt);
    }
    m.dispose();
    plain.dispose();
  });

  it('follows the schedule lambda * clip((t - start) / (end - start), 0, 1)', async () => {
    await useBackend('simd');
    const m = sequential([nau({ inputs: 2, outputs: 1 })], { regularizer: { lambda: 10, start: 100, end: 300 } });
    expect([0, 100, 150, 200, 300, 1000].map((t) => m.lambdaAt(t))).toEqual([0, 0, 2.5, 5, 10, 10]);
    expect(() => sequential([nau({ inputs: 2, outputs: 1 })], { regularizer: { lambda: -1 } })).toThrow(/regularizer.lambda must be/);
    // on a model with no NAU or NMU it would do nothing: refused (a saved one still loads)
    expect(() => sequential([nalu({ inputs: 2, outputs: 2 }), nac({ inputs: 2, outputs: 1 })], { regularizer: { lambda: 1 } }))
      .toThrow(/^sequential: regularizer acts on nau and nmu layers, and this model has none \(nalu, nac\)$/);
    const plain = sequential([nac({ inputs: 2, outputs: 1 })]);
    const old = fromJSON({ ...plain.toJSON(), options: { allowNonFinite: false, regularizer: { lambda: 1, start: 0, end: 0 } } });
    expect(old.options.regularizer).toEqual({ lambda: 1, start: 0, end: 0 });
    old.dispose();
    plain.dispose();
    // the module holds lambda in f32: 1e39 would be infinite there
    expect(() => sequential([nau({ inputs: 2, outputs: 1 })], { regularizer: { lambda: 1e39 } }))
      .toThrow(/^sequential: regularizer\.lambda must be a finite number >= 0 and <= 3\.4028234663852886e\+38, got 1e\+39/);
    m.dispose();
  });
});

describe('what the units learn (fixed seeds)', () => {
  function train(spec: LayerSpec, f: (a: number, b: number) => number, lo: number, hi: number, steps: number, lr: number) {
    const m = sequential([spec], { seed: 1 });
    const rand = prng(17);
    const opt = adam({ learningRate: lr });
    const batch = 64;
    const x = new Float32Array(batch * 2), t = new Float32Array(batch);
    for (let s = 0; s < steps; s++) {
      for (let b = 0; b < batch; b++) {
        x[2 * b] = lo + (hi - lo) * rand();
        x[2 * b + 1] = lo + (hi - lo) * rand();
        t[b] = f(x[2 * b]!, x[2 * b + 1]!);
      }
      m.trainStep(x, t, opt);
    }
    return m;
  }

  function extrapolationError(m: ReturnType<typeof sequential>, f: (a: number, b: number) => number) {
    const rand = prng(99);
    let worst = 0;
    for (let i = 0; i < 200; i++) {
      const a = 2 + 4 * rand(), b = 2 + 4 * rand();
      const y = m.predict(Float32Array.from([a, b]))[0]!;
      worst = Math.max(worst, Math.abs(y - f(Math.fround(a), Math.fround(b))) / Math.abs(f(a, b)));
    }
    return worst;
  }

  it('an NMU learns x1 * x2 and extrapolates from [1, 2] to [2, 6]', async () => {
    await useBackend('simd');
    const m = train(nmu({ inputs: 2, outputs: 1 }), (a, b) => a * b, 1, 2, 3000, 0.01);
    const W = m.getWeights()[0]!.W!;
    expect(Math.abs(W[0]! - 1)).toBeLessThan(1e-3);
    expect(Math.abs(W[1]! - 1)).toBeLessThan(1e-3);
    expect(extrapolationError(m, (a, b) => a * b)).toBeLessThan(1e-3);
  });

  it('an NAU learns x1 - x2 and extrapolates from [1, 2] to [2, 6]', async () => {
    await useBackend('simd');
    const m = train(nau({ inputs: 2, outputs: 1 }), (a, b) => a - b, 1, 2, 3000, 0.01);
    const W = m.getWeights()[0]!.W!;
    expect(Math.abs(W[0]! - 1)).toBeLessThan(1e-3);
    expect(Math.abs(W[1]! + 1)).toBeLessThan(1e-3);
    expect(extrapolationError(m, (a, b) => a - b)).toBeLessThan(1e-2);
  });
});
