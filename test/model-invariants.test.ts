// Invariants of the engine that hold exactly (bit for bit) or by construction, on both builds:
// exact addition by a NAC with weights +-1, training moves W_hat and M_hat, splitting a batch
// changes nothing, seeded initialisation, read-only calls, the loss trainStep reports, and two
// backends in one process.
import { describe, expect, it } from 'vitest';
import { adam, dense, inalu, nac, nacMul, nalu, nau, nmu, npu, realNpu, Model, Sampler, sequential, sgd, StagedBatch, type LayerSpec } from '../src/index';
import { BUILDS, bits, useBackend } from './helpers';
import { copyWeights, prng, randomInputs, sameBits, uniform32 } from './helpers-random';
import { madsenBound, nacWeightVariance, type Activation, type InitScheme } from '../src/layers';

/**
 * The models the invariants run on: every layer type, both NALU variants, stacks. A single
 * sample's prediction takes the row path (vecmat.ts) for nac, nacMul, nalu, dense and nau: the
 * widths exercise its 16-wide, 4-wide and one-column parts.
 */
const MODELS: Array<[string, () => LayerSpec[]]> = [
  ['nac 5x3', () => [nac({ inputs: 5, outputs: 3 })]],
  ['nacMul 5x3', () => [nacMul({ inputs: 5, outputs: 3 })]],
  ['nalu tied 17x4', () => [nalu({ inputs: 17, outputs: 4 })]],
  ['nalu separate 4x5', () => [nalu({ inputs: 4, outputs: 5, sharedWeights: false })]],
  ['stack nalu 9->2, nalu 2->1', () => [nalu({ inputs: 9, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })]],
  ['nalu gateBias 5x9', () => [nalu({ inputs: 5, outputs: 9, gateBias: true })]],
  ['stack dense 6->21 tanh, nau 21->6, nac 6->1', () => [
    dense({ inputs: 6, outputs: 21, activation: 'tanh' }), nau({ inputs: 21, outputs: 6 }), nac({ inputs: 6, outputs: 1 })]],
  ['stack dense 3->4 relu, nacMul 4->2', () => [dense({ inputs: 3, outputs: 4, activation: 'relu' }), nacMul({ inputs: 4, outputs: 2 })]],
  ['nmu 4x3', () => [nmu({ inputs: 4, outputs: 3 })]],
  ['inalu 4x3', () => [inalu({ inputs: 4, outputs: 3 })]],
  ['npu 3x2, realNpu 2x2', () => [npu({ inputs: 3, outputs: 2 }), realNpu({ inputs: 2, outputs: 2 })]],
];

const INPUTS = { lo: 0.05, hi: 3, zeros: 0.1, negatives: 0.4 };

function rowsOf(y: Float32Array, width: number, from: number, to: number): Float32Array {
  return y.slice(from * width, to * width);
}

