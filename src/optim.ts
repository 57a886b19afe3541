import { checkF32, checkKeys, describe, fail } from './errors.js';

/** An optimizer's settings. Its state (moments, step count) lives with each model it trains. */
export interface Optimizer {
  readonly kind: 'adam' | 'sgd' | 'rmsprop';
  readonly learningRate: number;
  /** Adam's first-moment decay (0 for the others). */
  readonly beta1: number;
  /** Adam's second-moment decay, RMSProp's alpha (0 for SGD). */
  readonly beta2: number;
  readonly epsilon: number;
  /** Clip every gradient to [-clipValue, clipValue] before the update; 0: no clipping. */
  readonly clipValue: number;
}

/** The optimizers made by adam() and sgd(): only these are accepted by the training calls. */
const MADE = new WeakSet<object>();

function made<T extends Optimizer>(o: T): T {
  MADE.add(o);
  return o;
}

export interface AdamOptions {
  /** Default 1e-3. */
  learningRate?: number | undefined;
  /** The first moment's decay, in [0, 0.999999]; default 0.9. */
  beta1?: number | undefined;
  /** The second moment's decay, in [0, 0.9999999]; default 0.999. */
  beta2?: number | undefined;
  /** Added to the square root of the bias-corrected second moment; default 1e-8. */
  epsilon?: number | undefined;
  /** Clip every gradient to [-clipValue, clipValue] before the update; default 0, no clipping. */
  clipValue?: number | undefined;
}

export interface RmspropOptions {
  /** Default 1e-2. */
  learningRate?: number | undefined;
  /** The second moment's decay, in [0, 0.9999999]; default 0.99. */
  alpha?: number | undefined;
  /** Added to sqrt(v); default 1e-8. */
  epsilon?: number | undefined;
  /** Clip every gradient to [-clipValue, clipValue] before the update; default 0, no clipping. */
  clipValue?: number | undefined;
}

function clipValue(v: unknown): number {
  return v === undefined || v === 0 ? 0 : checkF32('clipValue (0: no clipping)', v, 0, 1e30);
}

function options(what: string, o: unknown, keys: string[]): Record<string, unknown> {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) fail(`${what}: options must be an object, got ${describe(o)}`);
  checkKeys(what, o, keys);
  return o as Record<string, unknown>;
}

/**
 * Adam with torch.optim.Adam's semantics (no weight decay): defaults learningRate 1e-3,
 * beta1 0.9, beta2 0.999, epsilon 1e-8 (added to the square root of the bias-corrected
 * second moment).
 */
export function adam(opts: AdamOptions = {}): Optimizer {
  const o = options('adam', opts, ['learningRate', 'beta1', 'beta2', 'epsilon', 'clipValue']);
  try {
    return made(Object.freeze({
      kind: 'adam' as const,
      learningRate: checkF32('learningRate', o.learningRate ?? 1e-3, 0, 1e6),
      beta1: checkF32('beta1', o.beta1 ?? 0.9, 0, 0.999999, true),
      beta2: checkF32('beta2', o.beta2 ?? 0.999, 0, 0.9999999, true),
      epsilon: checkF32('epsilon', o.epsilon ?? 1e-8, 0, 1),
      clipValue: clipValue(o.clipValue),
    }));
  } catch (err) {
    fail(`adam: ${(err as Error).message}`);
  }
}

/**
 * RMSProp with torch.optim.RMSprop's semantics (no momentum, not centered): defaults
 * learningRate 1e-2, alpha 0.99, epsilon 1e-8 (added to sqrt(v)).
 */
export function rmsprop(opts: RmspropOptions = {}): Optimizer {
  const o = options('rmsprop', opts, ['learningRate', 'alpha', 'epsilon', 'clipValue']);
  try {
    return made(Object.freeze({
      kind: 'rmsprop' as const,
      learningRate: checkF32('learningRate', o.learningRate ?? 1e-2, 0, 1e6),
      beta1: 0,
      beta2: checkF32('alpha', o.alpha ?? 0.99, 0, 0.9999999, true),
      epsilon: checkF32('epsilon', o.epsilon ?? 1e-8, 0, 1),
      clipValue: clipValue(o.clipValue),
    }));
  } catch (err) {
    fail(`rmsprop: ${(err as Error).message}`);
  }
}

/** Plain stochastic gradient descent: p = p - learningRate * g. */
export function sgd(opts: { learningRate: number; clipValue?: number }): Optimizer {
  const o = options('sgd', opts, ['learningRate', 'clipValue']);
  if (o.learningRate === undefined) fail('sgd: learningRate is required');
  try {
    return made(Object.freeze({
      kind: 'sgd' as const,
      learningRate: checkF32('learningRate', o.learningRate, 0, 1e6),
      beta1: 0,
      beta2: 0,
      epsilon: 0,
      clipValue: clipValue(o.clipValue),
    }));
  } catch (err) {
    fail(`sgd: ${(err as Error).message}`);
  }
}

export function isOptimizer(o: unknown): o is Optimizer {
  return o !== null && typeof o === 'object' && MADE.has(o);
}
