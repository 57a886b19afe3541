/**
 * The experiments of the NALU literature: Madsen & Johansen's static arithmetic task with
 * their success criterion, and Trask et al.'s identity task. Adding a model is one entry in
 * MODELS.
 */
import { describe, NaluError, NonFiniteStepError } from './errors.js';
import { dense, inalu, nac, nacMul, nalu, nau, nmu, npu, realNpu, takesInit, ACTIVATIONS, type Activation, type InitScheme, type LayerSpec, type LayerType } from './layers.js';
import { CHUNK, sequential, type Model, type SequentialOptions, type StagedBatch, type Weights } from './model.js';
import { adam } from './optim.js';
import { Rng } from './rng.js';
import { identityTask } from './tasks/identity.js';
import type { Dataset } from './tasks/sampler.js';
import { OPS, staticTask, type Op, type StaticTaskOptions } from './tasks/static.js';

/** An experiment model of MODELS: how the command line and the showcase build it. */
export interface ModelEntry {
  /** One line on the model, as the command line's help and reports print it. */
  readonly description: string;
  /** The layers for `inputs` inputs, a hidden layer of `hidden` units (default 2) and one output. */
  layers(inputs: number, hidden?: number): LayerSpec[];
  /** Model options, such as the regulariser schedule of the paper's models. */
  readonly options?: SequentialOptions;
  /** Gradient clipping by value, for the models whose papers train with it. */
  readonly clipValue?: number;
  /**
   * iNALU's reinitialisation rule, as its authors' code applies it: every 10,000 steps, when the
   * newer half of the losses since the last restart is no better than the older half (mean plus
   * standard deviation) and still above 1, every parameter is redrawn from U[-2, 2].
   */
  readonly reinit?: boolean;
}

/**
 * iNALU's reinitialisation rule (Schlor, Ring & Hotho 2020, as their code applies it): the loss
 * of every step since the last restart is kept; every `every` steps, once more than `minHistory`
 * are kept, they are split into an older and a newer half, and when the older half's mean is at
 * most the newer half's mean plus its standard deviation (no progress) while the newer mean is
 * still above `lossLimit`, every parameter is redrawn from U[-2, 2] and the history restarts.
 */
export class ReinitRule {
  private losses: number[] = [];
  constructor(readonly every = 10_000, readonly minHistory = 10_000, readonly lossLimit = 1) {}

  /** Records a step's loss; true when the model should be reinitialised now. */
  record(step: number, loss: number): boolean {
    this.losses.push(loss);
    if (step % this.every !== 0 || this.losses.length <= this.minHistory) return false;
    const half = Math.floor(this.losses.length / 2);
    const stats = (a: number[]) => {
      const mean = a.reduce((s, v) => s + v, 0) / a.length;
      return { mean, std: Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length) };
    };
    const older = stats(this.losses.slice(0, half)), newer = stats(this.losses.slice(half));
    if (older.mean <= newer.mean + newer.std && newer.mean > this.lossLimit) {
      this.losses = [];
      return true;
    }
    return false;
  }
}

/** Redraws every parameter of the model from U[-2, 2] with `rng`. */
export function reinitialize(model: Model, rng: Rng): void {
  model.setWeights(model.getWeights().map((rec) => Object.fromEntries(
    Object.entries(rec).map(([k, v]) => [k, v.map(() => rng.range(-2, 2))]))));
}

function mlp(activation: Activation): ModelEntry {
  return {
    description: `dense (${activation}) then dense (linear)`,
    layers: (i, h = 2) => [dense({ inputs: i, outputs: h, activation }), dense({ inputs: h, outputs: 1 })],
  };
}

/** The names of the experiment models: the dense activations' (MLPs) and the units'. */
export type ModelName = Activation | 'nac' | 'nacmul' | 'nalu' | 'nau' | 'nmu' | 'inalu' | 'npu' | 'realnpu';

/** `o` and every object inside it frozen (functions excepted): tables the package validates against. */
function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v !== null && typeof v === 'object') deepFreeze(v);
  return Object.freeze(o);
}

