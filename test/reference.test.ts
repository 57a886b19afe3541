// Checks of the float64 reference (test/reference/):
//   1. against every golden case (PyTorch autograd, float64; the training runs float32);
//   2. by central finite differences of the MSE loss w.r.t. every parameter and every input, for
//      every layer type and option, on small seeded random cases kept away from the kinks;
//   3. at the kinks, with exact expected values (the conventions of ../shared/DESIGN.md section 1).

import { describe, expect, test } from 'vitest';
import { goldenParams, loadGolden, maxErrRelToMax, maxRelErr, type GoldenCase } from './golden';
import { prng } from './helpers';
import {
  activate,
  refAdam,
  refAdamState,
  refBackward,
  refForward,
  refNacWeight,
  refNauReg,
  refNmuReg,
  refParamNames,
  refParamSize,
  refStack,
  sigmoid,
  SELU_ALPHA,
  SELU_SCALE,
  type Activation,
  type Params,
  type RefLayer,
} from './reference/index';

// ---------------------------------------------------------------------------------------------
// Tolerances
// ---------------------------------------------------------------------------------------------

// Reference (float64) vs golden (float64 PyTorch): both compute the same expressions in double;
// measured agreement is <= 1e-14 (y) and <= 1e-15 (grads), so these leave a wide margin while
// still catching any formula or convention difference.
const Y_REL = 1e-9; // y and loss, elementwise relative
const GRAD_REL = 1e-8; // each gradient tensor, relative to its largest magnitude

// Training: the golden runs were float32 torch.optim.Adam; ours is float64 from the same start.
// float32's unit roundoff is 6e-8; a loss is a mean of squared errors of sums of up to 100
// products (and exp/log for NALU), repeated through 10-20 steps whose Adam updates divide by
// sqrt(v), which amplifies the relative error of small gradients. Measured: losses <= 7.2e-7
// relative, final parameters <= 2.3e-7 relative to each tensor's largest magnitude (worst single
// element ~1e-4 of one learning-rate step). 1e-5 keeps a >10x margin over that and is still 10x
// tighter than the README's 1e-4 for float32 implementations.
const TRAIN_LOSS_REL = 1e-5;
const TRAIN_PARAM_REL = 1e-5;

// Finite differences: central, h = 1e-6, float64. Truncation error ~ h^2 |f'''| / 6 and roundoff
// ~ 1e-16 |L| / h, both <= ~1e-9 for these losses (|L| up to ~1e2, kinks and |x| < 0.1 excluded).
// Measured worst: 1.4e-9 absolute error relative to max(1, largest |gradient| of the tensor)
// (FD_REPORT=1 prints it per case); 1e-7 leaves a 70x margin and still catches any wrong term.
const FD_H = 1e-6;
const FD_TOL = 1e-7;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Rng = () => number;
const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng();
const uniformArray = (rng: Rng, n: number, lo: number, hi: number): Float64Array =>
  Float64Array.from({ length: n }, () => uniform(rng, lo, hi));
/** Values with |v| in [lo, hi] and a random sign (inputs of a log path: kept off the kink at 0). */
const signedAwayArray = (rng: Rng, n: number, lo: number, hi: number): Float64Array =>
  Float64Array.from({ length: n }, () => (rng() < 0.5 ? -1 : 1) * uniform(rng, lo, hi));

const f64 = (a: number[]): Float64Array => Float64Array.from(a);
const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let j = 0; j < a.length; j++) m = Math.max(m, Math.abs(a[j]));
  return m;
};
/** Exact zero, accepting -0. */
const isZero = (v: number): boolean => v === 0;

function layerLabel(l: RefLayer): string {
  const opts = [
    l.type === 'nalu' ? (l.sharedWeights === false ? 'separate' : 'tied') : '',
    l.activation ?? '',
    l.eps !== undefined ? `eps=${l.eps}` : '',
  ].filter(Boolean);
  return `${l.type}${opts.length ? `(${opts.join(',')})` : ''} ${l.inputs}x${l.outputs}`;
}

// ---------------------------------------------------------------------------------------------
// 1. Golden cases
// ---------------------------------------------------------------------------------------------

