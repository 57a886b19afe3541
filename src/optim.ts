import { checkF32, checkOptions, describe, fail } from './errors.js';

/** An optimizer's settings. Its state (moments, step count) lives with each model it trains. */
export interface Optimizer {
  /** Which update: the function that made it. */
  readonly kind: 'adam' | 'sgd' | 'rmsprop';
  /** The step size. */
  readonly learningRate: number;
  /** Adam's first-moment decay (0 for the others). */
  readonly beta1: number;
  /** Adam's second-moment decay, RMSProp's alpha (0 for SGD). */
  readonly beta2: number;
  /** Added to the root of the second moment in Adam and RMSProp (0 for SGD). */
  readonly epsilon: number;
  /** Clip every gradient to [-clipValue, clipValue] before the update; 0: no clipping. */
  readonly clipValue: number;
}

/** The optimizers made by adam(), sgd() and rmsprop(): only these are accepted by the training calls. */
const MADE = new WeakSet<object>();

function made<T extends Optimizer>(o: T): T {
  MADE.add(o);
  return o;
}

/** adam()'s settings; every one may be left out. */
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

/** rmsprop()'s settings; every one may be left out. */
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

/**
 * Adam with torch.optim.Adam's semantics (no weight decay): defaults learningRate 1e-3,
 * beta1 0.9, beta2 0.999, epsilon 1e-8 (added to the square root of the bias-corrected
 * second moment).
 */
export function adam(opts: AdamOptions = {}): Optimizer {
  const o = checkOptions('adam', opts, ['learningRate', 'beta1', 'beta2', 'epsilon', 'clipValue']);
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
  const o = checkOptions('rmsprop', opts, ['learningRate', 'alpha', 'epsilon', 'clipValue']);
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
export function sgd(opts: { learningRate: number; clipValue?: number | undefined }): Optimizer {
  const o = checkOptions('sgd', opts, ['learningRate', 'clipValue']);
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

/** The optimizer factories, from an optimizer's fields (the inverse of adam(), rmsprop(), sgd()). */
const FACTORIES: Record<string, (s: Record<string, number | undefined>) => Optimizer> = {
  adam: (s) => adam({ learningRate: s.learningRate, beta1: s.beta1, beta2: s.beta2, epsilon: s.epsilon, clipValue: clip(s.clipValue) }),
  rmsprop: (s) => rmsprop({ learningRate: s.learningRate, alpha: s.beta2, epsilon: s.epsilon, clipValue: clip(s.clipValue) }),
  sgd: (s) => sgd({ learningRate: s.learningRate as number, clipValue: clip(s.clipValue) }),
};

/** clipValue 0 means "no clipping", which the factories spell as undefined. */
function clip(v: number | undefined): number | undefined {
  return v === 0 ? undefined : v;
}

/**
 * A new optimizer of `kind` with exactly the given fields (an Optimizer's, kind aside: a saved
 * one's, or one copied by structuredClone or JSON); throws if a field is missing, unknown, or not
 * what the factory makes of it.
 */
export function optimizerFromSettings(kind: unknown, settings: Record<string, unknown>): Optimizer {
  if (typeof kind !== 'string' || !Object.hasOwn(FACTORIES, kind)) {
    fail(`unknown optimizer ${describe(kind)} (known: ${Object.keys(FACTORIES).join(', ')})`);
  }
  const made = FACTORIES[kind]!(settings as Record<string, number | undefined>);
  const fields = Object.keys(made).filter((key) => key !== 'kind');
  for (const key of Object.keys(settings)) {
    if (!fields.includes(key)) fail(`${kind} has no setting ${key} (it has ${fields.join(', ')})`);
  }
  for (const key of fields) {
    const want = (made as unknown as Record<string, number>)[key]!;
    if (!(key in settings)) fail(`the setting ${key} of ${kind} is missing`);
    if (!Object.is(settings[key], want)) fail(`${kind}: ${key} is ${describe(settings[key])}, but ${kind}() with these settings has ${want}`);
  }
  return made;
}

export function isOptimizer(o: unknown): o is Optimizer {
  return o !== null && typeof o === 'object' && MADE.has(o);
}
