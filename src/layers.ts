import { checkInt, checkKeys, checkNumber, describe, fail } from './errors.js';
import type { Rng } from './rng.js';

export type LayerType = 'nac' | 'nacMul' | 'nalu' | 'dense' | 'nau' | 'nmu';
export type Activation = 'linear' | 'relu' | 'relu6' | 'tanh' | 'sigmoid' | 'softsign' | 'selu' | 'elu';

/** Activation names in the order of their codes in assembly/activations.ts. */
export const ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'relu6', 'tanh', 'sigmoid', 'softsign', 'selu', 'elu'];
export type InitScheme = 'glorot' | 'seed' | 'madsen';

/** One parameter tensor: `rows x cols`, row-major ([inputs, outputs] for weight matrices). */
export interface ParamSpec {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly init: (rng: Rng, out: Float32Array) => void;
}

/** A layer's specification: what `nac()`, `nalu()`, ... return and `sequential()` takes. */
export interface LayerSpec {
  readonly type: LayerType;
  readonly inputs: number;
  readonly outputs: number;
  /** The layer's options with every default filled in. */
  readonly options: Readonly<Record<string, unknown>>;
}

interface LayerKind {
  /** The type code of the Wasm kernels (assembly/memory.ts T_*). */
  readonly code: number;
  readonly options: readonly string[];
  normalize(o: Record<string, unknown>): Record<string, unknown>;
  params(spec: LayerSpec): ParamSpec[];
  /** Flag bits of the Wasm layer record (assembly/memory.ts F_*). */
  flags(spec: LayerSpec): number;
  /** The activation code of the layer record (dense). */
  activation?(spec: LayerSpec): number;
}

/** Largest `inputs` or `outputs` of one layer. */
export const MAX_UNITS = 1 << 16;
/** Largest `inputs * outputs` of one layer. */
export const MAX_WEIGHTS = 1 << 24;

const DEFAULT_EPS = 1e-7;

/** Glorot (Xavier) uniform: U[-r, r], r = sqrt(6 / (fanIn + fanOut)). */
function glorot(fanIn: number, fanOut: number) {
  const r = Math.sqrt(6 / (fanIn + fanOut));
  return (rng: Rng, out: Float32Array) => {
    for (let i = 0; i < out.length; i++) out[i] = rng.range(-r, r);
  };
}

function uniform(lo: number, hi: number) {
  return (rng: Rng, out: Float32Array) => {
    for (let i = 0; i < out.length; i++) out[i] = rng.range(lo, hi);
  };
}

function normal(std: number) {
  return (rng: Rng, out: Float32Array) => {
    for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
  };
}

/**
 * W_hat and M_hat of a NAC under `init`: 'glorot' (default) U[-r, r] with r = sqrt(6 / (in +
 * out)); 'seed' U[-2, 2] as the seed article's code; 'madsen' the NAC+ init of Madsen &
 * Johansen, U[-r, r] with fan Var = 2, i.e. r = sqrt(6 / fan), fan = max(in + out, 5).
 */
function nacParams(spec: LayerSpec, suffix = ''): ParamSpec[] {
  const { inputs: i, outputs: o } = spec;
  const init = spec.options.init === 'seed' ? uniform(-2, 2)
    : spec.options.init === 'madsen' ? uniform(-Math.sqrt(6 / Math.max(i + o, 5)), Math.sqrt(6 / Math.max(i + o, 5)))
    : glorot(i, o);
  return [
    { name: `W_hat${suffix}`, rows: i, cols: o, init },
    { name: `M_hat${suffix}`, rows: i, cols: o, init },
  ];
}

function eps(o: Record<string, unknown>): number {
  return o.eps === undefined ? DEFAULT_EPS : checkNumber('eps', o.eps, 0, 1);
}

/** The layer's own init scheme, or undefined to follow the model's (default 'glorot'). */
function initScheme(o: Record<string, unknown>): InitScheme | undefined {
  const v = o.init;
  if (v !== undefined && v !== 'glorot' && v !== 'seed' && v !== 'madsen') {
    fail(`init must be "glorot", "seed" or "madsen", got ${describe(v)}`);
  }
  return v;
}

