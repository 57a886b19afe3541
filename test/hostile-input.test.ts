// Hostile input, fuzzed (fast-check, fixed seeds, simd build, a few seconds): random models of
// every layer type get calls with wrong types, lengths, NaN, absurd sizes, typed arrays of every
// kind, detached and shared buffers, Proxies, throwing getters, holes, bad options, forged or
// disposed batches and samplers, methods off their object, and saves corrupted behind a valid
// checksum. Each call must throw a NaluError that starts with the call's name and names no
// engine internals, and leave the model bit-identical: weights, optimizer moments and step (the
// saved bytes) and predictions. Calls that only read must leave it so when they succeed too.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as N from '../src/index';
import { crc32 } from '../src/serialize';

type Any = any;

const TYPES = ['nac', 'nacMul', 'nalu', 'dense', 'nau', 'nmu', 'inalu', 'npu', 'realNpu'] as const;

const layerArb = fc.record({
  type: fc.constantFrom(...TYPES),
  outputs: fc.integer({ min: 1, max: 3 }),
  flag: fc.boolean(),
  act: fc.constantFrom(...N.ACTIVATIONS),
});
const modelArb = fc.record({
  inputs: fc.integer({ min: 1, max: 3 }),
  layers: fc.array(layerArb, { minLength: 1, maxLength: 3 }),
  seed: fc.nat(1000),
  allowNonFinite: fc.boolean(),
  opt: fc.constantFrom('adam', 'sgd', 'rmsprop', 'none'),
});
type ModelSpec = typeof modelArb extends fc.Arbitrary<infer T> ? T : never;

function layer(l: { type: (typeof TYPES)[number]; outputs: number; flag: boolean; act: N.Activation }, inputs: number): N.LayerSpec {
  const o = { inputs, outputs: l.outputs };
  switch (l.type) {
    case 'nac': return N.nac({ ...o, init: l.flag ? 'madsen' : undefined });
    case 'nacMul': return N.nacMul({ ...o, eps: l.flag ? 1e-3 : undefined });
    case 'nalu': return N.nalu({ ...o, sharedWeights: l.flag, gateBias: !l.flag });
    case 'dense': return N.dense({ ...o, activation: l.act });
    case 'nau': return N.nau(o);
    case 'nmu': return N.nmu(o);
    case 'inalu': return N.inalu({ ...o, omega: l.flag ? 5 : undefined });
    case 'npu': return N.npu(o);
    case 'realNpu': return N.realNpu(o);
  }
}

/** Values in [0.5, 2) from a small seeded generator. */
function data(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => 0.5 + 1.5 * ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32));
}

function build(spec: ModelSpec): { model: N.Model; opt: N.Optimizer } {
  let inputs = spec.inputs;
  const layers = spec.layers.map((l) => { const s = layer(l, inputs); inputs = l.outputs; return s; });
  const model = N.sequential(layers, { seed: spec.seed, allowNonFinite: spec.allowNonFinite });
  const opt = spec.opt === 'sgd' ? N.sgd({ learningRate: 0.01 }) : spec.opt === 'rmsprop' ? N.rmsprop() : N.adam({ learningRate: 0.01 });
  if (spec.opt !== 'none') {
    for (let s = 0; s < 2; s++) {
      try { model.trainStep(data(3 * model.inputs, s + 1), data(3 * model.outputs, s + 7), opt); } catch (e) { if (!(e instanceof N.NonFiniteStepError)) throw e; }
    }
  }
  return { model, opt };
}

/** Everything a call must not change: weights, optimizer state and step (in the saved bytes), predictions. */
function snapshot(m: N.Model): string {
  const w = m.getWeights().map((r) => Object.entries(r).map(([k, v]) => `${k}:${Array.from(new Uint32Array(v.buffer)).join(',')}`).join(';'));
  let pred: string;
  try { pred = Array.from(new Uint32Array(m.predict(data(2 * m.inputs, 99)).buffer)).join(','); } catch (e) { pred = (e as Error).message; }
  return `${w.join('|')}#${Buffer.from(m.save({ optimizer: true })).toString('base64')}#${pred}#${m.step}`;
}

