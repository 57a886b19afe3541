// Property-based tests (fast-check, fixed seeds), on both builds:
//
//   1. Random stacks of nac, nacMul, nalu (tied and separate) and dense (every activation), with
//      random sizes, batches, parameters and inputs (exact zeros and negative values included):
//      predict equals the float64 reference (test/reference: refForward, layer by layer) within
//      a first-order forward error bound computed alongside it (below).
//   2. Save, load, predict equals predict bit for bit (the binary and the JSON form), for random
//      models of every layer type and option, special parameter values included (-0,
//      subnormals, and NaN and Infinity with allowNonFinite); re-saving gives the same bytes;
//      a loaded model with its optimizer takes the same next training step.
//   3. Random corruption of a saved model (bit flips, overwritten bytes, truncation, appended,
//      inserted, deleted and duplicated bytes) is always rejected with a NaluError, or loads to
//      a model identical to the original; never another exception, never NaN parameters. Random
//      edits of the JSON text give a NaluError or a model with finite parameters.
//
// The tolerance of property 1. A fixed tolerance cannot hold for random stacks: a hidden value
// that is the small difference of large terms, fed to the next layer's log(|h| + eps), turns
// f32's relative error of 6e-8 into any error at all. So each case carries its own bound, a
// running error analysis in the style of Wilkinson's, computed in f64 next to the reference.
// Per sample, each layer maps its inputs x, known to within dx (componentwise, absolute), to
// outputs y known to within dy:
//   u = 2^-24 (f32's unit roundoff). Transcendentals: exp, log, tanh within 1 ulp (<= 2u
//     relative), sigmoid within 2 ulps (<= 4u): the bounds assembly/math.ts states and
//     test/math.test.ts measures. No FMA: each product and sum rounds once.
//   effective weights W = tanh(W_hat) sigmoid(M_hat): |dW| <= 8u |W| (2u + 4u + 1u, rounded up).
//   dot products s = sum_i x_i w_i of length K, in any order: |ds| <= (K + 1 + cw) u sum|x_i||w_i|
//     + sum |w_i| dx_i, where cw = 8 for effective weights, 0 for G and dense W (the classic
//     gamma_K bound, plus the weights' own error, plus the propagated input error).
//   log path l = log(|x| + eps): |dl| <= u + 2u |l| + dx / (max(|x| - dx, 0) + eps) (the rounding of
//     |x| + eps, log's own error, and the largest slope of log over the input's interval).
//   m = exp(z): |dm| <= m expm1(dz) + 2u m e^dz + 2^-149 (exp over the interval, its own error,
//     subnormal results).
//   g = sigmoid(s): |dg| <= max sigmoid' over [s - ds, s + ds] * ds + 4u g.
//   nalu y = g a + (1 - g) m: |dy| <= dg (|a - m| + da + dm) + g da + (1 - g) dm + 6u (|a| + |m|)
//     (the error of the gate, of both paths, and the rounding of the combination, however the
//     kernel orders it: g a + (1 - g) m, or m + g (a - m)).
//   dense y = act(x W + b): |dy| <= L dz + 8u (|y| + 2), with L the activation's Lipschitz
//     constant (1; sigmoid 1/4; selu scale * alpha = 1.76) and an absolute term for the e^z - 1
//     of elu and selu.
// Every step bounds the worst case over its input interval (mean value theorem), except the
// products of two small errors, which are dropped; the test allows 2 dy. The check is not
// vacuous: the bound is at most 1e-4 of the largest output in most cases (asserted), where a
// wrong formula, a missing term or a wrong sign(0) shows up at 1e-2 or more.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adam, dense, fromJSON, load, nac, nacMul, nalu, NaluError, nau, nmu, rmsprop, sequential, sgd,
  type Activation, type LayerSpec, type Model, type Weights,
} from '../src/index';
import { BUILDS, bits, prng, useBackend } from './helpers';
import { sameBits } from './helpers-random';
import { refForward, refNacWeight, SELU_ALPHA, SELU_SCALE, type Params, type RefLayer } from './reference';

