/**
 * model.fit(x, target, options): epochs of minibatch training on a fixed data set, with
 * shuffling, a validation set, early stopping and a callback per epoch, built on trainStep.
 */
import { checkBool, checkInt, checkOptions, describe, fail } from './errors.js';
import type { Model, Numbers, Weights } from './model.js';
import { adam, isOptimizer, type Optimizer } from './optim.js';
import { Rng } from './rng.js';

export interface FitOptions {
  /** The optimizer; default the model's (model.optimizer), else a new adam(). */
  optimizer?: Optimizer | undefined;
  /** Passes over the data; default 1. */
  epochs?: number | undefined;
  /** Samples per step; default 32 (the last batch of an epoch may be smaller). */
  batchSize?: number | undefined;
  /** Draw the samples in a new order every epoch (seeded by `seed`); default true. */
  shuffle?: boolean | undefined;
  /** Seed of the shuffling; default 0. */
  seed?: number | undefined;
  /** A data set whose mean squared error is measured after every epoch. */
  validation?: { x: Numbers; target: Numbers } | undefined;
  /**
   * With `validation`: stop once this many epochs in a row have not lowered the validation
   * error, and end with the weights of the best epoch (not its optimizer state).
   */
  patience?: number | undefined;
  /** Called after every epoch; returning false stops training. */
  onEpoch?: ((epoch: FitEpoch) => boolean | void) | undefined;
}

/** FitOptions with a validation set: onEpoch is then told its error every epoch. */
export interface FitOptionsWithValidation extends Omit<FitOptions, 'validation' | 'onEpoch'> {
  validation: { x: Numbers; target: Numbers };
  /** Called after every epoch, with the validation error; returning false stops training. */
  onEpoch?: ((epoch: FitEpoch & { validationLoss: number }) => boolean | void) | undefined;
}

/** What onEpoch is told after an epoch. */
export interface FitEpoch {
  /** 1 for the first epoch. */
  epoch: number;
  /** The epoch's training loss: the mean over its samples of each step's loss before its update. */
  loss: number;
  /** The validation set's mean squared error after the epoch (with `validation`). */
  validationLoss?: number;
  /** The optimizer steps the model has taken (model.step). */
  step: number;
}

/** What fit() returns: one entry per epoch run. */
export interface FitResult {
  /** The training loss of each epoch (see FitEpoch.loss). */
  loss: number[];
  /** The validation error after each epoch (empty without `validation`). */
  validationLoss: number[];
  /** The epoch of the lowest validation error (with `validation`). */
  bestEpoch?: number;
}

const OPTIONS = ['optimizer', 'epochs', 'batchSize', 'shuffle', 'seed', 'validation', 'patience', 'onEpoch'];

/**
 * @internal model.fit. Every option is read (once) first, then the data is checked and copied,
 * the training data before the validation set is read: no code of the caller runs between the
 * checks and the first step but onEpoch.
 */
export function fitModel(model: Model, x: Numbers, target: Numbers, options: FitOptions = {}): FitResult {
  const o = checkOptions<FitOptions>('fit', options, OPTIONS);
  const epochs = o.epochs === undefined ? 1 : checkInt('fit: epochs', o.epochs, 1, 1e9);
  const batchSize = o.batchSize === undefined ? 32 : checkInt('fit: batchSize', o.batchSize, 1, 1 << 20);
  checkBool('fit: shuffle', o.shuffle);
  const seed = o.seed === undefined ? 0 : checkInt('fit: seed', o.seed, 0, 0xffffffff);
  const patience = o.patience === undefined ? Infinity : checkInt('fit: patience', o.patience, 1, 1e9);
  if (o.onEpoch !== undefined && typeof o.onEpoch !== 'function') fail(`fit: onEpoch must be a function, got ${describe(o.onEpoch)}`);
  if (o.optimizer !== undefined && !isOptimizer(o.optimizer)) fail(`fit: optimizer must come from adam(), sgd() or rmsprop(), got ${describe(o.optimizer)}`);
  const v = o.validation === undefined ? undefined
    : checkOptions<{ x: Numbers; target: Numbers }>('fit: validation', o.validation, ['x', 'target'], ' ({ x, target })');
  if (!v && o.patience !== undefined) fail('fit: patience needs a validation set (options.validation)');
  if (model.isDisposed) fail('fit: this model has been disposed'); // reading the options may have run getters
  const optimizer = o.optimizer ?? model.optimizer ?? adam();
  // the checks of evaluate, each set copied as soon as it is checked
  const [, n, xs, ts] = model.evaluateAs('fit', x, target);
  const data = new Float32Array(xs), targets = new Float32Array(ts); // copies, from the arrays' own slots
  let validation: [Float32Array, Float32Array] | undefined;
  if (v) {
    const [, , vx, vt] = model.evaluateAs('fit: validation', v.x, v.target);
    validation = [new Float32Array(vx), new Float32Array(vt)];
  }
  const { inputs, outputs } = model;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const xb = new Float32Array(Math.min(batchSize, n) * inputs), tb = new Float32Array(Math.min(batchSize, n) * outputs);
  const rng = new Rng(seed);
  const result: FitResult = { loss: [], validationLoss: [] };
  let best = Infinity, bestWeights: Weights | undefined, waited = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    if (o.shuffle !== false) {
      for (let i = n - 1; i > 0; i--) { // Fisher-Yates
        const j = rng.int(i + 1), t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
      }
    }
    let sum = 0;
    for (let first = 0; first < n; first += batchSize) {
      const b = Math.min(batchSize, n - first);
      for (let k = 0; k < b; k++) {
        const row = order[first + k]!;
        for (let j = 0; j < inputs; j++) xb[k * inputs + j] = data[row * inputs + j]!;
        for (let j = 0; j < outputs; j++) tb[k * outputs + j] = targets[row * outputs + j]!;
      }
      const full = b * inputs === xb.length; // all but an epoch's last, smaller batch
      sum += b * model.trainStepAs('fit', full ? xb : xb.subarray(0, b * inputs), full ? tb : tb.subarray(0, b * outputs), optimizer);
    }
    const info: FitEpoch = { epoch, loss: sum / n, step: model.step };
    result.loss.push(info.loss);
    if (validation) {
      info.validationLoss = model.evaluate(validation[0], validation[1]);
      result.validationLoss.push(info.validationLoss);
      if (info.validationLoss < best) {
        best = info.validationLoss;
        result.bestEpoch = epoch;
        waited = 0;
        if (patience !== Infinity) bestWeights = model.getWeights();
      } else {
        waited++;
      }
    }
    // a callback that disposes of the model ends the fit too
    if (o.onEpoch?.(info) === false || model.isDisposed || waited >= patience) break;
  }
  if (bestWeights && !model.isDisposed) model.setWeights(bestWeights);
  return result;
}
