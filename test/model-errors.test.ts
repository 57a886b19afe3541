// Bad input and misuse, table-driven. Every row must throw a NaluError whose message names the
// problem (a regex on the message), and afterwards the model of the row must be as it was: its
// weights bit-identical (getWeights before and after), its predictions and gradients the same
// bits, and a training step still works. Rows that build something else (a layer, a model, an
// optimizer) run against the same check, so that no failed construction disturbs a live model.
import { describe, expect, it, vi } from 'vitest';
import {
  adam, dense, identityTask, inalu, load, nac, nacMul, nalu, NaluError, nau, NonFiniteStepError, rmsprop, Sampler, sequential, sgd, staticTask, type LayerSpec, Model, type Optimizer, type Weights,
} from '../src/index';
import { BUILDS, bits, useBackend } from './helpers';
import { copyWeights, prng, randomInputs, sameBits, uniform32 } from './helpers-random';

interface Ctx {
  m: Model;
  /** A valid batch of 4 for m. */
  x: Float32Array;
  t: Float32Array;
  /** Valid weights for m, different from its own. */
  other: Weights;
  opt: Optimizer;
}

interface Row {
  name: string;
  run: (c: Ctx) => unknown;
  message: RegExp;
  /** The model of the row, when not the default one. */
  model?: () => Model;
}

const INPUTS = { lo: 0.1, hi: 3, zeros: 0.1, negatives: 0.4 };

/** The default model: a NALU 3->2 and a NAC 2->1, so that records of two layers can be checked. */
const defaultModel = () => sequential([nalu({ inputs: 3, outputs: 2 }), nac({ inputs: 2, outputs: 1 })], { seed: 1 });

/** A nacMul 3->1 with W = 1 exactly (tanh(20) = sigmoid(20) = 1 in f32): y = |x0 x1 x2|. */
function productModel(options: { allowNonFinite?: boolean } = {}): Model {
  const m = sequential([nacMul({ inputs: 3, outputs: 1 })], { seed: 2, ...options });
  m.setWeights([{ W_hat: new Float32Array(3).fill(20), M_hat: new Float32Array(3).fill(20) }]);
  return m;
}

/** A NALU 3->1 with W = 1 and G = 1: at 1e30 the gate is 1 and exp overflows, so y = a + 0 Inf. */
function naluOverflowModel(): Model {
  const m = sequential([nalu({ inputs: 3, outputs: 1 })], { seed: 3 });
  m.setWeights([{ W_hat: new Float32Array(3).fill(20), M_hat: new Float32Array(3).fill(20), G: new Float32Array(3).fill(1) }]);
  return m;
}

const nanAt = (a: Float32Array, i: number, v = NaN) => { const b = a.slice(); b[i] = v; return b; };
const huge = (n: number) => new Float32Array(n).fill(1e30);
const weightsWith = (c: Ctx, k: number, name: string, v: unknown) => {
  const w = copyWeights(c.other) as unknown as Array<Record<string, unknown>>;
  w[k]![name] = v;
  return w as unknown as Weights;
};
const without = (c: Ctx, k: number, name: string) => {
  const w = copyWeights(c.other);
  delete w[k]![name];
  return w;
};
const disposed = () => { const m = defaultModel(); m.dispose(); return m; };
const any = (v: unknown) => v as never;