class UserError extends Error {}

const HOSTILE = ['undefined', 'null', 'true', 'str', 'bigint', 'symbol', 'fn', 'obj', 'emptyArr', 'nested', 'date', 'map',
  'throwingProxy', 'valueOf', 'arrayBuffer', 'NaN', 'Infinity', '-1', '1.5', '2^40', 'dataView', 'int32', 'uint8', 'bigint64',
  'detached', 'poseTA', 'proxyTA'] as const;

function hostile(name: (typeof HOSTILE)[number]): unknown {
  switch (name) {
    case 'undefined': return undefined;
    case 'null': return null;
    case 'true': return true;
    case 'str': return 'abc';
    case 'bigint': return 3n;
    case 'symbol': return Symbol('s');
    case 'fn': return () => 1;
    case 'obj': return { a: 1 };
    case 'emptyArr': return [];
    case 'nested': return [[1, 2], [3, 4]];
    case 'date': return new Date(0);
    case 'map': return new Map();
    case 'throwingProxy': return new Proxy({}, { get() { throw new UserError('trap'); }, ownKeys() { throw new UserError('trap'); }, getPrototypeOf() { throw new UserError('trap'); } });
    case 'valueOf': return { valueOf: () => 2 };
    case 'arrayBuffer': return new ArrayBuffer(8);
    case 'NaN': return NaN;
    case 'Infinity': return Infinity;
    case '-1': return -1;
    case '1.5': return 1.5;
    case '2^40': return 2 ** 40;
    case 'dataView': return new DataView(new ArrayBuffer(8));
    case 'int32': return new Int32Array(2);
    case 'uint8': return new Uint8Array(8);
    case 'bigint64': return new BigInt64Array(2);
    case 'detached': { const a = new Float32Array(2); structuredClone(a.buffer, { transfer: [a.buffer] }); return a; }
    case 'poseTA': return Object.create(Float32Array.prototype);
    case 'proxyTA': return new Proxy(new Float32Array(2), {});
  }
}

const SPECIAL = [NaN, Infinity, -Infinity, 1e39, -3.5e38] as const;

/** A bad x or target: [description, value] for rows of `width` and batch b. */
const badDataArb = fc.oneof(
  fc.record({ k: fc.constant('hostile' as const), v: fc.constantFrom(...HOSTILE) }),
  fc.record({ k: fc.constant('length' as const), d: fc.constantFrom(-1, 1, 2) }),
  fc.record({ k: fc.constant('special' as const), v: fc.constantFrom(...SPECIAL), at: fc.nat(9), form: fc.constantFrom('f32', 'f64', 'array') }),
  fc.record({ k: fc.constant('entry' as const), v: fc.constantFrom(...HOSTILE), at: fc.nat(9) }),
  fc.record({ k: fc.constant('hole' as const), at: fc.nat(9) }),
  fc.record({ k: fc.constant('getterThrows' as const) }),
);
type BadData = typeof badDataArb extends fc.Arbitrary<infer T> ? T : never;

function badData(d: BadData, n: number): unknown {
  const good = data(n, 5);
  switch (d.k) {
    case 'hostile': return hostile(d.v);
    case 'length': return new Float32Array(n + d.d).fill(1);
    case 'special': {
      // f32 cannot hold 1e39: a Float32Array gets Infinity there, still non-finite
      const a: Any = d.form === 'f32' ? good : d.form === 'f64' ? Float64Array.from(good) : Array.from(good);
      a[d.at % n] = d.v;
      return a;
    }
    case 'entry': { const a: unknown[] = Array.from(good); a[d.at % n] = hostile(d.v); return typeof a[d.at % n] === 'number' ? 'x' : a; }
    case 'hole': { const a = Array.from(good); delete a[d.at % n]; return a; }
    case 'getterThrows': { const a = Array.from(good); Object.defineProperty(a, 0, { get() { throw new UserError('getter'); } }); return a; }
  }
}