const KINDS: Record<LayerType, LayerKind> = {
  nac: {
    code: 0,
    options: ['init'],
    normalize: (o) => ({ init: initScheme(o) }),
    params: (s) => nacParams(s),
    flags: () => 0,
  },
  nacMul: {
    code: 1,
    options: ['eps', 'init'],
    normalize: (o) => ({ eps: eps(o), init: initScheme(o) }),
    params: (s) => nacParams(s),
    flags: () => 0,
  },
  nalu: {
    code: 2,
    options: ['eps', 'sharedWeights', 'init'],
    normalize: (o) => {
      if (o.sharedWeights !== undefined && typeof o.sharedWeights !== 'boolean') {
        fail(`sharedWeights must be true or false, got ${describe(o.sharedWeights)}`);
      }
      return { eps: eps(o), sharedWeights: o.sharedWeights ?? true, init: initScheme(o) };
    },
    params: (s) => {
      const gate = s.options.init === 'seed' ? normal(1) : glorot(s.inputs, s.outputs);
      return [
        ...nacParams(s),
        ...(s.options.sharedWeights ? [] : nacParams(s, '_mul')),
        { name: 'G', rows: s.inputs, cols: s.outputs, init: gate },
      ];
    },
    flags: (s) => (s.options.sharedWeights ? 0 : 1),
  },
  dense: {
    code: 3,
    options: ['activation'],
    normalize: (o) => {
      const a = o.activation ?? 'linear';
      if (!ACTIVATIONS.includes(a as Activation)) {
        fail(`activation must be one of ${ACTIVATIONS.join(', ')}, got ${describe(a)}`);
      }
      return { activation: a };
    },
    // PyTorch's nn.Linear default: W and b uniform in +-1/sqrt(inputs).
    params: (s) => {
      const r = 1 / Math.sqrt(s.inputs);
      return [
        { name: 'W', rows: s.inputs, cols: s.outputs, init: uniform(-r, r) },
        { name: 'b', rows: 1, cols: s.outputs, init: uniform(-r, r) },
      ];
    },
    flags: () => 0,
    activation: (s) => ACTIVATIONS.indexOf(s.options.activation as Activation),
  },
  // Later units (Madsen & Johansen 2020). Their weights live in range: W clamped in the
  // forward pass, projected back after every optimizer step, with an optional sparsity
  // regulariser (sequential's `regularizer` option).
  nau: {
    code: 4,
    options: [],
    normalize: () => ({}),
    // U[-r, r], r = min(0.5, sqrt(3) sqrt(2 / (in + out))).
    params: (s) => {
      const r = Math.min(0.5, Math.sqrt(3) * Math.sqrt(2 / (s.inputs + s.outputs)));
      return [{ name: 'W', rows: s.inputs, cols: s.outputs, init: uniform(-r, r) }];
    },
    flags: () => 0,
  },
  nmu: {
    code: 5,
    options: [],
    normalize: () => ({}),
    params: (s) => [{ name: 'W', rows: s.inputs, cols: s.outputs, init: uniform(0.25, 0.75) }],
    flags: () => 0,
  },
};


export function layerKind(type: LayerType): LayerKind {
  const kind = KINDS[type];
  if (!kind) fail(`unknown layer type ${describe(type)} (known: ${Object.keys(KINDS).join(', ')})`);
  return kind;
}

export interface UnitOptions {
  inputs: number;
  outputs: number;
}

function makeLayer(type: LayerType, options: unknown): LayerSpec {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(`${type}: options must be an object such as { inputs: 2, outputs: 1 }, got ${describe(options)}`);
  }
  const kind = KINDS[type];
  const o = options as Record<string, unknown>;
  checkKeys(type, o, ['inputs', 'outputs', ...kind.options]);
  try {
    const inputs = checkInt('inputs', o.inputs, 1, MAX_UNITS);
    const outputs = checkInt('outputs', o.outputs, 1, MAX_UNITS);
    if (inputs * outputs > MAX_WEIGHTS) {
      fail(`inputs * outputs must be at most ${MAX_WEIGHTS}, got ${inputs} * ${outputs}`);
    }
    return Object.freeze({ type, inputs, outputs, options: Object.freeze(kind.normalize(o)) });
  } catch (err) {
    fail(`${type}: ${(err as Error).message}`);
  }
}

/** The additive NAC: y = x W, W = tanh(W_hat) * sigmoid(M_hat). */
export function nac(options: UnitOptions & { init?: InitScheme }): LayerSpec {
  return makeLayer('nac', options);
}

/** The multiplicative NAC: y = exp(log(|x| + eps) W). `eps` defaults to 1e-7. */
export function nacMul(options: UnitOptions & { eps?: number; init?: InitScheme }): LayerSpec {
  return makeLayer('nacMul', options);
}

/**
 * The NALU: y = g a + (1 - g) m with a = x W, m = exp(log(|x| + eps) W'), g = sigmoid(x G).
 * `sharedWeights` (default true, the paper) ties W' to W; false gives the log path its own
 * W_hat_mul and M_hat_mul (the seed article's TensorFlow code).
 */
export function nalu(options: UnitOptions & { eps?: number; sharedWeights?: boolean; init?: InitScheme }): LayerSpec {
  return makeLayer('nalu', options);
}

/**
 * A fully connected layer with bias, y = act(x W + b), for the MLP baselines. `activation`
 * (default 'linear') follows PyTorch's definitions. Parameters W [inputs, outputs] and b
 * [outputs], initialised as PyTorch's nn.Linear (uniform in +-1/sqrt(inputs)).
 */
export function dense(options: UnitOptions & { activation?: Activation }): LayerSpec {
  return makeLayer('dense', options);
}

/**
 * The NAU (Madsen & Johansen 2020): y = x clamp(W, -1, 1); W is projected to [-1, 1] after
 * every optimizer step. Init U[-r, r], r = min(0.5, sqrt(3) sqrt(2 / (inputs + outputs))).
 */
export function nau(options: UnitOptions): LayerSpec {
  return makeLayer('nau', options);
}

/**
 * The NMU (Madsen & Johansen 2020): y_o = prod_i (Wc_io x_i + 1 - Wc_io), Wc = clamp(W, 0, 1);
 * W is projected to [0, 1] after every optimizer step. Init U[0.25, 0.75].
 */
export function nmu(options: UnitOptions): LayerSpec {
  return makeLayer('nmu', options);
}

/** Re-validates a layer specification that did not come from the factories (e.g. JSON). */
export function layerFromSpec(spec: unknown): LayerSpec {
  if (spec === null || typeof spec !== 'object') fail(`a layer must be an object, got ${describe(spec)}`);
  const s = spec as { type?: unknown; inputs?: unknown; outputs?: unknown; options?: unknown };
  if (typeof s.type !== 'string' || !(s.type in KINDS)) {
    fail(`unknown layer type ${describe(s.type)} (known: ${Object.keys(KINDS).join(', ')})`);
  }
  const options = (s.options && typeof s.options === 'object') ? s.options : {};
  return makeLayer(s.type as LayerType, { inputs: s.inputs, outputs: s.outputs, ...options });
}