const ROWS: Row[] = [
  // ---- shapes of x and target, batch ----
  { name: 'predict: x not a multiple of the inputs', run: (c) => c.m.predict(c.x.subarray(0, 11)), message: /^predict: x has 11 values, not a positive multiple of 3 \(the model's inputs\)/ },
  { name: 'predict: x of the wrong length for the batch', run: (c) => c.m.predict(c.x, 5), message: /^predict: x has 12 values but batch 5 x 3 inputs needs 15/ },
  { name: 'predict: empty x', run: (c) => c.m.predict(new Float32Array(0)), message: /^predict: x has 0 values/ },
  { name: 'predict: x a string', run: (c) => c.m.predict(any('1,2,3')), message: /^predict: x must be a Float32Array .*got "1,2,3"/ },
  { name: 'predict: x a Promise', run: (c) => c.m.predict(any(Promise.resolve(1))), message: /^predict: x must be a Float32Array .*got a Promise$/ },
  { name: 'predict: x an Int32Array', run: (c) => c.m.predict(any(new Int32Array(3))), message: /^predict: x must be a Float32Array .*got an Int32Array$/ },
  { name: 'predict: batch 0', run: (c) => c.m.predict(c.x, 0), message: /^predict: batch must be an integer from 1 to \d+, got 0/ },
  { name: 'predict: negative batch', run: (c) => c.m.predict(c.x, -4), message: /^predict: batch must be an integer .*got -4/ },
  { name: 'predict: non-integer batch', run: (c) => c.m.predict(c.x, 2.5), message: /^predict: batch must be an integer .*got 2\.5/ },
  { name: 'predict: NaN batch', run: (c) => c.m.predict(c.x, NaN), message: /^predict: batch must be an integer .*got NaN/ },
  { name: 'predict: out too short', run: (c) => c.m.predict(c.x, 4, new Float32Array(3)), message: /^predict: out must be a Float32Array of 4 values \(batch 4 x 1 output\), got one of 3$/ },
  { name: 'predict: out a Float64Array', run: (c) => c.m.predict(c.x, 4, any(new Float64Array(4))), message: /^predict: out must be a Float32Array of 4 values \(batch 4 x 1 output\), got a Float64Array$/ },
  { name: 'predict: out an array', run: (c) => c.m.predict(c.x, 4, any([0, 0, 0, 0])), message: /^predict: out must be a Float32Array/ },
  {
    name: 'predict: out overlapping x',
    run: (c) => { const buf = new Float32Array(20); buf.set(c.x); return c.m.predict(buf.subarray(0, 12), 4, buf.subarray(10, 14)); },
    message: /^predict: out must not overlap x/,
  },
  { name: 'evaluate: target of the wrong length', run: (c) => c.m.evaluate(c.x, c.t.subarray(0, 3)), message: /^evaluate: target has 3 values but batch 4 x 1 outputs needs 4/ },
  { name: 'evaluate: target missing', run: (c) => c.m.evaluate(c.x, any(undefined)), message: /^evaluate: target must be a Float32Array/ },
  { name: 'gradients: target of the wrong length', run: (c) => c.m.gradients(c.x, new Float32Array(5)), message: /^gradients: target has 5 values but batch 4 x 1 outputs needs 4/ },
  { name: 'gradients: x of the wrong length for the batch', run: (c) => c.m.gradients(c.x, c.t, 3), message: /^gradients: x has 12 values but batch 3 x 3 inputs needs 9/ },
  { name: 'gradients: batch 0', run: (c) => c.m.gradients(c.x, c.t, 0), message: /^gradients: batch must be an integer from 1 to 1048576, got 0/ },
  { name: 'trainStep: target of the wrong length', run: (c) => c.m.trainStep(c.x, c.t.subarray(0, 2), c.opt), message: /^trainStep: target has 2 values but batch 4 x 1 outputs needs 4/ },
  { name: 'trainStep: batch above the limit of one step', run: (c) => c.m.trainStep(c.x, c.t, c.opt, 2 ** 20 + 1), message: /^trainStep: batch must be an integer from 1 to 1048576, got 1048577/ },
  { name: 'trainStep: non-integer batch', run: (c) => c.m.trainStep(c.x, c.t, c.opt, 1.5), message: /^trainStep: batch must be an integer .*got 1\.5/ },

  // ---- non-finite inputs and targets: rejected with the index ----
  { name: 'predict: NaN in x', run: (c) => c.m.predict(nanAt(c.x, 5)), message: /^predict: x holds NaN at index 5 \(sample 1, input 2\); inputs must be finite$/ },
  { name: 'predict: Infinity in x', run: (c) => c.m.predict(nanAt(c.x, 0, Infinity)), message: /^predict: x holds Infinity at index 0 \(sample 0, input 0\)/ },
  { name: 'predict: -Infinity in x', run: (c) => c.m.predict(nanAt(c.x, 11, -Infinity)), message: /^predict: x holds -Infinity at index 11 \(sample 3, input 2\)/ },
  {
    name: 'predict: NaN in the third chunk of a batch of 10000',
    run: (c) => { const x = new Float32Array(30000).fill(0.5); x[27001] = NaN; return c.m.predict(x); },
    message: /^predict: x holds NaN at index 27001 \(sample 9000, input 1\)/,
  },
  { name: 'predict: NaN in a number[]', run: (c) => c.m.predict([1, 2, 3, 4, NaN, 6]), message: /^predict: x holds NaN at index 4 \(sample 1, input 1\)/ },
  { name: 'predict: NaN in a Float64Array', run: (c) => c.m.predict(Float64Array.of(1, 2, 3, NaN, 5, 6)), message: /^predict: x holds NaN at index 3/ },
  { name: 'predict: a Float64Array value beyond the f32 range', run: (c) => c.m.predict(Float64Array.of(1, 2, 1e39)), message: /^predict: x holds 1e\+39 at index 2 \(sample 0, input 2\); inputs must be finite in f32, whose largest value is 3\.4028234663852886e\+38$/ },
  { name: 'evaluate: NaN in x', run: (c) => c.m.evaluate(nanAt(c.x, 7), c.t), message: /^evaluate: x holds NaN at index 7 \(sample 2, input 1\)/ },
  { name: 'evaluate: NaN in target', run: (c) => c.m.evaluate(c.x, nanAt(c.t, 2)), message: /^evaluate: target holds NaN at index 2 \(sample 2, output 0\); targets must be finite$/ },
  {
    name: 'evaluate: NaN in target in the second chunk',
    run: (c) => { const t = new Float32Array(5000); t[4500] = NaN; return c.m.evaluate(new Float32Array(15000).fill(1), t); },
    message: /^evaluate: target holds NaN at index 4500 \(sample 4500, output 0\)/,
  },
  { name: 'gradients: NaN in x', run: (c) => c.m.gradients(nanAt(c.x, 9), c.t), message: /^gradients: x holds NaN at index 9 \(sample 3, input 0\)/ },
  { name: 'gradients: Infinity in target', run: (c) => c.m.gradients(c.x, nanAt(c.t, 1, Infinity)), message: /^gradients: target holds Infinity at index 1/ },
  { name: 'trainStep: NaN in x', run: (c) => c.m.trainStep(nanAt(c.x, 11), c.t, c.opt), message: /^trainStep: x holds NaN at index 11 \(sample 3, input 2\)/ },
  { name: 'trainStep: NaN in target', run: (c) => c.m.trainStep(c.x, nanAt(c.t, 0), c.opt), message: /^trainStep: target holds NaN at index 0/ },
  { name: 'trainStep: -Infinity in target', run: (c) => c.m.trainStep(c.x, nanAt(c.t, 3, -Infinity), c.opt), message: /^trainStep: target holds -Infinity at index 3/ },

  // ---- a training step whose loss or gradient is not finite ----
  {
    name: 'trainStep: nacMul overflow (1e30^3 = Infinity): the loss is not finite',
    model: () => productModel(),
    run: (c) => c.m.trainStep(huge(6), new Float32Array(2), c.opt),
    message: /^trainStep: the loss is not finite; the parameters were not updated \(pass allowNonFinite/,
  },
  {
    name: 'trainStep: nalu overflow (gate 1, exp -> Infinity, 0 * Infinity = NaN): the loss is not finite',
    model: naluOverflowModel,
    run: (c) => c.m.trainStep(huge(6), new Float32Array(2), c.opt),
    message: /^trainStep: the loss is not finite; the parameters were not updated/,
  },
  {
    // y = 1e30 W is finite and so is the loss (about 1e60 in f64), but dW = x^T dy ~ 1e60 is not.
    name: 'trainStep: nac with x = 1e30: the gradient of W_hat is not finite',
    model: () => sequential([nac({ inputs: 2, outputs: 1 })], { seed: 4 }),
    run: (c) => c.m.trainStep(huge(4), new Float32Array(2), c.opt),
    message: /^trainStep: the gradient of W_hat of layer 0 at index 0 is not finite; the parameters were not updated/,
  },
  {
    // x1 = 1 keeps dW[0] ~ 1e30 finite: the message names the first weight whose gradient is not
    name: 'trainStep: nac with x = (1, 1e30): the gradient of W_hat is not finite at index 1',
    model: () => sequential([nac({ inputs: 2, outputs: 1 })], { seed: 4 }),
    run: (c) => c.m.trainStep(Float32Array.of(1, 1e30, 1, 1e30), new Float32Array(2), c.opt),
    message: /^trainStep: the gradient of W_hat of layer 0 at index 1 is not finite; the parameters were not updated/,
  },

  // ---- a training step whose loss and gradient are finite but whose update is not ----
  {
    // x = 1e10: the loss (~1e20) and dW_hat (~1e20) are finite in f32, but Adam's g^2 (~1e40) is
    // not: v would be infinite, and every later step of W_hat 0.
    name: 'trainStep: adam, nac with x = 1e10: the second moment would overflow',
    model: () => sequential([nac({ inputs: 2, outputs: 1 })], { seed: 4 }),
    run: (c) => c.m.trainStep(new Float32Array(4).fill(1e10), new Float32Array(2), c.opt),
    message: /^trainStep: the update of W_hat of layer 0 at index 0 is not finite in f32 \(a new value or optimizer moment overflows: lower the learning rate, set clipValue or start a new optimizer\); the parameters were not updated/,
  },
  {
    // only input 2 is huge, so only W_hat[2]'s gradient squares past f32: the lane is named
    name: 'trainStep: rmsprop, nac with one input 1e12: the moment of that weight would overflow',
    model: () => sequential([nac({ inputs: 4, outputs: 1 })], { seed: 4 }),
    run: (c) => c.m.trainStep(Float32Array.of(1, 1, 1e12, 1, 2, 1, 1e12, 1), new Float32Array(2), rmsprop()),
    message: /^trainStep: the update of W_hat of layer 0 at index 2 is not finite in f32/,
  },
  {
    // x = 1e17: dW_hat ~1e33 is finite, and a learning rate of 1e6 moves W_hat by ~1e39
    name: 'trainStep: sgd with learningRate 1e6 and x = 1e17: the new weights would overflow',
    model: () => sequential([nac({ inputs: 2, outputs: 1 })], { seed: 4 }),
    run: (c) => c.m.trainStep(new Float32Array(4).fill(1e17), new Float32Array(2), sgd({ learningRate: 1e6 })),
    message: /^trainStep: the update of W_hat of layer 0 at index 0 is not finite in f32/,
  },

  // ---- layer options ----
  { name: 'nac: inputs 0', run: () => nac({ inputs: 0, outputs: 1 }), message: /^nac: inputs must be an integer from 1 to 65536, got 0/ },
  { name: 'nac: negative inputs', run: () => nac({ inputs: -3, outputs: 1 }), message: /^nac: inputs must be an integer .*got -3/ },
  { name: 'nalu: non-integer inputs', run: () => nalu({ inputs: 2.5, outputs: 1 }), message: /^nalu: inputs must be an integer .*got 2\.5/ },
  { name: 'nacMul: NaN inputs', run: () => nacMul({ inputs: NaN, outputs: 1 }), message: /^nacMul: inputs must be an integer .*got NaN/ },
  { name: 'nac: inputs 1e9', run: () => nac({ inputs: 1e9, outputs: 1 }), message: /^nac: inputs must be an integer from 1 to 65536, got 1000000000/ },
  { name: 'nac: inputs a string', run: () => nac({ inputs: any('3'), outputs: 1 }), message: /^nac: inputs must be an integer .*got "3"/ },
  { name: 'nac: outputs 0', run: () => nac({ inputs: 1, outputs: 0 }), message: /^nac: outputs must be an integer from 1 to 65536, got 0/ },
  { name: 'nalu: negative outputs', run: () => nalu({ inputs: 1, outputs: -1 }), message: /^nalu: outputs must be an integer .*got -1/ },
  { name: 'nac: non-integer outputs', run: () => nac({ inputs: 1, outputs: 1.5 }), message: /^nac: outputs must be an integer .*got 1\.5/ },
  { name: 'nac: NaN outputs', run: () => nac({ inputs: 1, outputs: NaN }), message: /^nac: outputs must be an integer .*got NaN/ },
  { name: 'nacMul: outputs 1e9', run: () => nacMul({ inputs: 1, outputs: 1e9 }), message: /^nacMul: outputs must be an integer .*got 1000000000/ },
  { name: 'nac: outputs missing', run: () => nac(any({ inputs: 2 })), message: /^nac: outputs must be an integer .*got undefined/ },
  { name: 'nac: 65536 x 65536 weights', run: () => nac({ inputs: 65536, outputs: 65536 }), message: /^nac: inputs \* outputs must be at most 16777216, got 65536 \* 65536/ },
  { name: 'nac: unknown option (eps belongs to the log path)', run: () => nac(any({ inputs: 2, outputs: 1, eps: 1e-7 })), message: /^nac: unknown option "eps"/ },
  { name: 'nalu: unknown option (misspelt)', run: () => nalu(any({ inputs: 2, outputs: 1, shared: false })), message: /^nalu: unknown option "shared" \(expected one of/ },
  { name: 'nalu: sharedWeights not a boolean', run: () => nalu(any({ inputs: 2, outputs: 1, sharedWeights: 'no' })), message: /^nalu: sharedWeights must be true or false, got "no"/ },
  { name: 'nacMul: eps 0', run: () => nacMul({ inputs: 2, outputs: 1, eps: 0 }), message: /^nacMul: eps must be a finite number > 0/ },
  { name: 'nalu: eps NaN', run: () => nalu({ inputs: 2, outputs: 1, eps: NaN }), message: /^nalu: eps must be a finite number .*got NaN/ },
  { name: 'nalu: unknown init', run: () => nalu(any({ inputs: 2, outputs: 1, init: 'he' })), message: /^nalu: init must be "glorot", "seed" or "madsen", got "he"/ },
  { name: 'nac: options not an object', run: () => nac(any(null)), message: /^nac: options must be an object/ },

  // ---- sequential ----
  { name: 'sequential: no layers', run: () => sequential([]), message: /^sequential: layers must be a non-empty array/ },
  { name: 'sequential: a layer instead of an array', run: () => sequential(any(nac({ inputs: 1, outputs: 1 }))), message: /^sequential: layers must be a non-empty array/ },
  { name: 'sequential: 1,025 layers', run: () => sequential(Array.from({ length: 1025 }, () => nau({ inputs: 1, outputs: 1 }))), message: /^sequential: 1025 layers, more than the 1024 a model may have$/ },
  {
    name: 'sequential: layer sizes do not match',
    run: () => sequential([nac({ inputs: 3, outputs: 2 }), nac({ inputs: 3, outputs: 1 })]),
    message: /^sequential: layer 1 \(nac\) has 3 inputs but layer 0 has 2 outputs/,
  },
  {
    name: 'sequential: layer sizes do not match (plain specs, with a model-wide init)',
    run: () => sequential(any([{ type: 'nac', inputs: 3, outputs: 2 }, { type: 'nalu', inputs: 4, outputs: 1 }]), { init: 'seed' }),
    message: /^sequential: layer 1 \(nalu\) has 4 inputs but layer 0 has 2 outputs/,
  },
  { name: 'sequential: unknown option', run: () => sequential([nac({ inputs: 1, outputs: 1 })], any({ seeds: 1 })), message: /^sequential: unknown option "seeds"/ },
  { name: 'sequential: negative seed', run: () => sequential([nac({ inputs: 1, outputs: 1 })], { seed: -1 }), message: /^sequential: seed must be an integer from 0 to 4294967295, got -1/ },
  { name: 'sequential: non-integer seed', run: () => sequential([nac({ inputs: 1, outputs: 1 })], { seed: 1.5 }), message: /^sequential: seed must be an integer .*got 1\.5/ },
  { name: 'sequential: unknown init', run: () => sequential([nac({ inputs: 1, outputs: 1 })], any({ init: 'uniform' })), message: /^sequential: init must be "glorot", "seed" or "madsen", got "uniform"/ },
  { name: 'sequential: unknown layer type', run: () => sequential(any([{ type: 'conv2d', inputs: 1, outputs: 1 }])), message: /^sequential: layer 0: unknown layer type "conv2d" \(known: nac, nacMul, nalu\b/ },
  { name: 'sequential: a layer spec with inputs 0', run: () => sequential(any([nac({ inputs: 2, outputs: 1 }), { type: 'nac', inputs: 0, outputs: 1 }])), message: /^sequential: layer 1: nac: inputs must be an integer from 1 to 65536, got 0$/ },
  { name: 'sequential: a layer that is not an object', run: () => sequential(any([null])), message: /^sequential: layer 0: a layer must be an object, got null$/ },

  // ---- setWeights ----
  { name: 'setWeights: a name missing', run: (c) => c.m.setWeights(without(c, 0, 'M_hat')), message: /^setWeights: M_hat of layer 0 \(nalu\) is missing/ },
  { name: 'setWeights: an unknown name', run: (c) => c.m.setWeights(weightsWith(c, 1, 'G', new Float32Array(2))), message: /^setWeights: layer 1 \(nac\) has no parameter "G" \(it has W_hat, M_hat\)/ },
  { name: 'setWeights: a wrong length', run: (c) => c.m.setWeights(weightsWith(c, 0, 'G', new Float32Array(5))), message: /^setWeights: G of layer 0 \(nalu\) has 5 values, expected 3 x 2 = 6/ },
  {
    // Layer 0's values are valid and new: nothing may be written before layer 1 is checked.
    name: 'setWeights: NaN in the last layer (nothing written)',
    run: (c) => c.m.setWeights(weightsWith(c, 1, 'W_hat', Float32Array.of(0.5, NaN))),
    message: /^setWeights: W_hat of layer 1 \(nac\) holds NaN at index 1; weights must be finite/,
  },
  { name: 'setWeights: Infinity', run: (c) => c.m.setWeights(weightsWith(c, 0, 'W_hat', new Float32Array(6).fill(Infinity))), message: /^setWeights: W_hat of layer 0 \(nalu\) holds Infinity at index 0/ },
  { name: 'setWeights: too few layers', run: (c) => c.m.setWeights(c.other.slice(0, 1)), message: /^setWeights: expected an array of 2 records \(one per layer\), got an array of length 1/ },
  { name: 'setWeights: too many layers', run: (c) => c.m.setWeights([...c.other, {}]), message: /^setWeights: expected an array of 2 records/ },
  { name: 'setWeights: not an array', run: (c) => c.m.setWeights(any(c.other[0])), message: /^setWeights: expected an array of 2 records .*got an object/ },
  { name: 'setWeights: a layer record null', run: (c) => c.m.setWeights(any([c.other[0], null])), message: /^setWeights: layer 1 must be a record of named parameters, got null/ },
  {
    name: 'setWeights: weights through JSON.stringify (its Float32Arrays become objects)',
    run: (c) => c.m.setWeights(JSON.parse(JSON.stringify(c.other))),
    message: /^setWeights: W_hat of layer 0 \(nalu\) must be a Float32Array, Float64Array or number\[\], got an object \(what JSON\.stringify makes of a Float32Array: stringify Array\.from\(it\) instead\)$/,
  },
  { name: 'setWeights: a tensor given as a string', run: (c) => c.m.setWeights(weightsWith(c, 0, 'G', '1,2,3,4,5,6')), message: /^setWeights: G of layer 0 \(nalu\) must be a Float32Array/ },

  // ---- optimizers ----
  { name: 'adam: learningRate -1', run: () => adam({ learningRate: -1 }), message: /^adam: learningRate must be a finite number > 0 and <= 1000000, got -1/ },
  { name: 'adam: learningRate NaN', run: () => adam({ learningRate: NaN }), message: /^adam: learningRate must be a finite number .*got NaN/ },
  { name: 'adam: learningRate Infinity', run: () => adam({ learningRate: Infinity }), message: /^adam: learningRate must be a finite number .*got Infinity/ },
  { name: 'adam: learningRate 0', run: () => adam({ learningRate: 0 }), message: /^adam: learningRate must be a finite number > 0/ },
  { name: 'adam: beta1 1', run: () => adam({ beta1: 1 }), message: /^adam: beta1 must be a finite number >= 0 and <= 0\.999999, got 1/ },
  { name: 'adam: negative beta1', run: () => adam({ beta1: -0.1 }), message: /^adam: beta1 must be .*got -0\.1/ },
  { name: 'adam: beta2 1', run: () => adam({ beta2: 1 }), message: /^adam: beta2 must be a finite number >= 0 and <= 0\.9999999, got 1/ },
  // Settings the module computes with in f32 are checked there too: a value in range that f32
  // rounds to 0 would silently change the optimizer, and one that rounds to 1 is refused by the
  // maximum (0.99999995 would be 1 in f32).
  { name: 'adam: epsilon 1e-46 (0 in f32)', run: () => adam({ epsilon: 1e-46 }), message: /^adam: epsilon must be > 0 in f32, the precision the module computes in; got 1e-46, which rounds to 0$/ },
  { name: 'adam: beta2 that f32 would round to 1', run: () => adam({ beta2: 0.99999995 }), message: /^adam: beta2 must be a finite number >= 0 and <= 0\.9999999, got 0\.99999995/ },
  { name: 'rmsprop: epsilon 1e-46', run: () => rmsprop({ epsilon: 1e-46 }), message: /^rmsprop: epsilon must be > 0 in f32.*got 1e-46, which rounds to 0$/ },
  { name: 'sgd: learningRate 1e-46', run: () => sgd({ learningRate: 1e-46 }), message: /^sgd: learningRate must be > 0 in f32.*got 1e-46, which rounds to 0$/ },
  { name: 'adam: clipValue 1e-46 (0, no clipping, in f32)', run: () => adam({ clipValue: 1e-46 }), message: /^adam: clipValue \(0: no clipping\) must be > 0 in f32.*which rounds to 0$/ },
  { name: 'nalu: eps 1e-46', run: () => nalu({ inputs: 2, outputs: 1, eps: 1e-46 }), message: /^nalu: eps must be > 0 in f32.*which rounds to 0$/ },
  { name: 'inalu: omega 1e-46', run: () => inalu({ inputs: 2, outputs: 1, omega: 1e-46 }), message: /^inalu: omega must be > 0 in f32.*which rounds to 0$/ },
  { name: 'adam: negative epsilon', run: () => adam({ epsilon: -1 }), message: /^adam: epsilon must be a finite number > 0/ },
  { name: 'adam: unknown option', run: () => adam(any({ lr: 0.1 })), message: /^adam: unknown option "lr"/ },
  { name: 'adam: learningRate null (not the default)', run: () => adam(any({ learningRate: null })), message: /^adam: learningRate is null; an option takes its default only when it is left out \(or undefined\)$/ },
  { name: 'rmsprop: alpha null', run: () => rmsprop(any({ alpha: null })), message: /^rmsprop: alpha is null; an option takes its default only when it is left out \(or undefined\)$/ },
  { name: 'nalu: eps null', run: () => nalu(any({ inputs: 2, outputs: 1, eps: null })), message: /^nalu: eps is null; an option takes its default only when it is left out \(or undefined\)$/ },
  { name: 'sequential: seed null', run: () => sequential([nac({ inputs: 1, outputs: 1 })], any({ seed: null })), message: /^sequential: seed is null; an option takes its default only when it is left out \(or undefined\)$/ },
  { name: 'staticTask: seed null', run: () => staticTask(any({ op: 'add', seed: null })), message: /^staticTask: seed is null; an option takes its default only when it is left out \(or undefined\)$/ },
  { name: 'sgd: learningRate missing', run: () => sgd(any({})), message: /^sgd: learningRate is required/ },
  { name: 'sgd: learningRate -1', run: () => sgd({ learningRate: -1 }), message: /^sgd: learningRate must be a finite number > 0/ },

  // ---- trainStep without a real optimizer ----
  { name: 'trainStep: an empty object as optimizer', run: (c) => c.m.trainStep(c.x, c.t, any({})), message: /^trainStep: optimizer must come from adam\(\), sgd\(\) or rmsprop\(\), got an object/ },
  { name: 'trainStep: null as optimizer', run: (c) => c.m.trainStep(c.x, c.t, any(null)), message: /^trainStep: optimizer must come from adam\(\), sgd\(\) or rmsprop\(\), got null/ },
  { name: 'trainStep: the string "adam" as optimizer', run: (c) => c.m.trainStep(c.x, c.t, any('adam')), message: /^trainStep: optimizer must come from adam\(\), sgd\(\) or rmsprop\(\), got "adam"/ },
  { name: 'trainStep: the function adam itself as optimizer', run: (c) => c.m.trainStep(c.x, c.t, any(adam)), message: /^trainStep: optimizer must come from adam\(\), sgd\(\) or rmsprop\(\)/ },
  // A hand-made object with the right `kind` is not an optimizer either: without checks its
  // missing or invalid settings reach the update as NaN.
  { name: 'trainStep: a hand-made { kind: "adam" }', run: (c) => c.m.trainStep(c.x, c.t, any({ kind: 'adam' })), message: /^trainStep: optimizer must come from adam\(\), sgd\(\) or rmsprop\(\)/ },
  {
    name: 'trainStep: a copy of adam() with learningRate NaN',
    run: (c) => c.m.trainStep(c.x, c.t, any({ ...adam(), learningRate: NaN })),
    message: /^trainStep: optimizer must come from adam\(\), sgd\(\) or rmsprop\(\)/,
  },

  // ---- calls after dispose() ----
  { name: 'predict after dispose', run: (c) => disposed().predict(c.x), message: /^predict: this model has been disposed/ },
  { name: 'evaluate after dispose', run: (c) => disposed().evaluate(c.x, c.t), message: /^evaluate: this model has been disposed/ },
  { name: 'gradients after dispose', run: (c) => disposed().gradients(c.x, c.t), message: /^gradients: this model has been disposed/ },
  { name: 'trainStep after dispose', run: (c) => disposed().trainStep(c.x, c.t, c.opt), message: /^trainStep: this model has been disposed/ },
  { name: 'getWeights after dispose', run: () => disposed().getWeights(), message: /^getWeights: this model has been disposed/ },
  { name: 'setWeights after dispose', run: (c) => disposed().setWeights(c.other), message: /^setWeights: this model has been disposed/ },
  { name: 'lambdaAt after dispose', run: () => disposed().lambdaAt(0), message: /^lambdaAt: this model has been disposed/ },

  // ---- numbers that are finite in f64 but not in f32 ----
  { name: 'trainStep: target beyond the f32 range', run: (c) => c.m.trainStep(c.x, [0, -4e38, 0, 0], c.opt), message: /^trainStep: target holds -4e\+38 at index 1 .*targets must be finite in f32, whose largest/ },
  { name: 'setWeights: a weight beyond the f32 range', run: (c) => c.m.setWeights(weightsWith(c, 1, 'W_hat', [1, 1e39])), message: /^setWeights: W_hat of layer 1 \(nac\) holds 1e\+39 at index 1; weights must be finite in f32, whose largest value is 3\.4028234663852886e\+38$/ },

  { name: 'predict: rows as nested arrays', run: (c) => c.m.predict(any([[1, 2, 3], [4, 5, 6]])), message: /^predict: x must hold numbers: index 0 is \[1, 2, 3\], not a number \(rows go one after another in one flat array: pass rows\.flat\(\)\)$/ },

  // ---- methods passed on without their model ----
  { name: 'predict taken off its model', run: (c) => [c.x].map(any(c.m.predict)), message: /^predict: called on undefined, not a model made by sequential\(\) \(a method passed on by itself, as to array\.map or setTimeout, loses its model\): call model\.predict\(\.\.\.\) or pass model\.predict\.bind\(model\)$/ },
  { name: 'dispose taken off its model', run: (c) => { const { dispose } = c.m; dispose(); }, message: /^dispose: called on undefined, not a model/ },
  { name: 'setWeights taken off its model', run: (c) => [c.other].forEach(any(c.m.setWeights)), message: /^setWeights: called on undefined, not a model/ },
  { name: 'restoreOptimizer taken off its model', run: (c) => [c.other].forEach(any(c.m.restoreOptimizer)), message: /^restoreOptimizer: called on undefined, not a model/ },
  { name: 'a staged batch\'s dispose taken off it', run: (c) => { const { dispose } = c.m.stageBatch(c.x, c.t); dispose(); }, message: /^dispose: called on undefined, not a batch made by model\.stageBatch\(\) \(a method passed on by itself, as to array\.map or setTimeout, loses its batch\): call batch\.dispose\(\.\.\.\) or pass batch\.dispose\.bind\(batch\)$/ },
  { name: 'trainStep called on another object', run: (c) => Model.prototype.trainStep.call(any({}), c.x, c.t, c.opt), message: /^trainStep: called on an object, not a model made by sequential\(\) \(a method passed on by itself/ },

  // ---- restoreOptimizer ----
  { name: 'restoreOptimizer: not a state', run: (c) => c.m.restoreOptimizer(any(c.opt)), message: /^restoreOptimizer: the state has a field "kind"; a state holds optimizer, step, m, v/ },
  { name: 'restoreOptimizer: a state without its optimizer', run: (c) => c.m.restoreOptimizer(any({ step: 1, m: c.other, v: c.other })), message: /^restoreOptimizer: optimizer must come from adam\(\), sgd\(\) or rmsprop\(\), got undefined/ },
  { name: 'restoreOptimizer: a field that is not part of a state', run: (c) => c.m.restoreOptimizer(any({ optimizer: c.opt, step: 1, m: c.other, v: c.other, learningRate: 0.5 })), message: /^restoreOptimizer: the state has a field "learningRate"; a state holds optimizer, step, m, v \(the optimizer's settings are its own\)$/ },
  { name: 'restoreOptimizer: null', run: (c) => c.m.restoreOptimizer(any(null)), message: /^restoreOptimizer: expected what optimizerState\(\) returns, got null/ },
  { name: 'restoreOptimizer: a second moment of the wrong length', run: (c) => c.m.restoreOptimizer({ optimizer: c.opt, step: 1, m: c.other, v: weightsWith(c, 0, 'G', new Float32Array(5)) }), message: /^restoreOptimizer: v: G of layer 0 \(nalu\) has 5 values, expected 3 x 2 = 6/ },
  { name: 'restoreOptimizer: a first moment beyond the f32 range', run: (c) => c.m.restoreOptimizer({ optimizer: c.opt, step: 1, m: weightsWith(c, 1, 'M_hat', [-1e39, 0]), v: c.other.map((r) => Object.fromEntries(Object.entries(r).map(([k, a]) => [k, a.map(Math.abs)]))) }), message: /^restoreOptimizer: the moments of M_hat of layer 1 \(nac\) hold m = -1e\+39, v = [\d.]+ at index 0; m must be finite in f32, whose largest value is .* and v >= 0/ },

  // ---- evaluate of a staged batch ----
  { name: 'evaluate: a StagedBatch and a target', run: (c) => c.m.evaluate(any(c.m.stageBatch(c.x, c.t)), c.t), message: /^evaluate: a StagedBatch holds its own target; pass it alone/ },
  { name: "evaluate: another model's StagedBatch", run: (c) => c.m.evaluate(defaultModel().stageBatch(c.x, c.t)), message: /^evaluate: this StagedBatch was staged by another model/ },
  { name: 'evaluate: a disposed StagedBatch', run: (c) => { const s = c.m.stageBatch(c.x, c.t); s.dispose(); return c.m.evaluate(s); }, message: /^evaluate: the StagedBatch has been disposed/ },

  // ---- work memory ----
  {
    name: 'trainStepOn: a batch whose work memory would exceed a block',
    model: () => sequential([nau({ inputs: 65536, outputs: 1 })]),
    run: (c) => c.m.trainStepOn(staticTask({ op: 'add', inputSize: 65536 }).trainSampler(), c.opt, 1 << 14),
    message: /^trainStepOn: a batch of 16384 needs \d+ bytes of work memory for this model, more than the 1040187376 a block may use: use smaller batches$/,
  },

  // ---- tasks whose op is undefined on the range ----
  { name: 'staticTask: sqrt of a range below 0', run: () => staticTask({ op: 'sqrt', interpolation: [-2, -1] }), message: /^staticTask: sqrt takes the root of a, a sum of inputs: its ranges must not go below 0, got interpolation \[-2, -1\] and extrapolation \[2, 6\]/ },

  // ---- values that change between reads: what is checked is what gets written ----
  { name: 'setWeights: a value NaN when first read, finite after', run: (c) => c.m.setWeights(c.other.map((rec, k) => (k === 0 ? { ...rec, W_hat: changing(rec.W_hat!, NaN) } : rec))), message: /^setWeights: W_hat of layer 0 \(nalu\) holds NaN at index 0; weights must be finite/ },
  {
    name: 'restoreOptimizer: a second moment negative when first read, then 0',
    run: (c) => {
      const copy = defaultModel();
      copy.trainStep(c.x, c.t, c.opt);
      const s = copy.optimizerState()!;
      return c.m.restoreOptimizer({ ...s, v: s.v.map((rec, k) => (k === 1 ? { ...rec, W_hat: any(changing(rec.W_hat!, -1)) } : rec)) });
    },
    message: /^restoreOptimizer: the moments of W_hat of layer 1 \(nac\) hold m = .*, v = -1 at index 0; m must be finite and v >= 0/,
  },

  // ---- objects that only look like the package's own; plain objects only ----
  { name: 'sequential: a layers array with a hole', run: () => sequential([, nac({ inputs: 2, outputs: 1 })] as never), message: /^sequential: layers has a hole at index 0/ },
  { name: 'sequential: options a Map', run: () => sequential([nac({ inputs: 2, outputs: 1 })], any(new Map([['seed', 3]]))), message: /^sequential: expected a plain object \(\{ seed, init, allowNonFinite, regularizer \}\), got a Map/ },
  { name: 'adam: options a Map', run: () => adam(any(new Map([['learningRate', 0.5]]))), message: /^adam: expected a plain object \(\{ .*learningRate.* \}\), got a Map/ },
  { name: 'new Sampler()', run: () => new (Sampler as unknown as new (...a: unknown[]) => Sampler)(any({ kind: 0, inputs: 4, start1: -1e8, start2: 0, subsetSize: 1, op: 0 }), [1, 2], 0), message: /^new Sampler\(\): a sampler comes from a task's trainSampler\(\)/ },
  {
    name: 'trainStepOn: an object made to look like a sampler',
    model: () => sequential([nac({ inputs: 4, outputs: 1 })], { seed: 3 }),
    run: (c) => {
      const real = staticTask({ op: 'add', inputSize: 4 }).trainSampler();
      const fake = Object.assign(Object.create(Sampler.prototype) as Sampler, { engine: real.engine, config: real.config, ptr: 8 });
      return c.m.trainStepOn(fake, c.opt);
    },
    message: /^trainStepOn: this sampler was not made by a task's trainSampler\(\)/,
  },
  { name: 'predict: x a Proxy of a Float32Array', run: (c) => c.m.predict(new Proxy(c.x, {})), message: /^predict: x must be a Float32Array \(or Float64Array or number\[\]\), got an object posing as a Float32Array \(a Proxy\?\)$/ },
  { name: 'predict: out a Proxy of a Float32Array', run: (c) => c.m.predict(c.x, 4, new Proxy(new Float32Array(4), {})), message: /^predict: out must be a Float32Array of 4 values \(batch 4 x 1 output\), got an object posing as a Float32Array \(a Proxy\?\)$/ },
  { name: 'setWeights: a Proxy of a Float32Array', run: (c) => c.m.setWeights(c.other.map((rec, k) => (k === 1 ? { ...rec, W_hat: new Proxy(rec.W_hat!, {}) } : rec))), message: /^setWeights: W_hat of layer 1 \(nac\) must be a Float32Array, Float64Array or number\[\], got an object posing as a Float32Array/ },
  { name: 'lambdaAt: NaN', run: (c) => c.m.lambdaAt(NaN), message: /^lambdaAt: t must be a finite number >= 0/ },
  { name: 'lambdaAt: a string', run: (c) => c.m.lambdaAt(any('5')), message: /^lambdaAt: t must be a finite number >= 0 and <= 9007199254740991, got "5"/ },
];

/** `a` as an array whose element 0 reads `first` the first time and `later` (default: its own value) after. */
function changing(a: ArrayLike<number>, first: number, later = a[0]!): number[] {
  let reads = 0;
  return new Proxy(Array.from(a), { get: (t, k, r) => (k === '0' ? (reads++ === 0 ? first : later) : Reflect.get(t, k, r)) });
}

function contextOf(row: Row): Ctx {
  const m = row.model ? row.model() : defaultModel();
  const rand = prng(99);
  const x = randomInputs(rand, 4 * m.inputs, INPUTS);
  const t = uniform32(rand, 4 * m.outputs, -2, 2);
  const other = sequential([...m.layers] as LayerSpec[], { seed: 1234 }).getWeights();
  return { m, x, t, other, opt: adam({ learningRate: 0.01 }) };
}

/** A model that a test leaves alone: untouched() checks its weights and predictions and disposes of it. */
function bystander(): { model: Model; y: ReturnType<typeof bits>; untouched(): void } {
  const model = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 11 });
  const w = copyWeights(model.getWeights()), y = bits(model.predict([1, 2]));
  return {
    model, y, untouched() {
      expect(sameBits(model.getWeights(), w)).toBe(true);
      expect(bits(model.predict([1, 2]))).toEqual(y);
      model.dispose();
    },
  };
}

describe.each(BUILDS)('bad input is rejected and changes nothing, %s build', (backend) => {
  it('the table has 40+ rows', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
  });

  it.each(ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    await useBackend(backend);
    const c = contextOf(row);
    const w0 = copyWeights(c.m.getWeights());
    const y0 = c.m.predict(c.x);
    const g0 = c.m.gradients(c.x, c.t);

    let error: unknown;
    try {
      row.run(c);
    } catch (e) {
      error = e;
    }
    expect(error, 'it throws').toBeInstanceOf(NaluError);
    // a refused step is the subclass a training loop can catch; nothing else is
    const refused = /not finite.*; the parameters were not updated/.test((error as Error).message);
    expect(error instanceof NonFiniteStepError, 'a NonFiniteStepError').toBe(refused);
    expect((error as Error).name).toBe(refused ? 'NonFiniteStepError' : 'NaluError');
    expect((error as Error).message).toMatch(row.message);

    expect(sameBits(c.m.getWeights(), w0), 'weights unchanged').toBe(true);
    expect(bits(c.m.predict(c.x)), 'predictions unchanged').toEqual(bits(y0));
    const g1 = c.m.gradients(c.x, c.t);
    expect(g1.loss).toBe(g0.loss);
    expect(sameBits(g1.grads, g0.grads), 'gradients unchanged').toBe(true);
    // Still trains: a valid step returns the loss and moves the weights.
    expect(c.m.trainStep(c.x, c.t, adam({ learningRate: 0.01 }))).toBe(g0.loss);
    expect(sameBits(c.m.getWeights(), w0)).toBe(false);
    c.m.dispose();
  });

  it('setWeights and restoreOptimizer write the values they checked, whatever the arrays read later', async () => {
    await useBackend(backend);
    const m = defaultModel();
    const x = Float32Array.from({ length: 12 }, (_, i) => 0.5 + i / 4), t = new Float32Array(4).fill(1);
    const w = m.getWeights();
    // finite when read first, NaN (a weight) or -1 (a second moment) on any later read
    m.setWeights(w.map((rec, k) => (k === 0 ? { ...rec, W_hat: any(changing(rec.W_hat!, 0.25, NaN)) } : rec)));
    expect(m.getWeights()[0]!.W_hat![0]).toBe(0.25);
    m.trainStep(x, t, adam());
    const s = m.optimizerState()!;
    m.restoreOptimizer({ ...s, v: s.v.map((rec, k) => (k === 1 ? { ...rec, W_hat: any(changing(rec.W_hat!, 0.5, -1)) } : rec)) });
    expect(m.optimizerState()!.v[1]!.W_hat![0]).toBe(0.5);
    expect(Number.isFinite(m.trainStep(x, t, m.optimizer!))).toBe(true);
    expect(m.getWeights().every((rec) => Object.values(rec).every((a) => a.every(Number.isFinite)))).toBe(true);
    m.dispose();
  });

  it('an optimizer at 2^53 - 1 steps refuses the next one (its save would not load); a step count of -0 is 0', async () => {
    await useBackend(backend);
    const m = defaultModel();
    const x = Float32Array.from({ length: 12 }, (_, i) => 0.5 + i / 4), t = new Float32Array(4).fill(1);
    m.trainStep(x, t, adam());
    m.restoreOptimizer({ ...m.optimizerState()!, step: Number.MAX_SAFE_INTEGER });
    const w0 = copyWeights(m.getWeights());
    expect(() => m.trainStep(x, t, m.optimizer!)).toThrow(/^trainStep: the optimizer has taken 9007199254740991 steps, as many as a model counts \(2\^53 - 1\)/);
    expect(sameBits(m.getWeights(), w0)).toBe(true);
    expect(m.step).toBe(Number.MAX_SAFE_INTEGER);
    m.trainStep(x, t, adam()); // a new optimizer starts afresh
    expect(m.step).toBe(1);
    m.restoreOptimizer({ ...m.optimizerState()!, step: -0 });
    expect(Object.is(m.step, 0)).toBe(true);
    m.dispose();
  });

  it('a long batch (its check shared among threads): the first bad value is named, nothing changes', async () => {
    await useBackend(backend);
    const m = sequential([nalu({ inputs: 10, outputs: 2 })], { seed: 8 });
    // 4,000 x 10 inputs: with two threads, the main thread checks indices 0 .. 19,999, the other the rest
    const good = Float32Array.from({ length: 40000 }, (_, i) => 1 + (i % 7));
    const t = new Float32Array(8000).fill(1);
    const w0 = copyWeights(m.getWeights());
    const y0 = m.predict(good);
    const x = good.slice();
    x[30001] = NaN;
    x[25000] = Infinity;
    expect(() => m.predict(x)).toThrow(/^predict: x holds Infinity at index 25000 \(sample 2500, input 0\)/);
    x[19999] = -Infinity;
    expect(() => m.trainStep(x, t, adam())).toThrow(/^trainStep: x holds -Infinity at index 19999 \(sample 1999, input 9\)/);
    expect(sameBits(m.getWeights(), w0)).toBe(true);
    expect(bits(m.predict(good))).toEqual(bits(y0));
    m.dispose();
  });

  it('a non-finite value anywhere in x or target is found, in every part of the staging (4 x 4 blocks, leftover features, leftover samples, batches of 1 to 4)', async () => {
    await useBackend(backend);
    const kinds = [NaN, Infinity, -Infinity];
    for (const layer of [nalu, nac]) {
      const m = sequential([layer({ inputs: 6, outputs: 5 })], { seed: 9 });
      const w0 = copyWeights(m.getWeights());
      for (const batch of [7, 3]) {
        const x = Float32Array.from({ length: batch * 6 }, (_, i) => 0.5 + (i % 5));
        const t = new Float32Array(batch * 5).fill(1);
        const y0 = bits(m.predict(x));
        for (let i = 0; i < x.length; i++) {
          const bad = x.slice();
          bad[i] = kinds[i % 3]!;
          const at = `at index ${i} \\(sample ${Math.floor(i / 6)}, input ${i % 6}\\)`;
          expect(() => m.predict(bad)).toThrow(new RegExp(`^predict: x holds ${bad[i]} ${at}`));
          expect(() => m.trainStep(bad, t, adam())).toThrow(new RegExp(`^trainStep: x holds ${bad[i]} ${at}`));
        }
        for (let i = 0; i < t.length; i++) {
          const bad = t.slice();
          bad[i] = kinds[i % 3]!;
          const at = `at index ${i} \\(sample ${Math.floor(i / 5)}, output ${i % 5}\\)`;
          expect(() => m.evaluate(x, bad)).toThrow(new RegExp(`^evaluate: target holds ${bad[i]} ${at}`));
        }
        expect(bits(m.predict(x))).toEqual(y0);
      }
      expect(sameBits(m.getWeights(), w0)).toBe(true);
      m.dispose();
    }
  });

  it('a typed array is read by the elements it holds, whatever its length property says: nothing is written past it, no other model is touched', async () => {
    await useBackend(backend);
    const a = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 10 }), other = bystander();
    const claiming = <T extends Float32Array | Uint8Array>(v: T, length: number): T => Object.defineProperty(v, 'length', { value: length });
    class ClaimsTwo extends Float32Array {
      override get length(): number { return 2; }
    }
    // 4,096 inputs, NaN after the first sample: all of them are staged, so the NaN is found
    const x = new Float32Array(4096).fill(NaN);
    x[0] = 1; x[1] = 2;
    expect(() => a.predict(claiming(x, 2))).toThrow(/^predict: x holds NaN at index 2 \(sample 1, input 0\)/);
    expect(() => a.predict(new ClaimsTwo(x))).toThrow(/^predict: x holds NaN at index 2 /);
    const six = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect(bits(a.predict(claiming(six.slice(), 2)))).toEqual(bits(a.predict(six)));
    expect(() => a.predict(Float32Array.of(1, 2), 1, claiming(new Float32Array(7), 1))).toThrow(/^predict: out must be a Float32Array of 1 value \(batch 1 x 1 output\), got one of 7$/);
    expect(() => a.setWeights([{ ...a.getWeights()[0], W_hat: new ClaimsTwo(40).fill(NaN) }])).toThrow(/^setWeights: W_hat of layer 0 \(nac\) has 40 values, expected/);
    a.trainStep(Float32Array.of(1, 2), Float32Array.of(3), adam());
    const s = a.optimizerState()!;
    expect(() => a.restoreOptimizer({ ...s, v: [{ ...s.v[0], M_hat: claiming(new Float32Array(40).fill(-1), 2) }] })).toThrow(/^restoreOptimizer: v: M_hat of layer 0 \(nac\) has 40 values, expected/);
    const copy = load(claiming(other.model.save(), 3));
    expect(bits(copy.predict([1, 2]))).toEqual(other.y);
    copy.dispose();
    other.untouched();
    a.dispose();
  });

  it('arguments are read once, before the module is touched: getters, Proxy traps and a subclass\'s methods cannot change, overflow or dispose under a call', async () => {
    await useBackend(backend);
    const other = bystander();
    const fresh = () => sequential([nac({ inputs: 2, outputs: 1 })], { seed: 10 });
    const a = fresh();
    // a batch of 5,000 samples, predicted in two blocks: the second is taken from x's own memory,
    // not from what an overridden subarray, buffer or byteOffset hands back
    const big = Float32Array.from({ length: 10_000 }, (_, i) => 1 + (i % 7) / 4);
    class Lying extends Float32Array {
      override subarray(): Float32Array<ArrayBuffer> { return new Float32Array(1 << 20); }
      override get buffer(): ArrayBuffer { return new ArrayBuffer(8); }
      override get byteOffset(): number { return 4; }
    }
    const yBig = bits(a.predict(big));
    expect(bits(a.predict(new Lying(big)))).toEqual(yBig);
    expect(bits(a.predict(new Lying(big), undefined, new Float32Array(5000)))).toEqual(yBig);
    expect(a.evaluate(new Lying(big), new Lying(5000).fill(3))).toBe(a.evaluate(big, new Float32Array(5000).fill(3)));
    // a Proxy whose length is 2 when read first and 100,000 after: one sample
    let reads = 0;
    const growing = new Proxy([1, 2], { get: (t, k) => (k === 'length' ? (reads++ === 0 ? 2 : 100_000) : Reflect.get(t, k)) });
    expect(bits(a.predict(growing))).toEqual(bits(a.predict([1, 2])));
    // a getter that makes linear memory grow (another model) while x is read
    const kept: Model[] = [];
    const x = [1, 2];
    Object.defineProperty(x, 0, { get: () => (kept.push(sequential([dense({ inputs: 512, outputs: 2048 })])), 1), enumerable: true });
    a.predict([3, 4]);
    expect(bits(a.predict(x))).toEqual(bits(a.predict([1, 2])));
    for (const m of kept) m.dispose();
    // getters that dispose of the model while its arguments are read
    const disposing = <T extends object>(m: Model, v: T): T => Object.defineProperty(v, 0, { get: () => (m.dispose(), 1), enumerable: true });
    const calls: Array<[RegExp, (m: Model) => unknown]> = [
      [/^predict: this model has been disposed$/, (m) => m.predict(disposing(m, [1, 2]))],
      [/^evaluate: this model has been disposed$/, (m) => m.evaluate([1, 2], disposing(m, [3]))],
      [/^trainStep: this model has been disposed$/, (m) => m.trainStep(disposing(m, [1, 2]), [3], adam())],
      [/^gradients: this model has been disposed$/, (m) => m.gradients([1, 2], disposing(m, [3]))],
      [/^stageBatch: this model has been disposed$/, (m) => m.stageBatch(disposing(m, [1, 2]), [3])],
      [/^setWeights: this model has been disposed$/, (m) => m.setWeights([{ W_hat: disposing(m, [1, 2]), M_hat: [1, 2] }])],
      [/^restoreOptimizer: this model has been disposed$/, (m) => {
        m.trainStep([1, 2], [3], adam());
        const s = m.optimizerState()!;
        m.restoreOptimizer({ ...s, v: [{ ...s.v[0], W_hat: disposing(m, [0, 0]) }] });
      }],
    ];
    for (const [message, call] of calls) {
      const m = fresh();
      expect(() => call(m)).toThrow(message);
      // what it freed is reused by the next model, which must not see anything written there
      const next = fresh();
      expect(bits(next.predict([1, 2]))).toEqual(bits(a.predict([1, 2])));
      next.dispose();
    }
    other.untouched();
    a.dispose();
  });

  it('no code of the caller runs mid-call: typed arrays are known by their slots, out is written by the intrinsic set, every option and layer is read once, and what the library trusts cannot be rewritten', async () => {
    await useBackend(backend);
    const other = bystander();
    const a = sequential([nac({ inputs: 2, outputs: 3 })], { seed: 10 });
    const big = Float32Array.from({ length: 10_000 }, (_, i) => 1 + (i % 7) / 4);
    const yBig = bits(a.predict(big));
    // a Proxy in the prototype chain (instanceof would run its trap, which disposes the model)
    let trapped = 0;
    const trap = new Proxy(Object.create(Float32Array.prototype) as object, { getPrototypeOf: () => (trapped++, a.dispose(), Float32Array.prototype) });
    const x = Object.setPrototypeOf(big.slice(), trap) as Float32Array;
    expect(bits(a.predict(x))).toEqual(yBig);
    expect(bits(a.predict(big, undefined, Object.setPrototypeOf(new Float32Array(15_000), trap) as Float32Array))).toEqual(yBig);
    expect(trapped).toBe(0);
    // a Float64Array dressed as a Float32Array is read as the f64 values it holds (here in blocks)
    expect(bits(a.predict(Object.setPrototypeOf(Float64Array.from(big), Float32Array.prototype) as Float32Array))).toEqual(yBig);
    // out's own set (here re-entering predict with other inputs) is not called
    class Out extends Float32Array {
      override set(): void { a.predict([100, -50]); }
    }
    expect(bits(a.predict([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], undefined, new Out(18)))).toEqual(bits(a.predict([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])));
    expect(bits(a.predict(big, undefined, new Out(15_000)))).toEqual(yBig);
    // the layers array's own map, and getters of options, ranges and states read more than once
    const layers = [nac({ inputs: 2, outputs: 1 })];
    Object.assign(layers, { map: () => [{ type: 'nac', inputs: 40, outputs: 1, options: {} }] });
    const fromOwn = sequential(layers);
    expect(fromOwn.inputs).toBe(2);
    fromOwn.dispose();
    let reads = 0;
    const task = staticTask({ get op() { return reads++ === 0 ? 'add' : 'pow'; } } as unknown as { op: 'add' });
    expect([task.op, task.apply(2, 3)]).toEqual(['add', 5]);
    reads = 0;
    const range = [0, 5];
    Object.defineProperty(range, 0, { get: () => (reads++ === 0 ? -5 : 1e39), enumerable: true });
    expect(identityTask({ train: range as [number, number] }).train).toEqual([-5, 5]);
    const m = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 12 });
    const opt = adam();
    m.trainStep([1, 2], [3], opt);
    const state = m.optimizerState()!;
    reads = 0;
    m.restoreOptimizer({ ...state, get optimizer() { return reads++ === 0 ? opt : { kind: 'adam', learningRate: -1 }; } } as typeof state);
    expect(m.optimizer).toBe(opt);
    // fields the types declare readonly are read-only: a staged batch's size, a sampler's task, a model's sizes
    const staged = m.stageBatch([1, 2, 3, 4], [3, 7]);
    const sampler = staticTask({ op: 'add', inputSize: 2, subsetRatio: 0.5 }).trainSampler();
    for (const [object, field, value] of [[staged, 'batch', 4000], [staged, 'ptr', 8], [sampler, 'config', { ...sampler.config, inputs: 100 }], [m, 'inputs', 7], [m, 'layers', []]] as const) {
      expect(() => { (object as unknown as Record<string, unknown>)[field] = value; }).toThrow(TypeError);
      expect(() => Object.defineProperty(object, field, { get: () => value })).toThrow(TypeError);
    }
    expect(bits(m.predict(staged))).toEqual(bits(m.predict([1, 2, 3, 4])));
    expect(Number.isFinite(m.trainStepOn(sampler, adam()))).toBe(true);
    // nor can a new property shadow a method or getter the library calls, nor a task's config change
    expect(() => Object.defineProperty(sampler, 'isDisposed', { value: false })).toThrow(TypeError);
    expect(() => Object.assign(sampler, { scratch: () => 8 })).toThrow(TypeError);
    expect(() => Object.assign(m, { header: () => 0 })).toThrow(TypeError);
    expect(() => Object.assign(m, { capacity: 1 << 30, desc: 8 })).toThrow(TypeError); // its state is in private fields
    const four = staticTask({ op: 'add', inputSize: 4 });
    expect(() => Object.assign(four, { config: { ...four.config, subsetSize: 3000 } })).toThrow(TypeError);
    expect(Object.isFrozen(identityTask())).toBe(true);
    sampler.dispose();
    expect(() => m.trainStepOn(sampler, adam())).toThrow(/^trainStepOn: the sampler has been disposed$/);
    m.dispose();
    // an option given as an own property that is not enumerable is an option all the same
    const lr = Object.defineProperty({}, 'learningRate', { value: 0.5 });
    expect(adam(lr).learningRate).toBe(0.5);
    const seeded = sequential([nac({ inputs: 2, outputs: 1 })], Object.defineProperty({}, 'seed', { value: 7 }));
    const seven = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 7 });
    expect(sameBits(seeded.getWeights(), seven.getWeights())).toBe(true);
    seeded.dispose();
    seven.dispose();
    // a typed array without a prototype is named by its kind
    expect(() => a.predict(Object.setPrototypeOf(new Int32Array(2), null) as Float32Array)).toThrow(/^predict: x must be a Float32Array \(or Float64Array or number\[\]\), got an Int32Array$/);
    other.untouched();
  });

  it('the library\'s own objects and classes cannot be rewritten: tasks are known by identity, a model\'s tensors and staged batches are its own, the classes\' methods stay theirs', async () => {
    await useBackend(backend);
    const other = bystander();
    const m = sequential([nau({ inputs: 2, outputs: 1 })], { seed: 12, regularizer: { lambda: 1 } });
    // a task's methods called on an object made from it, with a config of its own
    const task = staticTask({ op: 'add', inputSize: 4 });
    const fake = Object.create(task, { config: { value: { ...task.config, inputs: 1000 } } }) as typeof task;
    expect(() => fake.trainSampler()).toThrow(/^trainSampler: called on a StaticTask, not a task made by staticTask\(\) or identityTask\(\)$/);
    expect(() => fake.validationSet(4)).toThrow(/^validationSet: called on a StaticTask, not a task/);
    expect(() => identityTask.call(undefined, {}).trainSampler.call({ config: task.config })).toThrow(/^trainSampler: called on an object, not a task/);
    // what sizes and places the module's memory is frozen; a staged batch frees only its own block
    const tensors = (m as unknown as { tensors: Array<{ size: number }> }).tensors;
    expect(() => { tensors[0]!.size = 20_000; }).toThrow(TypeError);
    expect(() => { (m as unknown as { regularizer: { lambda: number } }).regularizer.lambda = -1e30; }).toThrow(TypeError);
    const staged = m.stageBatch([1, 2], [3]);
    m.releaseBatch(staged); // (internal) what StagedBatch.dispose calls: frees the batch's own block
    expect(() => m.predict(staged)).toThrow(/^predict: this StagedBatch was not made by the model's stageBatch$/);
    expect(m.options.regularizer?.lambda).toBe(1);
    // the classes' prototypes are frozen: a disposed sampler stays disposed to the library
    const sampler = task.trainSampler();
    sampler.dispose();
    for (const proto of [Sampler.prototype, Object.getPrototypeOf(m) as object, Object.getPrototypeOf(task) as object]) {
      expect(Object.isFrozen(proto)).toBe(true);
    }
    expect(() => Object.defineProperty(Sampler.prototype, 'isDisposed', { get: () => false })).toThrow(TypeError);
    expect(() => m.trainStepOn(sampler, adam())).toThrow(/^trainStepOn: the sampler has been disposed$/);
    // save and toJSON on an object made from a model
    expect(() => m.save.call(Object.create(m) as Model)).toThrow(/^save: expected a model made by sequential\(\), got a Model$/);
    expect(() => (Object.create(m) as Model).predict([1, 2])).toThrow(/^predict: expected a model made by sequential\(\), got a Model$/);
    // target's getter shrinking x's resizable buffer before x is measured: x is measured after
    const rab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(16, { maxByteLength: 64 });
    const target = [1, 0];
    Object.defineProperty(target, 1, { get: () => (rab.resize(0), 2), enumerable: true });
    expect(() => m.trainStep(new Float32Array(rab), target, adam())).toThrow(/^trainStep: x has 0 values, not a positive multiple of 2/);
    m.dispose();
    other.untouched();
  });

  it('a batch whose work memory passes 2^32 floats is refused with its true size, before the module is entered', async () => {
    await useBackend(backend);
    const other = defaultModel();
    const ox = Float32Array.from({ length: 12 }, (_, i) => 0.5 + i / 4), ot = new Float32Array(4).fill(1);
    // 4,096 x 2^20 = 2^32 floats in one region: sized in 32-bit integers it wrapped to 0, and the call trapped
    const wide = sequential([dense({ inputs: 16, outputs: 4096, activation: 'relu' }), dense({ inputs: 4096, outputs: 1 })], { seed: 12 });
    const w0 = copyWeights(wide.getWeights());
    const x = new Float32Array(2 ** 20 * 16).fill(0.25), t = new Float32Array(2 ** 20).fill(1);
    for (const call of [() => wide.gradients(x, t), () => wide.trainStep(x, t, adam()), () => wide.stageBatch(x, t)]) {
      let message = '';
      try {
        call();
      } catch (e) {
        expect(e).toBeInstanceOf(NaluError);
        message = (e as Error).message;
      }
      const bytes = Number(/needs (\d+) bytes/.exec(message)?.[1]);
      expect(bytes, message).toBeGreaterThan(4 * 2 ** 32); // at least the one region of 2^32 floats
    }
    expect(sameBits(wide.getWeights(), w0)).toBe(true);
    expect(Number.isFinite(other.trainStep(ox, ot, adam()))).toBe(true); // on the threads build: its pool still answers
    wide.dispose();
    other.dispose();
  });

  it('dispose() twice is allowed and a disposed model says so', async () => {
    await useBackend(backend);
    const m = defaultModel();
    m.dispose();
    m.dispose();
    expect(m.isDisposed).toBe(true);
  });

  it('with allowNonFinite: true a non-finite step does update the weights', async () => {
    await useBackend(backend);
    const m = productModel({ allowNonFinite: true });
    const w0 = copyWeights(m.getWeights());
    const loss = m.trainStep(huge(6), new Float32Array(2), adam({ learningRate: 0.01 }));
    expect(Number.isFinite(loss)).toBe(false);
    expect(sameBits(m.getWeights(), w0)).toBe(false);
    expect(m.step).toBe(1);
    // The same step without the option throws and leaves the weights (productModel's test row).
    const strict = productModel();
    expect(() => strict.trainStep(huge(6), new Float32Array(2), adam())).toThrow(/the loss is not finite/);
    expect(sameBits(strict.getWeights(), w0)).toBe(true);
    expect(strict.step).toBe(0);
  });

  it('with allowNonFinite: true an update that overflows is applied (and freezes what it overflows)', async () => {
    await useBackend(backend);
    const x = new Float32Array(4).fill(1e10), t = new Float32Array(2);
    const m = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 4, allowNonFinite: true });
    const w0 = copyWeights(m.getWeights());
    expect(Number.isFinite(m.trainStep(x, t, adam()))).toBe(true);
    expect(m.step).toBe(1);
    // v is infinite, so the step m / sqrt(v) is 0: W_hat stays where it was, now for good
    expect(m.optimizerState()!.v[0]!.W_hat![0]).toBe(Infinity);
    expect(sameBits(m.getWeights(), w0)).toBe(true);
    m.dispose();
  });

  it('a weight near the f32 limit fails the quick screen, and the exact check lets a safe step through', async () => {
    await useBackend(backend);
    const rand = prng(5);
    const x = randomInputs(rand, 8 * 3, INPUTS), t = uniform32(rand, 8, -2, 2);
    const train = (allowNonFinite: boolean) => {
      const m = sequential([nac({ inputs: 3, outputs: 2 }), nac({ inputs: 2, outputs: 1 })], { seed: 6, allowNonFinite });
      const w = copyWeights(m.getWeights());
      w[0]!.W_hat![1] = 2e38; // above half the largest f32, where the screen gives up; tanh is 1
      m.setWeights(w);
      const opt = adam({ learningRate: 0.01 });
      for (let s = 0; s < 3; s++) m.trainStep(x, t, opt);
      const out = { w: m.getWeights(), state: m.optimizerState()! };
      m.dispose();
      return out;
    };
    const checked = train(false), unchecked = train(true); // unchecked: no screen, no check
    expect(sameBits(checked.w, unchecked.w)).toBe(true);
    expect(sameBits(checked.state.m, unchecked.state.m) && sameBits(checked.state.v, unchecked.state.v)).toBe(true);
    expect(checked.w[0]!.W_hat![1]).toBe(Math.fround(2e38));
  });

  it('Adam: a large first moment over a denominator of eps overflows in the quotient m / denom, and is refused', async () => {
    await useBackend(backend);
    const x = Float32Array.of(1, 2, 3, 1), t = Float32Array.of(1, 2);
    const step = (allowNonFinite: boolean) => {
      const m = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 4, allowNonFinite });
      m.setWeights([{ W_hat: Float32Array.of(100, 0.5), M_hat: Float32Array.of(0, 0) }]); // tanh'(100) = 0: no gradient
      const opt = adam({ learningRate: 1e-6, epsilon: 1e-8 });
      m.trainStep(x, t, opt);
      const state = m.optimizerState()!;
      state.m[0]!.W_hat![0] = 1e35; // v stays 0, so denom = eps and m / denom = 9e42: infinite in f32,
      state.v[0]!.W_hat![0] = 0; //    while stepSize * m / eps (1e37) alone would fit
      m.restoreOptimizer({ ...state, step: 1000 });
      return m;
    };
    const truth = step(true);
    truth.trainStep(x, t, truth.optimizerState()!.optimizer);
    expect(truth.getWeights()[0]!.W_hat![0]).toBe(-Infinity);
    const m = step(false);
    const w0 = copyWeights(m.getWeights());
    expect(() => m.trainStep(x, t, m.optimizerState()!.optimizer)).toThrow(/^trainStep: the update of W_hat of layer 0 at index 0 is not finite in f32/);
    expect(sameBits(m.getWeights(), w0)).toBe(true);
    truth.dispose();
    m.dispose();
  });

  it('an infinite second moment (restored; older versions could reach it) makes the next step refused', async () => {
    await useBackend(backend);
    const m = defaultModel();
    const rand = prng(9);
    const x = randomInputs(rand, 4 * 3, INPUTS), t = uniform32(rand, 4, -2, 2);
    m.trainStep(x, t, adam());
    const state = m.optimizerState()!;
    state.v[1]!.W_hat![1] = Infinity;
    m.restoreOptimizer(state);
    const w0 = copyWeights(m.getWeights());
    expect(() => m.trainStep(x, t, state.optimizer)).toThrow(/^trainStep: the update of W_hat of layer 1 at index 1 is not finite in f32/);
    expect(sameBits(m.getWeights(), w0)).toBe(true);
    expect(m.step).toBe(1);
    m.dispose();
  });

  // A rejected training step must leave the whole training state as it was, the optimizer's
  // moments and step count included: continuing must give the same bits as never having made
  // the rejected call.
  describe('a rejected trainStep leaves the optimizer state as it was', () => {
    type Reject = (m: Model, x: Float32Array, t: Float32Array, opt: Optimizer) => void;
    function run(reject?: Reject, message: RegExp = /./) {
      const m = defaultModel();
      const rand = prng(7);
      const x = randomInputs(rand, 8 * 3, INPUTS);
      const t = uniform32(rand, 8, -2, 2);
      const opt = adam({ learningRate: 0.01 });
      for (let s = 0; s < 3; s++) m.trainStep(x, t, opt);
      if (reject) {
        let error: unknown;
        try {
          reject(m, x, t, opt);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(NaluError);
        expect((error as Error).message).toMatch(message);
      }
      const stepAfter = m.step;
      for (let s = 0; s < 3; s++) m.trainStep(x, t, opt);
      const w = m.getWeights();
      m.dispose();
      return { w, stepAfter };
    }

    const rejects: Array<[string, Reject, RegExp?]> = [
      ['NaN in x, same optimizer', (m, x, t, opt) => m.trainStep(nanAt(x, 0), t, opt)],
      ['wrong target length, another optimizer', (m, x, t) => m.trainStep(x, t.subarray(1), adam())],
      ['NaN in x, another optimizer', (m, x, t) => m.trainStep(nanAt(x, 0), t, sgd({ learningRate: 0.1 }))],
      ['NaN in target, another optimizer', (m, x, t) => m.trainStep(x, nanAt(t, 0), adam({ learningRate: 0.5 }))],
      // the same optimizer: its step count and moments are advanced only by a step that is applied
      ['an update that would overflow, same optimizer', (m, x, t, opt) => m.trainStep(x.map((v) => v * 1e15), t, opt),
        /^trainStep: the update of \w+ of layer \d at index \d+ is not finite in f32/],
    ];
    it.each(rejects)('%s', async (_name, reject, message) => {
      await useBackend(backend);
      const clean = run();
      const rejected = run(reject, message);
      expect(rejected.stepAfter).toBe(3);
      expect(sameBits(rejected.w, clean.w)).toBe(true);
    });
  });
});

describe('before init()', () => {
  it('sequential() throws an error that says to call init()', async () => {
    vi.resetModules();
    const fresh = await import('../src/index');
    expect(fresh.NaluError).not.toBe(NaluError); // really a fresh module graph
    let error: unknown;
    try {
      fresh.sequential([fresh.nac({ inputs: 2, outputs: 1 })]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(fresh.NaluError);
    expect((error as Error).message).toMatch(/^sequential: nalu-wasm is not initialised: call and await init\(\) first$/);
    // Layers and optimizers need no engine; after init() the same call works.
    await fresh.init();
    const m = fresh.sequential([fresh.nac({ inputs: 2, outputs: 1 })]);
    expect(m.predict(Float32Array.of(1, 2)).length).toBe(1);
    m.dispose();
  });
});