/** The models of the static task, two layers each with a hidden size of 2 by default (frozen). */
export const MODELS: Readonly<Record<ModelName, ModelEntry>> = deepFreeze({
  ...(Object.fromEntries(ACTIVATIONS.map((a) => [a, mlp(a)])) as Record<Activation, ModelEntry>),
  nac: { description: 'NAC+ then NAC+', layers: (i, h = 2) => [nac({ inputs: i, outputs: h }), nac({ inputs: h, outputs: 1 })] },
  nacmul: { description: 'NAC+ then NAC*', layers: (i, h = 2) => [nac({ inputs: i, outputs: h }), nacMul({ inputs: h, outputs: 1 })] },
  nalu: { description: 'NALU then NALU', layers: (i, h = 2) => [nalu({ inputs: i, outputs: h }), nalu({ inputs: h, outputs: 1 })] },
  nau: {
    description: 'NAU then NAU, regulariser 0.01 from step 5e3 to 5e4',
    layers: (i, h = 2) => [nau({ inputs: i, outputs: h }), nau({ inputs: h, outputs: 1 })],
    options: { regularizer: { lambda: 0.01, start: 5e3, end: 5e4 } },
  },
  nmu: {
    description: 'NAU then NMU, regulariser 10 from step 1e6 to 2e6',
    layers: (i, h = 2) => [nau({ inputs: i, outputs: h }), nmu({ inputs: h, outputs: 1 })],
    options: { regularizer: { lambda: 10, start: 1e6, end: 2e6 } },
  },
  inalu: {
    description: 'iNALU then iNALU, gradients clipped to 0.1, reinitialisation rule',
    layers: (i, h = 2) => [inalu({ inputs: i, outputs: h }), inalu({ inputs: h, outputs: 1 })],
    clipValue: 0.1,
    reinit: true,
  },
  npu: { description: 'NAU then NPU (Heim et al.)', layers: (i, h = 2) => [nau({ inputs: i, outputs: h }), npu({ inputs: h, outputs: 1 })] },
  realnpu: { description: 'NAU then RealNPU (Heim et al.)', layers: (i, h = 2) => [nau({ inputs: i, outputs: h }), realNpu({ inputs: h, outputs: 1 })] },
} satisfies Record<ModelName, ModelEntry>);

/** The model of MODELS named `name`, or undefined (its own names only: "toString" is none). */
export function modelEntry(name: string): ModelEntry | undefined {
  return Object.hasOwn(MODELS, name) ? MODELS[name as ModelName] : undefined;
}

/**
 * JSON of a report, with non-finite numbers written as the strings "Infinity", "-Infinity" and
 * "NaN": JSON.stringify writes null for them, so an MSE that overflowed would read as missing.
 */
export function reportJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), indent);
}

/** reportJson's inverse: JSON whose strings "Infinity", "-Infinity" and "NaN" are read back as numbers. */
export function parseReport(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v));
}

/** One line of a reproduce file: one seed's result and what ran it. */
export interface ReproduceLine {
  op: Op;
  model: string;
  seed: number;
  iterations: number;
  /** The init of the NAC+, NAC*, NALU and dense layers; absent for other models and in lines from before the field. */
  init?: InitScheme;
  /** The build and the first 12 hex digits of its SHA-256, such as "simd 471e15c75ad3". */
  module?: string;
  result: SeedResult;
}

/** The lines of a reproduce file's `text` (one reportJson record per line); an error names `file`'s first bad line. */
export function parseReproduceLines(text: string, file: string): ReproduceLine[] {
  const lines: ReproduceLine[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let r: Partial<ReproduceLine> | null;
    try {
      r = parseReport(line) as Partial<ReproduceLine> | null;
    } catch {
      throw new NaluError(`${file}: line ${i + 1} is not JSON; fix or remove it`);
    }
    if (!r || !(OPS as readonly unknown[]).includes(r.op) || typeof r.model !== 'string' || !modelEntry(r.model) || !Number.isInteger(r.seed)
      || !Number.isInteger(r.iterations) || typeof r.result?.success !== 'boolean') {
      throw new NaluError(`${file}: line ${i + 1} is not a reproduce line (op, model, seed, iterations and result); fix or remove it`);
    }
    lines.push(r as ReproduceLine);
  });
  return lines;
}

const initTypes = new Map<string, LayerType[]>();

/** The types of the layers of the experiment model `name` that take an init scheme (built once). */
function layersWithInit(name: string): LayerType[] {
  let types = initTypes.get(name);
  if (!types) initTypes.set(name, types = modelEntry(name)!.layers(2, 2).map((l) => l.type).filter(takesInit));
  return types;
}

/** True when some layer of the experiment model `name` takes an init scheme. */
export function modelTakesInit(name: string): boolean {
  return layersWithInit(name).length > 0;
}