const SEED = 20261128;
const U = 2 ** -24;
const ACTS: Activation[] = ['linear', 'relu', 'relu6', 'tanh', 'sigmoid', 'softsign', 'selu', 'elu'];
const LIPSCHITZ: Record<Activation, number> = {
  linear: 1, relu: 1, relu6: 1, tanh: 1, sigmoid: 0.25, softsign: 1, selu: SELU_SCALE * SELU_ALPHA, elu: 1,
};

// ---- random stacks ---------------------------------------------------------------------------

type Kind = 'nac' | 'nacMul' | 'naluTied' | 'naluSeparate' | 'dense' | 'nau' | 'nmu';

interface Def {
  kind: Kind;
  inputs: number;
  outputs: number;
  eps: number;
  activation: Activation;
}

function specOf(d: Def): LayerSpec {
  const io = { inputs: d.inputs, outputs: d.outputs };
  switch (d.kind) {
    case 'nac': return nac(io);
    case 'nacMul': return nacMul({ ...io, eps: d.eps });
    case 'naluTied': return nalu({ ...io, eps: d.eps });
    case 'naluSeparate': return nalu({ ...io, eps: d.eps, sharedWeights: false });
    case 'dense': return dense({ ...io, activation: d.activation });
    case 'nau': return nau(io);
    case 'nmu': return nmu(io);
  }
}

function refOf(d: Def): RefLayer {
  const r: RefLayer = { type: d.kind === 'naluTied' || d.kind === 'naluSeparate' ? 'nalu' : d.kind, inputs: d.inputs, outputs: d.outputs };
  // The module stores eps as f32: the reference takes that value.
  if (d.kind === 'nacMul' || r.type === 'nalu') r.eps = Math.fround(d.eps);
  if (r.type === 'nalu') r.sharedWeights = d.kind === 'naluTied';
  if (d.kind === 'dense') r.activation = d.activation;
  return r;
}

/** A stack of 1 to 3 layers of `kinds`, 1 to 6 units wide. */
function stackArb(kinds: Kind[]) {
  return fc.integer({ min: 1, max: 3 }).chain((depth) => fc.record({
    widths: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: depth + 1, maxLength: depth + 1 }),
    kinds: fc.array(fc.constantFrom(...kinds), { minLength: depth, maxLength: depth }),
    eps: fc.array(fc.constantFrom(1e-7, 1e-6, 1e-5), { minLength: depth, maxLength: depth }),
    acts: fc.array(fc.constantFrom(...ACTS), { minLength: depth, maxLength: depth }),
  })).map(({ widths, kinds: ks, eps, acts }) => ks.map((kind, k): Def => ({
    kind, inputs: widths[k]!, outputs: widths[k + 1]!, eps: eps[k]!, activation: acts[k]!,
  })));
}

/** Seeded parameters of `model`: W_hat, M_hat, G in [-2, 2]; dense W and b, NAU and NMU W in [-1, 1]. */
function randomWeights(model: Model, seed: number): Weights {
  const rand = prng(seed);
  return model.getWeights().map((rec) => Object.fromEntries(Object.entries(rec).map(([name, a]) => {
    const scale = name === 'W' || name === 'b' ? 1 : 2;
    return [name, Float32Array.from(a, () => scale * (2 * rand() - 1))];
  })));
}

/** Inputs with |x| in [0.05, 3], a fraction of them exactly 0, about 40% negative. */
function randomInputs(n: number, seed: number, zeros: number): Float32Array {
  const rand = prng(seed);
  return Float32Array.from({ length: n }, () => {
    if (rand() < zeros) return 0;
    const v = 0.05 + 2.95 * rand();
    return rand() < 0.4 ? -v : v;
  });
}

// ---- the error bound -------------------------------------------------------------------------

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