describe.each(BUILDS)('%s build', (backend) => {
  // ---- (a) a NAC with W exactly +-1 adds and subtracts exactly --------------------------------
  describe('a NAC with weights of exactly +-1 computes sums and differences exactly', () => {
    // W = tanh(W_hat) sigmoid(M_hat): tanh(20) = 1 - 8e-18 and sigmoid(20) = 1 - 2e-9 both round
    // to 1 in f32, and tanh(0) = 0. W (rows = inputs, columns = outputs):
    //   [[1,  1],      y0 = x0 + x2  (x1 is ignored)
    //    [0,  0],      y1 = x0 - x2
    //    [1, -1]]
    // The product accumulates 0 + x0 * 1 + x1 * 0 + x2 * (+-1): every step but the last is exact,
    // so y must equal Math.fround(x0 +- x2) bit for bit. (Inputs of -0 are left out: the
    // accumulator starts at +0, and +0 + -0 = +0 where the f32 sum -0 + -0 would be -0.)
    const W_HAT = Float32Array.of(20, 20, 0, 0, 20, -20);
    const M_HAT = Float32Array.of(20, 20, 20, 20, 20, 20);

    function check(x: Float32Array, batch: number) {
      const m = sequential([nac({ inputs: 3, outputs: 2 })]);
      m.setWeights([{ W_hat: W_HAT, M_hat: M_HAT }]);
      const y = m.predict(x, batch);
      const want = new Float32Array(2 * batch);
      for (let b = 0; b < batch; b++) {
        want[2 * b] = x[3 * b]! + x[3 * b + 2]!;
        want[2 * b + 1] = x[3 * b]! - x[3 * b + 2]!;
      }
      expect(bits(y)).toEqual(bits(want));
      m.dispose();
    }

    it('on integers', async () => {
      await useBackend(backend);
      const rand = prng(11);
      const batch = 1000;
      const x = new Float32Array(3 * batch);
      for (let i = 0; i < x.length; i++) x[i] = Math.floor(rand() * 2_000_001) - 1_000_000;
      x[0] = 0; x[2] = 0; x[3] = 5; x[5] = -5; // 0 + 0 and 5 - 5
      check(x, batch);
    });

    it('on non-integers of mixed magnitudes (the f32 sum rounds)', async () => {
      await useBackend(backend);
      const rand = prng(12);
      const batch = 1001;
      const x = new Float32Array(3 * batch);
      for (let i = 0; i < x.length; i++) {
        const mag = 10 ** (rand() * 12 - 6); // 1e-6 .. 1e6: sums that are inexact in f32
        x[i] = rand() < 0.5 ? -mag : mag;
      }
      let inexact = 0;
      for (let b = 0; b < batch; b++) if (Math.fround(x[3 * b]! + x[3 * b + 2]!) !== x[3 * b]! + x[3 * b + 2]!) inexact++;
      expect(inexact, 'the inputs exercise rounding').toBeGreaterThan(batch / 2);
      check(x, batch);
    });

    it('the parameters really give W = +-1 and 0', async () => {
      await useBackend(backend);
      const m = sequential([nac({ inputs: 3, outputs: 2 })]);
      m.setWeights([{ W_hat: W_HAT, M_hat: M_HAT }]);
      // Unit inputs read out the rows of W.
      const y = m.predict(Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1), 3);
      expect(Array.from(y)).toEqual([1, 1, 0, 0, 1, -1]);
      m.dispose();
    });
  });

  // ---- (b) training moves every parameter, and the prediction follows ------------------------
  describe('one Adam step changes W_hat, M_hat (and G, W_hat_mul, M_hat_mul) and what predict uses', () => {
    it.each(MODELS)('%s', async (_name, layers) => {
      await useBackend(backend);
      const m = sequential(layers(), { seed: 3 });
      const rand = prng(21);
      const batch = 16;
      // No exact zeros here: an input of 0 gives its weights' additive gradient 0 in every sample.
      const x = randomInputs(rand, batch * m.inputs, { lo: 0.2, hi: 2, zeros: 0, negatives: 0.4 });
      const t = uniform32(rand, batch * m.outputs, -2, 2);
      const before = m.getWeights();
      const yBefore = m.predict(x);
      const { grads } = m.gradients(x, t);
      const lr = 0.01;
      m.trainStep(x, t, adam({ learningRate: lr }));
      const after = m.getWeights();
      const expectedNames = (k: number) => Object.keys(before[k]!).sort();
      after.forEach((rec, k) => {
        expect(Object.keys(rec).sort()).toEqual(expectedNames(k));
        for (const [name, p] of Object.entries(rec)) {
          const p0 = before[k]![name]!, g = grads[k]![name]!;
          for (let i = 0; i < p.length; i++) {
            const delta = p[i]! - p0[i]!;
            expect(delta, `${name}[${i}] of layer ${k} moved`).not.toBe(0);
            // Adam's first step moves each parameter by lr * g / (|g| + 1e-8), against g.
            expect(Math.sign(delta), `${name}[${i}] of layer ${k} moves against its gradient`).toBe(-Math.sign(g[i]!));
            if (Math.abs(g[i]!) > 1e-4) {
              // |delta| = lr (1 - 1e-4 at most), up to the f32 rounding of p (|p| < 4: 2.4e-7).
              expect(Math.abs(Math.abs(delta) - lr), `${name}[${i}] of layer ${k}`).toBeLessThan(1e-6 + 1e-4 * lr);
            }
          }
        }
      });
      // predict uses the new parameters: it equals a fresh model given them, and it changed.
      const y = m.predict(x);
      const fresh = sequential(layers());
      fresh.setWeights(after);
      expect(bits(y)).toEqual(bits(fresh.predict(x)));
      expect(bits(y)).not.toEqual(bits(yBefore));
      // setWeights also takes effect at once (the cached effective weights are recomputed).
      m.setWeights(before);
      expect(bits(m.predict(x))).toEqual(bits(yBefore));
      m.dispose();
      fresh.dispose();
    });

    // p + (-lr) g in f32: lr = 0.125 makes the product exact, and the f64 sum rounded once to f32
    // equals the f32 sum (53 >= 2 * 24 + 2 bits: no double rounding), so the bits must match.
    it('the same holds for SGD: p - lr g exactly, in f32', async () => {
      await useBackend(backend);
      const m = sequential([nalu({ inputs: 3, outputs: 2 })], { seed: 4 });
      const rand = prng(22);
      const x = randomInputs(rand, 8 * 3, INPUTS);
      const t = uniform32(rand, 8 * 2, -2, 2);
      const before = m.getWeights();
      const { grads } = m.gradients(x, t);
      m.trainStep(x, t, sgd({ learningRate: 0.125 }));
      m.getWeights().forEach((rec, k) => {
        for (const [name, p] of Object.entries(rec)) {
          const want = before[k]![name]!.map((v, i) => v + -0.125 * grads[k]![name]![i]!);
          expect(bits(p), name).toEqual(bits(want));
        }
      });
      m.dispose();
    });
  });

  // ---- (c) splitting a batch changes nothing ---------------------------------------------------
  describe('splitting a batch gives bit-identical predictions', () => {
    it.each(MODELS)('%s: every split point of a batch of 13, and per-sample calls', async (_name, layers) => {
      await useBackend(backend);
      const m = sequential(layers(), { seed: 5 });
      const batch = 13;
      const x = randomInputs(prng(31), batch * m.inputs, INPUTS);
      const whole = m.predict(x, batch);
      for (let k = 1; k < batch; k++) {
        const a = m.predict(x.subarray(0, k * m.inputs), k);
        const b = m.predict(x.subarray(k * m.inputs), batch - k);
        expect(bits(a), `first ${k}`).toEqual(bits(rowsOf(whole, m.outputs, 0, k)));
        expect(bits(b), `after ${k}`).toEqual(bits(rowsOf(whole, m.outputs, k, batch)));
      }
      m.dispose();
    });

    it.each([['npu', npu], ['realNpu', realNpu]] as const)(
      '%s: the padding lanes of a batch that is not a multiple of 4 add nothing, even where they overflow', async (_name, make) => {
        await useBackend(backend);
        // x = 0.001 with eps = 1: u = 130 log(1.001) is small; a padding lane (x = 1) has u = 130 log 2,
        // and exp(90) is infinite in f32
        const m = sequential([make({ inputs: 1, outputs: 1, eps: 1 })]);
        const w = m.getWeights();
        w[0]!.W_re![0] = 130;
        w[0]!.g![0] = 1;
        m.setWeights(w);
        const whole = m.gradients(new Float32Array(4).fill(0.001), new Float32Array(4).fill(1)); // no padding
        for (const batch of [1, 2, 3, 5]) {
          const g = m.gradients(new Float32Array(batch).fill(0.001), new Float32Array(batch).fill(1));
          expect(g.loss).toBeCloseTo(whole.loss, 12);
          for (const [name, a] of Object.entries(g.grads[0]!)) {
            const want = whole.grads[0]![name]!;
            a.forEach((v, i) => expect(Math.abs(v - want[i]!), `${name}[${i}] at batch ${batch}`).toBeLessThanOrEqual(1e-6 * Math.abs(want[i]!)));
          }
        }
        m.dispose();
      });

    it('with a subnormal eps (log(0 + eps) takes the path for special arguments), batched = per sample', async () => {
      await useBackend(backend);
      const m = sequential([nalu({ inputs: 6, outputs: 2, eps: 1e-40 })], { seed: 7 });
      const batch = 9;
      const x = randomInputs(prng(33), batch * m.inputs, { ...INPUTS, zeros: 0.3 });
      const whole = m.predict(x, batch);
      expect(x.filter((v) => v === 0).length).toBeGreaterThan(3); // each one a subnormal argument of log
      for (let b = 0; b < batch; b++) {
        expect(bits(m.predict(x.subarray(b * 6, b * 6 + 6), 1)), `sample ${b}`).toEqual(bits(rowsOf(whole, 2, b, b + 1)));
      }
      m.dispose();
    });

    it('predict of a batch of 10000 (chunked inside) equals 10000 single-sample predictions', async () => {
      await useBackend(backend);
      const m = sequential([nalu({ inputs: 3, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })], { seed: 6 });
      const batch = 10000;
      const x = randomInputs(prng(32), batch * 3, INPUTS);
      const whole = m.predict(x);
      expect(whole.length).toBe(batch);
      const single = new Float32Array(batch);
      for (let b = 0; b < batch; b++) single[b] = m.predict(x.subarray(3 * b, 3 * b + 3), 1)[0]!;
      expect(bits(whole)).toEqual(bits(single));
      // Into a caller's buffer (predict's out): the same bits, out itself returned; chunked and one sample.
      const out = new Float32Array(batch).fill(7);
      expect(m.predict(x, undefined, out)).toBe(out);
      expect(bits(out)).toEqual(bits(whole));
      const one = new Float32Array(1);
      expect(m.predict(x.subarray(3 * 42, 3 * 43), 1, one)).toBe(one);
      expect(one[0]).toBe(whole[42]);
      // Small batches take the short path (values copied one by one up to 16, else in one piece):
      // a new array of their own or out, untouched by the next prediction.
      for (const n of [5, 20]) {
        const rows = x.subarray(0, 3 * n);
        const fresh = m.predict(rows);
        const into = new Float32Array(n);
        expect(m.predict(rows, undefined, into)).toBe(into);
        m.predict(x.subarray(300, 300 + 3 * n));
        expect(bits(fresh)).toEqual(bits(whole.subarray(0, n)));
        expect(bits(into)).toEqual(bits(whole.subarray(0, n)));
      }
      // The same data as number[] and as Float64Array (exactly representable in f32) agree.
      expect(bits(m.predict(Array.from(x)))).toEqual(bits(whole));
      expect(bits(m.predict(Float64Array.from(x)))).toEqual(bits(whole));
      // x and out in two SharedArrayBuffer objects over one memory (a structuredClone's), out's
      // first chunk lying on the rows of x's second: the predictions are still x's
      const shared = new SharedArrayBuffer(x.byteLength);
      const xs = new Float32Array(shared);
      xs.set(x);
      const outs = new Float32Array(structuredClone(shared), 4 * 3 * 4096, batch);
      expect(m.predict(xs, undefined, outs)).toBe(outs);
      expect(bits(outs)).toEqual(bits(whole));
      m.dispose();
    });
  });

  // ---- (d) initialisation ----------------------------------------------------------------------
  describe('initialisation', () => {
    const layersOf = (init?: InitScheme) => [
      nalu({ inputs: 100, outputs: 100, sharedWeights: false, ...(init ? { init } : {}) }),
      nalu({ inputs: 100, outputs: 3, ...(init ? { init } : {}) }),
    ];

    it('the same seed gives the same weights, different seeds different ones (every tensor)', async () => {
      await useBackend(backend);
      const a = sequential(layersOf(), { seed: 42 }).getWeights();
      const b = sequential(layersOf(), { seed: 42 }).getWeights();
      const c = sequential(layersOf(), { seed: 43 }).getWeights();
      const d = sequential(layersOf()).getWeights();
      const e = sequential(layersOf(), { seed: 0 }).getWeights();
      expect(sameBits(a, b)).toBe(true);
      expect(sameBits(d, e), 'the default seed is 0').toBe(true);
      a.forEach((rec, k) => {
        for (const name of Object.keys(rec)) {
          expect(bits(rec[name]!), `${name} of layer ${k}`).not.toEqual(bits(c[k]![name]!));
          expect(bits(rec[name]!), `${name} of layer ${k}`).not.toEqual(bits(d[k]![name]!));
        }
      });
      // Tensors of one model are not copies of each other.
      expect(bits(a[0]!.W_hat!)).not.toEqual(bits(a[0]!.M_hat!));
      expect(bits(a[0]!.W_hat!)).not.toEqual(bits(a[0]!.W_hat_mul!));
    });

    it('the initial weights are the same on both builds (the initialiser runs in TypeScript)', async () => {
      await useBackend('simd');
      const a = sequential(layersOf(), { seed: 7 }).getWeights();
      await useBackend('scalar');
      const b = sequential(layersOf(), { seed: 7 }).getWeights();
      expect(sameBits(a, b)).toBe(true);
    });

    // Statistics over n = 10000 draws (the 100x100 tensors) and 300 (100x3). Bounds, with their
    // reasons: for U[-r, r], the sample mean has standard deviation r / sqrt(3 n) and the sample
    // standard deviation is r / sqrt(3) with a relative spread of 0.45 / sqrt(n) (from the fourth
    // moment r^4 / 5). So for n = 10000: mean within 0.05 r (8.7 sigma), std within 3 % of
    // r / sqrt(3) (6.7 sigma), and the extremes reach past 0.99 r (the chance that 10000 draws all
    // stay on one side of 0.99 r is 0.995^10000 = 2e-22). A narrower or wider range, a normal
    // law or a shifted one fails these.
    function checkUniform(v: Float32Array, r: number, what: string) {
      const n = v.length;
      let sum = 0, sq = 0, min = Infinity, max = -Infinity;
      for (const w of v) { sum += w; sq += w * w; min = Math.min(min, w); max = Math.max(max, w); }
      const mean = sum / n, std = Math.sqrt(sq / n - mean * mean);
      const bound = Math.fround(r); // the f32 of r: a draw just inside r may round onto it
      expect(min, `${what} >= -r`).toBeGreaterThanOrEqual(-bound);
      expect(max, `${what} <= r`).toBeLessThanOrEqual(bound);
      if (n >= 10000) {
        expect(min, `${what} reaches -r`).toBeLessThan(-0.99 * r);
        expect(max, `${what} reaches r`).toBeGreaterThan(0.99 * r);
        expect(Math.abs(mean), `${what} mean`).toBeLessThan(0.05 * r);
        expect(Math.abs(std / (r / Math.sqrt(3)) - 1), `${what} std`).toBeLessThan(0.03);
      } else {
        expect(max - min, `${what} spread`).toBeGreaterThan(1.5 * r);
      }
    }

    // G under the seed preset is normal(0, 1). With n = 10000: the sample mean has standard
    // deviation 0.01 and the sample std 0.0071, so |mean| < 0.05 and |std - 1| < 0.05 are 5 and 7
    // sigma; U[-2, 2] (std 1.155) or normal with another scale fails them. The fraction beyond
    // 2 sigma is 4.55 % +- 0.21 % (one sigma), checked within 1.5 %; the largest of 10000
    // standard normals exceeds 3 with probability 1 - 0.9973^10000 = 1 - 2e-12.
    function checkNormal(v: Float32Array, what: string) {
      const n = v.length;
      let sum = 0, sq = 0, beyond2 = 0, maxAbs = 0;
      for (const w of v) { sum += w; sq += w * w; if (Math.abs(w) > 2) beyond2++; maxAbs = Math.max(maxAbs, Math.abs(w)); }
      const mean = sum / n, std = Math.sqrt(sq / n - mean * mean);
      expect(Math.abs(mean), `${what} mean`).toBeLessThan(0.05);
      expect(Math.abs(std - 1), `${what} std`).toBeLessThan(0.05);
      expect(Math.abs(beyond2 / n - 0.0455), `${what} tail`).toBeLessThan(0.015);
      expect(maxAbs, `${what} extremes`).toBeGreaterThan(3);
    }

    it('default: Glorot uniform within +-sqrt(6 / (inputs + outputs)), every tensor', async () => {
      await useBackend(backend);
      const w = sequential(layersOf(), { seed: 8 }).getWeights();
      const r0 = Math.sqrt(6 / 200), r1 = Math.sqrt(6 / 103);
      for (const [name, v] of Object.entries(w[0]!)) checkUniform(v, r0, `layer 0 ${name}`);
      for (const [name, v] of Object.entries(w[1]!)) checkUniform(v, r1, `layer 1 ${name}`);
      // init: 'glorot' spelled out is the default.
      expect(sameBits(sequential(layersOf('glorot'), { seed: 8 }).getWeights(), w)).toBe(true);
      expect(sameBits(sequential(layersOf(), { seed: 8, init: 'glorot' }).getWeights(), w)).toBe(true);
    });

    it("the 'seed' preset given per layer: W_hat, M_hat in [-2, 2], G normal(0, 1)", async () => {
      await useBackend(backend);
      const w = sequential(layersOf('seed'), { seed: 9 }).getWeights();
      for (const k of [0, 1]) {
        for (const [name, v] of Object.entries(w[k]!)) {
          if (name === 'G') { if (k === 0) checkNormal(v, `layer ${k} G`); } else checkUniform(v, 2, `layer ${k} ${name}`);
        }
      }
    });

    it("the 'seed' preset given to sequential() applies to every layer that does not set its own", async () => {
      await useBackend(backend);
      const viaModel = sequential(layersOf(), { seed: 9, init: 'seed' }).getWeights();
      const perLayer = sequential(layersOf('seed'), { seed: 9 }).getWeights();
      expect(sameBits(viaModel, perLayer)).toBe(true);
      checkUniform(viaModel[0]!.W_hat!, 2, 'layer 0 W_hat');
      checkNormal(viaModel[0]!.G!, 'layer 0 G');
      // A layer's own init wins over the model's.
      const mixed = sequential([nac({ inputs: 100, outputs: 100, init: 'glorot' })], { seed: 9, init: 'seed' }).getWeights();
      checkUniform(mixed[0]!.W_hat!, Math.sqrt(6 / 200), 'W_hat with its own glorot');
    });

    // Var[tanh(w) sigmoid(m)] for w, m ~ U[-r, r] by the midpoint rule on 20000 cells (error
    // ~1e-8 relative here), independent of the closed form in src/layers.ts.
    function weightVarianceByQuadrature(r: number): number {
      const n = 20000, h = (2 * r) / n;
      let t = 0, s = 0;
      for (let k = 0; k < n; k++) {
        const x = -r + (k + 0.5) * h;
        t += Math.tanh(x) ** 2;
        s += (1 / (1 + Math.exp(-x))) ** 2;
      }
      return (t / n) * (s / n);
    }

    it("the 'madsen' bound gives fan Var[W] = 2, fan = max(inputs + outputs, 5)", () => {
      for (const [i, o] of [[1, 1], [2, 1], [3, 2], [100, 2], [100, 100], [1000, 1000]] as const) {
        const r = madsenBound(i, o);
        expect(Math.max(i + o, 5) * weightVarianceByQuadrature(r), `${i} -> ${o}: r = ${r}`).toBeCloseTo(2, 5);
        expect(nacWeightVariance(r), `${i} -> ${o}`).toBeCloseTo(weightVarianceByQuadrature(r), 8);
      }
      // below a fan of 5 the bound is that of 5
      expect(madsenBound(1, 1)).toBe(madsenBound(3, 2));
    });

    // Over the 10000 weights of the 100x100 layer, the sample variance of W = tanh(W_hat)
    // sigmoid(M_hat) has a relative standard deviation of sqrt((kurtosis - 1) / n) ~ 0.9 %
    // (kurtosis ~1.85 for this product), so 5 % is 5 sigma; the glorot bound gives a quarter of it.
    it("the 'madsen' preset: W_hat, M_hat uniform within the bound, G glorot, Var[W] = 2 / fan", async () => {
      await useBackend(backend);
      const w = sequential(layersOf('madsen'), { seed: 11 }).getWeights();
      const r0 = madsenBound(100, 100);
      for (const name of ['W_hat', 'M_hat', 'W_hat_mul', 'M_hat_mul']) checkUniform(w[0]![name]!, r0, `layer 0 ${name}`);
      checkUniform(w[0]!.G!, Math.sqrt(6 / 200), 'layer 0 G');
      for (const name of ['W_hat', 'M_hat']) checkUniform(w[1]![name]!, madsenBound(100, 3), `layer 1 ${name}`);
      const { W_hat: wh, M_hat: mh } = w[0]!;
      let sq = 0;
      for (let k = 0; k < wh!.length; k++) sq += (Math.tanh(wh![k]!) / (1 + Math.exp(-mh![k]!))) ** 2;
      expect(Math.abs((sq / wh!.length) / (2 / 200) - 1), 'sample Var[W] against 2 / fan').toBeLessThan(0.05);
    });

    it("dense: nn.Linear's by default and under 'seed', Glorot or Madsen & Johansen's by activation with b = 0", async () => {
      await useBackend(backend);
      const draw = (activation: Activation, init?: InitScheme, modelInit?: InitScheme) => sequential(
        [dense({ inputs: 100, outputs: 100, activation, ...(init ? { init } : {}) })], { seed: 12, ...(modelInit ? { init: modelInit } : {}) }).getWeights()[0]!;
      const byDefault = draw('relu');
      checkUniform(byDefault.W!, 0.1, 'default W');
      checkUniform(byDefault.b!, 0.1, 'default b');
      expect(sameBits([draw('relu', 'seed')], [byDefault])).toBe(true);
      const glorot = draw('relu', 'glorot');
      checkUniform(glorot.W!, Math.sqrt(6 / 200), 'glorot W');
      expect(Array.from(glorot.b!)).toEqual(new Array(100).fill(0));
      const madsen: Array<[Activation, number]> = [['relu', Math.sqrt(6 / 100)], ['relu6', Math.sqrt(6 / 100)], ['elu', Math.sqrt(6 / 100)],
        ['selu', Math.sqrt(3 / 100)], ['tanh', (5 / 3) * Math.sqrt(6 / 200)], ['sigmoid', Math.sqrt(6 / 200)], ['linear', Math.sqrt(6 / 200)]];
      for (const [activation, r] of madsen) {
        const w = draw(activation, 'madsen');
        checkUniform(w.W!, r, `madsen ${activation} W`);
        expect(Array.from(w.b!), `madsen ${activation} b`).toEqual(new Array(100).fill(0));
        // the model's init reaches dense layers as it reaches the NAC family's
        expect(sameBits([draw(activation, undefined, 'madsen')], [w])).toBe(true);
      }
    });
  });

  // ---- (e) read-only calls, and evaluate in f64 ------------------------------------------------
  describe('gradients() and evaluate() change nothing; evaluate is the f64 mean of squared errors', () => {
    it.each(MODELS)('%s', async (_name, layers) => {
      await useBackend(backend);
      const m = sequential(layers(), { seed: 10 });
      const rand = prng(51);
      const batch = 37;
      const x = randomInputs(rand, batch * m.inputs, INPUTS);
      const t = uniform32(rand, batch * m.outputs, -3, 3);
      const w0 = copyWeights(m.getWeights());
      const y0 = m.predict(x);
      const g1 = m.gradients(x, t);
      const e1 = m.evaluate(x, t);
      const g2 = m.gradients(x, t);
      expect(sameBits(m.getWeights(), w0), 'weights after gradients() and evaluate()').toBe(true);
      expect(bits(m.predict(x))).toEqual(bits(y0));
      expect(g2.loss).toBe(g1.loss);
      expect(sameBits(g2.grads, g1.grads), 'gradients are reproducible').toBe(true);
      expect(e1).toBe(g1.loss);
      expect(m.step).toBe(0);
      m.dispose();
    });

    // In f64, from predict's f32 outputs and the f32 targets: the only difference allowed is the
    // order of the f64 sum (relative 1e-16 per term, so 1e-13 over 10000 terms). Taking y - t in
    // f32 instead would already change a term by up to 2^-24 relative, about 1e-8 in the mean.
    function mse64(y: Float32Array, t: Float32Array): number {
      let s = 0;
      for (let i = 0; i < y.length; i++) { const d = y[i]! - t[i]!; s += d * d; }
      return s / y.length;
    }

    it.each([[37], [10000]])('batch %i (10000 runs in chunks)', async (batch) => {
      await useBackend(backend);
      const m = sequential([nalu({ inputs: 4, outputs: 3 }), nalu({ inputs: 3, outputs: 2 })], { seed: 11 });
      const rand = prng(52 + batch);
      const x = randomInputs(rand, batch * 4, INPUTS);
      const t = uniform32(rand, batch * 2, -3, 3);
      const want = mse64(m.predict(x), t);
      expect(Math.abs(m.evaluate(x, t) - want) / want).toBeLessThan(1e-12);
    });
  });

  // ---- (f) the loss trainStep returns ----------------------------------------------------------
  describe('trainStep returns the loss before its update', () => {
    it.each(MODELS)('%s', async (_name, layers) => {
      await useBackend(backend);
      const m = sequential(layers(), { seed: 12 });
      const rand = prng(61);
      const batch = 20;
      const x = randomInputs(rand, batch * m.inputs, INPUTS);
      const t = uniform32(rand, batch * m.outputs, -3, 3);
      const opt = adam({ learningRate: 0.01 });
      for (let s = 0; s < 5; s++) {
        const before = m.gradients(x, t).loss;
        expect(m.evaluate(x, t)).toBe(before);
        const reported = m.trainStep(x, t, opt);
        expect(reported, `step ${s}`).toBe(before);
        expect(m.evaluate(x, t), `step ${s} changed the loss`).not.toBe(before);
        expect(m.step).toBe(s + 1);
      }
      m.dispose();
    });
  });
});

