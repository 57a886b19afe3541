// The experiment protocol: metrics, the success criterion, and a short run that succeeds.
import { describe, expect, it } from 'vitest';
import { DEFAULTS, MAX_SKIPPED_IN_A_ROW, modelEntry, MODELS, parseReport, parseReproduceLines, recordedInit, ReinitRule, reportJson, roundingFloor, runSeed, sparsityError, stagedMse, thresholdOf, wilson } from '../src/experiment';
import { adam, dense, inalu, nac, nalu, sequential, staticTask } from '../src/index';
import { useBackend } from './helpers';

describe('Wilson score interval', () => {
  it('matches known values', () => {
    const close = (a: [number, number], b: [number, number]) => {
      expect(a[0]).toBeCloseTo(b[0], 4);
      expect(a[1]).toBeCloseTo(b[1], 4);
    };
    close(wilson(0, 10), [0, 0.27753]);
    close(wilson(10, 10), [0.72247, 1]);
    close(wilson(5, 10), [0.23659, 0.76341]);
    close(wilson(98, 100), [0.92999, 0.99449]);
  });
});

describe('sparsity error', () => {
  it("is max over weights of min(|W|, |1 - |W||): the NAC's effective weights, a dense layer's W as it is", async () => {
    await useBackend('simd');
    const m = sequential([nac({ inputs: 2, outputs: 1 })]);
    // W = tanh(W_hat) sigmoid(M_hat): choose W = [0.3, -0.9] exactly enough for the check.
    const w = [0.3, -0.9];
    const mHat = 30; // sigmoid = 1 - 1e-13
    m.setWeights([{ W_hat: Float32Array.from(w.map(Math.atanh)), M_hat: Float32Array.from([mHat, mHat]) }]);
    expect(sparsityError(m)).toBeCloseTo(0.3, 6);
    m.dispose();
    // A dense layer's W counts as it is (|1 - |w|| may exceed 0.5), its bias not at all.
    const mlp = sequential(MODELS.relu!.layers(2, 2));
    mlp.setWeights([{ W: Float32Array.from([0.25, -1, 0, 1]), b: Float32Array.from([0.5, 0.5]) }, { W: Float32Array.from([1, -1]), b: Float32Array.from([7]) }]);
    expect(sparsityError(mlp)).toBe(0.25);
    mlp.setWeights([{ W: Float32Array.from([0.25, -1, 0, 1]), b: Float32Array.from([0.5, 0.5]) }, { W: Float32Array.from([1, -2.5]), b: Float32Array.from([0]) }]);
    expect(sparsityError(mlp)).toBe(1.5);
    mlp.dispose();
  });

  it("takes a NALU's or iNALU's separate log-path weights (W_hat_mul, M_hat_mul) too, the gate not at all", async () => {
    await useBackend('simd');
    const nacWeights = (w: number[]) => Float32Array.from(w.map(Math.atanh));
    const big = Float32Array.from([30, 30]); // sigmoid(30) = 1 - 1e-13
    for (const layer of [nalu({ inputs: 2, outputs: 1, sharedWeights: false }), inalu({ inputs: 2, outputs: 1 })]) {
      const m = sequential([layer]);
      const w = m.getWeights()[0]!;
      const set = (main: number[], mul: number[]) => m.setWeights([{ ...w, W_hat: nacWeights(main), M_hat: big, W_hat_mul: nacWeights(mul), M_hat_mul: big }]);
      set([0.1, 0.99], [0, -0.95]);
      expect(sparsityError(m), layer.type).toBeCloseTo(0.1, 6);
      set([0, 0.99], [0.4, -0.99]);
      expect(sparsityError(m), layer.type).toBeCloseTo(0.4, 6);
      m.dispose();
    }
  });
});

describe('stagedMse', () => {
  it("is the f64 mean of (f32 prediction - f64 target)^2 over the set, bit for bit, as the model trains", async () => {
    await useBackend('simd');
    const task = staticTask({ op: 'mul', seed: 3 });
    const d = task.testSet(4099); // a block of 4,096 and one of 3
    const model = sequential([nalu({ inputs: 100, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })], { seed: 3 });
    const mse = stagedMse(model, d);
    const sampler = task.trainSampler(), opt = adam();
    for (let round = 0; round < 3; round++) {
      const y = model.predict(d.x);
      let s = 0;
      for (let i = 0; i < d.n; i++) s += (y[i]! - d.target[i]!) ** 2;
      expect(mse()).toBe(s / d.n);
      for (let i = 0; i < 50; i++) model.trainStepOn(sampler, opt);
    }
    sampler.dispose();
    model.dispose();
  });

  it('reads a NaN prediction as a NaN error (not an overflow)', async () => {
    await useBackend('simd');
    const model = sequential([dense({ inputs: 100, outputs: 2 }), dense({ inputs: 2, outputs: 1 })], { seed: 0 });
    const W = new Float32Array(200).map((_, i) => (i % 2 ? -3e38 : 3e38)); // +Inf and -Inf, then their sum
    model.setWeights([{ W, b: new Float32Array(2) }, { W: new Float32Array([1, 1]), b: new Float32Array(1) }]);
    const d = staticTask({ op: 'add', seed: 0 }).validationSet(8);
    expect(Number.isNaN(model.predict(d.x)[0])).toBe(true);
    expect(stagedMse(model, d)()).toBeNaN();
    model.dispose();
  });
});

