// The Wasm engine against the float64 reference (test/reference/) on seeded random cases, on both
// builds, and the two builds against each other bit for bit.
//
// Each case builds `sequential([...], { seed })`, overwrites the parameters with seeded random
// ones through setWeights, and feeds inputs that mix exact zeros, negative values and magnitudes
// from 0.05 to 3. The reference runs in f64 on the same f32 values (inputs, parameters, targets
// and the layer's eps, which the module stores as f32), so every difference is the f32
// arithmetic of the kernels.
//
// Tolerances. Errors are measured relative to each tensor's largest magnitude (the measure of
// the golden tests), the loss relative to itself. They come from f32 arithmetic, u = 2^-24 = 6e-8:
// a dot product of length K has a relative error of about sqrt(K) u (K u at worst) in its terms'
// magnitudes; exp, log, tanh and sigmoid add a few ulps each (test/math.test.ts); a gradient
// chains several such steps and sums over the batch. Base tolerances:
//   * forward 1e-5, gradients 1e-4 (the golden README's);
//   * loss 2e-5: loss = mean (y - t)^2 doubles the relative error of its largest residuals, and
//     a residual y - t that cancels magnifies it further (nac 1x1, batch 1: 1.2e-6).
// The simd and scalar builds give identical bits (second describe), so their errors are equal.
// Measured (MEASURE=1 prints every tensor's error), worst over the cases on the base tolerances:
// forward 2.2e-6 (nacMul 64x17, batch 4: exponents summed over 64 inputs), loss 4.0e-6 (same
// case), gradients 1.2e-5 (nalu tied 5x3, batch 17); single-layer nac cases stay below 2e-7
// forward and 7e-7 for gradients (the largest where a residual y - t cancels: nac 1x1, batch 1).
// So the base tolerances keep a margin of 4.5 or more. Two cases are
// ill-conditioned, and their own tolerances (`tol` below) say why; a wrong formula, a missing
// term or a wrong sign(0) at an exact-zero input shows up at 1e-2 or more.
import { describe, expect, it } from 'vitest';
import { adam, sequential, type Weights } from '../src/index';
import { maxErrRelToMax } from './golden';
import { BUILDS, backendOf, bits, useBackend, type TestBackend } from './helpers';
import {
  f64, prng, randomInputs, randomWeights, refLayerOf, specOf, toRef, uniform32,
  type InputSpec, type LayerDef, type WeightScale,
} from './helpers-random';
import { refStack } from './reference';

const FORWARD_TOL = 1e-5;
const LOSS_TOL = 2e-5;
const GRAD_TOL = 1e-4;

interface Case {
  name: string;
  layers: LayerDef[];
  batch: number;
  seed: number;
  scale: WeightScale | WeightScale[];
  input: InputSpec;
  /** Tolerances of an ill-conditioned case, with the reason next to the case. */
  tol?: { forward?: number; loss?: number; grad?: number };
}

const X: InputSpec = { lo: 0.05, hi: 3, zeros: 0.1, negatives: 0.4 };
/** Wide layers: fewer zeros (each adds log(eps) = -16 times a weight to the exponent). */
const XWIDE: InputSpec = { lo: 0.3, hi: 2, zeros: 0.03, negatives: 0.4 };
const S2: WeightScale = { w: 2, g: 2 };
const S1: WeightScale = { w: 1, g: 1 };
const SW: WeightScale = { w: 0.5, g: 0.5 };

const nac = (inputs: number, outputs: number): LayerDef => ({ type: 'nac', inputs, outputs });
const nacMul = (inputs: number, outputs: number): LayerDef => ({ type: 'nacMul', inputs, outputs });
const naluT = (inputs: number, outputs: number): LayerDef => ({ type: 'nalu', inputs, outputs, sharedWeights: true });
const naluS = (inputs: number, outputs: number): LayerDef => ({ type: 'nalu', inputs, outputs, sharedWeights: false });