// ---- (g) two backends in one process --------------------------------------------------------
describe('models on the simd and scalar backends coexist', () => {
  it('create on simd, init scalar, create another: both keep working and agree', async () => {
    const layers = () => [nalu({ inputs: 6, outputs: 3 }), nalu({ inputs: 3, outputs: 1 })];
    const rand = prng(71);
    const x = randomInputs(rand, 32 * 6, INPUTS);
    const t = uniform32(rand, 32, -3, 3);
    await useBackend('simd');
    const a = sequential(layers(), { seed: 13 });
    await useBackend('scalar');
    const b = sequential(layers(), { seed: 13 });
    expect(a.backend).toBe('simd');
    expect(b.backend).toBe('scalar');
    const engineOf = (m: Model) => (m as unknown as { engine: unknown }).engine;
    expect(engineOf(a)).not.toBe(engineOf(b));
    // Interleaved use: each model runs on its own instance, and the builds give identical bits.
    const optA = adam({ learningRate: 0.01 }), optB = adam({ learningRate: 0.01 });
    for (let s = 0; s < 5; s++) {
      expect(bits(a.predict(x))).toEqual(bits(b.predict(x)));
      expect(a.trainStep(x, t, optA)).toBe(b.trainStep(x, t, optB));
    }
    expect(sameBits(a.getWeights(), b.getWeights())).toBe(true);
    // Back to simd: a third model shares the first one's engine, and none disturbs the others.
    await useBackend('simd');
    const c = sequential(layers(), { seed: 13 });
    expect(engineOf(c)).toBe(engineOf(a));
    const yb = b.predict(x);
    c.dispose();
    expect(bits(b.predict(x))).toEqual(bits(yb));
    expect(bits(a.predict(x))).toEqual(bits(yb));
    a.dispose();
    expect(bits(b.predict(x))).toEqual(bits(yb));
    b.dispose();
  });
});

