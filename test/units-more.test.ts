// iNALU, NPU and RealNPU: the float64 reference against central finite differences and against
// the complex-number form of the NPU; the Wasm kernels against the reference on both builds
// (inputs at 0, below eps, negative; weights on and beyond the clamp boundaries; zm beyond
// omega); SIMD and scalar builds bit for bit; the gate's projection; independence of the batch
// lanes; the factories; and what a RealNPU learns.
//
// Tolerances of the kernel checks: y and the loss within 1e-5 of the reference relative to the
// largest |y| (and the loss), every gradient within 1e-4 relative to the largest magnitude of
// its tensor (the measures of the golden tests). f32 carries 6e-8 relative per operation; exp,
// log, tanh, sigmoid, sin and cos are within 1-2 ulps; a forward value is a sum of a few products
// then one exp (whose relative error is the absolute error of its argument: |u| <= 20 here gives
// up to ~20 * 2^-24 * (terms) ~ 5e-6 at worst) and a gradient adds a batch sum of up to 64 terms,
// where cancellation against the largest entry makes 1e-4 the level the existing layers use. The
// measured errors are printed by the tests and sit one to two orders of magnitude below these.
import { describe, expect, it } from 'vitest';
import { adam, inalu, nau, npu, realNpu, sequential, sgd, type LayerSpec } from '../src/index';
import { maxErrRelToMax } from './golden';
import { BUILDS, bits, prng, useBackend } from './helpers';
import { moreParamShapes, refMoreBackward, refMoreForward, refMoreStack, type AnyLayer, type MoreLayer } from './reference/units-more';
import type { Params } from './reference/types';

const f64 = (a: ArrayLike<number>) => Float64Array.from(a);
const EPS32 = Math.fround(1e-7); // the eps the kernels see (the layer record stores f32)

function specOf(l: AnyLayer): LayerSpec {
  const io = { inputs: l.inputs, outputs: l.outputs };
  switch (l.type) {
    case 'inalu': return inalu({ ...io, ...(l.omega !== undefined ? { omega: l.omega } : {}) });
    case 'npu': return npu(io);
    case 'realNpu': return realNpu(io);
    case 'nau': return nau(io);
    default: throw new Error(`no factory for ${l.type} in this test`);
  }
}

function shapes(l: AnyLayer): Array<[string, number]> {
  if (l.type === 'nau') return [['W', l.inputs * l.outputs]];
  return moreParamShapes(l as MoreLayer);
}

/** Parameters from per-name generators (index j within the tensor), rounded to f32. */
function paramsOf(l: AnyLayer, gen: Record<string, (j: number) => number>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, n] of shapes(l)) out[name] = Float32Array.from({ length: n }, (_, j) => gen[name]!(j));
  return out;
}

interface Case {
  name: string;
  layers: AnyLayer[];
  batch: number;
  params: Array<Record<string, Float32Array>>;
  x: (rand: () => number, j: number) => number;
}

const cycle = (vals: number[]) => (j: number) => vals[j % vals.length]!;

// Inputs: every 7th exactly 0, some below eps, one exactly +-eps (max passes its boundary), the
// rest in +-[0.1, 3].
function mixedX(rand: () => number, j: number): number {
  if (j % 7 === 0) return 0;
  if (j % 11 === 3) return (j % 2 ? -1 : 1) * 1e-9;
  if (j === 5) return EPS32;
  if (j === 12) return -EPS32;
  const v = 0.1 + 2.9 * rand();
  return rand() < 0.4 ? -v : v;
}