interface Layered {
  y: number[];
  dy: number[];
  /** Largest |exponent| of an exp and largest |value| of the layer, to keep f32 in range. */
  maxZ: number;
  maxV: number;
}

/** s = sum x_i w_i (column o of the [K, O] matrix w) and its bound. */
function dot(x: number[], dx: number[], w: ArrayLike<number>, o: number, O: number, cw: number): [number, number] {
  const K = x.length;
  let s = 0, abs = 0, prop = 0;
  for (let i = 0; i < K; i++) {
    const wi = w[i * O + o]!;
    s += x[i]! * wi;
    abs += Math.abs(x[i]! * wi);
    prop += Math.abs(wi) * dx[i]!;
  }
  return [s, (K + 1 + cw) * U * abs + prop];
}

/** One sample through one layer, with the error bound (see the header). */
function boundLayer(d: Def, p: Params, x: number[], dx: number[]): Layered {
  const O = d.outputs;
  const y: number[] = [], dy: number[] = [];
  let maxZ = 0, maxV = 0;
  const eps = Math.fround(d.eps);
  const logPath = () => {
    const l = x.map((v) => Math.log(Math.abs(v) + eps));
    const dl = x.map((v, i) => U + 2 * U * Math.abs(l[i]!) + dx[i]! / (Math.max(Math.abs(v) - dx[i]!, 0) + eps));
    return [l, dl] as const;
  };
  const expBound = (z: number, dz: number): [number, number] => {
    const m = Math.exp(z);
    maxZ = Math.max(maxZ, Math.abs(z));
    return [m, m * Math.expm1(dz) + 2 * U * m * Math.exp(dz) + 2 ** -149];
  };
  switch (d.kind) {
    case 'nac': {
      const w = refNacWeight(p.W_hat!, p.M_hat!);
      for (let o = 0; o < O; o++) {
        const [s, ds] = dot(x, dx, w, o, O, 8);
        y.push(s); dy.push(ds);
      }
      break;
    }
    case 'nacMul': {
      const w = refNacWeight(p.W_hat!, p.M_hat!);
      const [l, dl] = logPath();
      for (let o = 0; o < O; o++) {
        const [z, dz] = dot(l as number[], dl as number[], w, o, O, 8);
        const [m, dm] = expBound(z, dz);
        y.push(m); dy.push(dm);
      }
      break;
    }
    case 'naluTied':
    case 'naluSeparate': {
      const w = refNacWeight(p.W_hat!, p.M_hat!);
      const wm = d.kind === 'naluTied' ? w : refNacWeight(p.W_hat_mul!, p.M_hat_mul!);
      const [l, dl] = logPath();
      for (let o = 0; o < O; o++) {
        const [a, da] = dot(x, dx, w, o, O, 8);
        const [z, dz] = dot(l as number[], dl as number[], wm, o, O, 8);
        const [m, dm] = expBound(z, dz);
        const [s, ds] = dot(x, dx, p.G!, o, O, 0);
        const g = sigmoid(s);
        const t = Math.min(Math.max(0, s - ds), s + ds);
        const dg = sigmoid(t) * (1 - sigmoid(t)) * ds + 4 * U * g;
        y.push(g * a + (1 - g) * m);
        dy.push(dg * (Math.abs(a - m) + da + dm) + g * da + (1 - g) * dm + 6 * U * (Math.abs(a) + Math.abs(m)));
        maxV = Math.max(maxV, Math.abs(a), m);
      }
      break;
    }
    case 'dense': {
      for (let o = 0; o < O; o++) {
        const [s, ds] = dot(x, dx, p.W!, o, O, 0);
        const b = p.b![o]!;
        const z = s + b;
        const dz = ds + (x.length + 2) * U * Math.abs(b);
        const v = activate(d.activation, z);
        y.push(v);
        dy.push(LIPSCHITZ[d.activation] * dz + 8 * U * (Math.abs(v) + 2));
        maxV = Math.max(maxV, Math.abs(z));
      }
      break;
    }
    default:
      throw new Error(`no bound for ${d.kind}`);
  }
  for (const v of y) maxV = Math.max(maxV, Math.abs(v));
  return { y, dy, maxZ, maxV };
}