const badBatchArb = fc.constantFrom(0, -1, 1.5, NaN, Infinity, 2 ** 53, 2 ** 20 + 1, '2', 2n, null, { valueOf: () => 2 });

/** A call with bad arguments: at least one of them is bad, the rest may be good. */
const callArb = fc.oneof(
  fc.record({ m: fc.constantFrom('predict', 'evaluate', 'gradients', 'trainStep', 'stageBatch', 'fit'), which: fc.constantFrom('x', 'target', 'batch', 'optimizer', 'out'), x: badDataArb, batch: badBatchArb, opt: fc.constantFrom(...HOSTILE, 'copy', 'clone') }),
  fc.record({ m: fc.constant('setWeights'), how: fc.constantFrom('missingLayer', 'extraLayer', 'dropTensor', 'extraTensor', 'wrongLength', 'stringified', 'nullRecord', 'special', 'entry', 'hostile'), v: fc.constantFrom(...HOSTILE), s: fc.constantFrom(...SPECIAL), at: fc.nat(9) }),
  fc.record({ m: fc.constant('restoreOptimizer'), how: fc.constantFrom('extraField', 'stepFrac', 'stepNeg', 'step2^53', 'stepStr', 'badSetting', 'unknownKind', 'extraSetting', 'wrongLength', 'missingV', 'negV', 'nanM', 'stringified', 'hostile'), v: fc.constantFrom(...HOSTILE) }),
  fc.record({ m: fc.constantFrom('save', 'toJSON'), o: fc.constantFrom('typo', 'extra', 'optNull', 'optStr', ...HOSTILE.filter((h) => h !== 'undefined' && h !== 'obj')) }),
  fc.record({ m: fc.constant('trainStepOn'), src: fc.constantFrom('otherStaged', 'disposedStaged', 'forgedStaged', 'forgedSampler', 'disposedSampler', ...HOSTILE), batch: fc.option(badBatchArb) }),
  fc.record({ m: fc.constant('fitOptions'), key: fc.constantFrom('epochs', 'batchSize', 'shuffle', 'seed', 'validation', 'patience', 'onEpoch', 'optimizer', 'learningRate'), v: fc.constantFrom(...HOSTILE) }),
  fc.record({ m: fc.constant('lambdaAt'), v: fc.constantFrom(...HOSTILE) }),
);
type Call = typeof callArb extends fc.Arbitrary<infer T> ? T : never;

interface Ctx { model: N.Model; opt: N.Optimizer; other: N.Model; staged: N.StagedBatch; otherStaged: N.StagedBatch; disposedStaged: N.StagedBatch; disposedSampler: N.Sampler }

function weightsCase(c: Extract<Call, { m: 'setWeights' }>, m: N.Model): unknown {
  const w: Any = m.getWeights();
  const k0 = Object.keys(w[0])[0]!;
  switch (c.how) {
    case 'missingLayer': return w.slice(1);
    case 'extraLayer': return [...w, {}];
    case 'dropTensor': delete w[0][k0]; return w;
    case 'extraTensor': w[0].bogus = new Float32Array(1); return w;
    case 'wrongLength': w[0][k0] = new Float32Array(w[0][k0].length + 1); return w;
    case 'stringified': return JSON.parse(JSON.stringify(w)); // Float32Arrays as {"0": ...}
    case 'nullRecord': w[0] = null; return w;
    case 'special': { if (m.options.allowNonFinite && !Number.isFinite(Math.fround(c.s))) return w.slice(1); const a = Array.from(w[0][k0] as Float32Array) as unknown[]; a[c.at % a.length] = c.s; w[0][k0] = a; return w; }
    case 'entry': { const a = Array.from(w[0][k0] as Float32Array) as unknown[]; a[c.at % a.length] = hostile(c.v); if (typeof a[c.at % a.length] === 'number') return null; w[0][k0] = a; return w; }
    case 'hostile': return Array.isArray(hostile(c.v)) ? 'x' : hostile(c.v);
  }
}