const CASES: Case[] = [
  {
    name: 'inalu 4x3 (W_hat_mul = 0 somewhere, Wm near +-1)', batch: 13, x: mixedX,
    layers: [{ type: 'inalu', inputs: 4, outputs: 3 }],
    params: [paramsOf({ type: 'inalu', inputs: 4, outputs: 3 }, {
      W_hat: cycle([0.9, -0.4, 1.3, 0.1, -1.1, 0.7]), M_hat: cycle([0.5, 2, -0.3, 1.1]),
      W_hat_mul: cycle([0, 0.8, -0.6, 4, -4, 0.3, 1.2]), M_hat_mul: cycle([1, 6, -0.5, 0.2, 3]),
      g: cycle([0.3, -1.2, 2.5]),
    })],
  },
  {
    name: 'inalu 3x2, omega 2 (zm beyond omega for some samples)', batch: 17, x: (rand, j) => (j % 5 === 0 ? 0 : (rand() < 0.3 ? -1 : 1) * (0.5 + 7 * rand())),
    layers: [{ type: 'inalu', inputs: 3, outputs: 2, omega: 2 }],
    params: [paramsOf({ type: 'inalu', inputs: 3, outputs: 2 }, {
      W_hat: cycle([0.5, -0.9, 1.4]), M_hat: cycle([0.2, 1.5]), W_hat_mul: cycle([2, 1.5, -0.7, 2.5, 0.4]),
      M_hat_mul: cycle([3, 2, 0.5]), g: cycle([-0.5, 0.8]),
    })],
  },
  {
    name: 'npu 4x3 (g at 0, 1, beyond and inside)', batch: 11, x: mixedX,
    layers: [{ type: 'npu', inputs: 4, outputs: 3 }],
    params: [paramsOf({ type: 'npu', inputs: 4, outputs: 3 }, {
      W_re: cycle([1, -1, 0.5, 2, -0.3, 0, 1.7]), W_im: cycle([0, 0.4, -0.8, 0.2, 1.1]), g: cycle([0, 1, -0.25, 1.5]),
    })],
  },
  {
    name: 'npu 5x2 (g inside)', batch: 23, x: mixedX,
    layers: [{ type: 'npu', inputs: 5, outputs: 2 }],
    params: [paramsOf({ type: 'npu', inputs: 5, outputs: 2 }, {
      W_re: cycle([0.8, -1.2, 0.3, 1.9, -0.6, 0.1]), W_im: cycle([0.3, -0.5, 0.9]), g: cycle([0.5, 0.9, 0.2, 0.7, 0.35]),
    })],
  },
  {
    name: 'realNpu 3x2 (g at 0, 1 and inside)', batch: 9, x: mixedX,
    layers: [{ type: 'realNpu', inputs: 3, outputs: 2 }],
    params: [paramsOf({ type: 'realNpu', inputs: 3, outputs: 2 }, { W_re: cycle([1, -1, 2, 0.5, -1.5, 0.25]), g: cycle([1, 0.6, 0]) })],
  },
  {
    name: 'nau 4x3 then npu 3x2', batch: 10, x: mixedX,
    layers: [{ type: 'nau', inputs: 4, outputs: 3 }, { type: 'npu', inputs: 3, outputs: 2 }],
    params: [
      { W: Float32Array.from({ length: 12 }, (_, j) => [0.5, -0.7, 1, 0.2, -1][j % 5]!) },
      paramsOf({ type: 'npu', inputs: 3, outputs: 2 }, { W_re: cycle([1.2, -0.4, 0.6]), W_im: cycle([0.2, -0.3]), g: cycle([0.8, 1, 0.4]) }),
    ],
  },
  {
    name: 'npu 3x3 then inalu 3x1', batch: 14, x: mixedX,
    layers: [{ type: 'npu', inputs: 3, outputs: 3 }, { type: 'inalu', inputs: 3, outputs: 1 }],
    params: [
      paramsOf({ type: 'npu', inputs: 3, outputs: 3 }, { W_re: cycle([0.7, -0.5, 1.1, 0.3]), W_im: cycle([0.1, -0.2]), g: cycle([0.9, 0.6, 1]) }),
      paramsOf({ type: 'inalu', inputs: 3, outputs: 1 }, {
        W_hat: cycle([0.8, -0.3, 1.1]), M_hat: cycle([0.5]), W_hat_mul: cycle([0.9, -0.4, 0.6]), M_hat_mul: cycle([1.5, 0.2]), g: cycle([0.4]),
      }),
    ],
  },
  {
    name: 'inalu 2x2 then realNpu 2x1', batch: 8, x: mixedX,
    layers: [{ type: 'inalu', inputs: 2, outputs: 2 }, { type: 'realNpu', inputs: 2, outputs: 1 }],
    params: [
      paramsOf({ type: 'inalu', inputs: 2, outputs: 2 }, {
        W_hat: cycle([0.9, -0.6]), M_hat: cycle([0.4, 1]), W_hat_mul: cycle([0.5, 1.3, -0.2]), M_hat_mul: cycle([0.8]), g: cycle([0.2, -0.3]),
      }),
      paramsOf({ type: 'realNpu', inputs: 2, outputs: 1 }, { W_re: cycle([0.9, -0.7]), g: cycle([0.75, 0.95]) }),
    ],
  },
];