function activate(act: Activation, z: number): number {
  switch (act) {
    case 'linear': return z;
    case 'relu': return Math.max(z, 0);
    case 'relu6': return Math.min(Math.max(z, 0), 6);
    case 'tanh': return Math.tanh(z);
    case 'sigmoid': return sigmoid(z);
    case 'softsign': return z / (1 + Math.abs(z));
    case 'elu': return z > 0 ? z : Math.expm1(z);
    case 'selu': return SELU_SCALE * (z > 0 ? z : SELU_ALPHA * Math.expm1(z));
  }
}

const toParams = (w: Weights): Params[] =>
  w.map((rec) => Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, Float64Array.from(v)])));

// ---- 1. predictions against the reference ------------------------------------------------------

describe.each(BUILDS)('property: random stacks against the float64 reference, %s build', (backend) => {
  it('predict is within the forward error bound of refForward (200 runs)', async () => {
    await useBackend(backend);
    const stats = { runs: 0, tight: 0, vacuous: 0, worstRatio: 0 };
    fc.assert(fc.property(
      stackArb(['nac', 'nacMul', 'naluTied', 'naluSeparate', 'dense']),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 0, max: 0x7fffffff }),
      fc.constantFrom(0, 0.1, 0.3),
      (defs, batch, seed, zeros) => {
        const m = sequential(defs.map(specOf), { seed: seed % 1000 });
        try {
          const w = randomWeights(m, seed);
          m.setWeights(w);
          const x = randomInputs(batch * m.inputs, seed + 1, zeros);
          const params = toParams(w);
          // The reference, layer by layer, and the bound next to it, sample by sample.
          let ref: Float64Array = Float64Array.from(x);
          for (let k = 0; k < defs.length; k++) ref = refForward(refOf(defs[k]!), params[k]!, ref, batch);
          const out: Array<{ y: number; dy: number }> = [];
          let maxZ = 0, maxV = 0;
          for (let b = 0; b < batch; b++) {
            let xs = Array.from(x.subarray(b * m.inputs, (b + 1) * m.inputs));
            let dxs = xs.map(() => 0);
            for (let k = 0; k < defs.length; k++) {
              const r = boundLayer(defs[k]!, params[k]!, xs, dxs);
              maxZ = Math.max(maxZ, r.maxZ);
              maxV = Math.max(maxV, r.maxV);
              xs = r.y;
              dxs = r.dy;
            }
            xs.forEach((y, o) => out.push({ y, dy: dxs[o]! }));
          }
          // Keep f32 in range: exp(z) overflows f32 at z = 88.7.
          fc.pre(maxZ < 80 && maxV < 1e30);
          const y = m.predict(x, batch);
          const scale = Math.max(...out.map((o) => Math.abs(o.y)), 1e-30);
          let worstRel = 0;
          for (let j = 0; j < out.length; j++) {
            const { y: yb, dy } = out[j]!;
            // The bound's own f64 forward is the reference's.
            expect(Math.abs(yb - ref[j]!)).toBeLessThanOrEqual(1e-9 * Math.abs(ref[j]!) + 1e-300 + 1e-6 * dy);
            const err = Math.abs(y[j]! - ref[j]!);
            if (!Number.isFinite(dy)) { stats.vacuous++; continue; }
            const ok = err <= 2 * dy + 1e-38;
            if (!ok) {
              throw new Error(`output ${j}: engine ${y[j]}, reference ${ref[j]}, error ${err.toExponential(3)} > 2 x bound ${dy.toExponential(3)} ` +
                `(${JSON.stringify(defs)}, batch ${batch}, seed ${seed}, zeros ${zeros})`);
            }
            stats.worstRatio = Math.max(stats.worstRatio, err / (dy + 1e-300));
            worstRel = Math.max(worstRel, dy / scale);
          }
          stats.runs++;
          if (worstRel <= 1e-4) stats.tight++;
        } finally {
          m.dispose();
        }
      },
    ), { seed: SEED, numRuns: 200 });
    if (process.env.MEASURE) console.log(`${backend}: ${JSON.stringify(stats)}`);
    // Not vacuous: most cases are well conditioned, and the bound is not loose beyond reason
    // (the error reaches a fair fraction of it somewhere).
    expect(stats.runs).toBeGreaterThanOrEqual(180);
    expect(stats.tight / stats.runs).toBeGreaterThan(0.8);
    expect(stats.vacuous).toBeLessThan(20);
    expect(stats.worstRatio).toBeGreaterThan(0.01);
  });
});