describe('console.log and String()', () => {
  it('show a model, a sampler and a staged batch in one line each, not the engine behind them', async () => {
    const { inspect } = await import('node:util');
    const { staticTask } = await import('../src/index');
    await useBackend('simd');
    const m = sequential([nalu({ inputs: 100, outputs: 2 }), nau({ inputs: 2, outputs: 1 })]);
    const sampler = staticTask({ op: 'add', seed: 0 }).trainSampler();
    m.trainStepOn(sampler, adam(), 8);
    const staged = m.stageBatch(new Float32Array(300), new Float32Array(3));
    expect(inspect({ m, sampler, staged })).toBe(
      '{\n  m: Model { nalu 100 -> 2, nau 2 -> 1; simd, 602 parameters, step 1 },\n' +
      '  sampler: Sampler { 100 inputs from [1, 2] },\n  staged: StagedBatch { 3 samples }\n}');
    expect(`${m} | ${sampler} | ${staged}`).toBe('Model { nalu 100 -> 2, nau 2 -> 1; simd, 602 parameters, step 1 } | Sampler { 100 inputs from [1, 2] } | StagedBatch { 3 samples }');
    // the classes' prototypes (and objects made from them) are no model, sampler or batch, and say so without throwing
    expect([Model.prototype, Sampler.prototype, StagedBatch.prototype].map((p) => String(p))).toEqual(['[object Object]', '[object Object]', '[object Object]']);
    m.dispose();
    sampler.dispose();
    expect(inspect([m, sampler, staged])).toBe(
      '[\n  Model { nalu 100 -> 2, nau 2 -> 1; simd, 602 parameters, step 1, disposed },\n' +
      '  Sampler { 100 inputs from [1, 2], disposed },\n  StagedBatch { 3 samples, disposed }\n]');
  });
});