function refLayers(c: Case): AnyLayer[] {
  return c.layers.map((l) => ({ ...l, eps: EPS32 }));
}

function build(c: Case) {
  const m = sequential(c.layers.map(specOf));
  m.setWeights(c.params);
  return m;
}

function data(c: Case, seed: number) {
  const rand = prng(seed);
  const nin = c.layers[0]!.inputs, nout = c.layers[c.layers.length - 1]!.outputs;
  const x = Float32Array.from({ length: c.batch * nin }, (_, j) => c.x(rand, j));
  const t = Float32Array.from({ length: c.batch * nout }, () => rand() * 2 - 1);
  return { x, t };
}

const toF64 = (p: Record<string, Float32Array>): Params => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, f64(v)]));

// ---- the reference ----------------------------------------------------------------------------

/** iNALU's zm = log(max(|x|, eps)) Wm for every sample and output. */
function zmOf(layer: MoreLayer, p: Params, x: Float64Array, batch: number): number[] {
  const { inputs: nIn, outputs: nOut } = layer;
  const eps = layer.eps ?? 1e-7;
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < nOut; o++) {
      let z = 0;
      for (let i = 0; i < nIn; i++) {
        const j = i * nOut + o;
        z += Math.log(Math.max(Math.abs(x[b * nIn + i]!), eps)) * Math.tanh(p.W_hat_mul![j]!) / (1 + Math.exp(-p.M_hat_mul![j]!));
      }
      out.push(z);
    }
  }
  return out;
}

