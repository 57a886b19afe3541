import { checkBool, checkF32, checkInt, checkKeys, checkOptions, checkNumber, describe, fail } from './errors.js';
import type { Rng } from './rng.js';

/** A layer's type, as LayerSpec.type and the saved forms name it. */
export type LayerType = 'nac' | 'nacMul' | 'nalu' | 'dense' | 'nau' | 'nmu' | 'inalu' | 'npu' | 'realNpu';
/** The dense layer's activations (PyTorch's definitions). */
export type Activation = 'linear' | 'relu' | 'relu6' | 'tanh' | 'sigmoid' | 'softsign' | 'selu' | 'elu';

/** Activation names in the order of their codes in assembly/activations.ts. */
export const ACTIVATIONS: readonly Activation[] = Object.freeze(['linear', 'relu', 'relu6', 'tanh', 'sigmoid', 'softsign', 'selu', 'elu']);
/** Initialisation schemes of the NAC family and dense layers (README: Initialisation). */
export type InitScheme = 'glorot' | 'seed' | 'madsen';
export const INIT_SCHEMES: readonly InitScheme[] = Object.freeze(['glorot', 'seed', 'madsen']);

/** One parameter tensor: `rows x cols`, row-major ([inputs, outputs] for weight matrices). */
export interface ParamSpec {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly init: (rng: Rng, out: Float32Array) => void;
}