function stateCase(c: Extract<Call, { m: 'restoreOptimizer' }>, ctx: Ctx): unknown {
  const m = ctx.model;
  const zeros = () => m.getWeights().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, new Float32Array(v.length)])));
  const st: Any = m.optimizerState() ?? { optimizer: ctx.opt, step: 0, m: zeros(), v: zeros() };
  const k0 = Object.keys(st.m[0])[0]!;
  switch (c.how) {
    case 'extraField': return { ...st, lr: 1 };
    case 'stepFrac': return { ...st, step: 1.5 };
    case 'stepNeg': return { ...st, step: -1 };
    case 'step2^53': return { ...st, step: 2 ** 53 };
    case 'stepStr': return { ...st, step: '1' };
    case 'badSetting': return { ...st, optimizer: { ...st.optimizer, learningRate: -1 } };
    case 'unknownKind': return { ...st, optimizer: { ...st.optimizer, kind: 'lbfgs' } };
    case 'extraSetting': return { ...st, optimizer: { ...st.optimizer, momentum: 0.9 } };
    case 'wrongLength': st.m[0][k0] = new Float32Array(st.m[0][k0].length + 1); return st;
    case 'missingV': { const { v: _v, ...rest } = st; return rest; }
    case 'negV': if (m.options.allowNonFinite) return { ...st, step: -1 }; st.v[0][k0] = st.v[0][k0].map(() => -1); return st;
    case 'nanM': if (m.options.allowNonFinite) return { ...st, step: -1 }; st.m[0][k0] = st.m[0][k0].map(() => NaN); return st;
    case 'stringified': return JSON.parse(JSON.stringify(st));
    case 'hostile': return hostile(c.v);
  }
}