describe('float64 reference of iNALU, NPU and RealNPU', () => {
  // Central differences of L = sum(y * c) (so dy = c) with step h = 1e-6 on values of order 1,
  // away from every kink: truncation O(h^2) ~ 1e-12 and cancellation ~ 1e-16 / 1e-6 = 1e-10, so
  // 1e-7 relative to each tensor's largest entry leaves a wide margin.
  const FD: Array<{ layer: MoreLayer; params: (rand: () => number) => Params }> = [
    { layer: { type: 'inalu', inputs: 3, outputs: 2 }, params: (rand) => ({
      W_hat: f64(Array.from({ length: 6 }, () => rand() * 2 - 1)), M_hat: f64(Array.from({ length: 6 }, () => rand() * 2 - 1)),
      W_hat_mul: f64(Array.from({ length: 6 }, () => rand() * 2 - 1)), M_hat_mul: f64(Array.from({ length: 6 }, () => rand() * 2 - 1)),
      g: f64(Array.from({ length: 2 }, () => rand() * 2 - 1)) }) },
    { layer: { type: 'inalu', inputs: 4, outputs: 1, omega: 0.5 }, params: (rand) => ({
      W_hat: f64(Array.from({ length: 4 }, () => rand() * 2 - 1)), M_hat: f64(Array.from({ length: 4 }, () => rand() * 2 - 1)),
      W_hat_mul: f64(Array.from({ length: 4 }, () => rand() * 3)), M_hat_mul: f64(Array.from({ length: 4 }, () => rand() * 2)),
      g: f64([rand() - 0.5]) }) },
    { layer: { type: 'npu', inputs: 3, outputs: 2 }, params: (rand) => ({
      W_re: f64(Array.from({ length: 6 }, () => rand() * 2 - 1)), W_im: f64(Array.from({ length: 6 }, () => rand() - 0.5)),
      g: f64(Array.from({ length: 3 }, () => 0.1 + 0.8 * rand())) }) },
    { layer: { type: 'realNpu', inputs: 4, outputs: 3 }, params: (rand) => ({
      W_re: f64(Array.from({ length: 12 }, () => rand() * 2 - 1)), g: f64(Array.from({ length: 4 }, () => 0.1 + 0.8 * rand())) }) },
  ];

  it.each(FD.map((f) => [`${f.layer.type} ${f.layer.inputs}x${f.layer.outputs}${f.layer.omega ? ' omega ' + f.layer.omega : ''}`, f] as const))(
    '%s: gradients match central finite differences', (_n, f) => {
      const rand = prng(42);
      const batch = 6;
      const layer = f.layer;
      const p = f.params(rand);
      // inputs in +-[0.3, 2.5], both signs, no zeros
      const x = f64(Array.from({ length: batch * layer.inputs }, () => (rand() < 0.4 ? -1 : 1) * (0.3 + 2.2 * rand())));
      const c = f64(Array.from({ length: batch * layer.outputs }, () => rand() * 2 - 1));
      const L = (pp: Params, xx: Float64Array) => refMoreForward(layer, pp, xx, batch).reduce((s, v, j) => s + v * c[j]!, 0);
      const { dx, grads } = refMoreBackward(layer, p, x, batch, c);
      const h = 1e-6;
      for (const [name, t] of Object.entries(p)) {
        const num = t.map((v, j) => {
          const plus = { ...p, [name]: Float64Array.from(t) }, minus = { ...p, [name]: Float64Array.from(t) };
          plus[name]![j] = v + h; minus[name]![j] = v - h;
          return (L(plus, x) - L(minus, x)) / (2 * h);
        });
        expect(maxErrRelToMax(grads[name]!, num), name).toBeLessThan(1e-7);
      }
      const numX = x.map((v, j) => {
        const xp = Float64Array.from(x), xm = Float64Array.from(x);
        xp[j] = v + h; xm[j] = v - h;
        return (L(p, xp) - L(p, xm)) / (2 * h);
      });
      expect(maxErrRelToMax(dx, numX), 'dx').toBeLessThan(1e-7);
      // the case with omega 0.5 has zm on both sides of omega (else it would not test min's branches)
      if (layer.omega) {
        const z = zmOf(layer, p, x, batch);
        expect(z.some((v) => v > layer.omega!) && z.some((v) => v < layer.omega!)).toBe(true);
      }
    });

  it('the NPU is the real part of prod_i (gated x_i)^(W_re + i W_im) in complex arithmetic', () => {
    const rand = prng(7);
    const layer: MoreLayer = { type: 'npu', inputs: 3, outputs: 2 };
    const p: Params = { W_re: f64([0.7, -1.3, 2, 0.4, -0.5, 1.1]), W_im: f64([0.3, -0.2, 0.6, 0, -0.9, 0.25]), g: f64([0.8, 0.3, 1]) };
    const batch = 5;
    const x = f64(Array.from({ length: batch * 3 }, () => (rand() - 0.5) * 6));
    const y = refMoreForward(layer, p, x, batch);
    for (let b = 0; b < batch; b++) {
      for (let o = 0; o < 2; o++) {
        // z = prod_i exp(w_i log(q_i)), q_i = g_i x_i + (1 - g_i) as a complex number whose log
        // is log|q| + i pi for x < 0; |q| = g (|x| + eps) + 1 - g as in the paper
        let re = 1, im = 0;
        for (let i = 0; i < 3; i++) {
          const xi = x[b * 3 + i]!, g = p.g![i]!;
          const lr = Math.log(g * (Math.abs(xi) + 1e-7) + 1 - g), th = xi < 0 ? Math.PI * g : 0;
          const wr = p.W_re![i * 2 + o]!, wi = p.W_im![i * 2 + o]!;
          // exp((wr + i wi) (lr + i th)) = exp(wr lr - wi th) (cos(wi lr + wr th) + i sin(...))
          const mag = Math.exp(wr * lr - wi * th), ang = wi * lr + wr * th;
          const nr = re * mag * Math.cos(ang) - im * mag * Math.sin(ang);
          const ni = re * mag * Math.sin(ang) + im * mag * Math.cos(ang);
          re = nr; im = ni;
        }
        expect(Math.abs(y[b * 2 + o]! - re)).toBeLessThan(1e-12 * Math.max(1, Math.abs(re)));
      }
    }
  });

  it('follows the stated conventions at the kinks', () => {
    // NPU at x = 0: no input gradient; gate beyond [0, 1]: none; on the boundary: passes.
    const npuL: MoreLayer = { type: 'npu', inputs: 2, outputs: 1 };
    const p: Params = { W_re: f64([1.5, -0.5]), W_im: f64([0.2, 0.1]), g: f64([1, 1.2]) };
    const r = refMoreBackward(npuL, p, f64([0, -2]), 1, f64([1]));
    expect(r.dx[0] === 0).toBe(true);
    expect(r.grads.g![1] === 0).toBe(true);
    expect(r.grads.g![0]).not.toBe(0);
    // iNALU below eps: no input gradient through the log path (the additive path remains);
    // zm beyond omega: none through m.
    const inL: MoreLayer = { type: 'inalu', inputs: 1, outputs: 1, omega: 1 };
    const q: Params = { W_hat: f64([0]), M_hat: f64([0]), W_hat_mul: f64([3]), M_hat_mul: f64([3]), g: f64([0]) };
    expect(refMoreBackward(inL, q, f64([1e-9]), 1, f64([1])).dx[0] === 0).toBe(true);
    const big = refMoreBackward(inL, q, f64([100]), 1, f64([1]));
    expect(big.grads.W_hat_mul![0] === 0).toBe(true);
    expect(big.dx[0] === 0).toBe(true);
  });
});