function checkGoldenCase(c: GoldenCase): void {
  const params = goldenParams(c.layers.map((l) => l.params));
  const x = f64(c.x);
  const target = f64(c.target);

  // parameter names and order are ../shared/DESIGN.md's
  c.layers.forEach((l, k) => expect(Object.keys(l.params), `layer ${k} names`).toEqual(refParamNames(l)));

  const r = refStack(c.layers, params, x, target, c.batch);
  expect(maxRelErr(r.y, c.expected.y), 'y').toBeLessThanOrEqual(Y_REL);
  expect(maxRelErr([r.loss], [c.expected.loss]), 'loss').toBeLessThanOrEqual(Y_REL);
  c.layers.forEach((l, k) => {
    for (const name of refParamNames(l)) {
      expect(maxErrRelToMax(r.grads[k][name], c.expected.grads[k][name]), `grad layer ${k} ${name}`).toBeLessThanOrEqual(GRAD_REL);
    }
  });

  if (c.layers.length === 1) {
    const y = refForward(c.layers[0], params[0], x, c.batch);
    expect(maxRelErr(y, c.expected.y), 'refForward y').toBeLessThanOrEqual(Y_REL);
  }
}

function checkGoldenTraining(c: GoldenCase): void {
  const train = c.train!;
  const params = goldenParams(c.layers.map((l) => l.params));
  const x = f64(c.x);
  const target = f64(c.target);
  const state = refAdamState(params);
  const losses: number[] = [];
  for (let s = 0; s < train.steps; s++) {
    const r = refStack(c.layers, params, x, target, c.batch);
    losses.push(r.loss); // golden losses[s] is the loss before step s
    refAdam(params, r.grads, state, { lr: train.lr });
  }
  expect(state.t).toBe(train.steps);
  expect(maxRelErr(losses, train.losses), 'losses').toBeLessThanOrEqual(TRAIN_LOSS_REL);
  c.layers.forEach((l, k) => {
    for (const name of refParamNames(l)) {
      expect(maxErrRelToMax(params[k][name], train.finalParams[k][name]), `final layer ${k} ${name}`).toBeLessThanOrEqual(
        TRAIN_PARAM_REL,
      );
      // and training moved them (a step that never updates would pass the check above only if
      // the golden parameters had not moved either)
      expect(maxAbs(params[k][name].map((v, j) => v - c.layers[k].params[name][j])), `moved ${k} ${name}`).toBeGreaterThan(0);
    }
  });
}