describe('runSeed', () => {
  it('NAC+ learns a + b on the static task for seed 0 within 100,000 iterations (lr 1e-2)', async () => {
    await useBackend('simd');
    const config = { ...DEFAULTS, op: 'add' as const, model: 'nac', iterations: 100_000, learningRate: 1e-2,
      logEvery: 5000, validationSize: 2000, testSize: 2000 };
    const threshold = thresholdOf(config, 200_000);
    const r = runSeed(config, 0, threshold, undefined, true);
    expect(r.success).toBe(true);
    expect(r.extrapolationMse).toBeLessThan(threshold);
    expect(r.solvedAt).not.toBeNull();
    expect(r.log!.length).toBe(20);
    expect(r.log!.find((e) => e.iteration === r.bestIteration)!.extrapolationMse).toBe(r.extrapolationMse);
    // The best iteration has the lowest validation error of the log.
    expect(Math.min(...r.log!.map((e) => e.interpolationMse))).toBe(r.interpolationMse);
  }, 120_000);

  it('an MLP fits the training range but misses the threshold outside it', async () => {
    await useBackend('simd');
    const config = { ...DEFAULTS, op: 'add' as const, model: 'relu', iterations: 5000, learningRate: 1e-2,
      logEvery: 1000, validationSize: 1000, testSize: 1000 };
    const r = runSeed(config, 0, thresholdOf(config, 50_000));
    expect(r.success).toBe(false);
    expect(r.extrapolationMse).toBeGreaterThan(10 * r.interpolationMse);
    expect(r.sparsityError).toBeGreaterThan(0);
  }, 60_000);

  it(`stops a seed after ${MAX_SKIPPED_IN_A_ROW} refused steps in a row, says where, and never takes a NaN error for the best`, async () => {
    await useBackend('simd');
    // a NALU at learning rate 10: its steps overflow after the first
    const config = { ...DEFAULTS, op: 'mul' as const, model: 'nalu', iterations: 30_000, learningRate: 10, interpolation: [1, 10] as [number, number],
      logEvery: 1000, validationSize: 1000, testSize: 1000 };
    const log: number[] = [];
    const r = runSeed(config, 0, 1, (e) => log.push(e.iteration));
    expect(r.skippedSteps).toBe(MAX_SKIPPED_IN_A_ROW);
    expect(r.stoppedAt).toBe(r.skippedSteps + 1);
    expect(log.at(-1)).toBe(r.stoppedAt); // measured where it stopped
    expect(r.bestIteration).toBe(1000);
    expect(r.interpolationMse).toBeNaN();
    // nor a seed whose 10,000th refused step in a row is its last
    const last = runSeed({ ...config, iterations: MAX_SKIPPED_IN_A_ROW + 1 }, 0, 1);
    expect(last.skippedSteps).toBe(MAX_SKIPPED_IN_A_ROW);
    expect(last).not.toHaveProperty('stoppedAt');
    // a seed that runs to the end has no stoppedAt
    expect(runSeed({ ...config, op: 'sub', model: 'nac', learningRate: 1e-2, iterations: 2000 }, 0, 1)).not.toHaveProperty('stoppedAt');
  }, 60_000);

  it("estimates the error of rounding a configuration's targets to f32: below the threshold by default, above it where the subsets cover every input", async () => {
    await useBackend('simd');
    const add = { ...DEFAULTS, op: 'add' as const, model: 'nau' };
    // the default test range: targets a + b about 200, so about 200^2 2^-48 / 3 = 4.7e-11
    expect(roundingFloor(add)).toBeGreaterThan(2e-11);
    expect(roundingFloor(add)).toBeLessThan(1e-10);
    expect(thresholdOf(add, 100_000)).toBeGreaterThan(1e4 * roundingFloor(add));
    const covering = { ...add, inputSize: 10, subsetRatio: 0.5, overlapRatio: 0, interpolation: [-2, 2] as [number, number], extrapolation: [-6, 6] as [number, number] };
    expect(thresholdOf(covering, 100_000)).toBeLessThan(roundingFloor(covering));
  });

  it('refuses a model that MODELS does not name, prototype names included', async () => {
    await useBackend('simd');
    for (const model of ['lstm', 'toString', 'constructor', '__proto__']) {
      expect(() => runSeed({ ...DEFAULTS, op: 'add', model, iterations: 10 }, 0, 1)).toThrow(`unknown model "${model}" (known: linear,`);
    }
    expect(modelEntry('nmu')).toBe(MODELS.nmu);
    expect(modelEntry('hasOwnProperty')).toBeUndefined();
  });
});