/**
 * The init scheme a recorded run of `model` used: the one recorded; for records without one (from
 * before runs recorded it, or run with the layers' default), glorot, the default of the NAC+, NAC*
 * and NALU layers, or undefined for an MLP (whose default is nn.Linear's) or a model that takes none.
 */
export function recordedInit(model: string, init: InitScheme | undefined): InitScheme | undefined {
  const types = layersWithInit(model);
  if (!types.length) return undefined;
  return init ?? (types.some((t) => t !== 'dense') ? 'glorot' : undefined);
}

export interface ExperimentConfig {
  op: Op;
  model: string;
  iterations: number;
  batch: number;
  learningRate: number;
  inputSize: number;
  subsetRatio: number;
  overlapRatio: number;
  interpolation: [number, number];
  extrapolation: [number, number];
  logEvery: number;
  hidden: number;
  validationSize: number;
  testSize: number;
  /** The init scheme of the model's layers that take one (NAC+, NAC*, NALU); theirs (glorot) when absent. */
  init?: InitScheme;
  /** The command line's --curves: each seed's report keeps its log (the errors at every logged iteration). */
  curves?: true;
}

export const DEFAULTS: Omit<ExperimentConfig, 'op' | 'model'> = {
  iterations: 5_000_000,
  batch: 128,
  learningRate: 1e-3,
  inputSize: 100,
  subsetRatio: 0.25,
  overlapRatio: 0.5,
  interpolation: [1, 2],
  extrapolation: [2, 6],
  logEvery: 1000,
  hidden: 2,
  validationSize: 10000,
  testSize: 10000,
};

export interface LogEntry {
  iteration: number;
  interpolationMse: number;
  extrapolationMse: number;
}

export interface SeedResult {
  seed: number;
  success: boolean;
  /** The first logged iteration whose extrapolation MSE is below the threshold, or null. */
  solvedAt: number | null;
  /** The logged iteration with the lowest interpolation (validation) MSE. */
  bestIteration: number;
  interpolationMse: number;
  extrapolationMse: number;
  /** max over the layers' weights of min(|W|, |1 - |W||), at the best iteration (sparsityError); null in MLP records from before it took dense layers. */
  sparsityError: number | null;
  /** Training steps skipped because their loss or gradients were not finite. */
  skippedSteps: number;
  /** The iteration at which training stopped, MAX_SKIPPED_IN_A_ROW steps in a row refused; absent when it ran to the end. */
  stoppedAt?: number;
  /** Reinitialisations by the model's rule (iNALU). */
  reinits?: number;
  wallSeconds: number;
  log?: LogEntry[];
  /** With runSeed's saveBest: the model at its best iteration (the weights scored), as model.save() gives it. */
  saved?: Uint8Array;
}

function taskOptions(c: ExperimentConfig, seed: number): StaticTaskOptions {
  return {
    op: c.op, seed, inputSize: c.inputSize, subsetRatio: c.subsetRatio, overlapRatio: c.overlapRatio,
    interpolation: c.interpolation, extrapolation: c.extrapolation,
  };
}

/**
 * About the smallest extrapolation MSE that f32 predictions reach on a configuration's test
 * range: rounding a prediction y to f32 alone moves it by up to |y| 2^-24, about y^2 2^-48 / 3
 * in the mean square (estimated over `n` samples).
 */
export function roundingFloor(c: ExperimentConfig, n = 1000): number {
  const { target } = staticTask(taskOptions(c, 0)).testSet(n);
  let s = 0;
  for (const t of target) s += t * t;
  return (s / n) * 2 ** -48 / 3;
}

/** The success threshold of a configuration (it depends on the op, sizes and range only). */
export function thresholdOf(c: ExperimentConfig, samples = 1_000_000): number {
  return staticTask(taskOptions(c, 0)).threshold({ samples });
}

/**
 * The mean squared error in f64 of the model's f32 predictions for d against d's f64 targets, as
 * a function to call as often as needed: d's samples are staged in the model once, in blocks of
 * 4,096 (disposed with the model), and predicted into one array. NaN when a prediction is NaN
 * (Infinity when one is infinite, or the sum overflowed).
 */