describe('golden cases (PyTorch autograd)', () => {
  for (const file of ['core', 'dense', 'units'] as const) {
    describe(file, () => {
      const cases = loadGolden(file);
      test('the file has cases', () => expect(cases.length).toBeGreaterThan(0));
      for (const c of cases) {
        test(`${c.name}: y, loss and gradients`, () => checkGoldenCase(c));
        if (c.train) test(`${c.name}: ${c.train.steps} Adam steps (float64 vs float32 golden)`, () => checkGoldenTraining(c));
      }
    });
  }

  test('loader maps the names to the API', () => {
    const core = loadGolden('core');
    const byName = new Map(core.map((c) => [c.name, c]));
    expect(byName.get('nac_mul_3x2')!.layers[0].type).toBe('nacMul');
    expect(byName.get('nac_mul_3x2')!.layers[0].eps).toBe(1e-7);
    expect(byName.get('nalu_shared_5x3')!.layers[0].sharedWeights).toBe(true);
    expect(byName.get('nalu_separate_5x3')!.layers[0].sharedWeights).toBe(false);
    expect(byName.get('nalu_eps_1e-6')!.layers[0].eps).toBe(1e-6);
    const nac = byName.get('nac_odd_7x5_train')!;
    expect(nac.train).toMatchObject({ lr: 0.01, steps: 20 });
    expect(nac.train!.finalParams[0].W_hat).toHaveLength(35);
    const mlp = loadGolden('dense').find((c) => c.name === 'mlp_identity_1_8_8_8_1')!;
    expect(mlp.layers.map((l) => l.activation)).toEqual(['relu', 'relu', 'relu', 'linear']);
    // fresh copies: mutating one does not leak into the next load
    mlp.x[0] = 1234;
    expect(loadGolden('dense').find((c) => c.name === 'mlp_identity_1_8_8_8_1')!.x[0]).not.toBe(1234);
  });

  // Which conventions do the golden files actually pin down? The clamp's "none outside" (NAU and
  // NMU weights outside their range get exactly 0) and relu's zero branch, yes. No value lies
  // exactly on a kink (|x| = 0, a clamp boundary, a pre-activation of 0 or 6), and the relu6 case
  // never exceeds 6, so the boundary conventions come from PyTorch's source and are tested in
  // section 3 below. If a regenerated golden file adds such values, these counts change: look.
  test('what the golden files pin down about the kinks', () => {
    const onKink: string[] = [];
    for (const file of ['core', 'dense', 'units'] as const) {
      for (const c of loadGolden(file)) {
        const params = goldenParams(c.layers.map((l) => l.params));
        let h = f64(c.x);
        c.layers.forEach((l, k) => {
          if ((l.type === 'nacMul' || l.type === 'nalu') && h.some((v) => v === 0)) onKink.push(`${c.name} x=0`);
          if (l.type === 'nau' && params[k].W.some((w) => Math.abs(w) === 1)) onKink.push(`${c.name} |W|=1`);
          if (l.type === 'nmu' && params[k].W.some((w) => w === 0 || w === 1)) onKink.push(`${c.name} W in {0,1}`);
          if (l.type === 'dense') {
            const z = refForward({ ...l, activation: 'linear' }, params[k], h, c.batch);
            if (z.some((v) => v === 0 || v === 6)) onKink.push(`${c.name} z in {0,6}`);
          }
          h = refForward(l, params[k], h, c.batch);
        });
      }
    }
    expect(onKink).toEqual([]);

    const units = new Map(loadGolden('units').map((c) => [c.name, c]));
    const nau = units.get('nau_4x3')!;
    const nauOutside = nau.layers[0].params.W.map((w, j) => (Math.abs(w) > 1 ? j : -1)).filter((j) => j >= 0);
    expect(nauOutside.length).toBeGreaterThan(0);
    for (const j of nauOutside) expect(nau.expected.grads[0].W[j]).toBe(0);
    const nmu = units.get('nmu_3x2')!;
    const nmuOutside = nmu.layers[0].params.W.map((w, j) => (w < 0 || w > 1 ? j : -1)).filter((j) => j >= 0);
    expect(nmuOutside.length).toBeGreaterThan(0);
    for (const j of nmuOutside) expect(nmu.expected.grads[0].W[j]).toBe(0);

    const relu6 = loadGolden('dense').find((c) => c.name === 'dense_relu6_4x3')!;
    const z = refForward({ ...relu6.layers[0], activation: 'linear' }, goldenParams([relu6.layers[0].params])[0], f64(relu6.x), relu6.batch);
    expect(z.some((v) => v < 0)).toBe(true);
    expect(z.some((v) => v > 6)).toBe(false); // the upper saturation is not exercised by the golden file
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Central finite differences
// ---------------------------------------------------------------------------------------------

interface FdCase {
  layers: RefLayer[];
  params: Params[];
  x: Float64Array;
  target: Float64Array;
  batch: number;
}

/** Distance margins to the kinks that finite differences must not straddle. */
const LOG_MARGIN = 0.1; // |x| of a log path: the curvature of log near 0 spoils the FD estimate
const KINK_MARGIN = 1e-3; // pre-activations and clamped weights: h = 1e-6 moves them far less

function awayFromKinks(layer: RefLayer, p: Params, x: Float64Array, batch: number): boolean {
  switch (layer.type) {
    case 'nacMul':
    case 'nalu':
      return x.every((v) => Math.abs(v) >= LOG_MARGIN);
    case 'nau':
      return p.W.every((w) => Math.abs(Math.abs(w) - 1) >= KINK_MARGIN);
    case 'nmu':
      return p.W.every((w) => Math.abs(w) >= KINK_MARGIN && Math.abs(w - 1) >= KINK_MARGIN);
    case 'dense': {
      const z = refForward({ ...layer, activation: 'linear' }, p, x, batch);
      return z.every((v) => Math.abs(v) >= KINK_MARGIN && Math.abs(v - 6) >= KINK_MARGIN);
    }
    default:
      return true;
  }
}

function randomParams(rng: Rng, layer: RefLayer): Params {
  const p: Params = {};
  for (const name of refParamNames(layer)) {
    const n = refParamSize(layer, name);
    switch (layer.type) {
      case 'nau':
        p[name] = uniformArray(rng, n, -1.5, 1.5); // some outside [-1, 1]
        break;
      case 'nmu':
        p[name] = uniformArray(rng, n, -0.4, 1.4); // some outside [0, 1]
        break;
      case 'dense':
        p[name] = name === 'b' ? uniformArray(rng, n, -1, 1) : uniformArray(rng, n, -2, 2);
        break;
      default:
        p[name] = uniformArray(rng, n, -1.5, 1.5);
    }
  }
  return p;
}

/** A random case whose every layer sits away from its kinks (redrawn until it does; deterministic). */
function randomCase(rng: Rng, layers: RefLayer[], batch: number): FdCase {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const params = layers.map((l) => randomParams(rng, l));
    const first = layers[0];
    const x =
      first.type === 'nacMul' || first.type === 'nalu'
        ? signedAwayArray(rng, batch * first.inputs, 0.15, 2)
        : first.type === 'dense'
          ? uniformArray(rng, batch * first.inputs, -3, 3)
          : uniformArray(rng, batch * first.inputs, -2, 2);
    const target = uniformArray(rng, batch * layers[layers.length - 1].outputs, -2, 2);
    let h = x;
    let ok = true;
    for (let k = 0; k < layers.length && ok; k++) {
      ok = awayFromKinks(layers[k], params[k], h, batch);
      h = refForward(layers[k], params[k], h, batch);
    }
    if (ok && h.every(Number.isFinite)) return { layers, params, x, target, batch };
  }
  throw new Error(`no kink-free random case for ${layers.map(layerLabel).join(' -> ')}`);
}

/** Worst |fd - analytic| / max(1, max |analytic|) over every parameter tensor and the input. */
function fdCheck(c: FdCase): { worst: number; where: string } {
  const { layers, params, x, target, batch } = c;
  const lossAt = (): number => refStack(layers, params, x, target, batch).loss;
  const base = refStack(layers, params, x, target, batch);
  let worst = 0;
  let where = '';
  const compare = (t: Float64Array, analytic: Float64Array, label: string): void => {
    expect(analytic.length, label).toBe(t.length);
    const scale = Math.max(1, maxAbs(analytic));
    for (let j = 0; j < t.length; j++) {
      const v = t[j];
      t[j] = v + FD_H;
      const lp = lossAt();
      t[j] = v - FD_H;
      const lm = lossAt();
      t[j] = v;
      const fd = (lp - lm) / (2 * FD_H);
      const err = Math.abs(fd - analytic[j]) / scale;
      if (!(err <= worst)) {
        worst = err;
        where = `${label}[${j}] fd=${fd} analytic=${analytic[j]}`;
      }
    }
  };
  layers.forEach((l, k) => {
    expect(Object.keys(base.grads[k]), `layer ${k} gradient names`).toEqual(refParamNames(l));
    for (const name of refParamNames(l)) compare(params[k][name], base.grads[k][name], `layer ${k} ${name}`);
  });
  compare(x, base.dx, 'x');
  if (process.env.FD_REPORT) console.log(`FD worst ${worst.toExponential(2)} ${where}`);
  return { worst, where };
}

const SHAPES: [inputs: number, outputs: number, batch: number][] = [
  [1, 1, 1],
  [3, 2, 3],
  [5, 3, 5],
  [2, 4, 2],
  [4, 1, 4],
];

const ACTIVATIONS: Activation[] = ['linear', 'relu', 'relu6', 'tanh', 'sigmoid', 'softsign', 'selu', 'elu'];

const SINGLE: Omit<RefLayer, 'inputs' | 'outputs'>[] = [
  { type: 'nac' },
  { type: 'nacMul' },
  { type: 'nacMul', eps: 1e-6 },
  { type: 'nalu' },
  { type: 'nalu', sharedWeights: false },
  { type: 'nalu', eps: 1e-6 },
  ...ACTIVATIONS.map((activation) => ({ type: 'dense' as const, activation })),
  { type: 'nau' },
  { type: 'nmu' },
];

describe('finite differences of the loss (float64, h = 1e-6)', () => {
  SINGLE.forEach((opts, index) => {
    const name = layerLabel({ ...opts, inputs: 0, outputs: 0 }).replace(/ 0x0$/, '');
    test(name, () => {
      const rng = prng(0x5eed0000 + index);
      for (const [inputs, outputs, batch] of SHAPES) {
        const layer: RefLayer = { ...opts, inputs, outputs };
        const c = randomCase(rng, [layer], batch);
        const { worst, where } = fdCheck(c);
        expect(worst, `${layerLabel(layer)} batch ${batch}: ${where}`).toBeLessThanOrEqual(FD_TOL);
      }
    });
  });

  const STACKS: { name: string; layers: RefLayer[]; batch: number }[] = [
    {
      name: 'nalu tied 3->2 -> nalu separate 2->1',
      layers: [
        { type: 'nalu', inputs: 3, outputs: 2 },
        { type: 'nalu', inputs: 2, outputs: 1, sharedWeights: false },
      ],
      batch: 4,
    },
    {
      name: 'nac 3->2 -> nacMul 2->2',
      layers: [
        { type: 'nac', inputs: 3, outputs: 2 },
        { type: 'nacMul', inputs: 2, outputs: 2 },
      ],
      batch: 3,
    },
    {
      name: 'nau 4->3 -> nmu 3->1',
      layers: [
        { type: 'nau', inputs: 4, outputs: 3 },
        { type: 'nmu', inputs: 3, outputs: 1 },
      ],
      batch: 5,
    },
    {
      name: 'dense relu 2->4 -> tanh 4->3 -> linear 3->1',
      layers: [
        { type: 'dense', inputs: 2, outputs: 4, activation: 'relu' },
        { type: 'dense', inputs: 4, outputs: 3, activation: 'tanh' },
        { type: 'dense', inputs: 3, outputs: 1, activation: 'linear' },
      ],
      batch: 5,
    },
    {
      name: 'dense elu 2->3 -> nau 3->2 -> nmu 2->1',
      layers: [
        { type: 'dense', inputs: 2, outputs: 3, activation: 'elu' },
        { type: 'nau', inputs: 3, outputs: 2 },
        { type: 'nmu', inputs: 2, outputs: 1 },
      ],
      batch: 2,
    },
  ];
  STACKS.forEach((s, index) => {
    test(`stack: ${s.name}`, () => {
      const rng = prng(0x57ac0000 + index);
      for (let rep = 0; rep < 3; rep++) {
        const { worst, where } = fdCheck(randomCase(rng, s.layers, s.batch));
        expect(worst, where).toBeLessThanOrEqual(FD_TOL);
      }
    });
  });

  // The random cases above must reach every branch, or a wrong branch could hide.
  test('the random cases cover the branches (saturations, clamped weights, negative inputs)', () => {
    const seen = { relu6Low: 0, relu6Mid: 0, relu6High: 0, nauOut: 0, nauIn: 0, nmuOut: 0, nmuIn: 0, logNeg: 0 };
    const kinds: RefLayer['type'][] = ['dense', 'nau', 'nmu', 'nacMul'];
    kinds.forEach((type) => {
      const rng = prng(0xc0de0000 + type.length);
      for (const [inputs, outputs, batch] of SHAPES) {
        const layer: RefLayer = { type, inputs, outputs, activation: type === 'dense' ? 'relu6' : undefined };
        const c = randomCase(rng, [layer], batch);
        if (type === 'dense') {
          const z = refForward({ ...layer, activation: 'linear' }, c.params[0], c.x, batch);
          z.forEach((v) => (v < 0 ? seen.relu6Low++ : v > 6 ? seen.relu6High++ : seen.relu6Mid++));
        }
        if (type === 'nau') c.params[0].W.forEach((w) => (Math.abs(w) > 1 ? seen.nauOut++ : seen.nauIn++));
        if (type === 'nmu') c.params[0].W.forEach((w) => (w < 0 || w > 1 ? seen.nmuOut++ : seen.nmuIn++));
        if (type === 'nacMul') seen.logNeg += c.x.filter((v) => v < 0).length;
      }
    });
    for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Kinks, with exact expected values
// ---------------------------------------------------------------------------------------------

const close = (actual: number, expected: number, rel = 1e-14): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
};

describe('kink conventions', () => {
  test('nacMul: an input exactly 0 (or -0) gets dx = 0 from the log path; W still gets log(eps)', () => {
    const layer: RefLayer = { type: 'nacMul', inputs: 3, outputs: 1 };
    const p: Params = { W_hat: f64([0.7, -0.4, 0.9]), M_hat: f64([0.3, 1.1, -0.2]) };
    const w = refNacWeight(p.W_hat, p.M_hat);
    const x = f64([0, -0, -2]);
    const eps = 1e-7;
    const y = refForward(layer, p, x, 1);
    const yExp = Math.exp(Math.log(eps) * w[0] + Math.log(eps) * w[1] + Math.log(2 + eps) * w[2]);
    close(y[0], yExp);
    const { dx, grads } = refBackward(layer, p, x, 1, f64([1]));
    expect(isZero(dx[0]) && isZero(dx[1])).toBe(true);
    close(dx[2], (yExp * w[2] * -1) / (2 + eps));
    // dW_0 = log(eps) * y, through the weight transform
    const t = Math.tanh(0.7);
    close(grads.W_hat[0], Math.log(eps) * yExp * (1 - t * t) * sigmoid(0.3));
  });

  test('nalu: an input exactly 0 gets dx from the additive path and the gate only', () => {
    for (const sharedWeights of [true, false]) {
      const layer: RefLayer = { type: 'nalu', inputs: 2, outputs: 1, sharedWeights };
      const p: Params = { W_hat: f64([0.8, -0.5]), M_hat: f64([0.4, 0.9]), G: f64([0.6, -0.7]) };
      if (!sharedWeights) Object.assign(p, { W_hat_mul: f64([-0.3, 1.2]), M_hat_mul: f64([0.5, -0.1]) });
      const w = refNacWeight(p.W_hat, p.M_hat);
      const wm = sharedWeights ? w : refNacWeight(p.W_hat_mul, p.M_hat_mul);
      const eps = 1e-7;
      const x = f64([0, 1.5]);
      const a = 1.5 * w[1];
      const m = Math.exp(Math.log(eps) * wm[0] + Math.log(1.5 + eps) * wm[1]);
      const g = sigmoid(1.5 * p.G[1]);
      close(refForward(layer, p, x, 1)[0], g * a + (1 - g) * m);
      const { dx } = refBackward(layer, p, x, 1, f64([1]));
      const dg = (a - m) * g * (1 - g);
      close(dx[0], g * w[0] + dg * p.G[0]); // no log-path term
      close(dx[1], g * w[1] + ((1 - g) * m * wm[1]) / (1.5 + eps) + dg * p.G[1]);
    }
  });

  test('nau: weights exactly +-1 pass the gradient, +-1.5 pass none', () => {
    const layer: RefLayer = { type: 'nau', inputs: 5, outputs: 1 };
    const p: Params = { W: f64([1, 1.5, -1, -1.5, 0.3]) };
    const x = f64([1, 2, 3, 4, 5]);
    expect(refForward(layer, p, x, 1)[0]).toBe(1 + 2 - 3 - 4 + 1.5);
    const { dx, grads } = refBackward(layer, p, x, 1, f64([1]));
    expect(Array.from(grads.W)).toEqual([1, 0, 3, 0, 5]);
    expect(Array.from(dx)).toEqual([1, 1, -1, -1, 0.3]);
  });

  test('nmu: a factor exactly 0 still gives the leave-one-out gradients; W = 1 passes', () => {
    const layer: RefLayer = { type: 'nmu', inputs: 3, outputs: 1 };
    // f = [1*0 + 0, 0.5*2 + 0.5, 0.3*(-1) + 0.7] = [0, 1.5, 0.4]
    const p: Params = { W: f64([1, 0.5, 0.3]) };
    const x = f64([0, 2, -1]);
    const f1 = 0.5 * 2 + 1 - 0.5;
    const f2 = 0.3 * -1 + 1 - 0.3;
    expect(isZero(refForward(layer, p, x, 1)[0])).toBe(true);
    const { dx, grads } = refBackward(layer, p, x, 1, f64([1]));
    close(grads.W[0], (0 - 1) * f1 * f2); // W = 1 on the boundary: passes
    expect(isZero(grads.W[1]) && isZero(grads.W[2])).toBe(true);
    close(dx[0], 1 * f1 * f2);
    expect(isZero(dx[1]) && isZero(dx[2])).toBe(true);
    expect([...dx, ...grads.W].every(Number.isFinite)).toBe(true);
  });

  test('nmu: two zero factors give all-zero gradients, not NaN', () => {
    const layer: RefLayer = { type: 'nmu', inputs: 3, outputs: 1 };
    const { dx, grads } = refBackward(layer, { W: f64([1, 1, 0.5]) }, f64([0, 0, 2]), 1, f64([1]));
    expect([...dx, ...grads.W].every(isZero)).toBe(true);
  });

  test('nmu: W exactly 0 passes the gradient, -0.5 and 1.5 pass none', () => {
    const layer: RefLayer = { type: 'nmu', inputs: 4, outputs: 1 };
    // Wc = [0, 0, 1, 0.25]; f = [1, 1, 0.5, 1.25]; y = 0.625
    const p: Params = { W: f64([0, -0.5, 1.5, 0.25]) };
    const x = f64([3, 2, 0.5, 2]);
    expect(refForward(layer, p, x, 1)[0]).toBe(0.625);
    const { dx, grads } = refBackward(layer, p, x, 1, f64([1]));
    // L = [0.625, 0.625, 1.25, 0.5]; dWc = (x - 1) L = [1.25, 0.625, -0.625, 0.5]; mask [1, 0, 0, 1]
    expect(Array.from(grads.W)).toEqual([1.25, 0, 0, 0.5]);
    expect(Array.from(dx)).toEqual([0, 0, 1.25, 0.125]);
  });

  test('dense activations at their kinks follow PyTorch (relu6 passes only strictly inside (0, 6))', () => {
    // z = x * 1 + b with x and b chosen so that z is exactly the kink; dz = act'(z) = db = dx.
    const slopes: [Activation, number, number][] = [
      ['linear', 0, 1],
      ['relu', 0, 0],
      ['relu', 6, 1],
      ['relu6', 0, 0],
      ['relu6', 6, 0],
      ['relu6', 3, 1],
      ['relu6', 7, 0],
      ['relu6', -1, 0],
      ['tanh', 0, 1],
      ['sigmoid', 0, 0.25],
      ['softsign', 0, 1],
      ['elu', 0, 1],
      ['selu', 0, SELU_SCALE * SELU_ALPHA],
    ];
    for (const [activation, z, slope] of slopes) {
      const layer: RefLayer = { type: 'dense', inputs: 1, outputs: 1, activation };
      for (const [x, b] of [
        [z, 0],
        [0, z],
      ]) {
        const p: Params = { W: f64([1]), b: f64([b]) };
        const { dx, grads } = refBackward(layer, p, f64([x]), 1, f64([1]));
        expect(dx[0], `${activation} at z = ${z}`).toBe(slope);
        expect(grads.b[0], `${activation} db at z = ${z}`).toBe(slope);
        expect(grads.W[0] + 0, `${activation} dW at z = ${z}`).toBe(slope * x + 0); // + 0: -0 and 0 alike
        expect(refForward(layer, p, f64([x]), 1)[0]).toBe(activate(activation, z));
      }
    }
    expect(activate('relu6', 7)).toBe(6);
    expect(activate('relu6', -1)).toBe(0);
    expect(activate('selu', -1)).toBe(SELU_SCALE * SELU_ALPHA * Math.expm1(-1));
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Further invariants
// ---------------------------------------------------------------------------------------------

describe('invariants', () => {
  test('nalu: separate weights equal to the tied ones give the same y, and the gradients split', () => {
    const rng = prng(0x7153);
    const tied: RefLayer = { type: 'nalu', inputs: 4, outputs: 3 };
    const sep: RefLayer = { ...tied, sharedWeights: false };
    const p = randomParams(rng, tied);
    const ps: Params = { ...p, W_hat_mul: p.W_hat.slice(), M_hat_mul: p.M_hat.slice() };
    const x = signedAwayArray(rng, 5 * 4, 0.2, 2);
    const dy = uniformArray(rng, 5 * 3, -1, 1);
    expect(Array.from(refForward(sep, ps, x, 5))).toEqual(Array.from(refForward(tied, p, x, 5)));
    const a = refBackward(tied, p, x, 5, dy);
    const b = refBackward(sep, ps, x, 5, dy);
    expect(maxErrRelToMax(b.dx, a.dx)).toBeLessThanOrEqual(1e-15);
    expect(maxErrRelToMax(b.grads.G, a.grads.G)).toBe(0);
    for (const [n, nm] of [
      ['W_hat', 'W_hat_mul'],
      ['M_hat', 'M_hat_mul'],
    ]) {
      expect(maxErrRelToMax(b.grads[n].map((v, j) => v + b.grads[nm][j]), a.grads[n])).toBeLessThanOrEqual(1e-15);
    }
  });

  test('gradients of a batch are the sums of the per-sample gradients', () => {
    const rng = prng(0xba7c);
    for (const type of ['nalu', 'nmu', 'dense'] as const) {
      const layer: RefLayer = { type, inputs: 3, outputs: 2, activation: type === 'dense' ? 'tanh' : undefined };
      const p = randomParams(rng, layer);
      const batch = 4;
      const x = signedAwayArray(rng, batch * 3, 0.2, 2);
      const dy = uniformArray(rng, batch * 2, -1, 1);
      const whole = refBackward(layer, p, x, batch, dy);
      const sum: Params = Object.fromEntries(refParamNames(layer).map((n) => [n, new Float64Array(refParamSize(layer, n))]));
      for (let b = 0; b < batch; b++) {
        const one = refBackward(layer, p, x.slice(b * 3, b * 3 + 3), 1, dy.slice(b * 2, b * 2 + 2));
        for (const n of refParamNames(layer)) one.grads[n].forEach((v, j) => (sum[n][j] += v));
        expect(Array.from(one.dx)).toEqual(Array.from(whole.dx.slice(b * 3, b * 3 + 3)));
      }
      for (const n of refParamNames(layer)) expect(maxErrRelToMax(sum[n], whole.grads[n]), `${type} ${n}`).toBeLessThanOrEqual(1e-14);
    }
  });

  test('refParamNames follows ../shared/DESIGN.md section 1', () => {
    const l = (type: RefLayer['type'], o: Partial<RefLayer> = {}): RefLayer => ({ type, inputs: 2, outputs: 3, ...o });
    expect(refParamNames(l('nac'))).toEqual(['W_hat', 'M_hat']);
    expect(refParamNames(l('nacMul'))).toEqual(['W_hat', 'M_hat']);
    expect(refParamNames(l('nalu'))).toEqual(['W_hat', 'M_hat', 'G']);
    expect(refParamNames(l('nalu', { sharedWeights: false }))).toEqual(['W_hat', 'M_hat', 'W_hat_mul', 'M_hat_mul', 'G']);
    expect(refParamNames(l('nau'))).toEqual(['W']);
    expect(refParamNames(l('nmu'))).toEqual(['W']);
    expect(refParamNames(l('dense'))).toEqual(['W', 'b']);
    expect(refParamSize(l('dense'), 'b')).toBe(3);
    expect(refParamSize(l('dense'), 'W')).toBe(6);
  });

  test('shape errors are reported, not silently read out of bounds', () => {
    const layer: RefLayer = { type: 'nac', inputs: 2, outputs: 1 };
    const p: Params = { W_hat: f64([0, 0]), M_hat: f64([0, 0]) };
    expect(() => refForward(layer, p, f64([1, 2, 3]), 2)).toThrow(/x has 3 values/);
    expect(() => refForward(layer, { W_hat: f64([0]) , M_hat: f64([0, 0]) }, f64([1, 2]), 1)).toThrow(/W_hat has 1 values/);
    expect(() => refForward(layer, { W_hat: f64([0, 0]) }, f64([1, 2]), 1)).toThrow(/missing parameter M_hat/);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Adam and the regularisers
// ---------------------------------------------------------------------------------------------

describe('refAdam', () => {
  test('the first step moves each parameter by lr * g / (|g| + eps) (bias corrections cancel)', () => {
    const p: Params[] = [{ W: f64([0.5, -0.25, 1, 0]) }];
    const g: Params[] = [{ W: f64([0.3, -2, 1e-9, 0]) }];
    const state = { m: [] as Params[], v: [] as Params[], t: 0 }; // moments created lazily
    refAdam(p, g, state, { lr: 0.01 });
    expect(state.t).toBe(1);
    const before = [0.5, -0.25, 1, 0];
    g[0].W.forEach((gj, j) => {
      const expected = before[j] - (0.01 * gj) / (Math.abs(gj) + 1e-8);
      expect(Math.abs(p[0].W[j] - expected)).toBeLessThanOrEqual(1e-15);
    });
    expect(Array.from(state.m[0].W)).toEqual(Array.from(g[0].W).map((v) => (1 - 0.9) * v));
  });

  test('a second step follows the bias-corrected moments', () => {
    const p: Params[] = [{ W: f64([1]) }];
    const state = refAdamState(p);
    refAdam(p, [{ W: f64([0.5]) }], state, { lr: 0.1, beta1: 0.8, beta2: 0.99, eps: 1e-6 });
    const p1 = p[0].W[0];
    refAdam(p, [{ W: f64([-1]) }], state, { lr: 0.1, beta1: 0.8, beta2: 0.99, eps: 1e-6 });
    const m = 0.8 * (0.2 * 0.5) + 0.2 * -1;
    const v = 0.99 * (0.01 * 0.25) + 0.01 * 1;
    const expected = p1 - ((0.1 / (1 - 0.8 ** 2)) * m) / (Math.sqrt(v) / Math.sqrt(1 - 0.99 ** 2) + 1e-6);
    expect(Math.abs(p[0].W[0] - expected)).toBeLessThanOrEqual(1e-15);
  });
});

describe('sparsity regularisers', () => {
  test('NAU: R = mean(min(|W|, 1 - |W|)), subgradient 0 at W = 0 and at |W| = 0.5', () => {
    const W = f64([0, 0.5, -0.5, 0.25, -0.25, 0.75, -0.75, 1.2]);
    const { r, grad } = refNauReg(W);
    close(r, (0 + 0.5 + 0.5 + 0.25 + 0.25 + 0.25 + 0.25 - 0.2) / 8);
    expect(Array.from(grad).map((v) => v * 8)).toEqual([0, 0, 0, 1, -1, -1, 1, -1]);
  });

  test('NMU: R = mean(min(W, 1 - W)), subgradient 0 at W = 0.5', () => {
    const W = f64([0, 0.5, 0.25, 0.75, 1, -0.2, 1.3]);
    const { r, grad } = refNmuReg(W);
    close(r, (0 + 0.5 + 0.25 + 0.25 + 0 - 0.2 - 0.3) / 7);
    expect(Array.from(grad).map((v) => v * 7)).toEqual([1, 0, 1, -1, -1, 1, -1]);
  });

  test('both match central differences away from the kinks', () => {
    const rng = prng(0x4e67);
    for (const [reg, lo, hi, kinks] of [
      [refNauReg, -1.5, 1.5, [-0.5, 0, 0.5]],
      [refNmuReg, -0.5, 1.5, [0.5]],
    ] as const) {
      const W = uniformArray(rng, 12, lo, hi).map((w) => (kinks.some((k) => Math.abs(w - k) < 1e-3) ? w + 0.01 : w));
      const { grad } = reg(W);
      for (let j = 0; j < W.length; j++) {
        const v = W[j];
        W[j] = v + FD_H;
        const rp = reg(W).r;
        W[j] = v - FD_H;
        const rm = reg(W).r;
        W[j] = v;
        expect(Math.abs((rp - rm) / (2 * FD_H) - grad[j])).toBeLessThanOrEqual(1e-8);
      }
    }
  });
});
