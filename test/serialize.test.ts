// Saved models (src/serialize.ts, docs/serialization.md): the binary form (save/load) and the
// JSON form (toJSON/fromJSON), on both builds.
//   * round trips: every layer type and option, the model's options, the optimizer's state;
//     parameters bit for bit (-0, subnormals, and NaN with allowNonFinite); re-saving gives the
//     same bytes; the same bytes from the simd and the scalar build;
//   * resume: N steps, save with the optimizer, load, M more steps gives the losses, parameters
//     and optimizer state of N + M steps without a break, bit for bit (adam, rmsprop, sgd, with
//     clipping and the NAU/NMU regulariser's schedule);
//   * a table of bad inputs of the loaders and savers: each throws a NaluError whose message
//     says what is wrong, and leaves the model it came from exactly as it was;
//   * a failed load leaves no model behind (its memory is reused).
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import {
  adam, dense, fromJSON, init, load, nac, nacMul, nalu, NaluError, nau, nmu, rmsprop, sequential, sgd,
  type LayerSpec, type Model, type ModelJSON, type Optimizer, type SequentialOptions, type Weights,
  identityTask, staticTask,
} from '../src/index';
import { crc32, decodeModel, encodeModel, FORMAT_VERSION, MAGIC, MIN_BYTES, type SavedModel } from '../src/serialize';
import { BACKENDS, BUILDS, backendOf, bits, moduleOf, useBackend, type TestBackend } from './helpers';
import { copyWeights, prng, randomInputs, sameBits, uniform32 } from './helpers-random';

/** The error f throws, or undefined. */
const thrown = (f: () => unknown): Error | undefined => {
  try { f(); } catch (e) { return e as Error; }
  return undefined;
};

const INPUTS = { lo: 0.1, hi: 3, zeros: 0.1, negatives: 0.4 };
const any = (v: unknown) => v as never;
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const u32At = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

/** Writes the CRC-32 of every byte before the last four into the last four. */
function reseal(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32(b, 0, b.length - 4), true);
  return b;
}

/** Sets the header's length field to the data's length, then reseals. */
function resealAll(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(12, b.length, true);
  return reseal(b);
}

/** The offset of the first occurrence of `needle` (ASCII) in `b`. */
function find(b: Uint8Array, needle: string, from = 0): number {
  const n = ascii(needle);
  outer: for (let i = from; i + n.length <= b.length; i++) {
    for (let j = 0; j < n.length; j++) if (b[i + j] !== n[j]) continue outer;
    return i;
  }
  throw new Error(`${needle} not found`);
}

/** The content of `bytes`, edited, encoded again with a valid checksum. */
function craft(bytes: Uint8Array, edit: (s: SavedModel) => void): Uint8Array {
  const s = decodeModel('test', bytes);
  edit(s);
  return encodeModel(s);
}

const memoryBytes = (m: Model): number =>
  (m as unknown as { engine: { ex: { memory: WebAssembly.Memory } } }).engine.ex.memory.buffer.byteLength;

/** A model of every layer type and option, its parameters random but seeded. */
function everything(options: SequentialOptions = {}): Model {
  return sequential([
    nalu({ inputs: 4, outputs: 3, eps: 1e-6, init: 'seed' }),
    nalu({ inputs: 3, outputs: 3, sharedWeights: false }),
    nacMul({ inputs: 3, outputs: 3, eps: 1e-5 }),
    nac({ inputs: 3, outputs: 3, init: 'madsen' }),
    dense({ inputs: 3, outputs: 3, activation: 'selu' }),
    nau({ inputs: 3, outputs: 2 }),
    nmu({ inputs: 2, outputs: 1 }),
  ], { seed: 11, ...options });
}

function batchFor(m: Model, seed: number, batch = 8) {
  const rand = prng(seed);
  return { x: randomInputs(rand, batch * m.inputs, INPUTS), t: uniform32(rand, batch * m.outputs, -2, 2) };
}

/** Everything observable of a model, as plain data, for exact comparisons. */
function stateOf(m: Model, x: Float32Array) {
  const s = m.optimizerState();
  return {
    layers: JSON.parse(JSON.stringify(m.layers)) as unknown,
    inputs: m.inputs,
    outputs: m.outputs,
    options: m.options,
    parameterCount: m.parameterCount,
    weights: m.getWeights(),
    y: Array.from(bits(m.predict(x))),
    step: m.step,
    optimizer: m.optimizer ? { ...m.optimizer } : undefined,
    m: s?.m,
    v: s?.v,
  };
}

function expectSameState(a: ReturnType<typeof stateOf>, b: ReturnType<typeof stateOf>): void {
  const { weights: wa, m: ma, v: va, ...ra } = a;
  const { weights: wb, m: mb, v: vb, ...rb } = b;
  expect(rb).toEqual(ra);
  expect(sameBits(wb, wa), 'weights').toBe(true);
  expect(ma === undefined).toBe(mb === undefined);
  if (ma) {
    expect(sameBits(mb!, ma), 'm').toBe(true);
    expect(sameBits(vb!, va!), 'v').toBe(true);
  }
}

describe('CRC-32', () => {
  it('matches the check value of the CRC-32/ISO-HDLC catalogue and zlib', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    expect(crc32(ascii('xx123456789yy'), 2, 11)).toBe(0xcbf43926);
  });
});