describe('iNALU reinitialisation rule', () => {
  it('restarts when the newer half of the losses is no better than the older one and still above the limit', () => {
    const rule = new ReinitRule(100, 200, 1);
    // Flat losses of 5: no progress, above 1: restart at the first check past 200 losses.
    let fired = -1;
    for (let t = 1; t <= 1000 && fired < 0; t++) if (rule.record(t, 5 + (t % 3) * 0.01)) fired = t;
    expect(fired).toBe(300);
    // Steadily falling losses: never.
    const falling = new ReinitRule(100, 200, 1);
    for (let t = 1; t <= 2000; t++) expect(falling.record(t, 1000 / t + 2)).toBe(false);
    // Flat but below the limit: never.
    const low = new ReinitRule(100, 200, 1);
    for (let t = 1; t <= 2000; t++) expect(low.record(t, 0.5)).toBe(false);
  });
});

describe('reportJson', () => {
  it('writes non-finite numbers as strings, not null, and everything else as JSON.stringify does', () => {
    const report = { mse: Infinity, low: -Infinity, bad: NaN, ok: 1.5e-7, none: null, list: [1, Infinity], s: 'x' };
    expect(reportJson(report)).toBe('{"mse":"Infinity","low":"-Infinity","bad":"NaN","ok":1.5e-7,"none":null,"list":[1,"Infinity"],"s":"x"}');
    expect(JSON.parse(reportJson(report, 2))).toEqual({ ...report, mse: 'Infinity', low: '-Infinity', bad: 'NaN', list: [1, 'Infinity'] });
    expect(parseReport(reportJson(report))).toEqual(report);
  });
});

describe('recordedInit', () => {
  it("reads a record without an init as its layers' default: glorot for the NAC family, none for MLPs (nn.Linear's) and the NAU", () => {
    expect(recordedInit('nac', undefined)).toBe('glorot');
    expect(recordedInit('nalu', 'madsen')).toBe('madsen');
    expect(recordedInit('relu', undefined)).toBeUndefined();
    expect(recordedInit('relu', 'madsen')).toBe('madsen');
    expect(recordedInit('nau', undefined)).toBeUndefined();
  });
});

describe('parseReproduceLines', () => {
  const result = { seed: 3, success: false, solvedAt: null, bestIteration: 2000, interpolationMse: 0.5, extrapolationMse: Infinity,
    sparsityError: 0.25, skippedSteps: 0, wallSeconds: 1.5 };
  const line = { op: 'add', model: 'nalu', seed: 3, iterations: 5000, init: 'madsen', module: 'simd 0123456789ab', result };

  it('reads back what reportJson wrote, one record per line, an overflowed MSE as Infinity', () => {
    const text = `${reportJson(line)}\n\n${reportJson({ ...line, seed: 4, result: { ...result, seed: 4 } })}\n`;
    const lines = parseReproduceLines(text, 'r.jsonl');
    expect(lines).toEqual([line, { ...line, seed: 4, result: { ...result, seed: 4 } }]);
    expect(lines[0]!.result.extrapolationMse).toBe(Infinity);
  });

  it('names the file and the first line that is not JSON or not a reproduce record', () => {
    const good = reportJson(line);
    expect(() => parseReproduceLines(`${good}\n{"op":"add","mo`, 'r.jsonl')).toThrow('r.jsonl: line 2 is not JSON; fix or remove it');
    for (const bad of [{ ...line, op: 'pow' }, { ...line, model: 'lstm' }, { ...line, model: 'toString' }, { ...line, model: 7 }, { ...line, seed: '3' }, { ...line, iterations: 1.5 },
      { ...line, result: undefined }, [1, 2], null]) {
      expect(() => parseReproduceLines(`${good}\n${good}\n${JSON.stringify(bad)}`, 'r.jsonl')).toThrow(/^r\.jsonl: line 3 is not a reproduce line/);
    }
  });
});