// Sizes: 1, 3, 4, 5, 17, 64 and 1024 appear as inputs, outputs and batch; the gemm kernels'
// blockings (4 x 8, 4 x 4, 1 x 8, 1 x 4 and the 4 x 2 / 1 x 4 weight-gradient tiles) all get
// partial edges through the odd sizes.
const CASES: Case[] = [
  { name: 'nac 1x1, batch 1', layers: [nac(1, 1)], batch: 1, seed: 101, scale: S2, input: X },
  { name: 'nac 1x1, batch 1024', layers: [nac(1, 1)], batch: 1024, seed: 102, scale: S2, input: X },
  { name: 'nac 4x3, batch 1024', layers: [nac(4, 3)], batch: 1024, seed: 103, scale: S2, input: X },
  { name: 'nac 64x17, batch 5', layers: [nac(64, 17)], batch: 5, seed: 104, scale: S2, input: X },
  { name: 'nac 17x64, batch 3', layers: [nac(17, 64)], batch: 3, seed: 105, scale: S2, input: X },
  { name: 'nacMul 1x1, batch 3', layers: [nacMul(1, 1)], batch: 3, seed: 201, scale: S2, input: X },
  { name: 'nacMul 17x5, batch 5', layers: [nacMul(17, 5)], batch: 5, seed: 202, scale: S1, input: X },
  { name: 'nacMul 64x17, batch 4', layers: [nacMul(64, 17)], batch: 4, seed: 203, scale: SW, input: XWIDE },
  { name: 'nacMul 3x4, batch 1024', layers: [nacMul(3, 4)], batch: 1024, seed: 204, scale: S2, input: X },
  { name: 'nalu tied 1x1, batch 1', layers: [naluT(1, 1)], batch: 1, seed: 301, scale: S2, input: X },
  // Two exact zeros in one sample put terms of 16 |W| into the exponent z = sum l_i W_i, |z| near
  // 30: W's own rounding (tanh and sigmoid, a few ulps, 2.4e-7 relative) then gives 30 * 2.4e-7 =
  // 7e-6 relative in m = exp(z). Measured: y 6.1e-6, loss 6.1e-6 (gradients 1.2e-5, base
  // tolerance). Tolerance 5e-5 and 1e-4: margin 8 and 16.
  {
    name: 'nalu tied 5x3, batch 17', layers: [naluT(5, 3)], batch: 17, seed: 302, scale: S2, input: X,
    tol: { forward: 5e-5, loss: 1e-4 },
  },
  { name: 'nalu tied 64x17, batch 5', layers: [naluT(64, 17)], batch: 5, seed: 303, scale: SW, input: XWIDE },
  { name: 'nalu tied 4x1, batch 1024', layers: [naluT(4, 1)], batch: 1024, seed: 304, scale: S2, input: X },
  { name: 'nalu separate 17x4, batch 5', layers: [naluS(17, 4)], batch: 5, seed: 401, scale: S1, input: X },
  { name: 'nalu separate 64x17, batch 3', layers: [naluS(64, 17)], batch: 3, seed: 402, scale: SW, input: XWIDE },
  { name: 'nalu separate 3x5, batch 1024', layers: [naluS(3, 5)], batch: 1024, seed: 403, scale: S2, input: X },
  { name: 'nalu separate 1x1, batch 4', layers: [naluS(1, 1)], batch: 4, seed: 404, scale: S2, input: X },
  { name: 'stack nac 5->3, nalu 3->1, batch 64', layers: [nac(5, 3), naluT(3, 1)], batch: 64, seed: 501, scale: S1, input: X },
  { name: 'stack nalu separate 17->4, nacMul 4->1, batch 5', layers: [naluS(17, 4), nacMul(4, 1)], batch: 5, seed: 502, scale: [SW, S1], input: X },
  { name: 'stack nalu 64->3, nalu 3->1, batch 1024', layers: [naluT(64, 3), naluT(3, 1)], batch: 1024, seed: 503, scale: [SW, S1], input: XWIDE },
  // The 100->2->1 NALU stack of ../shared/DESIGN.md. Sample 30's hidden value h = 0.0137 is what
  // remains of the first layer's g a + (1 - g) m after cancelling terms of order 10, so f32 gets it with a
  // relative error of 2.3e-4 (measured against the reference: 0.0137005 vs 0.0136974); the second
  // layer takes log|h| and divides by |h| + eps, and that sample's term dominates the first
  // layer's dG (5.7e-5 of the tensor's largest value; y 3.7e-6 of the largest output, 43).
  // Tolerances 5e-4 for gradients and 5e-5 forward: margin 9 and 13.
  {
    name: 'stack nalu 100->2, nalu 2->1, batch 128', layers: [naluT(100, 2), naluT(2, 1)], batch: 128, seed: 504,
    scale: [SW, S1], input: XWIDE, tol: { forward: 5e-5, grad: 5e-4 },
  },
];

interface Data {
  weights: Weights;
  x: Float32Array;
  t: Float32Array;
}

function dataOf(c: Case): Data {
  const rand = prng(c.seed);
  const weights = randomWeights(c.layers, rand, c.scale);
  const x = randomInputs(rand, c.batch * c.layers[0]!.inputs, c.input);
  const t = uniform32(rand, c.batch * c.layers[c.layers.length - 1]!.outputs, -3, 3);
  return { weights, x, t };
}

function modelOf(c: Case, d: Data) {
  const m = sequential(c.layers.map(specOf), { seed: c.seed });
  m.setWeights(d.weights);
  return m;
}

