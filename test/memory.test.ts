// Linear memory: views of it never go stale when it grows (memory.grow detaches every
// ArrayBuffer view), training does not allocate per step, and disposing models gives their
// memory back. The size is read through the model's private engine (a test-only route):
// (model as any).engine.ex.memory.buffer.byteLength.
//
// Memory never shrinks, and free space left by an earlier test would hide growth (or a leak) in
// a later one: so every test starts on a fresh instance of its build (init({ wasm }) with a
// compiled module instantiates anew each time), and each test that needs growth asserts that it
// did happen, so that none can pass vacuously.
import { describe, expect, it } from 'vitest';
import { adam, dense, inalu, nac, nacMul, nalu, nau, nmu, npu, realNpu, sequential, staticTask, type Model } from '../src/index';
import { currentEngine } from '../src/wasm/init';
import { MAX_BLOCK } from '../src/wasm/engine';
import { BUILDS, bits, moduleOf, useBackend, type TestBackend } from './helpers';
import { copyWeights, prng, randomInputs, sameBits, uniform32 } from './helpers-random';

const memoryBytes = (m: Model): number =>
  (m as unknown as { engine: { ex: { memory: WebAssembly.Memory } } }).engine.ex.memory.buffer.byteLength;

const INPUTS = { lo: 0.05, hi: 3, zeros: 0.1, negatives: 0.4 };
const MiB = 1 << 20;

const modules = new Map<TestBackend, WebAssembly.Module>();

/** Makes a new instance of `backend`'s build (with its own, small memory) current. */
async function useFreshInstance(backend: TestBackend): Promise<void> {
  let module = modules.get(backend);
  if (!module) {
    module = moduleOf(backend);
    modules.set(backend, module);
  }
  await useBackend(backend, module);
}

