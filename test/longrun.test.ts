// Long runs and concurrency, on both builds:
//   * async callers interleaved (awaits between calls, microtasks and macrotasks mixed by a
//     seeded generator) get the results of sequential calls: two models trained side by side;
//     one model trained by one caller while another reads it (predict, evaluate, gradients,
//     save) and makes, trains and disposes copies of it in the same engine;
//   * 20,000 fused training steps (trainStepOn) of the 100->2->1 NALU stack with a checkpoint
//     (save, load, compare, dispose) every 1,000 steps: linear memory after 20,000 steps equals
//     memory after 1,000. (test/memory.test.ts covers trainStep over 10,000 steps and creating
//     and disposing models; bench/longrun.ts runs this one for 1,000,000 steps.)
import { describe, expect, it } from 'vitest';
import { adam, load, nac, nalu, rmsprop, sequential, staticTask, type Model, type Optimizer } from '../src/index';
import { BUILDS, bits, moduleOf, prng, useBackend } from './helpers';
import { randomInputs, sameBits, uniform32 } from './helpers-random';

const memoryBytes = (m: Model): number =>
  (m as unknown as { engine: { ex: { memory: WebAssembly.Memory } } }).engine.ex.memory.buffer.byteLength;

const INPUTS = { lo: 0.1, hi: 2, zeros: 0.05, negatives: 0.2 };

/** An await that is a microtask or a macrotask (setImmediate or setTimeout 0), as `rand` picks. */
function pause(rand: () => number): Promise<void> {
  const r = rand();
  if (r < 0.4) return Promise.resolve();
  if (r < 0.8) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, 0));
}

const naluStack = (seed: number) => sequential([nalu({ inputs: 10, outputs: 3 }), nalu({ inputs: 3, outputs: 1 })], { seed });

function dataFor(seed: number, inputs: number, outputs: number, batch = 16) {
  const rand = prng(seed);
  return Array.from({ length: 4 }, () => ({ x: randomInputs(rand, batch * inputs, INPUTS), t: uniform32(rand, batch * outputs, -1, 1) }));
}

interface Run { losses: number[]; weights: ReturnType<Model['getWeights']>; bytes: Uint8Array }

/** `steps` trainSteps of `m` on `data`, with an await before each when `rand` is given. */
async function train(m: Model, opt: Optimizer, data: ReturnType<typeof dataFor>, steps: number, rand?: () => number): Promise<Run> {
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    if (rand) await pause(rand);
    const d = data[s % data.length]!;
    losses.push(m.trainStep(d.x, d.t, opt));
  }
  return { losses, weights: m.getWeights(), bytes: m.save({ optimizer: true }) };
}