describe.each(BUILDS)('round trips, %s build', (backend) => {
  it('the header: magic, version, flags, length, layer count; then the checksum', async () => {
    await useBackend(backend);
    const m = everything();
    const b = m.save();
    expect(String.fromCharCode(...b.subarray(0, 8))).toBe(MAGIC);
    const view = new DataView(b.buffer, b.byteOffset);
    expect(view.getUint16(8, true)).toBe(FORMAT_VERSION);
    expect(view.getUint16(10, true)).toBe(0);
    expect(view.getUint32(12, true)).toBe(b.length);
    expect(view.getUint32(16, true)).toBe(7);
    expect(view.getUint32(b.length - 4, true)).toBe(crc32(b, 0, b.length - 4));
    // Parameters dominate: names, counts and options cost a few hundred bytes.
    expect(b.length).toBeGreaterThan(4 * m.parameterCount);
    expect(b.length).toBeLessThan(4 * m.parameterCount + 600);
    const { x, t } = batchFor(m, 1);
    m.trainStep(x, t, adam());
    const withOpt = m.save({ optimizer: true });
    expect(new DataView(withOpt.buffer).getUint16(10, true)).toBe(1);
    expect(withOpt.length).toBeGreaterThan(12 * m.parameterCount);
    m.dispose();
  });

  it('every layer type and option: layers, options, weights and predictions come back exactly', async () => {
    await useBackend(backend);
    for (const options of [{}, { allowNonFinite: true }, { regularizer: { lambda: 0.5, start: 10, end: 20 } }]) {
      const m = everything(options);
      const { x } = batchFor(m, 2);
      const b = m.save();
      const l = load(b);
      expectSameState(stateOf(l, x), stateOf(m, x));
      expect(l.layers).toEqual(m.layers);
      expect(l.backend).toBe(backendOf(backend));
      expect(l.save()).toEqual(b);
      const j = fromJSON(JSON.parse(JSON.stringify(m)) as ModelJSON);
      expectSameState(stateOf(j, x), stateOf(m, x));
      expect(j.save()).toEqual(b);
      m.dispose(); l.dispose(); j.dispose();
    }
  });

  it('each layer factory of the package, with its default options, round-trips (types added later included)', async () => {
    await useBackend(backend);
    const api = await import('../src/index') as unknown as Record<string, unknown>;
    const names = ['nac', 'nacMul', 'nalu', 'dense', 'nau', 'nmu', 'inalu', 'npu', 'realNpu'].filter((n) => typeof api[n] === 'function');
    expect(names.length).toBeGreaterThanOrEqual(6);
    for (const name of names) {
      const factory = api[name] as (o: { inputs: number; outputs: number }) => LayerSpec;
      const m = sequential([factory({ inputs: 3, outputs: 2 })], { seed: 5 });
      const x = Float32Array.of(0.5, -1.5, 2, 1, 0, -0.25);
      const l = load(m.save());
      expect(l.layers, name).toEqual(m.layers);
      expect(sameBits(l.getWeights(), m.getWeights()), name).toBe(true);
      expect(bits(l.predict(x)), name).toEqual(bits(m.predict(x)));
      const j = fromJSON(JSON.stringify(m));
      expect(j.save(), name).toEqual(m.save());
      m.dispose(); l.dispose(); j.dispose();
    }
  });

  it('saving twice gives the same bytes, and so do two models made alike', async () => {
    await useBackend(backend);
    const a = everything();
    const b = everything();
    const { x, t } = batchFor(a, 3);
    for (const m of [a, b]) for (let s = 0; s < 3; s++) m.trainStep(x, t, rmsprop({ learningRate: 0.01 }));
    expect(a.save()).toEqual(a.save());
    expect(a.save({ optimizer: true })).toEqual(a.save({ optimizer: true }));
    expect(a.save({ optimizer: true })).toEqual(b.save({ optimizer: true }));
    expect(JSON.stringify(a.toJSON({ optimizer: true }))).toBe(JSON.stringify(b.toJSON({ optimizer: true })));
    a.dispose(); b.dispose();
  });

  it('parameters bit for bit: -0, subnormals, the largest f32, and NaN and Infinity with allowNonFinite', async () => {
    await useBackend(backend);
    const special = [-0, 1.4e-45, -1.1754942e-38, 3.4028235e38, -3.4028235e38, 0.1, -7.5, NaN, Infinity, -Infinity];
    const m = sequential([nac({ inputs: 5, outputs: 2 })], { allowNonFinite: true });
    const W_hat = Float32Array.from(special);
    // A NaN with a payload, as the module could produce it, and a signalling one (a copy through
    // f64 would set its quiet bit).
    new Uint32Array(W_hat.buffer)[9] = 0x7fc01234;
    new Uint32Array(W_hat.buffer)[7] = 0x7f800001;
    m.setWeights([{ W_hat, M_hat: Float32Array.from(special).reverse() }]); // takes them: allowNonFinite
    const w0 = m.getWeights();
    expect([...new Uint32Array(w0[0]!.W_hat!.buffer)].slice(7)).toEqual([0x7f800001, 0x7f800000, 0x7fc01234]);
    const l = load(m.save());
    expect(sameBits(l.getWeights(), w0)).toBe(true);
    const json = JSON.stringify(m);
    expect(json).toContain('"W_hat":["-0",1e-45,-1.1754942e-38,3.4028235e+38,-3.4028235e+38,0.1,-7.5,"NaN","Infinity","NaN"]');
    const j = fromJSON(json);
    // JSON keeps the value NaN but not its payload.
    const wj = j.getWeights();
    for (const i of [7, 9]) {
      expect(Number.isNaN(wj[0]!.W_hat![i])).toBe(true);
      new Uint32Array(wj[0]!.W_hat!.buffer)[i] = new Uint32Array(w0[0]!.W_hat!.buffer)[i]!;
    }
    expect(sameBits(wj, w0)).toBe(true);
    m.dispose(); l.dispose(); j.dispose();
  });

  it('the JSON form is readable: shortest decimals that round to the same f32', async () => {
    await useBackend(backend);
    const m = sequential([nac({ inputs: 2, outputs: 1 })]);
    m.setWeights([{ W_hat: Float32Array.of(0.1, 1 / 3), M_hat: Float32Array.of(16777216, 2 ** -20) }]);
    const json = m.toJSON();
    expect(json).toEqual({
      format: 'nalu-wasm', version: 1, options: { allowNonFinite: false },
      layers: [{ type: 'nac', inputs: 2, outputs: 1, options: {}, params: { W_hat: [0.1, 0.33333334], M_hat: [16777216, 9.536743e-7] } }],
    });
    // JSON.stringify calls toJSON with a key, which is ignored.
    expect(JSON.parse(JSON.stringify({ model: m })).model).toEqual(json);
    m.dispose();
  });


  it('every number of the JSON form is the shortest decimal that rounds to its f32', async () => {
    await useBackend(backend);
    const m = sequential([nac({ inputs: 64, outputs: 64 })], { allowNonFinite: true });
    // random bit patterns over the whole finite range (subnormals included) and decimals near powers of ten
    const bits = new Uint32Array(2 * 64 * 64), f = new Float32Array(bits.buffer);
    let s = 12345;
    for (let i = 0; i < bits.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      bits[i] = s;
      if (!Number.isFinite(f[i])) bits[i] = s & 0x807fffff;
    }
    for (let e = -45; e <= 38; e++) f[e + 45] = 10 ** e;
    m.setWeights([{ W_hat: f.subarray(0, 4096), M_hat: f.subarray(4096) }]);
    const { W_hat, M_hat } = m.toJSON().layers[0]!.params as Record<string, (number | string)[]>;
    const got = [...W_hat!, ...M_hat!];
    let checked = 0;
    got.forEach((y, i) => {
      const x = f[i]!;
      if (typeof y === 'string') return expect(Object.is(x, -0)).toBe(true);
      expect(Math.fround(y)).toBe(x);
      const digits = y.toExponential().replace(/^-/, '').replace(/e.*$/, '').replace('.', '').length;
      for (let p = 1; p < digits; p++) expect(Math.fround(Number(x.toPrecision(p)))).not.toBe(x);
      checked++;
    });
    expect(checked).toBeGreaterThan(8000);
    m.dispose();
  });
  it('the optimizer state: kind, settings, step and moments come back, and model.optimizer is ready', async () => {
    await useBackend(backend);
    const opts: Optimizer[] = [
      adam({ learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, clipValue: 0.25 }),
      rmsprop({ learningRate: 0.003, alpha: 0.9 }),
      sgd({ learningRate: 0.05, clipValue: 1 }),
    ];
    for (const opt of opts) {
      const m = everything();
      const { x, t } = batchFor(m, 4);
      for (let s = 0; s < 4; s++) m.trainStep(x, t, opt);
      const l = load(m.save({ optimizer: true }));
      expectSameState(stateOf(l, x), stateOf(m, x));
      expect(l.step).toBe(4);
      expect(l.optimizer).not.toBe(opt);
      expect(l.optimizer).toEqual(opt);
      // A plain save leaves the optimizer behind.
      const p = load(m.save());
      expect(p.optimizer).toBeUndefined();
      expect(p.step).toBe(0);
      expect(sameBits(p.getWeights(), m.getWeights())).toBe(true);
      m.dispose(); l.dispose(); p.dispose();
    }
  });

  it('{ optimizer: true } on a model that has not trained saves no optimizer state', async () => {
    await useBackend(backend);
    const m = everything();
    expect(m.save({ optimizer: true })).toEqual(m.save());
    expect(m.toJSON({ optimizer: true }).optimizer).toBeUndefined();
    const l = load(m.save({ optimizer: true }));
    expect(l.optimizer).toBeUndefined();
    m.dispose(); l.dispose();
  });

  it('a Node Buffer (a Uint8Array from a shared pool, at an offset) loads too, and a whole ArrayBuffer', async () => {
    await useBackend(backend);
    const m = sequential([nalu({ inputs: 3, outputs: 2 }), nac({ inputs: 2, outputs: 1 })], { seed: 5 });
    const small = Buffer.from(m.save());
    expect(small.byteOffset === 0 && small.buffer.byteLength === small.length).toBe(false);
    const l = load(small);
    expect(sameBits(l.getWeights(), m.getWeights())).toBe(true);
    const odd = new Uint8Array(m.save().length + 1);
    odd.set(m.save(), 1);
    expect(sameBits(load(odd.subarray(1)).getWeights(), m.getWeights())).toBe(true);
    // and an ArrayBuffer holding the model alone (as fetch's arrayBuffer() gives it)
    expect(sameBits(load(m.save().buffer).getWeights(), m.getWeights())).toBe(true);
    m.dispose(); l.dispose();
  });
});

describe('the same bytes from both builds', () => {
  it('a model trained on the simd build and its twin on the scalar build save identical bytes; each loads the other\'s', async () => {
    const saved = new Map<TestBackend, { bytes: Uint8Array; json: string; y: number[] }>();
    for (const backend of BACKENDS) {
      await useBackend(backend);
      const m = everything({ regularizer: { lambda: 0.1 } });
      const { x, t } = batchFor(m, 6, 16);
      const opt = adam({ learningRate: 0.01 });
      for (let s = 0; s < 20; s++) m.trainStep(x, t, opt);
      saved.set(backend, { bytes: m.save({ optimizer: true }), json: JSON.stringify(m.toJSON({ optimizer: true })), y: Array.from(bits(m.predict(x))) });
      m.dispose();
    }
    const simd = saved.get('simd')!, scalar = saved.get('scalar')!;
    expect(scalar.bytes).toEqual(simd.bytes);
    expect(scalar.json).toBe(simd.json);
    for (const [backend, other] of [['simd', scalar], ['scalar', simd]] as const) {
      await useBackend(backend);
      const l = load(other.bytes);
      expect(l.backend).toBe(backend);
      const { x } = batchFor(l, 6, 16);
      expect(Array.from(bits(l.predict(x)))).toEqual(other.y);
      l.dispose();
    }
  });
});

// ---- resume -----------------------------------------------------------------------------------

interface ResumeCase {
  name: string;
  model: () => Model;
  optimizer: () => Optimizer;
}

const RESUME: ResumeCase[] = [
  {
    name: 'NALU 100->2->1, adam',
    model: () => sequential([nalu({ inputs: 100, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })], { seed: 7 }),
    optimizer: () => adam({ learningRate: 0.01 }),
  },
  { name: 'every layer type, adam with clipping', model: () => everything(), optimizer: () => adam({ learningRate: 0.005, clipValue: 0.5 }) },
  { name: 'every layer type, rmsprop', model: () => everything(), optimizer: () => rmsprop({ learningRate: 0.001 }) },
  { name: 'every layer type, sgd', model: () => everything(), optimizer: () => sgd({ learningRate: 0.01 }) },
  {
    // The regulariser's weight depends on the step count: it ramps up over steps 5 to 25.
    name: 'NAU -> NMU with the regulariser\'s schedule, adam',
    model: () => sequential([nau({ inputs: 6, outputs: 3 }), nmu({ inputs: 3, outputs: 1 })], { seed: 8, regularizer: { lambda: 1, start: 5, end: 25 } }),
    optimizer: () => adam({ learningRate: 0.02 }),
  },
];

const N = 15, M = 15;