describe.each(BUILDS)('%s build', (backend) => {
  describe('views never go stale when memory grows', () => {
    it('growth inside a call of the same model: predict, gradients and trainStep', async () => {
      await useFreshInstance(backend);
      const layers = () => [nalu({ inputs: 20, outputs: 3 }), nalu({ inputs: 3, outputs: 1 })];
      const a = sequential(layers(), { seed: 1 });
      const b = sequential(layers(), { seed: 1 });
      const rand = prng(1);
      const batch = 60000;
      const x = randomInputs(rand, batch * 20, INPUTS);
      const t = uniform32(rand, batch, -3, 3);

      // predict: 4096-sample chunks of 20 inputs need a few MiB of work memory.
      const single = new Float32Array(200);
      for (let s = 0; s < 200; s++) single[s] = a.predict(x.subarray(20 * s, 20 * s + 20), 1)[0]!;
      let size = memoryBytes(a);
      const y = a.predict(x.subarray(0, 4096 * 20));
      // A fresh instance: its memory starts small.
      expect(memoryBytes(a), 'memory grew during predict').toBeGreaterThan(size);
      expect(bits(y.subarray(0, 200))).toEqual(bits(single));

      // gradients: one block for all 60000 samples (tens of MiB), so memory grows inside the
      // call; the same call again (capacity now enough) must give the same bits.
      size = memoryBytes(a);
      const g1 = a.gradients(x, t);
      expect(memoryBytes(a), 'memory grew during the first gradients() call').toBeGreaterThan(size);
      size = memoryBytes(a);
      const g2 = a.gradients(x, t);
      expect(memoryBytes(a), 'the second call did not grow memory').toBe(size);
      expect(g1.loss).toBe(g2.loss);
      expect(sameBits(g1.grads, g2.grads)).toBe(true);
      expect(Number.isFinite(g1.loss)).toBe(true);

      // trainStep: b reserves its block first; a's twin model c then grows memory inside its step.
      b.gradients(x, t);
      const c = sequential(layers(), { seed: 1 });
      const optB = adam({ learningRate: 0.01 }), optC = adam({ learningRate: 0.01 });
      size = memoryBytes(c);
      const lc = c.trainStep(x, t, optC);
      expect(memoryBytes(c), 'memory grew during trainStep').toBeGreaterThan(size);
      size = memoryBytes(b);
      const lb = b.trainStep(x, t, optB);
      expect(memoryBytes(b)).toBe(size);
      expect(lc).toBe(lb);
      expect(sameBits(c.getWeights(), b.getWeights())).toBe(true);
      a.dispose(); b.dispose(); c.dispose();
    });

    it('growth caused by another model: predict, getWeights, gradients and trainStep of the first are unchanged', async () => {
      await useFreshInstance(backend);
      const layers = () => [nalu({ inputs: 5, outputs: 3 }), nac({ inputs: 3, outputs: 1 })];
      const m = sequential(layers(), { seed: 2 });
      const twin = sequential(layers(), { seed: 2 });
      const rand = prng(2);
      const x = randomInputs(rand, 64 * 5, INPUTS);
      const t = uniform32(rand, 64, -3, 3);
      const y0 = m.predict(x);
      const w0 = copyWeights(m.getWeights());
      const g0 = m.gradients(x, t);
      const optT = adam({ learningRate: 0.01 });
      const lossT = [0, 1, 2].map(() => twin.trainStep(x, t, optT));
      const wT = twin.getWeights();

      const size = memoryBytes(m);
      // A 2048 x 2048 NAC: 4 state regions of 2 x 16 MiB, and its work block: well over 100 MiB.
      const big = sequential([nac({ inputs: 2048, outputs: 2048 })], { seed: 3 });
      big.predict(new Float32Array(2048 * 8));
      expect(memoryBytes(m), 'memory grew').toBeGreaterThan(size + 64 * MiB);

      expect(bits(m.predict(x))).toEqual(bits(y0));
      expect(sameBits(m.getWeights(), w0)).toBe(true);
      const g1 = m.gradients(x, t);
      expect(g1.loss).toBe(g0.loss);
      expect(sameBits(g1.grads, g0.grads)).toBe(true);
      const opt = adam({ learningRate: 0.01 });
      expect([0, 1, 2].map(() => m.trainStep(x, t, opt))).toEqual(lossT);
      expect(sameBits(m.getWeights(), wT)).toBe(true);
      // setWeights after growth writes where the kernels read.
      m.setWeights(w0);
      expect(bits(m.predict(x))).toEqual(bits(y0));
      big.dispose(); m.dispose(); twin.dispose();
    });
  });

  it('models whose memory lies above 2 GiB (addresses past 2^31) give the bits of low ones', async () => {
    // The same work on two fresh instances, one with 2.25 GiB of its memory taken first (never
    // touched, so never backed by RAM): every address the host reads or writes is then past
    // 2^31, where a signed 32-bit shift or mask would turn it negative.
    const run = (high: boolean) => {
      const probe = sequential([nac({ inputs: 1, outputs: 1 })]);
      const ex = (probe as unknown as { engine: { ex: { alloc(n: number): number } } }).engine.ex;
      if (high) for (let i = 0; i < 3; i++) ex.alloc(3 << 28);
      const m = sequential([nalu({ inputs: 100, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })], { seed: 7 });
      const desc = m.descriptor >>> 0;
      const task = staticTask({ op: 'mul', seed: 3 });
      const val = task.validationSet(300), sampler = task.trainSampler();
      const opt = adam({ learningRate: 0.01 });
      const staged = m.stageBatch(val.x, val.target);
      const out = {
        desc,
        y: bits(m.predict(val.x)),
        losses: [m.trainStep(val.x, val.target, opt), m.trainStepOn(staged, opt), m.trainStepOn(sampler, opt, 64)],
        staged: [bits(m.predict(staged)), m.evaluate(staged), m.evaluate(val.x, val.target)],
        grads: m.gradients(val.x.subarray(0, 500), val.target.subarray(0, 5)),
        saved: Array.from(m.save({ optimizer: true })),
        memory: memoryBytes(m),
      };
      m.dispose(); probe.dispose();
      return out;
    };
    await useFreshInstance(backend);
    const low = run(false);
    await useFreshInstance(backend);
    const high = run(true);
    expect(low.desc).toBeLessThan(2 ** 31);
    expect(high.desc, 'the model lies past 2^31').toBeGreaterThan(2 ** 31);
    expect(high.memory).toBeGreaterThan(2.25 * 2 ** 30);
    const { desc: _a, memory: _b, ...lowResults } = low;
    const { desc: _c, memory: _d, ...highResults } = high;
    expect(highResults).toEqual(lowResults);
  });

  it('memory stays flat over 10,000 training steps of the 100->2->1 NALU stack at batch 128', async () => {
    await useFreshInstance(backend);
    const m = sequential([nalu({ inputs: 100, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })], { seed: 4 });
    const rand = prng(4);
    const x = randomInputs(rand, 128 * 100, { lo: 0.1, hi: 1, zeros: 0, negatives: 0 });
    // A learnable target (the sum of two inputs) keeps the loss finite over the run.
    const t = new Float32Array(128);
    for (let b = 0; b < 128; b++) t[b] = x[100 * b]! + x[100 * b + 1]!;
    const opt = adam({ learningRate: 1e-3 });
    let loss = 0;
    for (let s = 0; s < 100; s++) loss = m.trainStep(x, t, opt);
    const after100 = memoryBytes(m);
    for (let s = 100; s < 10000; s++) loss = m.trainStep(x, t, opt);
    if (process.env.MEASURE) console.log(`${backend}: ${after100} bytes after 100 steps, ${memoryBytes(m)} after 10000`);
    expect(memoryBytes(m)).toBe(after100);
    expect(Number.isFinite(loss)).toBe(true);
    expect(m.step).toBe(10000);
    m.dispose();
  });

  it('creating and disposing 2,000 models does not grow memory without bound', async () => {
    await useFreshInstance(backend);
    const rand = prng(5);
    const shapes = [
      () => [nalu({ inputs: 100, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })],
      () => [nac({ inputs: 17, outputs: 64 })],
      () => [nalu({ inputs: 64, outputs: 17, sharedWeights: false })],
      () => [nalu({ inputs: 3, outputs: 1 })],
    ];
    let probe: Model | undefined;
    let after300 = 0;
    for (let i = 0; i < 2000; i++) {
      const layers = shapes[Math.floor(rand() * shapes.length)]!();
      const m = sequential(layers, { seed: i });
      // Batches of varying size re-allocate the work block (up to 1500 samples).
      const batch = 1 + Math.floor(rand() * 1500);
      const y = m.predict(new Float32Array(batch * m.inputs).fill(0.5));
      expect(y.length).toBe(batch * m.outputs);
      if (i === 299) { probe = m; after300 = memoryBytes(m); }
      if (i % 3 === 0) m.trainStep(new Float32Array(8 * m.inputs).fill(0.5), new Float32Array(8 * m.outputs), adam());
      m.dispose();
    }
    expect(probe).toBeDefined();
    if (process.env.MEASURE) console.log(`${backend}: ${after300} bytes after 300 models, ${memoryBytes(probe!)} after 2000`);
    expect(memoryBytes(sequential([nac({ inputs: 1, outputs: 1 })]))).toBe(after300);
  });

  it('a 100 MiB model created and disposed 10 times reuses its memory', async () => {
    await useFreshInstance(backend);
    const sizes: number[] = [];
    const start = memoryBytes(sequential([nac({ inputs: 1, outputs: 1 })]));
    for (let i = 0; i < 10; i++) {
      // 1600 x 1600 NAC: 4 regions x 2 tensors x 10 MiB of state, plus ~50 MiB of work.
      const m = sequential([nac({ inputs: 1600, outputs: 1600 })], { seed: i });
      sizes.push(memoryBytes(m));
      m.dispose();
    }
    if (process.env.MEASURE) console.log(`${backend}: sizes ${sizes.join(', ')}`);
    expect(sizes[0]! - start, 'the first model grew memory').toBeGreaterThan(100 * MiB);
    expect(sizes[9]).toBe(sizes[0]);
  });
});