// ---- the kernels against the reference ---------------------------------------------------------

describe.each(BUILDS)('iNALU, NPU and RealNPU against the float64 reference, %s build', (backend) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    await useBackend(backend);
    const m = build(c);
    const { x, t } = data(c, 3);
    const ref = refMoreStack(refLayers(c), c.params.map(toF64), f64(x), f64(t), c.batch);
    const l0 = c.layers[0]!;
    if (l0.type === 'inalu' && l0.omega !== undefined) {
      const z = zmOf(l0, toF64(c.params[0]!), f64(x), c.batch);
      expect(z.some((v) => v > l0.omega!) && z.some((v) => v < l0.omega!), 'zm on both sides of omega').toBe(true);
    }
    const y = m.predict(x);
    const ey = maxErrRelToMax(y, ref.y);
    expect(ey).toBeLessThan(1e-5);
    const g = m.gradients(x, t);
    expect(Math.abs(g.loss / ref.loss - 1)).toBeLessThan(1e-5);
    let eg = 0;
    g.grads.forEach((rec, k) => {
      expect(Object.keys(rec)).toEqual(shapes(c.layers[k]!).map(([n]) => n));
      for (const [name, v] of Object.entries(rec)) {
        const e = maxErrRelToMax(v, ref.grads[k]![name]!);
        eg = Math.max(eg, e);
        expect(e, `${name} of layer ${k}`).toBeLessThan(1e-4);
      }
    });
    // Beyond the gate's clamp the gradient is exactly 0.
    c.layers.forEach((l, k) => {
      if (l.type !== 'npu' && l.type !== 'realNpu') return;
      c.params[k]!.g!.forEach((v, i) => { if (v < 0 || v > 1) expect(g.grads[k]!.g![i]).toBe(0); });
    });
    for (const v of y) expect(Number.isFinite(v)).toBe(true);
    console.log(`[units-more] ${backend} ${c.name}: y ${ey.toExponential(1)}, grads ${eg.toExponential(1)}`);
    m.dispose();
  });
});

// ---- bit identity -----------------------------------------------------------------------------

describe('iNALU, NPU and RealNPU: the builds agree bit for bit', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const run = async (backend: 'simd' | 'scalar') => {
      await useBackend(backend);
      const m = build(c);
      const { x, t } = data(c, 5);
      const y = m.predict(x);
      const g = m.gradients(x, t);
      const opt = adam({ learningRate: 0.02, clipValue: 0.1 });
      const losses = [0, 1, 2, 3].map(() => m.trainStep(x, t, opt));
      const w = m.getWeights();
      m.dispose();
      return { y, g, losses, w };
    };
    const a = await run('simd');
    const b = await run('scalar');
    expect(bits(a.y)).toEqual(bits(b.y));
    expect(a.g.loss).toBe(b.g.loss);
    expect(a.losses).toEqual(b.losses);
    a.g.grads.forEach((r, k) => { for (const n of Object.keys(r)) expect(bits(r[n]!), `${n} ${k}`).toEqual(bits(b.g.grads[k]![n]!)); });
    a.w.forEach((r, k) => { for (const n of Object.keys(r)) expect(bits(r[n]!), `${n} ${k}`).toEqual(bits(b.w[k]![n]!)); });
  });
});

// ---- invariants -------------------------------------------------------------------------------