describe.each(BUILDS)('resume after save and load, %s build', (backend) => {
  it.each(RESUME.map((c) => [c.name, c] as const))('%s: N + M steps equal N, save, load, M, bit for bit', async (_name, c) => {
    await useBackend(backend);
    const probe = c.model();
    const rand = prng(21);
    const data = Array.from({ length: 3 }, () => ({
      x: randomInputs(rand, 16 * probe.inputs, { lo: 0.1, hi: 2, zeros: 0, negatives: 0.2 }),
      t: uniform32(rand, 16 * probe.outputs, -1, 1),
    }));
    probe.dispose();
    const batch = (s: number) => data[s % data.length]!;

    // Without a break.
    const straight = c.model();
    const opt = c.optimizer();
    const lossesStraight: number[] = [];
    let afterN1: Weights | undefined;
    for (let s = 0; s < N + M; s++) {
      lossesStraight.push(straight.trainStep(batch(s).x, batch(s).t, opt));
      if (s === N) afterN1 = straight.getWeights();
    }

    // With a break after N steps, through the binary and the JSON form.
    for (const form of ['binary', 'json'] as const) {
      const first = c.model();
      const o = c.optimizer();
      const losses: number[] = [];
      for (let s = 0; s < N; s++) losses.push(first.trainStep(batch(s).x, batch(s).t, o));
      const second = form === 'binary'
        ? load(first.save({ optimizer: true }))
        : fromJSON(JSON.stringify(first.toJSON({ optimizer: true })));
      first.dispose();
      expect(second.step).toBe(N);
      for (let s = N; s < N + M; s++) losses.push(second.trainStep(batch(s).x, batch(s).t, second.optimizer!));
      expect(losses, `${form}: losses`).toEqual(lossesStraight);
      expect(losses.every(Number.isFinite)).toBe(true);
      const { x } = batch(0);
      expectSameState(stateOf(second, x), stateOf(straight, x));
      second.dispose();
    }
    // Without the optimizer's state the continuation differs (the moments start again).
    const first = c.model();
    const o = c.optimizer();
    for (let s = 0; s < N; s++) first.trainStep(batch(s).x, batch(s).t, o);
    const cold = load(first.save());
    const lossCold = cold.trainStep(batch(N).x, batch(N).t, c.optimizer());
    expect(lossCold).toBe(lossesStraight[N]);
    // SGD has no state: restarting it changes nothing.
    expect(sameBits(cold.getWeights(), afterN1!)).toBe(c.optimizer().kind === 'sgd');
    first.dispose(); cold.dispose(); straight.dispose();
  });

  it('the fused path (trainStepOn) resumes too, with the sampler kept by the caller', async () => {
    await useBackend(backend);
    const { staticTask } = await import('../src/index');
    const layers = () => [nalu({ inputs: 100, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })];
    const straight = sequential(layers(), { seed: 3 });
    const s1 = staticTask({ op: 'add' }).trainSampler();
    const opt = adam({ learningRate: 0.01 });
    const a: number[] = [];
    for (let s = 0; s < 40; s++) a.push(straight.trainStepOn(s1, opt, 32));
    const first = sequential(layers(), { seed: 3 });
    const s2 = staticTask({ op: 'add' }).trainSampler();
    const o = adam({ learningRate: 0.01 });
    const b: number[] = [];
    for (let s = 0; s < 20; s++) b.push(first.trainStepOn(s2, o, 32));
    const second = load(first.save({ optimizer: true }));
    first.dispose();
    for (let s = 20; s < 40; s++) b.push(second.trainStepOn(s2, second.optimizer!, 32));
    expect(b).toEqual(a);
    expect(sameBits(second.getWeights(), straight.getWeights())).toBe(true);
    straight.dispose(); second.dispose(); s1.dispose(); s2.dispose();
  });
});

// ---- bad input ----------------------------------------------------------------------------------

interface Ctx {
  /** A trained model (2 steps of adam): nalu 3->2, nac 2->1. */
  m: Model;
  /** m.save({ optimizer: true }). */
  bytes: Uint8Array;
  /** m.toJSON({ optimizer: true }) as parsed JSON (a fresh copy per row). */
  json: ModelJSON;
  x: Float32Array;
}

interface Row {
  name: string;
  run: (c: Ctx) => unknown;
  message: RegExp;
}

const copy = (b: Uint8Array) => b.slice();
const edit = (b: Uint8Array, f: (b: Uint8Array, view: DataView) => void) => {
  const c = b.slice();
  f(c, new DataView(c.buffer));
  return c;
};
const flip = (b: Uint8Array, at: number, bit = 0) => edit(b, (c) => { c[at] ^= 1 << bit; });
/** The JSON form, edited. */
const j = (c: Ctx, f: (json: Record<string, any>) => void) => { f(c.json as unknown as Record<string, any>); return fromJSON(c.json); };
/** The binary form, its content edited, with a valid checksum. */
const k = (c: Ctx, f: (s: SavedModel) => void) => load(craft(c.bytes, f));
const opt = (s: SavedModel) => s.optimizer!;
const setting = (s: SavedModel, key: string) => opt(s).settings.find(([name]) => name === key)!;
const tensor = (s: SavedModel, layer: number, name: string) => s.layers[layer]!.params.find(([n]) => n === name)!;

const TRUNCATE_AT = [1, 5, 7, 8, 9, 10, 11, 12, 16, 20, 24, 25, 26, 40, 100, -100, -5, -4, -1];