export function stagedMse(model: Model, d: Dataset): () => number {
  const y = new Float32Array(d.n);
  const blocks: Array<[StagedBatch, Float32Array]> = [];
  for (let first = 0; first < d.n; first += CHUNK) { // predict's blocks: the work memory stays theirs
    const end = Math.min(first + CHUNK, d.n);
    const x = d.x.subarray(first * model.inputs, end * model.inputs);
    blocks.push([model.stageBatch(x, d.target.subarray(first, end)), y.subarray(first, end)]);
  }
  return () => {
    for (const [staged, out] of blocks) model.predict(staged, undefined, out);
    let s = 0;
    for (let i = 0; i < y.length; i++) {
      const e = y[i]! - d.target[i]!;
      s += e * e;
    }
    return s / y.length;
  };
}

/**
 * max over the layers' weights of min(|w|, |1 - |w||), as Madsen & Johansen measure it: the
 * effective weights of the arithmetic units (tanh(W_hat) sigmoid(M_hat), clamped W, ...) and a
 * dense layer's W as it is (not its bias).
 */
export function sparsityError(model: Model, weights: Weights = model.getWeights()): number {
  let worst = 0;
  const visit = (w: number) => {
    const a = Math.abs(w);
    worst = Math.max(worst, Math.min(a, Math.abs(1 - a)));
  };
  model.layers.forEach((layer, k) => {
    const p = weights[k]!;
    if (layer.type === 'npu' || layer.type === 'realNpu') {
      for (const w of p.W_re!) visit(w);
    } else if (layer.type === 'dense') {
      for (const w of p.W!) visit(w);
    } else if (layer.type === 'nau' || layer.type === 'nmu') {
      for (const w of p.W!) visit(layer.type === 'nau' ? Math.min(1, Math.max(-1, w)) : Math.min(1, Math.max(0, w)));
    } else {
      // the NAC family and the iNALU, W = tanh(W_hat) sigmoid(M_hat) on each path that has its own
      const separate = layer.type === 'inalu' || (layer.type === 'nalu' && !layer.options.sharedWeights);
      for (const suffix of separate ? ['', '_mul'] : ['']) {
        const wh = p[`W_hat${suffix}`]!, mh = p[`M_hat${suffix}`]!;
        for (let i = 0; i < wh.length; i++) visit(Math.tanh(wh[i]!) / (1 + Math.exp(-mh[i]!)));
      }
    }
  });
  return worst;
}

/** A seed stops once this many training steps in a row were refused (NonFiniteStepError). */
export const MAX_SKIPPED_IN_A_ROW = 10000;

/** a < b, where NaN is above everything (an error with a NaN prediction is the worst). */
const lower = (a: number, b: number): boolean => !Number.isNaN(a) && (Number.isNaN(b) || a < b);

/** Trains one seed of a configuration and scores it against `threshold`. */
export function runSeed(c: ExperimentConfig, seed: number, threshold: number,
  onLog?: (entry: LogEntry) => void, keepLog = false, saveBest = false): SeedResult {
  const entry = modelEntry(c.model);
  if (!entry) throw new NaluError(`unknown model ${describe(c.model)} (known: ${Object.keys(MODELS).join(', ')})`);
  const started = performance.now();
  const task = staticTask(taskOptions(c, seed));
  const model = sequential(entry.layers(c.inputSize, c.hidden), { ...entry.options, seed, ...(c.init ? { init: c.init } : {}) });
  const validation = stagedMse(model, task.validationSet(c.validationSize));
  const test = stagedMse(model, task.testSet(c.testSize));
  const sampler = task.trainSampler();
  const optimizer = adam({ learningRate: c.learningRate, clipValue: entry.clipValue });
  const rule = entry.reinit ? new ReinitRule() : undefined;
  const rng = new Rng(seed);
  let reinits = 0;
  const log: LogEntry[] = [];
  let best: LogEntry | undefined;
  let bestWeights: Weights | undefined;
  let solvedAt: number | null = null;
  let skipped = 0;
  let inARow = 0;
  let stoppedAt: number | undefined;
  try {
    for (let it = 1; it <= c.iterations; it++) {
      try {
        const loss = model.trainStepOn(sampler, optimizer, c.batch);
        inARow = 0;
        if (rule?.record(it, loss)) {
          reinitialize(model, rng);
          reinits++;
        }
      } catch (err) {
        if (!(err instanceof NonFiniteStepError)) throw err;
        skipped++;
        if (++inARow >= MAX_SKIPPED_IN_A_ROW && it < c.iterations) stoppedAt = it;
      }
      if (it % c.logEvery === 0 || it === c.iterations || stoppedAt) {
        const e = { iteration: it, interpolationMse: validation(), extrapolationMse: test() };
        if (keepLog) log.push(e);
        if (solvedAt === null && e.extrapolationMse < threshold) solvedAt = it;
        if (!best || lower(e.interpolationMse, best.interpolationMse)) {
          best = e;
          bestWeights = model.getWeights();
        }
        onLog?.(e);
      }
      if (stoppedAt) break;
    }
    best ??= { iteration: 0, interpolationMse: validation(), extrapolationMse: test() };
    const scored = sparsityError(model, bestWeights);
    if (saveBest && bestWeights) model.setWeights(bestWeights);
    return {
      seed,
      success: best.extrapolationMse < threshold,
      solvedAt,
      bestIteration: best.iteration,
      interpolationMse: best.interpolationMse,
      extrapolationMse: best.extrapolationMse,
      sparsityError: scored,
      skippedSteps: skipped,
      ...(stoppedAt ? { stoppedAt } : {}),
      ...(entry.reinit ? { reinits } : {}),
      wallSeconds: (performance.now() - started) / 1000,
      ...(keepLog ? { log } : {}),
      ...(saveBest ? { saved: model.save() } : {}),
    };
  } finally {
    model.dispose();
    sampler.dispose();
  }
}