describe.each(BUILDS)('async callers interleaved, %s build', (backend) => {
  it('two models trained by two interleaved async loops equal the two trained one after the other', async () => {
    await useBackend(backend);
    const dataA = dataFor(1, 10, 1), dataB = dataFor(2, 6, 2);
    const modelB = (seed: number) => sequential([nac({ inputs: 6, outputs: 4 }), nalu({ inputs: 4, outputs: 2, sharedWeights: false })], { seed });
    const a1 = naluStack(1), b1 = modelB(2);
    const seqA = await train(a1, adam({ learningRate: 0.01 }), dataA, 300);
    const seqB = await train(b1, rmsprop({ learningRate: 0.001 }), dataB, 300);
    const a2 = naluStack(1), b2 = modelB(2);
    const [parA, parB] = await Promise.all([
      train(a2, adam({ learningRate: 0.01 }), dataA, 300, prng(3)),
      train(b2, rmsprop({ learningRate: 0.001 }), dataB, 300, prng(4)),
    ]);
    expect(parA.losses).toEqual(seqA.losses);
    expect(parB.losses).toEqual(seqB.losses);
    expect(sameBits(parA.weights, seqA.weights)).toBe(true);
    expect(sameBits(parB.weights, seqB.weights)).toBe(true);
    expect(parA.bytes).toEqual(seqA.bytes);
    expect(parB.bytes).toEqual(seqB.bytes);
    for (const m of [a1, b1, a2, b2]) m.dispose();
  });

  it('two models on the fused path (trainStepOn, a sampler each) interleaved equal them one after the other', async () => {
    await useBackend(backend);
    const big = (seed: number) => sequential([nalu({ inputs: 100, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })], { seed });
    const runOn = async (m: Model, op: 'add' | 'sub', steps: number, rand?: () => number) => {
      const sampler = staticTask({ op, seed: op === 'add' ? 1 : 2 }).trainSampler();
      const opt = adam({ learningRate: 0.01 });
      const losses: number[] = [];
      for (let s = 0; s < steps; s++) {
        if (rand) await pause(rand);
        losses.push(m.trainStepOn(sampler, opt, 64));
      }
      sampler.dispose();
      return { losses, bytes: m.save({ optimizer: true }) };
    };
    const [s1, s2] = [big(1), big(2)];
    const seq = [await runOn(s1, 'add', 200), await runOn(s2, 'sub', 200)];
    const [p1, p2] = [big(1), big(2)];
    const par = await Promise.all([runOn(p1, 'add', 200, prng(5)), runOn(p2, 'sub', 200, prng(6))]);
    expect(par[0]!.losses).toEqual(seq[0]!.losses);
    expect(par[1]!.losses).toEqual(seq[1]!.losses);
    expect(par[0]!.bytes).toEqual(seq[0]!.bytes);
    expect(par[1]!.bytes).toEqual(seq[1]!.bytes);
    for (const m of [s1, s2, p1, p2]) m.dispose();
  });

  it('one model trained by one caller and read by another (predict, evaluate, gradients, save, copies) sees what sequential calls see', async () => {
    await useBackend(backend);
    const data = dataFor(7, 10, 1);
    const probe = dataFor(8, 10, 1)[0]!;
    const STEPS = 200;
    type Seen = { step: number; y: number[]; mse: number; loss: number; grads: ReturnType<Model['getWeights']>; bytes: Uint8Array; copyLoss: number };

    // The training caller and the reading caller, interleaved.
    const m = naluStack(9);
    const opt = adam({ learningRate: 0.01 });
    let done = false;
    const seen: Seen[] = [];
    const trainer = (async () => {
      const r = await train(m, opt, data, STEPS, prng(10));
      done = true;
      return r;
    })();
    const reader = (async () => {
      const rand = prng(11);
      while (!done) {
        await pause(rand);
        // Reads, and a copy made, trained one step and disposed, all in the same engine.
        const bytes = m.save({ optimizer: true });
        const copy = load(bytes);
        const copyLoss = copy.trainStep(probe.x, probe.t, copy.optimizer ?? adam());
        copy.dispose();
        const g = m.gradients(probe.x, probe.t);
        seen.push({
          step: m.step, y: Array.from(bits(m.predict(probe.x))), mse: m.evaluate(probe.x, probe.t),
          loss: g.loss, grads: g.grads, bytes, copyLoss,
        });
      }
    })();
    const [trained] = await Promise.all([trainer, reader]);
    expect(seen.length).toBeGreaterThan(50);

    // The same, one call after the other: train, and at each step observed, read.
    const r = naluStack(9);
    const ropt = adam({ learningRate: 0.01 });
    const losses: number[] = [];
    const at = new Map(seen.map((s) => [s.step, s]));
    let checked = 0;
    for (let s = 0; s <= STEPS; s++) {
      const want = at.get(s);
      if (want) {
        expect(r.save({ optimizer: true }), `bytes at step ${s}`).toEqual(want.bytes);
        expect(Array.from(bits(r.predict(probe.x))), `predict at step ${s}`).toEqual(want.y);
        expect(r.evaluate(probe.x, probe.t)).toBe(want.mse);
        const g = r.gradients(probe.x, probe.t);
        expect(g.loss).toBe(want.loss);
        expect(sameBits(g.grads, want.grads)).toBe(true);
        const copy = load(r.save({ optimizer: true }));
        expect(copy.trainStep(probe.x, probe.t, copy.optimizer ?? adam())).toBe(want.copyLoss);
        copy.dispose();
        checked++;
      }
      if (s < STEPS) losses.push(r.trainStep(data[s % data.length]!.x, data[s % data.length]!.t, ropt));
    }
    expect(checked).toBe(at.size);
    expect(trained.losses).toEqual(losses);
    expect(sameBits(trained.weights, r.getWeights())).toBe(true);
    m.dispose(); r.dispose();
  });
});

describe.each(BUILDS)('long run, %s build', (backend) => {
  it('20,000 fused steps of NALU 100->2->1: memory flat over 1,000 to 10,000 steps, then flat over 10 checkpoints (save, load, carry on)', async () => {
    // A fresh instance (init with a compiled module instantiates anew), so that free space left
    // by other tests cannot hide growth.
    await useBackend(backend, moduleOf(backend));
    let model = sequential([nalu({ inputs: 100, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })], { seed: 12 });
    const sampler = staticTask({ op: 'add', seed: 12 }).trainSampler();
    let opt = adam();
    let loss = NaN;
    const memory: Record<number, number> = {};
    for (let s = 1; s <= 20000; s++) {
      loss = model.trainStepOn(sampler, opt);
      if (s === 1000 || s === 10000) memory[s] = memoryBytes(model);
      if (s > 10000 && s % 1000 === 0) {
        // A checkpoint: save, load, check, and carry on with the loaded model.
        const bytes = model.save({ optimizer: true });
        const next = load(bytes);
        expect(next.save({ optimizer: true })).toEqual(bytes);
        model.dispose();
        model = next;
        opt = model.optimizer!;
        memory[s] = memoryBytes(model);
      }
    }
    if (process.env.MEASURE) console.log(`${backend}: ${JSON.stringify(memory)} bytes; loss ${loss}`);
    expect(model.step).toBe(20000);
    expect(Number.isFinite(loss)).toBe(true);
    // Training alone allocates nothing after its first steps.
    expect(memory[10000]).toBe(memory[1000]);
    // Checkpoints: the first one or two rearrange the allocator's free list (a model is made
    // while the old one lives, its work block grows on its first step); after that, each
    // checkpoint reuses the memory the previous one freed.
    for (let s = 13000; s <= 20000; s += 1000) expect(memory[s], `after ${s} steps`).toBe(memory[12000]);
    expect(memory[20000]! - memory[1000]!).toBeLessThanOrEqual(1 << 20);
    model.dispose();
    sampler.dispose();
    await useBackend(backend);
  });
});