const measured: Array<[string, number, number]> = [];
function note(key: string, err: number, tol: number): number {
  measured.push([key, err, tol]);
  return err;
}

describe.each(BUILDS)('random cases against the float64 reference, %s build', (backend) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await useBackend(backend);
    const d = dataOf(c);
    const m = modelOf(c, d);
    const ref = refStack(c.layers.map(refLayerOf), toRef(d.weights), f64(d.x), f64(d.t), c.batch);
    // The reference really is exercised away from the trivial: finite, and not all zero.
    expect(ref.y.every(Number.isFinite)).toBe(true);
    expect(Number.isFinite(ref.loss) && ref.loss > 0).toBe(true);
    const tag = `${backend} ${c.name}`;

    const y = m.predict(d.x, c.batch);
    const ty = c.tol?.forward ?? FORWARD_TOL;
    expect(note(`${tag}: y`, maxErrRelToMax(y, ref.y), ty), 'predict').toBeLessThan(ty);

    const { loss, grads } = m.gradients(d.x, d.t, c.batch);
    const tl = c.tol?.loss ?? LOSS_TOL;
    expect(note(`${tag}: loss`, Math.abs(loss - ref.loss) / ref.loss, tl), 'loss').toBeLessThan(tl);
    expect(m.evaluate(d.x, d.t, c.batch), 'evaluate').toBe(loss);

    ref.grads.forEach((g, k) => {
      expect(Object.keys(grads[k]!).sort()).toEqual(Object.keys(g).sort());
      for (const [name, want] of Object.entries(g)) {
        let scale = 0;
        for (const v of want) scale = Math.max(scale, Math.abs(v));
        expect(scale, `${name} of layer ${k} has a non-zero gradient`).toBeGreaterThan(0);
        const tg = c.tol?.grad ?? GRAD_TOL;
        const err = note(`${tag}: d${name}[${k}]`, maxErrRelToMax(grads[k]![name]!, want), tg);
        expect(err, `${name} of layer ${k}`).toBeLessThan(tg);
      }
    });
    m.dispose();
  });
});

describe('the random cases', () => {
  it('hold exact zeros and negative inputs (every case with 17 or more input values)', () => {
    for (const c of CASES) {
      const { x } = dataOf(c);
      if (x.length < 17) continue;
      expect(x.some((v) => v === 0 && !Object.is(v, -0)), `${c.name}: zeros`).toBe(true);
      expect(x.some((v) => v < 0), `${c.name}: negatives`).toBe(true);
    }
  });
});

describe('random cases: the simd, scalar and threads builds give identical bits', () => {
  async function run(backend: TestBackend, c: Case) {
    await useBackend(backend);
    const d = dataOf(c);
    const m = modelOf(c, d);
    expect(m.backend).toBe(backendOf(backend));
    const y = m.predict(d.x, c.batch);
    const { loss, grads } = m.gradients(d.x, d.t, c.batch);
    const opt = adam({ learningRate: 0.01 });
    const losses = [0, 1, 2, 3].map(() => m.trainStep(d.x, d.t, opt, c.batch));
    const after = m.getWeights();
    const yAfter = m.predict(d.x, c.batch);
    m.dispose();
    return { y, loss, grads, losses, after, yAfter };
  }

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const a = await run('simd', c);
    for (const other of ['scalar', 'threads'] as const) await same(a, await run(other, c));
  });

  async function same(a: Awaited<ReturnType<typeof run>>, b: Awaited<ReturnType<typeof run>>): Promise<void> {
    expect(bits(a.y)).toEqual(bits(b.y));
    expect(Object.is(a.loss, b.loss)).toBe(true);
    expect(a.losses).toEqual(b.losses);
    // The Adam steps did move the weights (else "identical after training" says nothing).
    expect(a.losses[3]).not.toBe(a.losses[0]);
    a.grads.forEach((g, k) => {
      for (const name of Object.keys(g)) expect(bits(g[name]!), `grad ${name} of layer ${k}`).toEqual(bits(b.grads[k]![name]!));
    });
    a.after.forEach((w, k) => {
      for (const name of Object.keys(w)) expect(bits(w[name]!), `${name} of layer ${k}`).toEqual(bits(b.after[k]![name]!));
    });
    expect(bits(a.yAfter)).toEqual(bits(b.yAfter));
  }
});

if (process.env.MEASURE) {
  describe('REPORT', () => {
    it('prints the measured errors', () => {
      console.log(`${'tensor'.padEnd(72)} error     tolerance`);
      for (const [k, err, tol] of measured) console.log(`${k.padEnd(72)} ${err.toExponential(2)}  ${tol.toExponential(2)}`);
    });
  });
}