const ROWS: Row[] = [
  // ---- load: not bytes ----
  { name: 'load: an object posing as an ArrayBuffer', run: (c) => load(any({ [Symbol.toStringTag]: 'ArrayBuffer', slice: () => c.bytes.slice().buffer, byteLength: c.bytes.length })), message: /^load: bytes must be a Uint8Array \(what save\(\) returns\) or an ArrayBuffer, got / },
  { name: 'load: a Proxy of an ArrayBuffer', run: (c) => load(any(new Proxy(c.bytes.slice().buffer, {}))), message: /^load: bytes must be a Uint8Array \(what save\(\) returns\) or an ArrayBuffer, got / },
  { name: 'load: a transferred (detached) ArrayBuffer', run: (c) => { const b = c.bytes.slice().buffer; structuredClone(b, { transfer: [b] }); return load(b); }, message: /^load: the bytes cannot be read \(.+\): a transferred \(detached\) buffer\?$/ },
  { name: 'load: a Proxy of the bytes', run: (c) => load(new Proxy(c.bytes, {})), message: /^load: bytes must be a Uint8Array \(what save\(\) returns\) or an ArrayBuffer, got an object posing as a Uint8Array \(a Proxy\?\)$/ },
  { name: 'load: the .buffer of a view whose bytes start further in (a small Node Buffer in its pool)', run: (c) => { const b = new Uint8Array(c.bytes.length + 64); b.fill(0x2f); b.set(c.bytes, 64); return load(b.buffer); }, message: /^load: not a nalu-wasm model: it starts with the bytes 2f 2f 2f 2f 2f 2f 2f 2f, not "NALUWASM" \(an ArrayBuffer is read whole: for the \.buffer of a Node Buffer or of a view, whose bytes may be part of a larger buffer, pass the Buffer or view itself\)$/ },
  { name: 'load: an ArrayBuffer with no model in it (another file): no word of Buffers', run: () => load(new Uint8Array(64).fill(0x3c).buffer), message: /^load: not a nalu-wasm model: it starts with the bytes 3c 3c 3c 3c 3c 3c 3c 3c, not "NALUWASM"$/ },
  { name: 'load: an ArrayBuffer larger than the model (the .buffer of a view into it)', run: (c) => { const b = new Uint8Array(c.bytes.length + 8); b.set(c.bytes); return load(b.buffer); }, message: /^load: 8 unexpected bytes after the model's \d+ bytes \(the length its header gives\): the data holds more than one saved model, or is corrupt \(an ArrayBuffer is read whole: for the \.buffer of a Node Buffer or of a view, whose bytes may be part of a larger buffer, pass the Buffer or view itself\)$/ },
  { name: 'load: a number[]', run: (c) => load(any(Array.from(c.bytes))), message: /^load: bytes must be a Uint8Array .*got an array of length \d+/ },
  { name: 'load: an Int8Array', run: (c) => load(any(new Int8Array(c.bytes.buffer.slice(0)))), message: /^load: bytes must be a Uint8Array .*got an Int8Array$/ },
  { name: 'load: a Uint8ClampedArray', run: (c) => load(any(new Uint8ClampedArray(c.bytes))), message: /^load: bytes must be a Uint8Array .*got a Uint8ClampedArray$/ },
  { name: 'load: a DataView', run: (c) => load(any(new DataView(copy(c.bytes).buffer))), message: /^load: bytes must be a Uint8Array .*got a DataView$/ },
  { name: 'load: null', run: () => load(any(null)), message: /^load: bytes must be a Uint8Array .*got null$/ },
  { name: 'load: undefined', run: () => load(any(undefined)), message: /^load: bytes must be a Uint8Array .*got undefined$/ },
  { name: 'load: a number', run: () => load(any(42)), message: /^load: bytes must be a Uint8Array .*got 42$/ },
  { name: 'load: the JSON text', run: (c) => load(any(JSON.stringify(c.json))), message: /^load: bytes must be a Uint8Array .*got a string of \d+ characters \(it looks like JSON: use fromJSON/ },
  { name: 'load: the JSON object', run: (c) => load(any(c.json)), message: /^load: bytes must be a Uint8Array .*got the JSON form of a model \(use fromJSON for it\)/ },
  { name: 'load: the model itself', run: (c) => load(any(c.m)), message: /^load: bytes must be a Uint8Array .*got a Model$/ },

  // ---- load: not a nalu-wasm model ----
  { name: 'load: empty', run: () => load(new Uint8Array(0)), message: /^load: not a nalu-wasm model: the data is empty \(0 bytes\)/ },
  { name: 'load: a PNG header', run: () => load(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13)), message: /^load: not a nalu-wasm model: it starts with the bytes 89 50 4e 47 0d 0a 1a 0a, not "NALUWASM"$/ },
  { name: 'load: the JSON form as bytes', run: (c) => load(new TextEncoder().encode(JSON.stringify(c.json))), message: /^load: not a nalu-wasm model: it starts with the bytes 7b 22 .*\(it looks like JSON: use fromJSON for the JSON form\)/ },
  {
    name: 'load: the Wasm module of this package',
    run: () => load(readFileSync(new URL('../build/nalu-scalar.wasm', import.meta.url))),
    message: /^load: not a nalu-wasm model: it starts with the bytes 00 61 73 6d 01 00 00 00/,
  },
  { name: 'load: the last magic byte wrong', run: (c) => load(edit(c.bytes, (b) => { b[7] = 0x58; })), message: /^load: not a nalu-wasm model: it starts with the bytes 4e 41 4c 55 57 41 53 58, not "NALUWASM"/ },
  { name: 'load: zeros', run: (c) => load(new Uint8Array(c.bytes.length)), message: /^load: not a nalu-wasm model: it starts with the bytes 00 00 00/ },
  { name: 'load: the first byte shifted out', run: (c) => load(c.bytes.subarray(1)), message: /^load: not a nalu-wasm model: it starts with the bytes 41 4c 55/ },

  // ---- load: truncated ----
  ...TRUNCATE_AT.map((at): Row => ({
    name: `load: truncated to ${at < 0 ? `length ${at}` : `${at} bytes`}`,
    run: (c) => load(c.bytes.slice(0, at)),
    message: at > 0 && at < 25
      ? new RegExp(`^load: truncated: ${at} bytes?, and a nalu-wasm model has at least ${MIN_BYTES}$`)
      : /^load: truncated: \d+ bytes of a model of \d+ bytes \(the length its header gives; or that length is corrupt\)$/,
  })),

  // ---- load: more than one model ----
  { name: 'load: one byte too many', run: (c) => load(Uint8Array.from([...c.bytes, 0])), message: /^load: 1 unexpected byte after the model's \d+ bytes \(the length its header gives\): the data holds more than one saved model, or is corrupt/ },
  { name: 'load: two models one after the other', run: (c) => load(Uint8Array.from([...c.bytes, ...c.bytes])), message: /^load: (\d+) unexpected bytes after the model's \1 bytes/ },

  // ---- load: versions ----
  { name: 'load: format version 2', run: (c) => load(edit(c.bytes, (_, v) => v.setUint16(8, 2, true))), message: /^load: format version 2 is newer than this version of nalu-wasm reads \(1 to 1\): load it with a newer nalu-wasm \(or the data is corrupt\)/ },
  { name: 'load: format version 65535, resealed', run: (c) => load(reseal(edit(c.bytes, (_, v) => v.setUint16(8, 65535, true)))), message: /^load: format version 65535 is newer/ },
  { name: 'load: format version 0', run: (c) => load(reseal(edit(c.bytes, (_, v) => v.setUint16(8, 0, true)))), message: /^load: unknown format version 0 \(this nalu-wasm reads 1 to 1\): the data is corrupt/ },
  { name: 'load: format version 2 in the first 10 bytes only', run: (c) => load(edit(c.bytes.slice(0, 10), (_, v) => v.setUint16(8, 2, true))), message: /^load: format version 2 is newer/ },

  // ---- load: the length field ----
  { name: 'load: a length of 3 in the header', run: (c) => load(edit(c.bytes, (_, v) => v.setUint32(12, 3, true))), message: /^load: corrupt header: it gives the model's length as 3 bytes, less than the 25 of an empty model/ },
  { name: 'load: a length 100 bytes too long', run: (c) => load(edit(c.bytes, (b, v) => v.setUint32(12, b.length + 100, true))), message: /^load: truncated: (\d+) bytes of a model of \d+ bytes/ },
  { name: 'load: a length 8 bytes too short', run: (c) => load(edit(c.bytes, (b, v) => v.setUint32(12, b.length - 8, true))), message: /^load: 8 unexpected bytes after the model's \d+ bytes/ },

  // ---- load: checksum ----
  { name: 'load: one bit of a parameter flipped', run: (c) => load(flip(c.bytes, find(c.bytes, 'G') + 10, 3)), message: /^load: checksum mismatch: the model's CRC-32 is 0x[0-9a-f]{8}, its bytes give 0x[0-9a-f]{8}: the data is corrupt$/ },
  { name: 'load: one bit of the checksum flipped', run: (c) => load(flip(c.bytes, c.bytes.length - 1, 7)), message: /^load: checksum mismatch/ },
  { name: 'load: a flag set (checked after the checksum)', run: (c) => load(flip(c.bytes, 10, 2)), message: /^load: checksum mismatch/ },
  { name: 'load: the layer type nalu changed to nalv', run: (c) => load(edit(c.bytes, (b) => { b[find(b, 'nalu') + 3] = 0x76; })), message: /^load: checksum mismatch/ },
  { name: 'load: two parameters swapped', run: (c) => load(edit(c.bytes, (b) => { const at = find(b, 'W_hat') + 9; const t = b.slice(at, at + 4); b.copyWithin(at, at + 4, at + 8); b.set(t, at + 4); })), message: /^load: checksum mismatch/ },
  { name: 'load: the optimizer\'s moments zeroed', run: (c) => load(edit(c.bytes, (b) => { b.fill(0, b.length - 60, b.length - 4); })), message: /^load: checksum mismatch/ },

  // ---- load: valid checksum, content from other code ----
  { name: 'load: an unknown flag', run: (c) => load(reseal(edit(c.bytes, (_, v) => v.setUint16(10, 5, true)))), message: /^load: unknown flags 0x0005 in the header \(this nalu-wasm knows 0x0001\)/ },
  { name: 'load: an unknown layer type', run: (c) => k(c, (s) => { s.layers[1]!.type = 'transformer'; }), message: /^load: layer 1: unknown layer type "transformer" \(known: nac, nacMul, nalu, dense\b/ },
  { name: 'load: a layer type from Object.prototype', run: (c) => k(c, (s) => { s.layers[0]!.type = 'constructor'; }), message: /^load: layer 0: unknown layer type "constructor"/ },
  { name: 'load: an unknown layer option', run: (c) => k(c, (s) => { s.layers[0]!.options.push(['gamma', 1]); }), message: /^load: layer 0: nalu: unknown option "gamma"/ },
  { name: 'load: an option named inputs', run: (c) => k(c, (s) => { s.layers[0]!.options.push(['inputs', 5]); }), message: /^load: layer 0 \(nalu\) has an option named inputs/ },
  { name: 'load: an option given twice', run: (c) => k(c, (s) => { s.layers[0]!.options.push(['eps', 1e-7]); }), message: /^load: layer 0 \(nalu\) has the option eps twice/ },
  { name: 'load: eps 0', run: (c) => k(c, (s) => { s.layers[0]!.options.find(([n]) => n === 'eps')![1] = 0; }), message: /^load: layer 0: nalu: eps must be a finite number > 0/ },
  { name: 'load: sharedWeights a string', run: (c) => k(c, (s) => { s.layers[0]!.options.find(([n]) => n === 'sharedWeights')![1] = 'yes'; }), message: /^load: layer 0: nalu: sharedWeights must be true or false, got "yes"/ },
  { name: 'load: an unknown init', run: (c) => k(c, (s) => { s.layers[1]!.options.push(['init', 'he']); }), message: /^load: layer 1: nac: init must be .*got "he"/ },
  { name: 'load: inputs 0', run: (c) => k(c, (s) => { s.layers[0]!.inputs = 0; }), message: /^load: layer 0: nalu: inputs must be an integer from 1 to 65536, got 0/ },
  { name: 'load: outputs 2^32 - 1', run: (c) => k(c, (s) => { s.layers[1]!.outputs = 0xffffffff; }), message: /^load: layer 1: nac: outputs must be an integer from 1 to 65536, got 4294967295/ },
  {
    name: 'load: layer sizes that do not chain',
    run: (c) => k(c, (s) => { s.layers[1]!.inputs = 3; for (const p of s.layers[1]!.params) p[1] = new Float32Array(3); }),
    message: /^load: layer 1 \(nac\) has 3 inputs but layer 0 has 2 outputs/,
  },
  { name: 'load: a tensor of the wrong length', run: (c) => k(c, (s) => { tensor(s, 0, 'G')[1] = new Float32Array(5); }), message: /^load: G of layer 0 \(nalu\) has 5 values, expected 3 x 2 = 6/ },
  { name: 'load: an empty tensor', run: (c) => k(c, (s) => { tensor(s, 1, 'W_hat')[1] = new Float32Array(0); }), message: /^load: W_hat of layer 1 \(nac\) has 0 values, expected 2 x 1 = 2/ },
  { name: 'load: a tensor missing', run: (c) => k(c, (s) => { s.layers[0]!.params.splice(1, 1); }), message: /^load: M_hat of layer 0 \(nalu\) is missing/ },
  { name: 'load: a tensor the layer does not have', run: (c) => k(c, (s) => { s.layers[0]!.params.push(['W_hat_mul', new Float32Array(6)]); }), message: /^load: layer 0 \(nalu\) has no parameter "W_hat_mul" \(it has W_hat, M_hat, G\)/ },
  { name: 'load: a tensor twice', run: (c) => k(c, (s) => { s.layers[1]!.params.push(s.layers[1]!.params[0]!); }), message: /^load: W_hat of layer 1 \(nac\) appears twice/ },
  { name: 'load: NaN in a parameter without allowNonFinite', run: (c) => k(c, (s) => { tensor(s, 1, 'M_hat')[1][1] = NaN; }), message: /^load: M_hat of layer 1 \(nac\) holds NaN at index 1; weights must be finite/ },
  { name: 'load: -Infinity in a parameter without allowNonFinite', run: (c) => k(c, (s) => { tensor(s, 0, 'W_hat')[1][4] = -Infinity; }), message: /^load: W_hat of layer 0 \(nalu\) holds -Infinity at index 4; weights must be finite/ },
  { name: 'load: no layers', run: (c) => k(c, (s) => { s.layers = []; s.optimizer = undefined; }), message: /^load: the model has no layers$/ },
  { name: 'load: an unknown model option', run: (c) => k(c, (s) => { s.options.push(['seeds', 1]); }), message: /^load: the model has an option named "seeds"; a saved model's options are allowNonFinite and regularizer$/ },
  // sequential() takes these, a saved model does not hold them: loading them would make a model
  // whose save() differs from the file
  { name: 'load: a seed among the model options', run: (c) => k(c, (s) => { s.options.push(['seed', 5]); }), message: /^load: the model has an option named "seed"; a saved model's options are/ },
  { name: 'load: an init scheme among the model options', run: (c) => k(c, (s) => { s.options.push(['init', 'madsen']); }), message: /^load: the model has an option named "init"; a saved model's options are/ },
  { name: 'load: allowNonFinite a number', run: (c) => k(c, (s) => { s.options[0]![1] = 1; }), message: /^load: allowNonFinite must be true or false, got 1/ },
  { name: 'load: a regulariser with a start but no lambda', run: (c) => k(c, (s) => { s.options.push(['regularizer.start', 10]); }), message: /^load: regularizer\.lambda must be a finite number >= 0 and <= 3\.4028234663852886e\+38, got undefined$/ },
  { name: 'load: a negative regulariser lambda', run: (c) => k(c, (s) => { s.options.push(['regularizer.lambda', -1]); }), message: /^load: regularizer\.lambda must be a finite number >= 0 and <= 3\.4028234663852886e\+38, got -1/ },
  { name: 'load: an unknown optimizer', run: (c) => k(c, (s) => { opt(s).kind = 'lbfgs'; }), message: /^load: optimizer: unknown optimizer "lbfgs" \(known: adam, rmsprop, sgd\)/ },
  { name: 'load: an optimizer kind from Object.prototype', run: (c) => k(c, (s) => { opt(s).kind = 'toString'; }), message: /^load: optimizer: unknown optimizer "toString"/ },
  { name: 'load: adam with beta1 1.5', run: (c) => k(c, (s) => { setting(s, 'beta1')[1] = 1.5; }), message: /^load: optimizer: adam: beta1 must be a finite number >= 0 and <= 0\.999999, got 1\.5/ },
  { name: 'load: adam with a NaN learning rate', run: (c) => k(c, (s) => { setting(s, 'learningRate')[1] = NaN; }), message: /^load: optimizer: adam: learningRate must be a finite number > 0 .*got NaN/ },
  { name: 'load: a setting missing', run: (c) => k(c, (s) => { opt(s).settings = opt(s).settings.filter(([n]) => n !== 'epsilon'); }), message: /^load: optimizer: the setting epsilon of adam is missing/ },
  { name: 'load: a setting the optimizer does not have', run: (c) => k(c, (s) => { opt(s).settings.push(['momentum', 0.9]); }), message: /^load: optimizer: adam has no setting momentum \(it has learningRate, beta1, beta2, epsilon, clipValue/ },
  {
    name: 'load: sgd with a beta1',
    run: (c) => k(c, (s) => { opt(s).kind = 'sgd'; }),
    message: /^load: optimizer: sgd: beta1 is 0\.9, but sgd\(\) with these settings has 0/,
  },
  { name: 'load: a step count beyond 2^53', run: (c) => k(c, (s) => { opt(s).step = 2 ** 53; }), message: /^load: the step count is 9007199254740992, larger than 9007199254740991/ },
  { name: 'load: one moment tensor too few', run: (c) => k(c, (s) => { opt(s).m.pop(); opt(s).v.pop(); }), message: /^load: the optimizer's m holds 4 tensors, the layers have 5/ },
  { name: 'load: a moment of the wrong length', run: (c) => k(c, (s) => { opt(s).v[2] = new Float32Array(7); }), message: /^load: the optimizer's v of G of layer 0 \(nalu\) has 7 values, expected 6/ },
  { name: 'load: a NaN first moment without allowNonFinite', run: (c) => k(c, (s) => { opt(s).m[3]![1] = NaN; }), message: /^load: the moments of W_hat of layer 1 \(nac\) hold m = NaN, v = [^ ]+ at index 1; m must be finite and v >= 0$/ },
  { name: 'load: a negative second moment', run: (c) => k(c, (s) => { opt(s).v[0]![0] = -1; }), message: /^load: the moments of W_hat of layer 0 \(nalu\) hold m = [^ ]+, v = -1 at index 0; m must be finite and v >= 0$/ },
  {
    name: 'load: content after the optimizer',
    run: (c) => load(resealAll(Uint8Array.from([...c.bytes.subarray(0, c.bytes.length - 4), 1, 2, 3, 0, 0, 0, 0]))),
    message: /^load: corrupt data: 3 unexpected bytes at byte \d+, after the model's content/,
  },
  { name: 'load: a name with a byte that is not ASCII', run: (c) => load(reseal(edit(c.bytes, (b) => { b[find(b, 'nalu')] = 0xff; }))), message: /^load: corrupt data: the type of layer 0 at byte \d+ holds the byte 0xff, not printable ASCII/ },
  { name: 'load: a boolean of value 2', run: (c) => load(reseal(edit(c.bytes, (b) => { b[find(b, 'sharedWeights') + 14] = 2; }))), message: /^load: corrupt data: option sharedWeights of layer 0 is a boolean of value 2/ },
  { name: 'load: an unknown value tag', run: (c) => load(reseal(edit(c.bytes, (b) => { b[find(b, 'sharedWeights') + 13] = 7; }))), message: /^load: corrupt data: option sharedWeights of layer 0 has the unknown value tag 7/ },
  {
    name: 'load: a tensor length of 2^32 - 16 (nothing that large is allocated)',
    run: (c) => load(reseal(edit(c.bytes, (b, v) => v.setUint32(find(b, 'W_hat') + 5, 0xfffffff0, true)))),
    message: /^load: corrupt data: the 4294967280 values of W_hat of layer 0 at byte \d+ needs 17179869120 bytes, past the end of the model data/,
  },
  {
    name: 'load: a layer count of 2^32 - 1',
    run: (c) => load(reseal(edit(c.bytes, (_, v) => v.setUint32(16, 0xffffffff, true)))),
    message: /^load: the model has 4294967295 layers, more than the 1024 a model may have$/,
  },
  {
    name: 'load: a layer count of 3, one more than the file holds',
    run: (c) => load(reseal(edit(c.bytes, (_, v) => v.setUint32(16, 3, true)))),
    message: /^load: corrupt data: .*of layer 2\b/,
  },
  {
    // each tensor, empty or not, is an object: the count is bounded before any is read
    name: 'load: an optimizer tensor count of 2^32 - 1',
    run: (c) => load(reseal(edit(c.bytes, (b, v) => v.setUint32(find(b, 'learningRate') + 12 + 8, 0xffffffff, true)))), // after the last setting
    message: /^load: corrupt data: the optimizer's tensor count 4294967295 is more than 2 layers hold \(255 each\)$/,
  },

  // ---- fromJSON ----
  { name: 'fromJSON: text that is not JSON', run: () => fromJSON('{"format": "nalu-wasm",'), message: /^fromJSON: the text is not valid JSON \(.+\)$/ },
  { name: 'fromJSON: the text null', run: () => fromJSON('null'), message: /^fromJSON: expected the object model\.toJSON\(\) returns, or its JSON text, got null/ },
  { name: 'fromJSON: a number', run: () => fromJSON(any(42)), message: /^fromJSON: expected the object .*got 42/ },
  { name: 'fromJSON: an array', run: () => fromJSON(any([])), message: /^fromJSON: expected the object .*got an empty array$/ },
  { name: 'fromJSON: the binary form', run: (c) => fromJSON(any(c.bytes)), message: /^fromJSON: expected the object .*got a Uint8Array \(for the binary form use load\)/ },
  { name: 'fromJSON: another format', run: (c) => j(c, (o) => { o.format = 'tfjs-layers'; }), message: /^fromJSON: not a nalu-wasm model: format is "tfjs-layers", expected "nalu-wasm"/ },
  { name: 'fromJSON: no format', run: (c) => j(c, (o) => { delete o.format; }), message: /^fromJSON: not a nalu-wasm model: format is undefined/ },
  { name: 'fromJSON: version 2', run: (c) => j(c, (o) => { o.version = 2; }), message: /^fromJSON: format version 2 is newer than this version of nalu-wasm reads \(1 to 1\)/ },
  { name: 'fromJSON: version "1"', run: (c) => j(c, (o) => { o.version = '1'; }), message: /^fromJSON: version must be a positive integer, got "1"/ },
  { name: 'fromJSON: version 0.5', run: (c) => j(c, (o) => { o.version = 0.5; }), message: /^fromJSON: version must be a positive integer, got 0\.5/ },
  { name: 'fromJSON: an unknown field', run: (c) => j(c, (o) => { o.weights = []; }), message: /^fromJSON: the model has the unknown field "weights" \(expected format, version, options, layers, optimizer\)/ },
  { name: 'fromJSON: options missing', run: (c) => j(c, (o) => { delete o.options; }), message: /^fromJSON: the model has no field options/ },
  { name: 'fromJSON: allowNonFinite "yes"', run: (c) => j(c, (o) => { o.options.allowNonFinite = 'yes'; }), message: /^fromJSON: allowNonFinite must be true or false, got "yes"/ },
  { name: 'fromJSON: an option that is an array', run: (c) => j(c, (o) => { o.options.seed = [1]; }), message: /^fromJSON: option seed of the model must be a number, boolean, string or a record of them, got \[1\]$/ },
  { name: 'fromJSON: an option that is an empty object', run: (c) => j(c, (o) => { o.layers[0].options.eps = {}; }), message: /^fromJSON: option eps of layer 0 must be a number, boolean, string or a record of them, got an empty object$/ },
  { name: 'fromJSON: the regulariser an empty object', run: (c) => j(c, (o) => { o.options.regularizer = {}; }), message: /^fromJSON: option regularizer of the model must be .*, got an empty object$/ },
  { name: 'fromJSON: an unknown option that is an empty object', run: (c) => j(c, (o) => { o.layers[1].options.bogus = {}; }), message: /^fromJSON: option bogus of layer 1 must be .*, got an empty object$/ },
  { name: 'fromJSON: an option that is a Date', run: (c) => j(c, (o) => { o.layers[0].options.eps = new Date(0); }), message: /^fromJSON: option eps of layer 0 must be .*, got a Date$/ },
  { name: 'fromJSON: a layer\'s options a Map', run: (c) => j(c, (o) => { o.layers[0].options = new Map([['eps', 5]]); }), message: /^fromJSON: the options of layer 0 must be an object, got a Map$/ },
  { name: 'fromJSON: an option record holding a record', run: (c) => j(c, (o) => { o.options.regularizer = { lambda: { x: 1 } }; }), message: /^fromJSON: option regularizer\.lambda of the model must be a number, boolean, string or a record of them, got an object$/ },
  { name: 'fromJSON: an option Infinity', run: (c) => j(c, (o) => { o.layers[0].options.eps = Infinity; }), message: /^fromJSON: layer 0: nalu: eps must be a finite number > 0 and <= 1, got Infinity$/ },
  { name: 'fromJSON: an option 1e400 in the text', run: (c) => fromJSON(JSON.stringify(c.json).replace(/"eps":[^,}]+/, '"eps":1e400')), message: /^fromJSON: layer 0: nalu: eps must be a finite number > 0 and <= 1, got Infinity$/ },
  { name: 'fromJSON: a hole in the layers', run: (c) => j(c, (o) => { o.layers = [o.layers[0], , o.layers[1]]; }), message: /^fromJSON: layer 1 must be an object, got undefined$/ },
  { name: 'fromJSON: holes after the layers', run: (c) => j(c, (o) => { o.layers.length = 3; }), message: /^fromJSON: layer 2 must be an object, got undefined$/ },
  { name: 'fromJSON: 2^32 - 1 layers', run: (c) => j(c, (o) => { o.layers.length = 2 ** 32 - 1; }), message: /^fromJSON: the model has 4294967295 layers, more than the 1024 a model may have$/ },
  {
    name: 'fromJSON: a layer naming 256 tensors',
    run: (c) => j(c, (o) => { for (let i = 0; i < 256; i++) o.layers[1].params[`T${i}`] = []; }),
    message: /^fromJSON: the params of layer 1 name 258 tensors, more than the 255 a layer may hold$/,
  },
  { name: 'fromJSON: a sparse tensor 2^28 long', run: (c) => j(c, (o) => { o.layers[0].params.G = new Array(2 ** 28); }), message: /^fromJSON: G of layer 0 holds undefined at index 0;/ },
  { name: 'fromJSON: a layer type of 100,000 characters', run: (c) => j(c, (o) => { o.layers[0].type = 'x'.repeat(1e5); }), message: /^fromJSON: layer 0: unknown layer type "x{60}"\.\.\. \(100000 characters\) \(known: nac,/ },
  { name: 'fromJSON: no layers', run: (c) => j(c, (o) => { o.layers = []; }), message: /^fromJSON: layers must be a non-empty array, got an empty array$/ },
  { name: 'fromJSON: layers an object', run: (c) => j(c, (o) => { o.layers = { 0: o.layers[0] }; }), message: /^fromJSON: layers must be a non-empty array, got an object/ },
  { name: 'fromJSON: a layer without params', run: (c) => j(c, (o) => { delete o.layers[1].params; }), message: /^fromJSON: layer 1 has no field params/ },
  { name: 'fromJSON: a layer field misplaced (activation outside options)', run: (c) => j(c, (o) => { o.layers[1].activation = 'relu'; }), message: /^fromJSON: layer 1 has the unknown field "activation" \(expected type, inputs, outputs, options, params\)/ },
  { name: 'fromJSON: a layer type that is not a string', run: (c) => j(c, (o) => { o.layers[0].type = 2; }), message: /^fromJSON: the type of layer 0 must be a string, got 2/ },
  { name: 'fromJSON: an unknown layer type', run: (c) => j(c, (o) => { o.layers[0].type = 'nalu2'; }), message: /^fromJSON: layer 0: unknown layer type "nalu2" \(known: nac, nacMul, nalu/ },
  { name: 'fromJSON: inputs a string', run: (c) => j(c, (o) => { o.layers[0].inputs = '3'; }), message: /^fromJSON: layer 0: nalu: inputs must be an integer from 1 to 65536, got "3"/ },
  { name: 'fromJSON: a layer option null', run: (c) => j(c, (o) => { o.layers[0].options.eps = null; }), message: /^fromJSON: option eps of layer 0 must be a number, boolean, string or a record of them, got null/ },
  { name: 'fromJSON: a parameter value that is not a number', run: (c) => j(c, (o) => { o.layers[0].params.G[2] = 'abc'; }), message: /^fromJSON: G of layer 0 holds "abc" at index 2; expected a number or one of "NaN", "Infinity", "-Infinity", "-0"/ },
  { name: 'fromJSON: a parameter value null (what JSON makes of NaN)', run: (c) => j(c, (o) => { o.layers[1].params.W_hat[0] = null; }), message: /^fromJSON: W_hat of layer 1 holds null at index 0/ },
  { name: 'fromJSON: a parameter beyond the f32 range', run: (c) => j(c, (o) => { o.layers[0].params.W_hat[1] = 1e39; }), message: /^fromJSON: W_hat of layer 0 holds 1e\+39 at index 1, beyond the range of f32/ },
  { name: 'fromJSON: "NaN" without allowNonFinite', run: (c) => j(c, (o) => { o.layers[0].params.M_hat[3] = 'NaN'; }), message: /^fromJSON: M_hat of layer 0 \(nalu\) holds NaN at index 3; weights must be finite/ },
  { name: 'fromJSON: a tensor of the wrong length', run: (c) => j(c, (o) => { o.layers[0].params.G.push(0); }), message: /^fromJSON: G of layer 0 \(nalu\) has 7 values, expected 3 x 2 = 6/ },
  { name: 'fromJSON: a tensor that is a string', run: (c) => j(c, (o) => { o.layers[0].params.G = '1,2,3,4,5,6'; }), message: /^fromJSON: G of layer 0 must be an array of numbers, got "1,2,3,4,5,6"/ },
  { name: 'fromJSON: the optimizer without v', run: (c) => j(c, (o) => { delete o.optimizer.v; }), message: /^fromJSON: optimizer has no field v/ },
  { name: 'fromJSON: the moments of one layer only', run: (c) => j(c, (o) => { o.optimizer.m.pop(); }), message: /^fromJSON: optimizer\.m must be an array of 2 records \(one per layer\), got an array of length 1/ },
  { name: 'fromJSON: a moment tensor missing', run: (c) => j(c, (o) => { delete o.optimizer.v[0].G; }), message: /^fromJSON: optimizer\.v\[0\] has the tensors W_hat, M_hat but the params of layer 0 are W_hat, M_hat, G; the moments must name the params$/ },
  { name: 'fromJSON: a parameter missing where the moments have it', run: (c) => j(c, (o) => { delete o.layers[0].params.M_hat; }), message: /^fromJSON: optimizer\.m\[0\] has the tensors W_hat, M_hat, G but the params of layer 0 are W_hat, G; the moments must name the params$/ },
  { name: 'fromJSON: a moment named as no parameter', run: (c) => j(c, (o) => { o.optimizer.m[1].q = [0, 0]; }), message: /^fromJSON: optimizer\.m\[1\] has the tensors W_hat, M_hat, q but the params of layer 1 are W_hat, M_hat;/ },
  { name: 'fromJSON: a moment of the wrong length', run: (c) => j(c, (o) => { o.optimizer.m[1].W_hat.push(0); }), message: /^fromJSON: the optimizer's m of W_hat of layer 1 \(nac\) has 3 values, expected 2/ },
  { name: 'fromJSON: a second moment "NaN" without allowNonFinite', run: (c) => j(c, (o) => { o.optimizer.v[0].G[5] = 'NaN'; }), message: /^fromJSON: the moments of G of layer 0 \(nalu\) hold m = [^ ]+, v = NaN at index 5; m must be finite and v >= 0$/ },
  { name: 'fromJSON: a negative step', run: (c) => j(c, (o) => { o.optimizer.step = -1; }), message: /^fromJSON: optimizer: step must be an integer from 0 to 9007199254740991, got -1/ },
  { name: 'fromJSON: a fractional step', run: (c) => j(c, (o) => { o.optimizer.step = 2.5; }), message: /^fromJSON: optimizer: step must be an integer .*got 2\.5/ },
  { name: 'fromJSON: a setting that is a string', run: (c) => j(c, (o) => { o.optimizer.settings.learningRate = 'fast'; }), message: /^fromJSON: optimizer\.settings\.learningRate must be a number, got "fast"/ },
  { name: 'fromJSON: an unknown optimizer', run: (c) => j(c, (o) => { o.optimizer.kind = 'adamw'; }), message: /^fromJSON: optimizer: unknown optimizer "adamw"/ },

  // ---- save and toJSON ----
  { name: 'save: options null', run: (c) => c.m.save(any(null)), message: /^save: options must be an object such as \{ optimizer: true \}, got null/ },
  { name: 'save: options a boolean', run: (c) => c.m.save(any(true)), message: /^save: options must be an object .*got true/ },
  { name: 'save: a misspelt option', run: (c) => c.m.save(any({ optimiser: true })), message: /^save: unknown option "optimiser" \(expected one of optimizer\)/ },
  { name: 'save: optimizer not a boolean', run: (c) => c.m.save(any({ optimizer: 1 })), message: /^save: optimizer must be true or false, got 1/ },
  { name: 'toJSON: optimizer not a boolean', run: (c) => c.m.toJSON(any({ optimizer: 'yes' })), message: /^toJSON: optimizer must be true or false, got "yes"/ },
  { name: 'save: a disposed model', run: () => { const m = sequential([nac({ inputs: 1, outputs: 1 })]); m.dispose(); return m.save(); }, message: /^save: this model has been disposed/ },
  { name: 'save: an options getter disposes the model', run: () => { const m = sequential([nac({ inputs: 1, outputs: 1 })]); return m.save({ get optimizer() { m.dispose(); return true; } }); }, message: /^save: this model has been disposed$/ },
  { name: 'toJSON: an options getter disposes the model', run: () => { const m = sequential([nac({ inputs: 1, outputs: 1 })]); return m.toJSON({ get optimizer() { m.dispose(); return true; } }); }, message: /^toJSON: this model has been disposed$/ },
  { name: 'toJSON: a disposed model', run: () => { const m = sequential([nac({ inputs: 1, outputs: 1 })]); m.dispose(); return JSON.stringify(m); }, message: /^toJSON: this model has been disposed/ },
  { name: 'save: called on something else', run: (c) => c.m.save.call(any({ layers: [] })), message: /^save: called on an object, not a model/ },
];

function contextOf(): Ctx {
  const m = sequential([nalu({ inputs: 3, outputs: 2 }), nac({ inputs: 2, outputs: 1 })], { seed: 1 });
  const { x, t } = batchFor(m, 99, 4);
  const o = adam({ learningRate: 0.01 });
  m.trainStep(x, t, o);
  m.trainStep(x, t, o);
  return { m, bytes: m.save({ optimizer: true }), json: m.toJSON({ optimizer: true }), x };
}

describe.each(BUILDS)('bad input to the loaders and savers is rejected and changes nothing, %s build', (backend) => {
  it('the table has 100+ rows, 80+ of them the loaders\'', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(100);
    expect(ROWS.filter((r) => /^(load|fromJSON):/.test(r.name)).length).toBeGreaterThanOrEqual(80);
    expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
  });

  it.each(ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    await useBackend(backend);
    const c = contextOf();
    const before = stateOf(c.m, c.x);
    const bytes = c.bytes.slice();
    let error: unknown;
    let result: unknown;
    try {
      result = row.run(c);
    } catch (e) {
      error = e;
    }
    if (result && typeof (result as Model).dispose === 'function') (result as Model).dispose();
    expect(error, 'it throws').toBeInstanceOf(NaluError);
    expect((error as Error).message).toMatch(row.message);
    // The model the data came from is as it was, and so is what it saves.
    expectSameState(stateOf(c.m, c.x), before);
    expect(c.m.save({ optimizer: true })).toEqual(bytes);
    // It still trains with its optimizer, and the good bytes still load.
    const twin = load(bytes);
    const { x, t } = batchFor(c.m, 5, 4);
    expect(twin.trainStep(x, t, twin.optimizer!)).toBe(c.m.trainStep(x, t, c.m.optimizer!));
    expect(sameBits(twin.getWeights(), c.m.getWeights())).toBe(true);
    twin.dispose();
    c.m.dispose();
  });
});

describe.each(BUILDS)('a failed load leaves nothing behind, %s build', (backend) => {
  it('200 loads that fail after the model was built (NaN in the last tensor) reuse the same memory', async () => {
    // A fresh instance, so that free space from other tests cannot hide a leak.
    await useBackend(backend, moduleOf(backend));
    const big = sequential([nalu({ inputs: 256, outputs: 256 }), nac({ inputs: 256, outputs: 1 })]);
    const bad = craft(big.save(), (s) => { s.layers[1]!.params[1]![1][255] = NaN; });
    const probe = sequential([nac({ inputs: 1, outputs: 1 })]);
    const sizes: number[] = [];
    for (let i = 0; i < 200; i++) {
      expect(() => load(bad)).toThrow(/^load: M_hat of layer 1 \(nac\) holds NaN at index 255/);
      if (i === 9 || i === 199) sizes.push(memoryBytes(probe));
    }
    // Each failed model holds 256 * 256 * 3 * 16 bytes = 3 MiB: 190 of them would be 570 MiB.
    expect(sizes[1]).toBe(sizes[0]);
    big.dispose(); probe.dispose();
  });
});

describe('before init()', () => {
  it('load() says to call init() (after checking the bytes), and works after it', async () => {
    await useBackend('simd');
    const m = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 3 });
    const bytes = m.save();
    vi.resetModules();
    const fresh = await import('../src/index');
    expect(() => fresh.load(bytes)).toThrow(fresh.NaluError);
    expect(() => fresh.load(bytes)).toThrow(/^load: nalu-wasm is not initialised: call and await init\(\) first/);
    expect(() => fresh.load(bytes.subarray(0, 30))).toThrow(/^load: truncated/);
    await fresh.init();
    expect(sameBits(fresh.load(bytes).getWeights(), m.getWeights())).toBe(true);
    m.dispose();
  });
});

describe('layers given as specs (exported LayerSpec objects) load as the factories make them', () => {
  it('a model built from the loaded model\'s layers equals one built from the factories', async () => {
    await useBackend('simd');
    const m = everything();
    const l = load(m.save());
    const again = sequential(l.layers as LayerSpec[], { seed: 11 });
    expect(sameBits(again.getWeights(), copyWeights(m.getWeights()))).toBe(true);
    m.dispose(); l.dispose(); again.dispose();
  });
});

// ---- gaps found outside src/serialize.ts ----------------------------------------------------------
// Hardening gaps in other files, found while auditing the public entry points. Each test states
// the behaviour the entry point should have, and FAILS until the file named in it is fixed
// (the loaders above already guard against each of these themselves).
describe('hardening of the other entry points', () => {
  it('src/model.ts: a model-wide init applies to the layers that have an init option, and a dense, nau or nmu layer beside them is fine', async () => {
    await useBackend('simd');
    const m = sequential([nalu({ inputs: 2, outputs: 3 }), dense({ inputs: 3, outputs: 2, activation: 'relu' }), nau({ inputs: 2, outputs: 1 })], { init: 'seed' });
    expect(m.layers[0]!.options.init).toBe('seed');
    m.dispose();
  });

  it('src/layers.ts: a layer type named like an Object.prototype member is a NaluError, not a TypeError', async () => {
    await useBackend('simd');
    for (const type of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      const e = thrown(() => sequential(any([{ type, inputs: 1, outputs: 1 }])));
      expect(e, type).toBeInstanceOf(NaluError);
      expect(e!.message).toMatch(/unknown layer type/);
    }
  });

  it('src/layers.ts: layerFromSpec does not let options override inputs and outputs, and refuses fields it would ignore', async () => {
    await useBackend('simd');
    expect(thrown(() => sequential(any([{ type: 'nac', inputs: 1, outputs: 1, options: { inputs: 5 } }])))).toBeInstanceOf(NaluError);
    expect(thrown(() => sequential(any([{ type: 'dense', inputs: 1, outputs: 1, activation: 'relu' }])))).toBeInstanceOf(NaluError);
    expect(thrown(() => sequential(any([{ type: 'nac', inputs: 1, outputs: 1, options: 'glorot' }])))).toBeInstanceOf(NaluError);
  });

  it('src/model.ts: sequential checks allowNonFinite and refuses an array as options', async () => {
    await useBackend('simd');
    expect(thrown(() => sequential([nac({ inputs: 1, outputs: 1 })], any({ allowNonFinite: 'yes' })))?.message).toMatch(/allowNonFinite must be true or false/);
    expect(thrown(() => sequential([nac({ inputs: 1, outputs: 1 })], any([])))).toBeInstanceOf(NaluError);
  });

  it('src/model.ts: restoreOptimizer refuses NaN and negative moments on a model without allowNonFinite', async () => {
    await useBackend('simd');
    const m = sequential([nac({ inputs: 3, outputs: 1 })]);
    const w0 = m.getWeights();
    const zeros = () => [{ W_hat: new Float32Array(3), M_hat: new Float32Array(3) }];
    const nanM = zeros();
    nanM[0]!.W_hat[0] = NaN;
    const e = thrown(() => m.restoreOptimizer({ optimizer: adam(), step: 3, m: nanM, v: zeros() }));
    if (!e) {
      const loss = m.trainStep([1, 2, 3], [1], m.optimizer!);
      expect(Number.isFinite(loss)).toBe(true);
      expect(Number.isNaN(m.getWeights()[0]!.W_hat![0]), 'trainStep made W_hat NaN without an error').toBe(false);
    }
    expect(e).toBeInstanceOf(NaluError);
    expect(sameBits(m.getWeights(), w0)).toBe(true);
    m.dispose();
  });

  it('src/model.ts: predict, evaluate and setWeights refuse number[] entries that are not numbers', async () => {
    await useBackend('simd');
    const m = sequential([nac({ inputs: 3, outputs: 1 })]);
    expect(thrown(() => m.predict(any(['1', '2', '3'])))).toBeInstanceOf(NaluError);
    expect(thrown(() => m.evaluate([1, 2, 3], any([true])))).toBeInstanceOf(NaluError);
    expect(thrown(() => m.setWeights(any([{ W_hat: ['1', '2', '3'], M_hat: [0, 0, 0] }])))?.message).toMatch(/must be a number|not a number/);
    m.dispose();
  });

  it('src/serialize.ts: fromJSON checks a tensor\'s elements before it makes its array (a sparse one 2^28 long allocates nothing)', async () => {
    await useBackend('simd');
    const m = sequential([nac({ inputs: 2, outputs: 1 })]);
    const json = m.toJSON() as unknown as { layers: Array<{ params: Record<string, unknown> }> };
    json.layers[0]!.params.W_hat = new Array(2 ** 28);
    const before = process.memoryUsage().arrayBuffers;
    expect(thrown(() => fromJSON(json as never))?.message).toMatch(/^fromJSON: W_hat of layer 0 holds undefined at index 0;/);
    // an array made first (1 GiB of f32, zeroed lazily by the system) would count here
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
    m.dispose();
  });

  it('src/serialize.ts: fromJSON takes the JSON parsed in another realm (node:vm), records of options too', async () => {
    await useBackend('simd');
    const m = sequential([nalu({ inputs: 2, outputs: 2 }), nau({ inputs: 2, outputs: 1 })], { seed: 2, regularizer: { lambda: 0.5, start: 10, end: 20 } });
    const other = runInNewContext('JSON.parse(t)', { t: JSON.stringify(m.toJSON()) }) as ModelJSON;
    expect(Object.getPrototypeOf(other)).not.toBe(Object.prototype);
    const l = fromJSON(other);
    expect(l.options).toEqual(m.options);
    expect(sameBits(l.getWeights(), m.getWeights())).toBe(true);
    m.dispose(); l.dispose();
  });

  it('src/serialize.ts: load takes the bytes in a Uint8Array of another realm (node:vm) or a Node Buffer', async () => {
    await useBackend('simd');
    const m = sequential([nalu({ inputs: 2, outputs: 1 })], { seed: 2 });
    const bytes = m.save();
    const foreign = runInNewContext('new Uint8Array(n)', { n: bytes.length }) as Uint8Array;
    foreign.set(bytes);
    expect(foreign).not.toBeInstanceOf(Uint8Array);
    for (const input of [foreign, Buffer.from(bytes)]) {
      const l = load(input);
      expect(sameBits(l.getWeights(), m.getWeights())).toBe(true);
      l.dispose();
    }
    m.dispose();
  });

  it('src/model.ts: with allowNonFinite, setWeights and restoreOptimizer take NaN and infinities but no finite value beyond f32', async () => {
    await useBackend('simd');
    const m = sequential([nac({ inputs: 2, outputs: 1 })], { allowNonFinite: true });
    m.setWeights([{ W_hat: [NaN, -Infinity], M_hat: [Infinity, 3.4028234663852886e38] }]);
    expect(Array.from(m.getWeights()[0]!.M_hat!)).toEqual([Infinity, 3.4028234663852886e38]);
    const before = m.getWeights();
    expect(thrown(() => m.setWeights([{ W_hat: new Float64Array([0, 1e39]), M_hat: [0, 0] }]))?.message)
      .toBe('setWeights: W_hat of layer 0 (nac) holds 1e+39 at index 1, beyond the largest f32 (3.4028234663852886e+38); write Infinity for an infinite value');
    expect(sameBits(m.getWeights(), before)).toBe(true);
    const zeros = [{ W_hat: new Float32Array(2), M_hat: new Float32Array(2) }];
    // number[] moments, as a JSON copy holds them: the type says Float32Array, which cannot hold -1e39
    expect(thrown(() => m.restoreOptimizer({ optimizer: adam(), step: 1, m: any([{ W_hat: [-1e39, 0], M_hat: [0, 0] }]), v: zeros }))?.message)
      .toMatch(/^restoreOptimizer: m: W_hat of layer 0 \(nac\) holds -1e\+39 at index 0, beyond the largest f32/);
    m.dispose();
  });

  it('src/optim.ts: an optimizer\'s settings make the same optimizer again (clipValue 0 means no clipping)', () => {
    const { kind: _kind, ...settings } = adam();
    expect(adam(settings)).toEqual(adam());
  });

  it('src/tasks/identity.ts and static.ts: bad options are NaluErrors, and misspelt ones are refused', async () => {
    await useBackend('simd');
    expect(thrown(() => identityTask(any(null)))).toBeInstanceOf(NaluError);
    expect(thrown(() => identityTask(any({ trian: [0, 1] })))).toBeInstanceOf(NaluError);
    expect(thrown(() => identityTask().grid(-1))).toBeInstanceOf(NaluError);
    expect(thrown(() => identityTask().grid(1))).toBeInstanceOf(NaluError);
    expect(thrown(() => staticTask(any([{ op: 'add' }])))?.message).toBe('staticTask: options must be an object, got an array of length 1');
    const task = staticTask({ op: 'add' });
    expect(thrown(() => task.threshold(any(null)))).toBeInstanceOf(NaluError);
    expect(thrown(() => task.threshold({ samples: 0 }))).toBeInstanceOf(NaluError);
    expect(thrown(() => task.threshold(any({ sample: 10 })))).toBeInstanceOf(NaluError);
    // Ranges beyond f32 become Infinity in the samplers.
    expect(thrown(() => staticTask({ op: 'add', interpolation: [1, 1e39] }))).toBeInstanceOf(NaluError);
  });
});

describe('docs/serialization.md', () => {
  const doc = readFileSync(new URL('../docs/serialization.md', import.meta.url), 'utf8');
  const message = (f: () => unknown) => thrown(f)?.message ?? 'no error';

  it("states the 100 -> 2 -> 1 stack's saved size with Adam's state and quotes load's messages on it", async () => {
    await useBackend('simd');
    const model = sequential([nalu({ inputs: 100, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })], { seed: 0 });
    model.trainStep(new Float32Array(100).fill(1), [2], adam());
    const bytes = model.save({ optimizer: true });
    const stated = /stack saves to ([\d,]+) bytes with its Adam state/.exec(doc);
    expect(stated).not.toBeNull();
    expect(Number(stated![1]!.replace(/,/g, ''))).toBe(bytes.length);
    expect(doc).toContain('`' + message(() => load(bytes.subarray(0, 3000))) + '`');
    expect(doc).toContain('`' + message(() => load(Uint8Array.from([...bytes, ...bytes]))) + '`');
    model.dispose();
  });

  it('its example runs as written: the copy resumes as the model would, the JSON copy predicts the same', async () => {
    await useBackend('simd');
    const example = /```js\n([\s\S]*?)```/.exec(doc)![1]!;
    const imported = /^import \{ ([^}]+) \} from 'nalu-wasm';\n/.exec(example)!;
    const names = imported[1]!.split(', ');
    const api = { init, load, fromJSON, sequential, nalu, adam } as Record<string, unknown>;
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<Record<string, Model>>;
    const run = new AsyncFunction(...names, `${example.slice(imported[0].length)}\nreturn { model, copy, again };`);
    const { model, copy, again } = await run(...names.map((n) => api[n]));
    const x = new Float32Array([1, 2, 3, 4]), target = new Float32Array([3, 7]);
    const weightBits = (m: Model) => m.getWeights().map((r) => Object.values(r).map((a) => Array.from(bits(a))));
    expect(bits(again!.predict(x))).toEqual(bits(model!.predict(x))); // the JSON copy of the model as it is
    expect(model!.optimizer).toBeDefined();
    model!.trainStep(x, target, model!.optimizer!); // the step the loaded copy took
    expect(weightBits(copy!)).toEqual(weightBits(model!));
    for (const m of [model, copy, again]) m!.dispose();
  });
});