// ---- 2. save, load, predict ----------------------------------------------------------------------

/** Special values mixed into the parameters: -0, subnormals, extremes; NaN and Infinity if allowed. */
function specialWeights(model: Model, seed: number, nonFinite: boolean): Weights {
  const rand = prng(seed);
  const specials = [-0, 0, 1.4e-45, -2.5e-40, 1.1754944e-38, 3.4028235e38, -1e-20, 1e20];
  if (nonFinite) specials.push(NaN, Infinity, -Infinity);
  return model.getWeights().map((rec) => Object.fromEntries(Object.entries(rec).map(([name, a]) => [name, Float32Array.from(a, () => {
    const r = rand();
    return r < 0.2 ? specials[Math.floor(rand() * specials.length)]! : 4 * rand() - 2;
  })])));
}

const modelArb = fc.record({
  defs: stackArb(['nac', 'nacMul', 'naluTied', 'naluSeparate', 'dense', 'nau', 'nmu']),
  seed: fc.integer({ min: 0, max: 0xffffffff }),
  init: fc.constantFrom(undefined, 'glorot', 'seed', 'madsen'),
  allowNonFinite: fc.boolean(),
  regularizer: fc.option(fc.record({ lambda: fc.double({ min: 0, max: 10, noNaN: true }).map((v) => v + 0), start: fc.nat(100), end: fc.nat(100) }), { nil: undefined }),
  specials: fc.boolean(),
  steps: fc.nat(3),
  optimizer: fc.constantFrom('adam', 'rmsprop', 'sgd'),
  batch: fc.integer({ min: 1, max: 6 }),
});

type ModelCase = typeof modelArb extends fc.Arbitrary<infer T> ? T : never;

function build(c: ModelCase) {
  // (a regularizer goes with the NAU and NMU only: sequential refuses it on a stack of neither)
  const regularized = c.defs.some((d) => d.kind === 'nau' || d.kind === 'nmu');
  const m = sequential(c.defs.map(specOf), {
    seed: c.seed, init: c.init as never, allowNonFinite: c.allowNonFinite,
    ...(c.regularizer && regularized ? { regularizer: c.regularizer } : {}),
  });
  if (c.specials) m.restoreWeights('test', specialWeights(m, c.seed, c.allowNonFinite));
  const x = randomInputs(c.batch * m.inputs, c.seed ^ 0x5555, 0.1);
  const t = randomInputs(c.batch * m.outputs, c.seed ^ 0xaaaa, 0);
  const opt = c.optimizer === 'adam' ? adam({ learningRate: 0.01 }) : c.optimizer === 'rmsprop' ? rmsprop() : sgd({ learningRate: 0.01 });
  for (let s = 0; s < c.steps; s++) {
    try {
      m.trainStep(x, t, opt);
    } catch (err) {
      // A non-finite step of an extreme model is refused (and changes nothing).
      if (!(err instanceof NaluError)) throw err;
    }
  }
  return { m, x, t };
}