describe('invariants', () => {
  it.each(BUILDS)('%s: every sample is computed alone (a batch predicts what single samples do, bit for bit)', async (backend) => {
    await useBackend(backend);
    for (const c of CASES) {
      const m = build(c);
      const { x } = data(c, 11);
      const nin = c.layers[0]!.inputs, nout = c.layers[c.layers.length - 1]!.outputs;
      const all = m.predict(x);
      for (let b = 0; b < c.batch; b++) {
        const one = m.predict(x.subarray(b * nin, (b + 1) * nin));
        expect(bits(one), `${c.name} sample ${b}`).toEqual(bits(all.subarray(b * nout, (b + 1) * nout)));
      }
      m.dispose();
    }
  });

  it('an SGD step projects the NPU gates into [0, 1] and leaves their weights unclamped', async () => {
    await useBackend('simd');
    for (const c of CASES.filter((c) => c.layers.some((l) => l.type === 'npu' || l.type === 'realNpu'))) {
      const m = build(c);
      const { x, t } = data(c, 9);
      const { grads } = m.gradients(x, t);
      const lr = 3;
      m.trainStep(x, t, sgd({ learningRate: lr }));
      const after = m.getWeights();
      c.layers.forEach((l, k) => {
        for (const [name, w] of Object.entries(c.params[k]!)) {
          const isGate = (l.type === 'npu' || l.type === 'realNpu') && name === 'g';
          const [lo, hi] = isGate ? [0, 1] : l.type === 'nau' ? [-1, 1] : [-Infinity, Infinity];
          const want = Array.from(w, (v, i) => Math.min(hi, Math.max(lo, Math.fround(v - Math.fround(lr * grads[k]![name]![i]!)))));
          expect(maxErrRelToMax(after[k]![name]!, want), `${c.name} ${name} of layer ${k}`).toBeLessThan(1e-6);
          if (isGate) for (const v of after[k]![name]!) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThanOrEqual(1); }
        }
      });
      m.dispose();
    }
  });

  it('every parameter of each unit moves after a step', async () => {
    await useBackend('simd');
    for (const spec of [inalu({ inputs: 3, outputs: 2 }), npu({ inputs: 3, outputs: 2 }), realNpu({ inputs: 3, outputs: 2 })]) {
      const m = sequential([spec], { seed: 3 });
      const before = m.getWeights()[0]!;
      const x = Float32Array.from([1.5, -0.5, 2, 0.7, 1.2, -1.8]), t = Float32Array.from([1, -2, 0.5, 3]);
      m.trainStep(x, t, adam({ learningRate: 0.01 }));
      const after = m.getWeights()[0]!;
      for (const name of Object.keys(before)) expect(bits(after[name]!), `${spec.type} ${name}`).not.toEqual(bits(before[name]!));
      m.dispose();
    }
  });
});

// ---- factories --------------------------------------------------------------------------------

