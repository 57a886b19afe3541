import { checkInt, checkOptions, fail } from '../errors.js';
import { checkRange, checkTask, makeSampler, registerTask, type Sampler, streamSeed, type Dataset, type TaskConfig } from './sampler.js';

export interface IdentityTaskOptions {
  /** Seed of the training stream; default 0. */
  seed?: number | undefined;
  /** Training range; default [-5, 5]. */
  train?: readonly [number, number] | undefined;
  /** Test range (grid()); default [-20, 20]. */
  test?: readonly [number, number] | undefined;
}

/** The default training and test ranges (Trask et al.'s). */
export const IDENTITY_TRAIN: readonly [number, number] = Object.freeze([-5, 5] as const);
export const IDENTITY_TEST: readonly [number, number] = Object.freeze([-20, 20] as const);

/**
 * Trask et al.'s identity task (their figure 1): f(x) = x for one scalar input, trained on
 * `train` (default [-5, 5]) and tested on `test` (default [-20, 20]).
 */
export class IdentityTask {
  static {
    Object.freeze(this.prototype); // the methods the library calls on its own objects stay its own
  }

  /** @internal */
  readonly config: TaskConfig = Object.freeze({ kind: 1, inputs: 1, start1: 0, start2: 0, subsetSize: 0, op: 0 });
  /** The seed of the training draws. */
  readonly seed: number;
  /** The range training samples are drawn from. */
  readonly train: readonly [number, number];
  /** The range grid() spans: beyond the training range on both sides ([-20, 20] by default). */
  readonly test: readonly [number, number];

  /** What identityTask(options) does. */
  constructor(options: IdentityTaskOptions = {}) {
    options = checkOptions<IdentityTaskOptions>('identityTask', options, ['seed', 'train', 'test']);
    this.seed = checkInt('identityTask: seed', options.seed ?? 0, 0, 0xffffffff);
    this.train = checkRange('identityTask: train', options.train ?? IDENTITY_TRAIN);
    this.test = checkRange('identityTask: test', options.test ?? IDENTITY_TEST);
    registerTask(Object.freeze(this)); // its samplers trust its config and ranges
  }

  /** An endless stream of training samples from `train` (a fresh batch for every trainStepOn). */
  trainSampler(): Sampler {
    checkTask('trainSampler', this, !(this instanceof IdentityTask));
    return makeSampler(this, this.train, streamSeed(this.seed, 1));
  }

  /** n evenly spaced points over the test range, for plotting the error. */
  grid(n = 401): Dataset {
    checkTask('grid', this, !(this instanceof IdentityTask));
    checkInt('grid: n', n, 2, 1 << 24);
    const x = new Float32Array(n);
    const target = new Float64Array(n);
    const [lo, hi] = this.test;
    for (let i = 0; i < n; i++) {
      x[i] = lo + ((hi - lo) * i) / (n - 1);
      target[i] = x[i]!;
    }
    return { x, target, n };
  }
}

/** Trask et al.'s identity task: f(x) = x, trained on [-5, 5] and tested on [-20, 20] by default. */
export function identityTask(options?: IdentityTaskOptions): IdentityTask {
  return new IdentityTask(options);
}