/** The next training step's loss and parameters, on a copy made through `copy`. */
function nextStep(m: Model, x: Float32Array, t: Float32Array): { loss: number | string; w: Weights } {
  if (!m.optimizer) return { loss: 'none', w: m.getWeights() };
  try {
    return { loss: m.trainStep(x, t, m.optimizer), w: m.getWeights() };
  } catch (err) {
    if (!(err instanceof NaluError)) throw err;
    return { loss: err.message, w: m.getWeights() };
  }
}

/** Bit patterns; with `loose`, every NaN as the canonical 0x7fc00000. */
function canon(a: Float32Array, loose: boolean): number[] {
  const b = Array.from(bits(a));
  return loose ? b.map((v, i) => (Number.isNaN(a[i]) ? 0x7fc00000 : v)) : b;
}

function sameWeights(a: Weights, b: Weights, loose: boolean): boolean {
  if (!loose) return sameBits(a, b);
  return a.length === b.length && a.every((rec, k) => Object.keys(rec).every((n) =>
    JSON.stringify(canon(rec[n]!, true)) === JSON.stringify(canon(b[k]![n]!, true))));
}

describe.each(BUILDS)('property: save, load, predict, %s build', (backend) => {
  it('load(save()) and fromJSON(toJSON()) predict the same bits, save the same bytes and train the same next step (150 runs)', async () => {
    await useBackend(backend);
    fc.assert(fc.property(modelArb, (c) => {
      const { m, x, t } = build(c);
      const bytes = m.save({ optimizer: true });
      const y = m.predict(x);
      const copies = [load(bytes), fromJSON(JSON.stringify(m.toJSON({ optimizer: true })))];
      // JSON keeps NaN but not its sign and payload (x86 makes NaNs with the sign bit set): with
      // NaN about, the JSON copy is compared with every NaN taken as equal.
      const hasNaN = [m.getWeights(), m.optimizerState()?.m ?? [], m.optimizerState()?.v ?? []]
        .some((w) => w.some((rec) => Object.values(rec).some((a) => a.some(Number.isNaN))));
      const loose = (i: number) => i === 1 && hasNaN;
      try {
        for (const [i, l] of copies.entries()) {
          const form = i === 0 ? 'binary' : 'JSON';
          expect(canon(l.predict(x), loose(i)), `${form}: predictions`).toEqual(canon(y, loose(i)));
          expect(l.layers, form).toEqual(m.layers);
          expect(l.options, form).toEqual(m.options);
          expect(l.step, form).toBe(m.step);
          if (!loose(i)) expect(l.save({ optimizer: true }), `${form}: bytes`).toEqual(bytes);
        }
        expect(m.save({ optimizer: true })).toEqual(bytes);
        // The next step of each copy is the original's.
        const next = copies.map((l) => nextStep(l, x, t));
        const mine = nextStep(m, x, t);
        next.forEach((n, i) => {
          expect(n.loss).toEqual(mine.loss);
          expect(sameWeights(n.w, mine.w, loose(i))).toBe(true);
        });
      } finally {
        m.dispose();
        for (const l of copies) l.dispose();
      }
    }), { seed: SEED + 1, numRuns: 150 });
  });
});

// ---- 3. corruption ---------------------------------------------------------------------------------

const corruptionArb = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('overwrite' as const), writes: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('header' as const), at: fc.nat(23), value: fc.nat(255) }),
);

type Corruption = typeof corruptionArb extends fc.Arbitrary<infer T> ? T : never;