/** Runs `c` on ctx.model; returns the name the error must start with. */
function run(c: Call, ctx: Ctx): [string, () => unknown] {
  const m: Any = ctx.model;
  const b = 2, x = data(b * m.inputs, 1), t = data(b * m.outputs, 2);
  switch (c.m) {
    case 'predict': case 'evaluate': case 'gradients': case 'trainStep': case 'stageBatch': case 'fit': {
      const which = (c.m === 'predict' && (c.which === 'target' || c.which === 'optimizer')) || (c.m !== 'predict' && c.which === 'out') ? 'x' : c.which;
      const xx = which === 'x' ? badData(c.x, b * m.inputs) : x;
      const tt = which === 'target' ? badData(c.x, b * m.outputs) : t;
      const batch = which === 'batch' ? c.batch : c.x.k === 'length' ? b : undefined; // (a wrong length may still be a whole batch)
      const opt = which === 'optimizer' ? (c.opt === 'copy' ? { ...ctx.opt } : c.opt === 'clone' ? structuredClone(ctx.opt) : hostile(c.opt) ?? 'adam') : ctx.opt;
      const badOut = badData(c.x, b * m.outputs) ?? 'out';
      if (c.m === 'predict') return ['predict', () => m.predict(xx, batch, which === 'out' ? badOut : undefined)];
      if (c.m === 'trainStep') return ['trainStep', () => m.trainStep(xx, tt, opt, batch)];
      if (c.m === 'fit') return ['fit', () => m.fit(c.x.k === 'length' && which !== 'batch' ? (which === 'x' ? [...data(b * m.inputs, 1), 1] : x) : xx, c.x.k === 'length' && which === 'target' ? [...data(b * m.outputs, 1), 1] : tt, which === 'batch' ? { batchSize: batch } : which === 'optimizer' ? { optimizer: opt } : { epochs: 2 })];
      if (which === 'optimizer') return [c.m, () => m[c.m](xx, 'x', batch)];
      return [c.m, () => m[c.m](xx, tt, batch)];
    }
    case 'setWeights': { const w = weightsCase(c, m); return ['setWeights', () => m.setWeights(w)]; }
    case 'restoreOptimizer': { const s = stateCase(c, ctx); return ['restoreOptimizer', () => m.restoreOptimizer(s)]; }
    case 'save': case 'toJSON': {
      const o = c.o === 'typo' ? { optimiser: true } : c.o === 'extra' ? { optimizer: true, pretty: 1 } : c.o === 'optNull' ? { optimizer: null } : c.o === 'optStr' ? { optimizer: 'yes' } : hostile(c.o);
      // toJSON takes a string (JSON.stringify's key) as no options: such a call is save's
      const what = c.m === 'toJSON' && typeof o === 'string' ? 'save' : c.m;
      return [what, () => m[what](o)];
    }
    case 'trainStepOn': {
      const src = c.src === 'otherStaged' ? ctx.otherStaged : c.src === 'disposedStaged' ? ctx.disposedStaged : c.src === 'forgedStaged' ? Object.create(N.StagedBatch.prototype)
        : c.src === 'forgedSampler' ? Object.create(N.Sampler.prototype) : c.src === 'disposedSampler' ? ctx.disposedSampler : hostile(c.src);
      return ['trainStepOn', () => m.trainStepOn(src, ctx.opt, c.batch ?? undefined)];
    }
    case 'fitOptions': {
      let v = hostile(c.v);
      // values that are valid for the key are replaced by ones that are not
      if (c.key === 'shuffle' && (v === true || v === undefined)) v = 'yes';
      if (c.key === 'onEpoch' && (typeof v === 'function' || v === undefined)) v = 'fn';
      if ((c.key === 'epochs' || c.key === 'batchSize' || c.key === 'patience') && v === undefined) v = 0;
      if (c.key === 'seed' && (v === undefined || v === true)) v = -1;
      if (c.key === 'optimizer' && v === undefined) v = 'adam';
      if (c.key === 'validation' && v === undefined) v = 'v';
      return ['fit', () => m.fit(x, t, { [c.key]: v })];
    }
    case 'lambdaAt': { const v = hostile(c.v); return ['lambdaAt', () => (typeof v === 'number' && v >= 0 && Number.isFinite(v) ? m.lambdaAt(-1) : m.lambdaAt(v))]; }
  }
}

function withModels(spec: ModelSpec, body: (ctx: Ctx) => void): void {
  const { model, opt } = build(spec);
  const other = build({ ...spec, seed: spec.seed + 1 }).model;
  const x = data(3 * model.inputs, 3), t = data(3 * model.outputs, 4);
  const sampler = N.identityTask().trainSampler();
  sampler.dispose();
  const disposedStaged = model.stageBatch(x, t);
  disposedStaged.dispose();
  const ctx: Ctx = { model, opt, other, staged: model.stageBatch(x, t), otherStaged: other.stageBatch(x, t), disposedStaged, disposedSampler: sampler };
  try { body(ctx); } finally { model.dispose(); other.dispose(); }
}

const RAW = /unreachable|out of bounds|Cannot read|is not a function|Invalid typed array|private member|Cannot convert/;

function expectRefused(name: string, err: unknown): void {
  if (err instanceof UserError) return; // the caller's own getter or trap, passed through
  expect(err, String(err)).toBeInstanceOf(N.NaluError);
  const message = (err as Error).message;
  expect(message.startsWith(`${name}:`), `${message} should start with ${name}:`).toBe(true);
  expect(message).not.toMatch(RAW);
}