it('the parameters of every layer fit the address slots of its record in the module', async () => {
  await useBackend('simd');
  const lay: Record<string, number> = currentEngine('test').layout;
  const io = { inputs: 3, outputs: 2 };
  const most = Math.max(...[
    nac(io), nacMul(io), nalu(io), nalu({ ...io, gateBias: true }), nalu({ ...io, sharedWeights: false }),
    nalu({ ...io, sharedWeights: false, gateBias: true }), dense(io), nau(io), nmu(io), inalu(io), npu(io), realNpu(io),
  ].map((l) => Object.keys(sequential([l]).getWeights()[0]!).length));
  expect(most).toBe(6); // the NALU with separate weights and a gate bias
  const slots = lay.L_G! - lay.L_P!;
  expect(most).toBeLessThanOrEqual(slots);
  expect(lay.L_G! + slots).toBeLessThanOrEqual(lay.L_WORDS!);
  // the single-word fields lie below the address slots
  for (const [name, word] of Object.entries(lay)) {
    if (name.startsWith('L_') && !['L_P', 'L_G', 'L_WORDS'].includes(name)) expect(word, name).toBeLessThan(lay.L_P!);
  }
});

it('a batch a little larger than the last one fits when the doubled work block would exceed a block', async () => {
  await useFreshInstance('simd');
  // nau 200 -> 1 needs about 2.4 KB of work memory per sample: 300,000 samples fit a block
  // (992 MiB), and so do 300,004; twice 300,000 would not, so the work block grows to the batch itself
  const layers = () => [nau({ inputs: 200, outputs: 1 })];
  const rand = prng(3);
  const x = uniform32(rand, 300_004 * 200, -1, 1), t = uniform32(rand, 300_004, -1, 1);
  const fresh = sequential(layers(), { seed: 1 });
  const want = fresh.gradients(x, t);
  fresh.dispose();
  const m = sequential(layers(), { seed: 1 });
  m.gradients(x.subarray(0, 300_000 * 200), t.subarray(0, 300_000));
  const { loss, grads } = m.gradients(x, t);
  expect(loss).toBe(want.loss);
  expect(bits(grads[0]!.W!)).toEqual(bits(want.grads[0]!.W!));
});

it('large blocks: one freed beside the last can be followed by a request a little larger (the allocator\'s top size classes)', async () => {
  await useFreshInstance('simd');
  // TLSF files blocks of 512 MiB to 1 GiB in 32 MiB classes and does not round a search up
  // there: freed block A (697 MiB) and a request 9.7 KB larger share a class, and without
  // rounding the request up (memory.ts heapAlloc) the allocator handed out A (its check aborted).
  // The module's own alloc and free: they reserve address space and write only the allocator's
  // headers (Engine.alloc would zero the blocks, gigabytes of writes).
  const { alloc, free } = currentEngine('test').ex;
  const a = alloc(730_804_240), b = alloc(730_813_984);
  free(a);
  const c = alloc(730_813_984);
  expect(c).toBeGreaterThan(0);
  free(b);
  free(c);
  // the largest block, twice over: each rounded request still fits the allocator's limit
  const d = alloc(MAX_BLOCK), e = alloc(MAX_BLOCK);
  free(d);
  const f = alloc(MAX_BLOCK - 10_000);
  for (const raw of [e, f]) free(raw);
});