/** Wilson score interval of k successes in n trials (95% by default). */
export function wilson(k: number, n: number, z = 1.959963984540054): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

// ---- the identity task -----------------------------------------------------------------

export interface IdentityConfig {
  steps: number;
  batch: number;
  learningRate: number;
  seeds: number;
  gridPoints: number;
}

export const IDENTITY_DEFAULTS: IdentityConfig = { steps: 10000, batch: 64, learningRate: 1e-2, seeds: 5, gridPoints: 161 };

export interface IdentityCurve {
  model: string;
  /** Mean absolute error over the test range, averaged over seeds. */
  meanAbsError: number;
  /** ... and over the training range only. */
  trainRangeMeanAbsError: number;
  /** The grid and the absolute error at each point, averaged over seeds. */
  x: number[];
  absError: number[];
}

/** The identity models: 1 -> 8 -> 8 -> 8 -> 1, each activation, and the same stack of NACs. */
export function identityModels(): Record<string, LayerSpec[]> {
  const out: Record<string, LayerSpec[]> = {};
  for (const a of ACTIVATIONS.filter((a) => a !== 'linear')) {
    out[a] = [
      dense({ inputs: 1, outputs: 8, activation: a }), dense({ inputs: 8, outputs: 8, activation: a }),
      dense({ inputs: 8, outputs: 8, activation: a }), dense({ inputs: 8, outputs: 1 }),
    ];
  }
  out.nac = [nac({ inputs: 1, outputs: 8 }), nac({ inputs: 8, outputs: 8 }), nac({ inputs: 8, outputs: 8 }), nac({ inputs: 8, outputs: 1 })];
  return out;
}

export function runIdentity(name: string, layers: LayerSpec[], c: IdentityConfig = IDENTITY_DEFAULTS): IdentityCurve {
  const gridTask = identityTask({ seed: 0 });
  const grid = gridTask.grid(c.gridPoints);
  const sum = new Float64Array(grid.n);
  for (let seed = 0; seed < c.seeds; seed++) {
    const task = identityTask({ seed });
    const model = sequential(layers, { seed });
    const sampler = task.trainSampler();
    const optimizer = adam({ learningRate: c.learningRate });
    try {
      for (let s = 0; s < c.steps; s++) {
        try {
          model.trainStepOn(sampler, optimizer, c.batch);
        } catch (err) {
          if (!(err instanceof NonFiniteStepError)) throw err;
        }
      }
      const y = model.predict(grid.x);
      for (let i = 0; i < grid.n; i++) sum[i] += Math.abs(y[i]! - grid.target[i]!) / c.seeds;
    } finally {
      model.dispose();
      sampler.dispose();
    }
  }
  const x = Array.from(grid.x);
  const absError = Array.from(sum);
  const [lo, hi] = gridTask.train;
  const inTrain = x.map((v, i) => [v, absError[i]!] as const).filter(([v]) => v >= lo && v <= hi);
  return {
    model: name,
    meanAbsError: absError.reduce((s, v) => s + v, 0) / absError.length,
    trainRangeMeanAbsError: inTrain.reduce((s, [, e]) => s + e, 0) / inTrain.length,
    x,
    absError,
  };
}