/** A layer's specification: what `nac()`, `nalu()`, ... return and `sequential()` takes. */
export interface LayerSpec {
  /** The layer's kind: the name of the function that made it. */
  readonly type: LayerType;
  /** Values each sample brings in. */
  readonly inputs: number;
  /** Values each sample gets out. */
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
/** Most layers in one model (a file claiming more is refused before it is decoded). */
export const MAX_LAYERS = 1024;

const DEFAULT_EPS = 1e-7;

/** Glorot (Xavier) uniform: U[-r, r], r = sqrt(6 / (fanIn + fanOut)). */
function glorot(fanIn: number, fanOut: number) {
  const r = glorotBound(fanIn, fanOut);
  return uniform(-r, r);
}

function glorotBound(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}

function uniform(lo: number, hi: number) {
  return (rng: Rng, out: Float32Array) => {
    for (let i = 0; i < out.length; i++) out[i] = rng.range(lo, hi);
  };
}

/**
 * Var[tanh(w) sigmoid(m)] for independent w, m ~ U[-r, r]: E[tanh^2 w] E[sigmoid^2 m], where
 * E[tanh^2 w] = 1 - tanh(r) / r and, as sigmoid^2 = sigmoid - sigmoid', E[sigmoid^2 m] =
 * (r - tanh(r / 2)) / (2 r). It rises from 0 toward 1/2 as r grows.
 */
export function nacWeightVariance(r: number): number {
  return r === 0 ? 0 : (1 - Math.tanh(r) / r) * ((r - Math.tanh(r / 2)) / (2 * r));
}

/**
 * Madsen & Johansen's NAC+ initialisation bound: the r for which W_hat, M_hat ~ U[-r, r] give
 * fan Var[W] = 2 with fan = max(inputs + outputs, 5) (their appendix on the moments of the weight
 * construction). Found by bisection on [0, 10] (2 / fan <= 0.4 < Var at r = 10), then rounded to
 * a multiple of 2^-24, so that a last-bit difference between engines' Math.tanh cannot change the
 * weights drawn.
 */
export function madsenBound(inputs: number, outputs: number): number {
  const target = 2 / Math.max(inputs + outputs, 5);
  let lo = 0, hi = 10;
  for (let k = 0; k < 64; k++) {
    const mid = (lo + hi) / 2;
    if (nacWeightVariance(mid) < target) lo = mid; else hi = mid;
  }
  return Math.round(((lo + hi) / 2) * 2 ** 24) / 2 ** 24;
}

/**
 * W_hat and M_hat of a NAC under `init`: 'glorot' (default) U[-r, r] with r = sqrt(6 / (in +
 * out)); 'seed' U[-2, 2] as the seed article's code; 'madsen' U[-r, r] with r = madsenBound.
 */
function nacParams(spec: LayerSpec, suffix = ''): ParamSpec[] {
  const { inputs: i, outputs: o } = spec;
  const r = spec.options.init === 'seed' ? 2 : spec.options.init === 'madsen' ? madsenBound(i, o) : glorotBound(i, o);
  const init = uniform(-r, r);
  return [
    { name: `W_hat${suffix}`, rows: i, cols: o, init },
    { name: `M_hat${suffix}`, rows: i, cols: o, init },
  ];
}

/**
 * W and b of a dense layer under `init`. By default, and under 'seed' (the seed article's code has
 * no MLP), PyTorch's nn.Linear: both U[-r, r] with r = 1 / sqrt(inputs). 'glorot': W Glorot
 * uniform, b 0. 'madsen', Madsen & Johansen's code: b 0 and W U[-r, r] with r by activation,
 * sqrt(6 / inputs) (Kaiming's, for ReLU) for relu, relu6 and elu, sqrt(3 / inputs) for selu, the
 * Glorot bound for the others, times 5/3 (PyTorch's gain) for tanh.
 */
function denseParams(spec: LayerSpec): ParamSpec[] {
  const { inputs: i, outputs: o } = spec;
  const { activation: a, init } = spec.options;
  let r = 1 / Math.sqrt(i);
  let bias = uniform(-r, r);
  if (init === 'glorot' || init === 'madsen') {
    bias = fill(0);
    r = init === 'glorot' ? glorotBound(i, o)
      : a === 'relu' || a === 'relu6' || a === 'elu' ? Math.sqrt(6 / i)
      : a === 'selu' ? Math.sqrt(3 / i)
      : (a === 'tanh' ? 5 / 3 : 1) * glorotBound(i, o);
  }
  return [
    { name: 'W', rows: i, cols: o, init: uniform(-r, r) },
    { name: 'b', rows: 1, cols: o, init: bias },
  ];
}

/** Normal draws N(mean, std^2) (Box-Muller, rng.ts). */
function normalAt(mean: number, std: number) {
  return (rng: Rng, out: Float32Array) => {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * rng.normal();
  };
}

function fill(value: number) {
  return (_rng: Rng, out: Float32Array) => { out.fill(value); };
}

const DEFAULT_OMEGA = 20;

function eps(o: Record<string, unknown>): number {
  return o.eps === undefined ? DEFAULT_EPS : checkF32('eps', o.eps, 0, 1);
}

/** `v` as an init scheme (undefined stays undefined); `prefix` starts the error message. */
export function checkInitScheme(prefix: string, v: unknown): InitScheme | undefined {
  if (v !== undefined && !INIT_SCHEMES.includes(v as InitScheme)) {
    fail(`${prefix}init must be ${INIT_SCHEMES.map((s) => `"${s}"`).join(', ').replace(/, ([^,]*)$/, ' or $1')}, got ${describe(v)}`);
  }
  return v as InitScheme | undefined;
}

/** The layer's own init scheme, or undefined to follow the model's (or else the layer's default: nacParams, denseParams). */
function initScheme(o: Record<string, unknown>): InitScheme | undefined {
  return checkInitScheme('', o.init);
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
    options: ['eps', 'sharedWeights', 'init', 'gateBias'],
    normalize: (o) => {
      checkBool('sharedWeights', o.sharedWeights);
      checkBool('gateBias', o.gateBias);
      return { eps: eps(o), sharedWeights: o.sharedWeights ?? true, init: initScheme(o), gateBias: o.gateBias ?? false };
    },
    params: (s) => {
      const gate = s.options.init === 'seed' ? normalAt(0, 1) : glorot(s.inputs, s.outputs);
      return [
        ...nacParams(s),
        ...(s.options.sharedWeights ? [] : nacParams(s, '_mul')),
        { name: 'G', rows: s.inputs, cols: s.outputs, init: gate },
        ...(s.options.gateBias ? [{ name: 'G_bias', rows: 1, cols: s.outputs, init: uniform(0, 0) }] : []),
      ];
    },
    flags: (s) => (s.options.sharedWeights ? 0 : 1) | (s.options.gateBias ? 4 : 0),
  },
  dense: {
    code: 3,
    options: ['activation', 'init'],
    normalize: (o) => {
      const a = o.activation ?? 'linear';
      if (!ACTIVATIONS.includes(a as Activation)) {
        fail(`activation must be one of ${ACTIVATIONS.join(', ')}, got ${describe(a)}`);
      }
      return { activation: a, init: initScheme(o) };
    },
    params: (s) => denseParams(s),
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
  // iNALU (Schlor, Ring & Hotho 2020): separate weights for the two paths, an input-independent
  // gate, log(max(|x|, eps)), exp(min(., omega)) and the sign of the product restored. Init as
  // the authors' code (daschloer/inalu, nalu_architectures.py): W_hat ~ N(0.88, 0.2),
  // M_hat ~ N(0.5, 0.2) for both paths, g ~ N(0, 0.2).
  inalu: {
    code: 6,
    options: ['eps', 'omega'],
    normalize: (o) => ({
      eps: eps(o),
      omega: o.omega === undefined ? DEFAULT_OMEGA : checkF32('omega', o.omega, 0, 88),
    }),
    params: (s) => {
      const { inputs: i, outputs: o } = s;
      const w = normalAt(0.88, 0.2), m = normalAt(0.5, 0.2);
      return [
        { name: 'W_hat', rows: i, cols: o, init: w },
        { name: 'M_hat', rows: i, cols: o, init: m },
        { name: 'W_hat_mul', rows: i, cols: o, init: w },
        { name: 'M_hat_mul', rows: i, cols: o, init: m },
        { name: 'g', rows: 1, cols: o, init: normalAt(0, 0.2) },
      ];
    },
    flags: () => 0,
  },
  // NPU and RealNPU (Heim, Pevny & Smidl 2020): W_re Glorot uniform, W_im 0, the relevance gate
  // g 0.5 (the authors' NeuralArithmetic.jl). g is clamped to [0, 1] in the forward pass and
  // projected back into [0, 1] after every optimizer step (assembly/layers/npu.ts).
  npu: {
    code: 7,
    options: ['eps'],
    normalize: (o) => ({ eps: eps(o) }),
    params: (s) => [
      { name: 'W_re', rows: s.inputs, cols: s.outputs, init: glorot(s.inputs, s.outputs) },
      { name: 'W_im', rows: s.inputs, cols: s.outputs, init: fill(0) },
      { name: 'g', rows: 1, cols: s.inputs, init: fill(0.5) },
    ],
    flags: () => 0,
  },
  realNpu: {
    code: 8,
    options: ['eps'],
    normalize: (o) => ({ eps: eps(o) }),
    params: (s) => [
      { name: 'W_re', rows: s.inputs, cols: s.outputs, init: glorot(s.inputs, s.outputs) },
      { name: 'g', rows: 1, cols: s.inputs, init: fill(0.5) },
    ],
    flags: () => 0,
  },
};


export function layerKind(type: LayerType): LayerKind {
  if (typeof type !== 'string' || !Object.hasOwn(KINDS, type)) {
    fail(`unknown layer type ${describe(type)} (known: ${Object.keys(KINDS).join(', ')})`);
  }
  return KINDS[type];
}

/** The sizes every layer takes: inputs and outputs, integers from 1 to 65536. */
export interface UnitOptions {
  /** Values each sample brings in. */
  inputs: number;
  /** Values each sample gets out (the layer's units). */
  outputs: number;
}

function makeLayer(type: LayerType, options: unknown): LayerSpec {
  const kind = KINDS[type];
  const o = checkOptions(type, options, ['inputs', 'outputs', ...kind.options], ' such as { inputs: 2, outputs: 1 }');
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
export function nac(options: UnitOptions & { init?: InitScheme | undefined }): LayerSpec {
  return makeLayer('nac', options);
}

/** The multiplicative NAC: y = exp(log(|x| + eps) W). `eps` defaults to 1e-7. */
export function nacMul(options: UnitOptions & { eps?: number | undefined; init?: InitScheme | undefined }): LayerSpec {
  return makeLayer('nacMul', options);
}

/**
 * The NALU: y = g a + (1 - g) m with a = x W, m = exp(log(|x| + eps) W'), g = sigmoid(x G).
 * `gateBias` (default false) adds a gate bias, g = sigmoid(x G + G_bias), G_bias [outputs]
 * initialised to 0.
 * `sharedWeights` (default true, the paper) ties W' to W; false gives the log path its own
 * W_hat_mul and M_hat_mul (the seed article's TensorFlow code).
 */
export function nalu(options: UnitOptions & { eps?: number | undefined; sharedWeights?: boolean | undefined; init?: InitScheme | undefined; gateBias?: boolean | undefined }): LayerSpec {
  return makeLayer('nalu', options);
}

/**
 * A fully connected layer with bias, y = act(x W + b), for the MLP baselines. `activation`
 * (default 'linear') follows PyTorch's definitions. Parameters W [inputs, outputs] and b
 * [outputs], initialised as PyTorch's nn.Linear (uniform in +-1/sqrt(inputs)) unless `init` is
 * 'glorot' (W Glorot uniform, b 0) or 'madsen' (b 0, W uniform with the bound of Madsen &
 * Johansen's code for the activation: README, Initialisation).
 */
export function dense(options: UnitOptions & { activation?: Activation | undefined; init?: InitScheme | undefined }): LayerSpec {
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

/**
 * The iNALU (Schlor, Ring & Hotho 2020): y = G a + (1 - G) m s with a = x W, m = exp(min(log(max(|x|,
 * eps)) W_m, omega)), s = clip(prod_i (sign(x_i) |W_m,io| + 1 - |W_m,io|), -1, 1) (the sign of the
 * product) and G = sigmoid(g), one gate per output that does not depend on the input. W and W_m
 * are NAC weights, tanh(W_hat) sigmoid(M_hat) and tanh(W_hat_mul) sigmoid(M_hat_mul). `eps`
 * defaults to 1e-7 and `omega` to 20. Parameters W_hat, M_hat, W_hat_mul, M_hat_mul [inputs,
 * outputs] and g [outputs]. The paper trains with gradients clipped to [-0.1, 0.1] (the
 * optimizers' `clipValue`) and re-draws every parameter from U[-2, 2] when the loss stalls above
 * 1, a training-loop rule that this package leaves to the caller.
 */
export function inalu(options: UnitOptions & { eps?: number | undefined; omega?: number | undefined }): LayerSpec {
  return makeLayer('inalu', options);
}

/**
 * The NPU (Heim, Pevny & Smidl 2020): y = exp(l W_re - pi k W_im) cos(pi k W_re + l W_im) with
 * l = log(r), r = gc (|x| + eps) + 1 - gc, k = gc where x < 0 (else 0) and gc = clamp(g, 0, 1),
 * the relevance gate of each input. `eps` (default 1e-7) keeps log r finite at x = 0.
 * Parameters W_re, W_im [inputs, outputs] and g [inputs]; init W_re Glorot uniform, W_im 0,
 * g 0.5. g is projected back to [0, 1] after every optimizer step.
 */
export function npu(options: UnitOptions & { eps?: number | undefined }): LayerSpec {
  return makeLayer('npu', options);
}

/** The RealNPU: the NPU without W_im, y = exp(l W_re) cos(pi k W_re). Parameters W_re and g. */
export function realNpu(options: UnitOptions & { eps?: number | undefined }): LayerSpec {
  return makeLayer('realNpu', options);
}

/** Re-validates a layer specification that did not come from the factories (e.g. JSON). */
export function layerFromSpec(spec: unknown): LayerSpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) fail(`a layer must be an object, got ${describe(spec)}`);
  const type = (spec as { type?: unknown }).type as LayerType;
  const kind = layerKind(type);
  const s = checkKeys(`${type} layer`, spec, ['type', 'inputs', 'outputs', 'options']);
  const options = checkOptions(`${type}`, s.options ?? {}, kind.options);
  return makeLayer(type, { ...options, inputs: s.inputs, outputs: s.outputs });
}

/** True when layers of this type take an `init` option. */
export function takesInit(type: LayerType): boolean {
  return layerKind(type).options.includes('init');
}