describe('hostile input (fuzz)', () => {
  it('bad arguments throw a NaluError naming the call and leave the model bit-identical', async () => {
    await N.init();
    fc.assert(fc.property(modelArb, fc.array(callArb, { minLength: 1, maxLength: 5 }), (spec, calls) => {
      withModels(spec, (ctx) => {
        for (const c of calls) {
          const [name, call] = run(c, ctx);
          const before = snapshot(ctx.model);
          let threw = false;
          try { call(); } catch (err) { threw = true; expectRefused(name, err); }
          expect(threw, `${JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))} should throw`).toBe(true);
          expect(snapshot(ctx.model)).toBe(before);
        }
      });
    }), { seed: 20261201, numRuns: 700 });
  });

  it('calls that only read leave the model bit-identical, and give results of the right shape', async () => {
    await N.init();
    fc.assert(fc.property(modelArb, fc.integer({ min: 1, max: 5 }), fc.constantFrom('f32', 'f64', 'array', 'shared', 'subarray'), (spec, b, form) => {
      withModels(spec, (ctx) => {
        const m = ctx.model;
        const mk = (n: number, seed: number): Any => {
          const v = data(n, seed);
          if (form === 'f64') return Float64Array.from(v);
          if (form === 'array') return Array.from(v);
          if (form === 'shared') { const a = new Float32Array(new SharedArrayBuffer(4 * n)); a.set(v); return a; }
          if (form === 'subarray') { const a = new Float32Array(n + 2); a.set(v, 1); return a.subarray(1, n + 1); }
          return v;
        };
        const x = mk(b * m.inputs, 11), t = mk(b * m.outputs, 12);
        const before = snapshot(m);
        expect(m.predict(x).length).toBe(b * m.outputs);
        const out = new Float32Array(b * m.outputs);
        expect(m.predict(x, b, out)).toBe(out);
        expect(typeof m.evaluate(x, t, b)).toBe('number');
        const g = m.gradients(x, t);
        expect(g.grads.map((r) => Object.keys(r))).toEqual(m.getWeights().map((r) => Object.keys(r)));
        const staged = m.stageBatch(x, t);
        expect(Array.from(m.predict(staged))).toEqual(Array.from(m.predict(x)));
        staged.dispose();
        m.save({ optimizer: true });
        JSON.stringify(m);
        expect(snapshot(m)).toBe(before);
      });
    }), { seed: 20261202, numRuns: 200 });
  });

  it('methods called off their model throw a NaluError naming the method', async () => {
    await N.init();
    const names = ['predict', 'evaluate', 'gradients', 'trainStep', 'trainStepOn', 'stageBatch', 'getWeights', 'setWeights', 'optimizerState', 'restoreOptimizer', 'save', 'toJSON', 'fit', 'lambdaAt', 'dispose'] as const;
    fc.assert(fc.property(modelArb, fc.constantFrom(...names), fc.constantFrom('bare', 'object', 'proto', 'proxy', 'null'), (spec, name, how) => {
      withModels(spec, (ctx) => {
        const m: Any = ctx.model;
        const f = m[name] as (...a: unknown[]) => unknown;
        const self = how === 'bare' ? undefined : how === 'object' ? { model: m } : how === 'proto' ? Object.create(N.Model.prototype) : how === 'proxy' ? new Proxy(m, {}) : null;
        const before = snapshot(m);
        let threw = false;
        try { f.call(self, data(2 * m.inputs, 1), data(2 * m.outputs, 2), ctx.opt); } catch (err) { threw = true; expectRefused(name, err); }
        expect(threw).toBe(true);
        expect(snapshot(m)).toBe(before);
      });
    }), { seed: 20261203, numRuns: 150 });
  });

  it('methods of tasks, samplers and staged batches called off their object throw a NaluError naming the method', async () => {
    await N.init();
    const task = N.staticTask({ op: 'add', inputSize: 4 }), id = N.identityTask();
    const model = N.sequential([N.nau({ inputs: 4, outputs: 1 })]);
    const sampler = task.trainSampler(), batch = model.stageBatch(data(8, 1), data(2, 2));
    const objects: Record<string, [object, string[]]> = {
      task: [task, ['trainSampler', 'validationSet', 'testSet', 'apply', 'threshold']],
      identity: [id, ['trainSampler', 'grid']],
      sampler: [sampler, ['sample', 'getState', 'setState', 'dispose']],
      batch: [batch, ['dispose']],
    };
    const cases = Object.entries(objects).flatMap(([kind, [obj, names]]) => names.map((name) => [kind, obj, name] as const));
    fc.assert(fc.property(fc.constantFrom(...cases), fc.constantFrom('bare', 'object', 'proto', 'proxy', 'null'), ([, obj, name], how) => {
      const f = (obj as Any)[name] as (...a: unknown[]) => unknown;
      const self = how === 'bare' ? undefined : how === 'object' ? { config: (obj as Any).config } : how === 'proto' ? Object.create(Object.getPrototypeOf(obj) as object) : how === 'proxy' ? new Proxy(obj, {}) : null;
      let threw = false;
      try { f.call(self, 4, 2); } catch (err) { threw = true; expectRefused(name, err); }
      expect(threw).toBe(true);
    }), { seed: 20261205, numRuns: 150 });
    // the objects themselves still work
    expect(task.apply(1, 2)).toBe(3);
    expect(sampler.sample(2).n).toBe(2);
    expect(model.predict(batch).length).toBe(2);
    model.dispose();
    sampler.dispose();
  });

  it('a corrupted save with a valid checksum is refused by load, or loads a working model', async () => {
    await N.init();
    const opArb = fc.record({ k: fc.constantFrom('flip', 'set', 'insert', 'delete', 'u32'), at: fc.nat(5000), bit: fc.nat(7), byte: fc.nat(255), v: fc.constantFrom(0, 1, 2, 255, 65536, 2 ** 24, 2 ** 32 - 1) });
    fc.assert(fc.property(modelArb, fc.boolean(), fc.array(opArb, { minLength: 1, maxLength: 3 }), (spec, withOpt, ops) => {
      const { model } = build(spec);
      const b = Array.from(model.save({ optimizer: withOpt }));
      model.dispose();
      for (const op of ops) {
        const at = 20 + (op.at % (b.length - 24)); // past the header: the checks behind the checksum
        if (op.k === 'flip') b[at]! ^= 1 << op.bit;
        else if (op.k === 'set') b[at] = op.byte;
        else if (op.k === 'insert') b.splice(at, 0, op.byte);
        else if (op.k === 'delete') b.splice(at, 1);
        else for (let i = 0; i < 4; i++) b[at + i] = (op.v >>> (8 * i)) & 255;
      }
      const u = Uint8Array.from(b.slice(0, Math.max(b.length, 25)));
      const dv = new DataView(u.buffer);
      dv.setUint32(12, u.length, true);
      dv.setUint32(u.length - 4, crc32(u, 0, u.length - 4), true);
      let loaded: N.Model;
      try { loaded = N.load(u); } catch (err) { expectRefused('load', err); return; }
      try {
        if (!loaded.options.allowNonFinite) for (const r of loaded.getWeights()) for (const v of Object.values(r)) expect(v.every(Number.isFinite)).toBe(true);
        const x = data(2 * loaded.inputs, 1), t = data(2 * loaded.outputs, 2);
        expect(loaded.predict(x).length).toBe(2 * loaded.outputs);
        try { loaded.trainStep(x, t, loaded.optimizer ?? N.adam()); } catch (err) { expect(err).toBeInstanceOf(N.NonFiniteStepError); }
        N.load(loaded.save({ optimizer: true })).dispose();
      } finally { loaded.dispose(); }
    }), { seed: 20261204, numRuns: 700 });
  });
});
