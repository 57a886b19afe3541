// model.fit: epochs of minibatches over a fixed data set. Without shuffling it is trainStep on
// the batches in order, bit for bit; with it, a seeded new order every epoch; a validation set,
// early stopping that ends at the best epoch's weights, a callback that can stop; and every
// argument and the data checked before the first step.
import { describe, expect, it } from 'vitest';
import { adam, nac, nau, NaluError, NonFiniteStepError, sequential, sgd, type FitEpoch, type Model } from '../src/index';
import { bits, useBackend } from './helpers';

const flat = (m: Model) => Float32Array.from(m.getWeights().flatMap((r) => Object.values(r).flatMap((a) => Array.from(a))));

/** n samples of (a, b) -> a - b, a and b from [lo, hi). */
function subtraction(n: number, lo: number, hi: number, seed: number) {
  const x = new Float32Array(2 * n), target = new Float32Array(n);
  let s = seed;
  const u = () => lo + (hi - lo) * ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < n; i++) {
    x[2 * i] = u();
    x[2 * i + 1] = u();
    target[i] = x[2 * i]! - x[2 * i + 1]!;
  }
  return { x, target };
}

describe('model.fit', () => {
  it('an NAU fits a - b and extrapolates; the loss falls epoch by epoch', async () => {
    await useBackend('simd');
    const model = sequential([nau({ inputs: 2, outputs: 1 })], { seed: 1 });
    const { x, target } = subtraction(512, 0, 1, 7);
    const seen: FitEpoch[] = [];
    const result = model.fit(x, target, { optimizer: adam({ learningRate: 0.05 }), epochs: 60, batchSize: 64, onEpoch: (e) => { seen.push(e); } });
    expect(result.loss).toHaveLength(60);
    expect(result.validationLoss).toEqual([]);
    expect(seen.map((e) => e.epoch)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(seen.at(-1)!.step).toBe(60 * 8);
    expect(model.step).toBe(480);
    expect(result.loss.at(-1)!).toBeLessThan(result.loss[0]! * 1e-6);
    expect(model.predict([1000, 250])[0]).toBeCloseTo(750, 2);
    model.dispose();
  });

  it('without shuffling it is trainStep on the batches in order, bit for bit (the last one smaller)', async () => {
    await useBackend('simd');
    const { x, target } = subtraction(100, -2, 2, 3);
    const a = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 4 }), b = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 4 });
    const oa = sgd({ learningRate: 0.01 }), ob = sgd({ learningRate: 0.01 });
    const result = a.fit(x, target, { optimizer: oa, epochs: 3, batchSize: 32, shuffle: false });
    const losses: number[] = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      let sum = 0;
      for (let first = 0; first < 100; first += 32) {
        const n = Math.min(32, 100 - first);
        sum += n * b.trainStep(x.subarray(2 * first, 2 * (first + n)), target.subarray(first, first + n), ob);
      }
      losses.push(sum / 100);
    }
    expect(result.loss).toEqual(losses);
    expect(bits(flat(a))).toEqual(bits(flat(b)));
    expect(a.step).toBe(12);
    a.dispose();
    b.dispose();
  });

  it('shuffles with its seed: the same seed gives the same weights, another seed others', async () => {
    await useBackend('simd');
    const { x, target } = subtraction(200, -2, 2, 5);
    const run = (seed: number) => {
      const m = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 9 });
      m.fit(x, target, { optimizer: sgd({ learningRate: 0.01 }), epochs: 2, batchSize: 16, seed });
      const w = flat(m);
      m.dispose();
      return bits(w);
    };
    const ordered = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 9 });
    ordered.fit(x, target, { optimizer: sgd({ learningRate: 0.01 }), epochs: 2, batchSize: 16, shuffle: false });
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
    expect(run(1)).not.toEqual(bits(flat(ordered)));
    ordered.dispose();
  });

  it('early stopping: stops once the validation error has not improved for `patience` epochs and ends at the best weights', async () => {
    await useBackend('simd');
    const train = subtraction(256, 0, 1, 11), validation = subtraction(256, 2, 6, 12);
    const model = sequential([nau({ inputs: 2, outputs: 1 })], { seed: 2 });
    // a learning rate this large overshoots: the validation error stops improving
    const result = model.fit(train.x, train.target, { optimizer: sgd({ learningRate: 1.9 }), epochs: 200, batchSize: 256, validation, patience: 3 });
    const best = Math.min(...result.validationLoss);
    expect(result.validationLoss.length).toBeLessThan(200);
    expect(result.validationLoss.length).toBe(result.bestEpoch! + 3);
    expect(result.validationLoss[result.bestEpoch! - 1]).toBe(best);
    expect(model.evaluate(validation.x, validation.target)).toBe(best);
    model.dispose();
  });

  it('onEpoch returning false stops after that epoch', async () => {
    await useBackend('simd');
    const { x, target } = subtraction(64, 0, 1, 1);
    const model = sequential([nau({ inputs: 2, outputs: 1 })]);
    const result = model.fit(x, target, { epochs: 10, onEpoch: (e) => e.epoch < 4 });
    expect(result.loss).toHaveLength(4);
    expect(model.step).toBe(4 * 2);
    expect(model.optimizer?.kind).toBe('adam'); // the default when the model has none
    model.dispose();
  });

  it.each([
    [{ epochs: 0 }, /^fit: epochs must be an integer from 1 to 1000000000, got 0$/],
    [{ batchSize: 1.5 }, /^fit: batchSize must be an integer from 1 to 1048576, got 1\.5$/],
    [{ shuffle: 'yes' }, /^fit: shuffle must be /],
    [{ epoch: 3 }, /^fit: unknown option "epoch" \(expected one of optimizer, epochs, batchSize, shuffle, seed, validation, patience, onEpoch\)$/],
    [{ patience: 2 }, /^fit: patience needs a validation set \(options\.validation\)$/],
    [{ onEpoch: 'log' }, /^fit: onEpoch must be a function, got "log"$/],
    [{ validation: { x: [1, 2, 3], target: [0] } }, /^fit: validation: x has 3 values, not a positive multiple of 2/],
    [{ validation: [[1, 2], [3]] }, /^fit: validation: options must be an object \(\{ x, target \}\), got an array/],
    [{ optimizer: { kind: 'sgd', learningRate: 0.1 } }, /^fit: optimizer must come from adam\(\), sgd\(\) or rmsprop\(\), got an object$/],
  ])('refuses %j before any step', async (options, message) => {
    await useBackend('simd');
    const { x, target } = subtraction(64, 0, 1, 1);
    const model = sequential([nau({ inputs: 2, outputs: 1 })]);
    const before = bits(flat(model));
    expect(() => model.fit(x, target, options as never)).toThrow(message);
    expect(bits(flat(model))).toEqual(before);
    expect(model.step).toBe(0);
    model.dispose();
  });

  it('no code of the caller runs between the checks and the first step: getters in the options', async () => {
    await useBackend('simd');
    const { x, target } = subtraction(64, 0, 1, 1);
    // a getter that disposes of the model (and makes another, which could take its memory)
    const m = sequential([nau({ inputs: 2, outputs: 1 })]);
    let other: Model | undefined;
    expect(() => m.fit(x, target, { get epochs() { m.dispose(); other = sequential([nau({ inputs: 2, outputs: 2 })]); return 1; } })).toThrow(/^fit: this model has been disposed$/);
    expect(other!.predict([1, 2])).toHaveLength(2);
    other!.dispose();
    // the validation set read after the training data was checked, its entries through a getter
    // that changes the training data: the checked copy is what trains
    const a = sequential([nau({ inputs: 2, outputs: 1 })], { seed: 3 }), b = sequential([nau({ inputs: 2, outputs: 1 })], { seed: 3 });
    const changed = x.slice(), validation = subtraction(16, 0, 1, 2);
    const vx = Array.from(validation.x);
    Object.defineProperty(vx, 0, { get() { changed[99] = NaN; return validation.x[0]; } });
    a.fit(changed, target, { optimizer: sgd({ learningRate: 0.1 }), epochs: 2, batchSize: 10, validation: { x: vx, target: validation.target } });
    expect(changed[99]).toBeNaN();
    b.fit(x, target, { optimizer: sgd({ learningRate: 0.1 }), epochs: 2, batchSize: 10, validation });
    expect(a.step).toBe(14);
    expect(bits(flat(a))).toEqual(bits(flat(b)));
    a.dispose();
    b.dispose();
  });

  it('an onEpoch that disposes of the model ends the fit; a refused step ends it with its error, named fit', async () => {
    await useBackend('simd');
    const { x, target } = subtraction(64, 0, 1, 1);
    const m = sequential([nau({ inputs: 2, outputs: 1 })]);
    const result = m.fit(x, target, { epochs: 5, validation: { x, target }, patience: 1, onEpoch: (e) => { if (e.epoch === 2) m.dispose(); } });
    expect(result.loss).toHaveLength(2);
    expect(m.isDisposed).toBe(true);
    const big = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 1 });
    const before = bits(flat(big));
    const thrown = (() => { try { big.fit([1e30, 1e30, 1, 1], [0, 0], { batchSize: 2 }); } catch (err) { return err; } })();
    expect(thrown).toBeInstanceOf(NonFiniteStepError);
    expect((thrown as Error).message).toMatch(/^fit: the gradient of W_hat of layer 0 at index \d is not finite; the parameters were not updated/);
    expect(bits(flat(big))).toEqual(before);
    big.dispose();
  });

  it('refuses data that trainStep would refuse at a later batch, before the first step', async () => {
    await useBackend('simd');
    const { x, target } = subtraction(64, 0, 1, 1);
    x[2 * 50 + 1] = NaN;
    const model = sequential([nau({ inputs: 2, outputs: 1 })]);
    const before = bits(flat(model));
    expect(() => model.fit(x, target, { batchSize: 8 })).toThrow(/^fit: x holds NaN at index 101 \(sample 50, input 1\); inputs must be finite$/);
    expect(() => model.fit(x.subarray(0, 127), target)).toThrow(NaluError);
    expect(bits(flat(model))).toEqual(before);
    expect(model.step).toBe(0);
    model.dispose();
    expect(() => model.fit(x, target)).toThrow(/^fit: this model has been disposed$/);
  });
});