describe('factories', () => {
  it('validate their options and fill defaults', () => {
    expect(inalu({ inputs: 2, outputs: 3 }).options).toEqual({ eps: 1e-7, omega: 20 });
    expect(npu({ inputs: 2, outputs: 3, eps: 1e-5 }).options).toEqual({ eps: 1e-5 });
    expect(realNpu({ inputs: 2, outputs: 3 }).options).toEqual({ eps: 1e-7 });
    expect(() => inalu({ inputs: 2, outputs: 1, omega: 100 })).toThrow(/omega must be/);
    expect(() => inalu({ inputs: 2, outputs: 1, eps: 0 })).toThrow(/eps must be/);
    expect(() => npu({ inputs: 2, outputs: 1, eps: 0 })).toThrow(/eps must be/);
    expect(() => realNpu({ inputs: 2, outputs: 1, omega: 3 } as never)).toThrow(/unknown option "omega"/);
  });

  it('initialise as the papers\' code: iNALU N(0.88, 0.2), N(0.5, 0.2), g N(0, 0.2); NPU W_re Glorot, W_im 0, g 0.5', async () => {
    await useBackend('simd');
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    const std = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + (v - mean(a)) ** 2, 0) / a.length);
    const mi = sequential([inalu({ inputs: 40, outputs: 50 })], { seed: 1 });
    const wi = mi.getWeights()[0]!;
    expect(Object.keys(wi)).toEqual(['W_hat', 'M_hat', 'W_hat_mul', 'M_hat_mul', 'g']);
    expect(wi.g!.length).toBe(50);
    for (const [name, mu] of [['W_hat', 0.88], ['W_hat_mul', 0.88], ['M_hat', 0.5], ['M_hat_mul', 0.5]] as const) {
      expect(Math.abs(mean(wi[name]!) - mu), name).toBeLessThan(0.02);
      expect(Math.abs(std(wi[name]!) - 0.2), name).toBeLessThan(0.02);
    }
    expect(Math.abs(mean(wi.g!))).toBeLessThan(0.1);
    expect(mi.parameterCount).toBe(4 * 2000 + 50);
    mi.dispose();
    const mn = sequential([npu({ inputs: 30, outputs: 20 })], { seed: 1 });
    const wn = mn.getWeights()[0]!;
    expect(Object.keys(wn)).toEqual(['W_re', 'W_im', 'g']);
    const r = Math.sqrt(6 / 50);
    expect(Math.max(...wn.W_re!.map(Math.abs))).toBeLessThanOrEqual(r);
    expect(Math.max(...wn.W_re!.map(Math.abs))).toBeGreaterThan(0.9 * r);
    expect(wn.W_im!.every((v) => v === 0)).toBe(true);
    expect(wn.g!.length).toBe(30);
    expect(wn.g!.every((v) => v === 0.5)).toBe(true);
    mn.dispose();
    const mr = sequential([realNpu({ inputs: 3, outputs: 2 })], { seed: 1 });
    expect(Object.keys(mr.getWeights()[0]!)).toEqual(['W_re', 'g']);
    mr.dispose();
  });
});

// ---- behaviour --------------------------------------------------------------------------------

describe('what a RealNPU learns (fixed seeds)', () => {
  it('learns x1 / x2 on U[1, 2] (5000 Adam steps) and extrapolates to [2, 6] within 1e-4 relative', async () => {
    await useBackend('simd');
    // Seed 0 starts W_re with the signs of the answer (W_re[0] > 0 > W_re[1]); from the other
    // signs a RealNPU tends to close the gate of the input whose weight points the wrong way and
    // settles in a local minimum (3 of seeds 0-9 succeed here, as with lr 0.003 or 0.03, or
    // inputs from U[0.1, 2] or U[0.5, 3]).
    const m = sequential([realNpu({ inputs: 2, outputs: 1 })], { seed: 0 });
    const rand = prng(17);
    const opt = adam({ learningRate: 0.01 });
    const batch = 64;
    const x = new Float32Array(batch * 2), t = new Float32Array(batch);
    for (let s = 0; s < 5000; s++) {
      for (let b = 0; b < batch; b++) {
        x[2 * b] = 1 + rand();
        x[2 * b + 1] = 1 + rand();
        t[b] = x[2 * b]! / x[2 * b + 1]!;
      }
      m.trainStep(x, t, opt);
    }
    const w = m.getWeights()[0]!;
    console.log(`[units-more] RealNPU x1/x2: W_re ${Array.from(w.W_re!)}, g ${Array.from(w.g!)}`);
    const check = prng(99);
    let worst = 0;
    for (let i = 0; i < 200; i++) {
      const a = Math.fround(2 + 4 * check()), b = Math.fround(2 + 4 * check());
      const y = m.predict(Float32Array.from([a, b]))[0]!;
      worst = Math.max(worst, Math.abs(y - a / b) / (a / b));
    }
    console.log(`[units-more] RealNPU x1/x2: worst relative error on [2, 6]: ${worst.toExponential(2)}`);
    // Measured: W_re = [1.000022, -1.000036], g = [0.999972, 0.999952] (Adam at lr 0.01 keeps
    // moving around the optimum), worst relative error 2.1e-5 on [2, 6].
    expect(Math.abs(w.W_re![0]! - 1)).toBeLessThan(1e-4);
    expect(Math.abs(w.W_re![1]! + 1)).toBeLessThan(1e-4);
    expect(1 - w.g![0]!).toBeLessThan(1e-4);
    expect(1 - w.g![1]!).toBeLessThan(1e-4);
    expect(worst).toBeLessThan(1e-4);
    m.dispose();
  });
});