function corrupt(b: Uint8Array, c: Corruption): Uint8Array {
  const n = b.length;
  switch (c.op) {
    case 'flip': { const o = b.slice(); o[c.at % n] ^= 1 << c.bit; return o; }
    case 'overwrite': { const o = b.slice(); for (const [at, v] of c.writes) o[at % n] = v; return o; }
    case 'truncate': return b.slice(0, c.at % n);
    case 'append': return Uint8Array.from([...b, ...c.bytes]);
    case 'insert': { const at = c.at % (n + 1); return Uint8Array.from([...b.subarray(0, at), ...c.bytes, ...b.subarray(at)]); }
    case 'delete': { const at = c.at % n; return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + c.n)]); }
    case 'duplicate': { const at = c.at % n; return Uint8Array.from([...b.subarray(0, at + c.n), ...b.subarray(at)]); }
    case 'header': { const o = b.slice(); o[c.at] = c.value; return o; }
  }
}

describe.each(BUILDS)('property: corrupted saved models, %s build', (backend) => {
  it('random corruption of the bytes is rejected with a NaluError or loads to an identical model (300 runs)', async () => {
    await useBackend(backend);
    const outcome = { rejected: 0, identical: 0 };
    fc.assert(fc.property(modelArb, corruptionArb, (c, k) => {
      const { m, x } = build({ ...c, specials: false });
      const bytes = m.save({ optimizer: true });
      const bad = corrupt(bytes, k);
      let l: Model | undefined;
      try {
        l = load(bad);
      } catch (err) {
        // A NaluError with a message, nothing else (no RangeError, TypeError, internal error).
        if (!(err instanceof NaluError)) throw err;
        expect(err.message).toMatch(/^load: /);
        outcome.rejected++;
        m.dispose();
        return;
      }
      try {
        outcome.identical++;
        expect(l.save({ optimizer: true })).toEqual(bytes);
        expect(bits(l.predict(x))).toEqual(bits(m.predict(x)));
        expect(sameBits(l.getWeights(), m.getWeights())).toBe(true);
      } finally {
        l.dispose();
        m.dispose();
      }
    }), { seed: SEED + 2, numRuns: 300 });
    if (process.env.MEASURE) console.log(`${backend}: ${JSON.stringify(outcome)}`);
    expect(outcome.rejected).toBeGreaterThan(250);
  });

  it('random edits of the JSON text give a NaluError or a model with finite parameters (300 runs)', async () => {
    await useBackend(backend);
    const edits = fc.array(fc.record({
      op: fc.constantFrom('replace', 'delete', 'insert'),
      at: fc.nat(),
      char: fc.constantFrom(...'0123456789-+.eE,:[]{}"nNaIul ftrx'.split('')),
    }), { minLength: 1, maxLength: 4 });
    const outcome = { rejected: 0, loaded: 0 };
    fc.assert(fc.property(modelArb, edits, (c, es) => {
      const { m } = build({ ...c, specials: false, allowNonFinite: false });
      let text = JSON.stringify(m.toJSON({ optimizer: true }));
      m.dispose();
      for (const e of es) {
        const at = e.at % text.length;
        text = e.op === 'replace' ? text.slice(0, at) + e.char + text.slice(at + 1)
          : e.op === 'delete' ? text.slice(0, at) + text.slice(at + 1)
            : text.slice(0, at) + e.char + text.slice(at);
      }
      let l: Model;
      try {
        l = fromJSON(text);
      } catch (err) {
        if (!(err instanceof NaluError)) throw err;
        expect(err.message).toMatch(/^fromJSON: /);
        outcome.rejected++;
        return;
      }
      try {
        outcome.loaded++;
        for (const rec of l.getWeights()) for (const a of Object.values(rec)) expect(a.every(Number.isFinite)).toBe(true);
        const s = l.optimizerState();
        if (s) expect(Number.isSafeInteger(s.step)).toBe(true);
        // It runs (its outputs may overflow: an edited digit can make any weight).
        expect(l.predict(new Float32Array(2 * l.inputs).fill(0.5)).length).toBe(2 * l.outputs);
      } finally {
        l.dispose();
      }
    }), { seed: SEED + 3, numRuns: 300 });
    if (process.env.MEASURE) console.log(`${backend}: ${JSON.stringify(outcome)}`);
    expect(outcome.rejected).toBeGreaterThan(100);
  });
});
