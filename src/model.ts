import { bytesOf, calledOn, checkBool, checkF32, checkInt, checkKeys, checkOptions, checkNumber, copyInto, describe, F32_MAX, fail, inF32, INSPECT, isArrayBuffer, isFloatArray, lengthOf, lockFields, NaluError, NonFiniteStepError, prefixed, typedKind, windowOf } from './errors.js';
import { checkInitScheme, layerFromSpec, layerKind, MAX_LAYERS, takesInit, type InitScheme, type LayerSpec, type ParamSpec } from './layers.js';
import { fitModel, type FitOptions, type FitOptionsWithValidation, type FitResult } from './fit.js';
import { isOptimizer, optimizerFromSettings, type Optimizer } from './optim.js';
import { Rng } from './rng.js';
import { isSampler, Sampler } from './tasks/sampler.js';
import { MAX_BLOCK, Owned, weakly, type Engine } from './wasm/engine.js';
import { round4 } from './wasm/layout.js';
import type { Backend } from './wasm/exports.js';
import { currentEngine } from './wasm/init.js';
import { modelToJSON, saveModel, type ModelJSON, type SaveOptions } from './serialize.js';

/** Parameters (or moments) per layer, by name: what getWeights() returns. */
export type Weights = Array<Record<string, Float32Array<ArrayBuffer>>>;
/** What setWeights() takes: per layer, by name, any of the input array types. */
export type WeightsInput = ReadonlyArray<Readonly<Record<string, Numbers>>>;
/** Inputs and targets: a Float32Array (copied as is), a Float64Array or an array of numbers. */
export type Numbers = Float32Array | Float64Array | readonly number[];

/** An optimizer's state in a model: its settings, step count and first and second moments. */
export interface OptimizerState {
  /** The optimizer whose state this is (restoreOptimizer makes it the model's). */
  optimizer: Optimizer;
  /** The steps it has taken: the next one is step + 1 (Adam's bias correction counts them). */
  step: number;
  /** The first moments (Adam; zeros for SGD and RMSProp), laid out as getWeights(). */
  m: Weights;
  /** The second moments (Adam, RMSProp; zeros for SGD), laid out as getWeights(). */
  v: Weights;
}

const STATE_FIELDS = ['optimizer', 'step', 'm', 'v'];

/** What restoreOptimizer takes: an OptimizerState, or a copy whose moments are number arrays (JSON). */
export interface OptimizerStateInput extends Omit<OptimizerState, 'm' | 'v'> {
  m: WeightsInput;
  v: WeightsInput;
}

export interface SequentialOptions {
  /** Seed of the initialisation (xoshiro128** seeded by SplitMix32); default 0. */
  seed?: number | undefined;
  /** Default initialisation of layers that do not set their own. */
  init?: InitScheme | undefined;
  /**
   * By default a training step whose loss or gradients are not finite throws and leaves the
   * parameters untouched; true lets such steps update them (NaN then spreads, as in PyTorch).
   */
  allowNonFinite?: boolean | undefined;
  /**
   * The sparsity regulariser of the NAU and NMU layers (Madsen & Johansen 2020): the loss
   * gains lambda_t * sum over those layers of their R, with lambda_t = lambda * clip((t -
   * start) / (end - start), 0, 1) at optimizer step t. Off by default.
   */
  regularizer?: Regularizer | undefined;
}

/** A Regularizer with its defaults filled in, as Model.options gives it. */
export interface ResolvedRegularizer {
  /** As Regularizer.lambda. */
  lambda: number;
  /** As Regularizer.start; 0 when it was left out. */
  start: number;
  /** As Regularizer.end; 0 when it was left out. */
  end: number;
}

/** See SequentialOptions.regularizer. */
export interface Regularizer {
  /** The weight once the schedule has ramped up (MODELS: 0.01 for the NAU model, 10 for the NMU one). */
  lambda: number;
  /** The optimizer step where the ramp begins; default 0. */
  start?: number | undefined;
  /** The step where it reaches lambda; default 0 (lambda from `start` on). */
  end?: number | undefined;
}

interface Tensor {
  readonly layer: number;
  readonly spec: ParamSpec;
  readonly size: number;
  /** Offset in floats from the start of each state region. */
  readonly offset: number;
}

/** Predictions and evaluations run in chunks of at most this many samples. */
export const CHUNK = 4096;
/** Samples as the model reads them: a typed array's own elements (see Model.rowsOf). */
type Rows = Float32Array | Float64Array;
/** Every StagedBatch made: known by identity, which no Proxy or prototype can fake. */
const STAGED = new WeakSet<object>();
const isStaged = (v: unknown): v is StagedBatch => STAGED.has(v as object);
/** The rows of a StagedBatch's call: none to copy or name in an error. */
const NO_ROWS = new Float32Array(0);
/** The largest batch of one gradient or training call. */
export const MAX_BATCH = 1 << 20;

/** A stack of layers applied in order; its memory lives in the engine's linear memory. */
export class Model {
  static {
    Object.freeze(this.prototype); // the methods the library calls on its own objects stay its own
  }

  /** The layers' specs, in order, as sequential() took them. */
  readonly layers: readonly LayerSpec[];
  /** Values per sample going in: the first layer's inputs. */
  readonly inputs: number;
  /** Values per sample coming out: the last layer's outputs. */
  readonly outputs: number;
  /** The build the model runs on, chosen by the init() before it was made. */
  readonly backend: Backend;
  private readonly engine: Engine;
  private readonly tensors: readonly Tensor[];
  /** The tensors of each layer (tensors grouped by layer, in order). */
  private readonly layerTensors: ReadonlyArray<readonly Tensor[]>;
  private readonly nParam: number;
  private readonly allowNonFinite: boolean;
  private readonly regularizer: ResolvedRegularizer | undefined;
  // What changes over the model's life, in private fields: no code outside the class can write them.
  #owned: Owned; // the model's blocks of linear memory (each staged batch owns its own)
  #state: number; // byte address of the parameter region
  #workRaw = 0;
  #desc = 0; // byte address of the descriptor
  #capacity = 0;
  #binding: { optimizer: Optimizer; step: number } | undefined;
  #disposed = false;
  /**
   * The batches staged by this model and not yet freed, by record address: each held weakly (one
   * dropped without dispose() is freed by the collector) with the blocks it owns.
   */
  readonly #staged = new Map<number, { batch: { deref(): StagedBatch | undefined }; owned: Owned }>();

  /** What sequential(layers, options) does: a model on the engine of the last init(). */
  constructor(layers: readonly LayerSpec[], options: SequentialOptions = {}) {
    const n = Array.isArray(layers) ? layers.length : 0; // each layer is read once (a Proxy or a getter cannot swap one)
    if (n === 0) fail(`sequential: layers must be a non-empty array of layers, got ${describe(layers)}`);
    if (n > MAX_LAYERS) fail(`sequential: ${n} layers, more than the ${MAX_LAYERS} a model may have`);
    const o = checkOptions<SequentialOptions>('sequential', options, ['seed', 'init', 'allowNonFinite', 'regularizer']);
    checkBool('sequential: allowNonFinite', o.allowNonFinite);
    const seed = o.seed === undefined ? 0 : checkInt('sequential: seed', o.seed, 0, 0xffffffff);
    checkInitScheme('sequential: ', o.init);
    this.regularizer = checkRegularizer('sequential', o.regularizer);
    const specs: LayerSpec[] = [];
    for (let k = 0; k < n; k++) {
      if (!(k in layers)) fail(`sequential: layers has a hole at index ${k} (an array of ${n} with no layer there)`);
      let spec: LayerSpec;
      try {
        spec = layerFromSpec(layers[k]);
      } catch (err) {
        prefixed(`sequential: layer ${k}`, err);
      }
      specs.push(o.init && spec.options.init === undefined && takesInit(spec.type)
        ? layerFromSpec({ ...spec, options: { ...spec.options, init: o.init } })
        : spec);
    }
    this.layers = Object.freeze(specs);
    for (let k = 1; k < this.layers.length; k++) {
      if (this.layers[k]!.inputs !== this.layers[k - 1]!.outputs) {
        fail(`sequential: layer ${k} (${this.layers[k]!.type}) has ${this.layers[k]!.inputs} inputs but layer ${k - 1} has ${this.layers[k - 1]!.outputs} outputs`);
      }
    }
    this.inputs = this.layers[0]!.inputs;
    this.outputs = this.layers[this.layers.length - 1]!.outputs;
    this.allowNonFinite = o.allowNonFinite === true;

    let offset = 0;
    // frozen, as everything the sizes and offsets of the module's memory are read from
    this.layerTensors = Object.freeze(this.layers.map((spec, layer) => Object.freeze(layerKind(spec.type).params(spec).map((p) => {
      const size = p.rows * p.cols;
      const t = Object.freeze({ layer, spec: Object.freeze(p), size, offset });
      offset += round4(size);
      return t;
    }))));
    this.tensors = Object.freeze(this.layerTensors.flat());
    this.nParam = offset;
    this.engine = currentEngine('sequential');
    this.backend = this.engine.backend;
    const [stateRaw, state] = this.engine.alloc('sequential', 4 * 4 * this.nParam);
    this.#owned = new Owned(this.engine, this);
    this.#owned.add(stateRaw);
    this.#state = state;

    const rng = new Rng(seed);
    const f32 = this.engine.f32;
    for (const t of this.tensors) {
      const values = new Float32Array(t.size);
      t.spec.init(rng, values);
      f32.set(values, (this.#state >>> 2) + t.offset);
    }
    try {
      this.ensureCapacity('sequential', 1);
    } catch (err) {
      this.#owned.release();
      throw err;
    }
    lockFields(this, ['layers', 'inputs', 'outputs', 'backend', 'engine', 'tensors', 'layerTensors', 'nParam', 'allowNonFinite', 'regularizer']);
  }

  // ---- memory ----------------------------------------------------------------------------

  private region(k: number): number {
    return this.#state + k * 4 * this.nParam;
  }

  /** (Re)allocates the work block for batches of up to `batch` samples. */
  private ensureCapacity(what: string, batch: number): void {
    if (batch <= this.#capacity) return;
    // Doubling spares a reallocation for each slightly larger batch; where the doubled block is
    // too large or memory lacks room for it, the batch's own size may still fit.
    const exact = round4(batch);
    const doubled = this.#capacity * 2 <= MAX_BATCH ? round4(Math.max(batch, this.#capacity * 2)) : exact;
    if (doubled > exact) {
      const work = this.workPlan(doubled);
      if (work.bytes <= MAX_BLOCK) {
        try {
          return this.allocWork(what, doubled, work);
        } catch (err) {
          if (!(err instanceof NaluError)) throw err;
        }
      }
    }
    const work = this.workPlan(exact);
    if (work.bytes > MAX_BLOCK) {
      fail(`${what}: a batch of ${batch} needs ${work.bytes} bytes of work memory for this model, more than the ${MAX_BLOCK} a block may use: use smaller batches`);
    }
    this.allocWork(what, exact, work);
  }

  /** Where each work buffer of a block for `cap` samples goes: [layer or -1, field, floats], and the block's bytes. */
  private workPlan(cap: number): { plan: Array<[number, number, number]>; descBytes: number; bytes: number } {
    const lay = this.engine.layout;
    const n = this.layers.length;
    const ld = cap;
    const plan: Array<[number, number, number]> = []; // [layer or -1, field, floats]
    const last = this.layers[n - 1]!;
    plan.push([-1, lay.H_XROW, cap * this.inputs], [-1, lay.H_TROW, cap * this.outputs],
      [-1, lay.H_YROW, cap * this.outputs], [-1, lay.H_X, this.inputs * ld],
      [-1, lay.H_T, last.outputs * ld], [-1, lay.H_DY, last.outputs * ld]);
    this.layers.forEach((s, k) => {
      const io = s.inputs * s.outputs;
      // the NPU's stacked weights are [2 in, 2 out]; both NPUs keep [l; k] and [dl; dk] ([2 in, ld])
      const npuLike = s.type === 'npu' || s.type === 'realNpu';
      const wide = s.type === 'npu' ? 2 : 1;
      plan.push([k, lay.L_Y, s.outputs * ld], [k, lay.L_E, 2 * wide * io], [k, lay.L_DE, 2 * wide * io], [k, lay.L_TMP, io],
        [k, lay.L_A, 2 * s.outputs * ld], [k, lay.L_T, 2 * s.outputs * ld], [k, lay.L_T3, (npuLike ? 2 : 1) * s.inputs * ld]);
      // the weight transforms' tanh and exp for their backward: W_hat, M_hat (and the second pair)
      const cache = 2 * round4(io);
      if (s.type === 'nac' || s.type === 'nacMul' || s.type === 'nalu' || s.type === 'inalu') plan.push([k, lay.L_WC, cache]);
      if (s.type === 'inalu') {
        plan.push([k, lay.L_LOG, s.inputs * ld], [k, lay.L_M, s.outputs * ld], [k, lay.L_T2, s.outputs * ld],
          [k, lay.L_EM, io], [k, lay.L_DEM, io], [k, lay.L_WCM, cache]);
      }
      if (npuLike) plan.push([k, lay.L_LOG, 2 * s.inputs * ld], [k, lay.L_M, s.outputs * ld]);
      if (k > 0) plan.push([k, lay.L_DX, s.inputs * ld]);
      if (s.type === 'nacMul' || s.type === 'nalu' || s.type === 'nmu') plan.push([k, lay.L_LOG, s.inputs * ld]);
      if (s.type === 'nalu' || s.type === 'nmu') plan.push([k, lay.L_T2, s.outputs * ld]);
      if (s.type === 'nalu') {
        plan.push([k, lay.L_M, s.outputs * ld]);
        if (!s.options.sharedWeights) plan.push([k, lay.L_EM, io], [k, lay.L_DEM, io], [k, lay.L_WCM, cache]);
      }
    });
    const descBytes = round4(lay.H_WORDS + n * lay.L_WORDS) * 4;
    let bytes = descBytes;
    for (const p of plan) bytes += round4(p[2]) * 4;
    return { plan, descBytes, bytes };
  }

  /** Replaces the work block with `work`'s, for `cap` samples (a NaluError, and the old block kept, where memory lacks room). */
  private allocWork(what: string, cap: number, work: ReturnType<Model['workPlan']>): void {
    const { plan, descBytes, bytes } = work;
    const lay = this.engine.layout;
    const n = this.layers.length;
    const [raw, base] = this.engine.alloc(what, bytes);
    this.#owned.free(this.#workRaw);
    this.#workRaw = this.#owned.add(raw);
    this.#desc = base;
    this.#capacity = cap;

    const i32 = this.engine.i32;
    const f32 = this.engine.f32;
    const h = base >>> 2;
    const rec = (k: number) => h + lay.H_WORDS + k * lay.L_WORDS;
    let at = base + descBytes;
    for (const [k, field, floats] of plan) {
      i32[(k < 0 ? h : rec(k)) + field] = at;
      at += round4(floats) * 4;
    }
    i32[h + lay.H_NLAYERS] = n;
    i32[h + lay.H_NPARAM] = this.nParam;
    i32[h + lay.H_PARAMS] = this.region(0);
    i32[h + lay.H_GRADS] = this.region(1);
    i32[h + lay.H_MOM1] = this.region(2);
    i32[h + lay.H_MOM2] = this.region(3);
    i32[h + lay.H_WVALID] = 0;
    i32[h + lay.H_OPTIONS] = this.allowNonFinite ? lay.O_ALLOW_NONFINITE : 0;
    this.layers.forEach((s, k) => {
      const r = rec(k);
      const kind = layerKind(s.type);
      i32[r + lay.L_TYPE] = kind.code;
      i32[r + lay.L_IN] = s.inputs;
      i32[r + lay.L_OUT] = s.outputs;
      i32[r + lay.L_FLAGS] = kind.flags(s);
      i32[r + lay.L_ACT] = kind.activation?.(s) ?? 0;
      f32[r + lay.L_EPS] = (s.options.eps as number | undefined) ?? 0;
      f32[r + lay.L_OMEGA] = (s.options.omega as number | undefined) ?? 0;
      i32[r + lay.L_X] = k === 0 ? i32[h + lay.H_X]! : i32[rec(k - 1) + lay.L_Y]!;
      i32[r + lay.L_DY] = k === n - 1 ? i32[h + lay.H_DY]! : 0;
      if (k > 0) i32[rec(k - 1) + lay.L_DY] = i32[r + lay.L_DX]!;
      this.layerTensors[k]!.forEach((t, j) => {
        i32[r + lay.L_P + j] = this.region(0) + 4 * t.offset;
        i32[r + lay.L_G + j] = this.region(1) + 4 * t.offset;
      });
    });
  }

  // ---- argument checks -------------------------------------------------------------------

  /** Throws unless `self` is a model (a method may be called off its model) that is not disposed. */
  static #live(self: unknown, what: string): void {
    if (asModel(what, self).#disposed) fail(`${what}: this model has been disposed`);
  }

  /**
   * `data` as a typed array: itself, or a Float64Array of a number[]'s values, each read once.
   * Reading an array may run its getters (or a Proxy's traps): the model must still be live after.
   */
  private rowsOf(what: string, name: string, data: unknown): Rows {
    if (isFloatArray(data)) return data;
    if (!Array.isArray(data)) fail(forgery(what, data) ?? `${what}: ${name} must be a Float32Array (or Float64Array or number[]), got ${describe(data)}`);
    const rows = numbersOf(`${what}: ${name}`, data);
    Model.#live(this, what);
    return rows;
  }

  /** The batch size of `data` holding rows of `width` numbers; validates everything. */
  private batchOf(what: string, name: string, data: Rows, width: number, batch: number | undefined, max: number): number {
    const len = lengthOf(data); // what f32.set copies, whatever its length property says
    if (batch === undefined) {
      if (len === 0 || len % width !== 0) {
        fail(`${what}: ${name} has ${len} values, not a positive multiple of ${width} (the model's ${name === 'x' ? 'inputs' : 'outputs'})`);
      }
      batch = len / width;
    } else {
      checkInt(`${what}: batch`, batch, 1, max);
      if (len !== batch * width) {
        fail(`${what}: ${name} has ${len} values but batch ${batch} x ${width} ${name === 'x' ? 'inputs' : 'outputs'} needs ${batch * width}`);
      }
    }
    if (batch > max) fail(`${what}: batch ${batch} is larger than ${max}; split it`);
    return batch;
  }

  /** The 32-bit word `field` of the model's descriptor header (H_*). */
  private header(field: number): number {
    return this.engine.i32[(this.#desc >>> 2) + field]!;
  }

  /** Throws the error that the module's status after a call describes. */
  private checkStatus(what: string, x: ArrayLike<number>, target: ArrayLike<number> | undefined, first: number): void {
    const lay = this.engine.layout;
    const status = this.header(lay.H_STATUS);
    if (status === lay.S_OK) return;
    const arg = this.header(lay.H_STATUS_ARG);
    if (status === lay.S_X_NONFINITE || status === lay.S_T_NONFINITE) {
      const isX = status === lay.S_X_NONFINITE;
      const width = isX ? this.inputs : this.outputs;
      const index = first * width + arg;
      const value = (isX ? x : target!)[index];
      fail(`${what}: ${isX ? 'x' : 'target'} holds ${value} at index ${index} (sample ${Math.floor(index / width)}, ${isX ? 'input' : 'output'} ${index % width}); ${isX ? 'inputs' : 'targets'} must be finite${inF32(value)}`);
    }
    const notUpdated = 'the parameters were not updated (pass allowNonFinite to sequential() to update anyway)';
    if (status === lay.S_LOSS_NONFINITE) throw new NonFiniteStepError(`${what}: the loss is not finite; ${notUpdated}`);
    if (status === lay.S_GRAD_NONFINITE || status === lay.S_UPDATE_NONFINITE) {
      const t = this.tensors.find((t) => arg >= t.offset && arg < t.offset + round4(t.size));
      const where = t ? `${t.spec.name} of layer ${t.layer} at index ${arg - t.offset}` : `index ${arg}`;
      throw new NonFiniteStepError(status === lay.S_GRAD_NONFINITE ? `${what}: the gradient of ${where} is not finite; ${notUpdated}`
        : `${what}: the update of ${where} is not finite in f32 (a new value or optimizer moment overflows: lower the learning rate, set clipValue or start a new optimizer); ${notUpdated}`);
    }
    if (status === lay.S_THREAD_FAILED) {
      const said = this.engine.threadReport(arg);
      fail(`${what}: worker thread ${arg} of the module failed during the call${said ? ` (${said})` : ''}; ` +
        'its results were dropped and the parameters not updated. ' +
        'The module runs on one thread from now on (same results); call again');
    }
    fail(`${what}: the module reported status ${status}`);
  }

  /** Writes rows [first, first + batch) of `data` into a staging buffer. */
  private stage(field: number, data: Rows, width: number, first: number, batch: number): void {
    const lo = first * width, n = batch * width;
    this.engine.f32.set(lo === 0 && n === lengthOf(data) ? data : windowOf(data, lo, n), this.header(field) >>> 2);
  }

  // ---- the public surface ------------------------------------------------------------------

  /**
   * y = model(x); x is [batch, inputs] row-major; returns [batch, outputs]. With `out` (a
   * Float32Array of exactly batch * outputs values, not overlapping x) the predictions are
   * written there and `out` is returned: no allocation per call (but for more than 4,096
   * samples in x and out that are both on SharedArrayBuffers). If x holds a NaN or an
   * infinity, predict throws; with a batch larger than one work block (4,096 samples), out
   * may then hold the predictions of the blocks before the bad one. x may also be a
   * StagedBatch of this model (leave batch out): its samples are not copied, checked or
   * transposed again, nor their log recomputed (for a validation set predicted many times).
   */
  predict(x: Numbers | StagedBatch, batch?: number, out?: undefined): Float32Array<ArrayBuffer>;
  /** predict() into `out` (see above), which it returns. */
  predict<T extends Float32Array>(x: Numbers | StagedBatch, batch: number | undefined, out: T): T;
  /** predict() into `out` when given (an optional out). */
  predict(x: Numbers | StagedBatch, batch?: number, out?: Float32Array): Float32Array;
  predict(x: Numbers | StagedBatch, batch?: number, out?: Float32Array): Float32Array {
    Model.#live(this, 'predict');
    const staged = isStaged(x) ? x : undefined;
    const rows = staged ? NO_ROWS : this.rowsOf('predict', 'x', x);
    if (staged) this.checkStaged('predict', staged, batch);
    const b = staged ? staged.batch : this.batchOf('predict', 'x', rows, this.inputs, batch, Number.MAX_SAFE_INTEGER);
    const outF32 = typedKind(out) === 'Float32Array';
    if (out !== undefined && (!outF32 || lengthOf(out) !== b * this.outputs)) {
      const n = b * this.outputs, s = (k: number) => (k === 1 ? '' : 's');
      fail(`predict: out must be a Float32Array of ${n} value${s(n)} (batch ${b} x ${this.outputs} output${s(this.outputs)}), got ${outF32 ? `one of ${lengthOf(out)}` : describe(out)}`);
    }
    // Two SharedArrayBuffer objects may hold the same memory (a structuredClone's, a worker's):
    // no identity tells, so such an out is filled only once every chunk of x has been read.
    let aliased = false;
    if (out && rows === x) { // (a copy of a number[] overlaps nothing)
      const [xBuffer, xStart, xEnd] = bytesOf(rows), [outBuffer, outStart, outEnd] = bytesOf(out);
      if (xBuffer === outBuffer && xStart < outEnd && outStart < xEnd) fail('predict: out must not overlap x');
      aliased = xBuffer !== outBuffer && !isArrayBuffer(xBuffer) && !isArrayBuffer(outBuffer); // (so SharedArrayBuffers)
    }
    const lay = this.engine.layout;
    if (staged || b <= this.#capacity) {
      // One chunk that fits the work block: the short path of small-batch inference.
      const h = this.#desc >>> 2;
      try {
        if (staged) this.engine.ex.modelPredictBatch(this.#desc, staged.ptr, b);
        else {
          this.engine.f32.set(rows, this.engine.i32[h + lay.H_XROW]! >>> 2);
          this.engine.ex.modelPredict(this.#desc, b);
        }
      } catch (err) {
        this.callFailed('predict', err);
      }
      const i32 = this.engine.i32;
      if (i32[h + lay.H_STATUS] !== lay.S_OK) this.checkStatus('predict', rows, undefined, 0);
      const y = i32[h + lay.H_YROW]! >>> 2;
      const n = b * this.outputs, f32 = this.engine.f32;
      if (n > 16) return out ? (copyInto(out, f32.subarray(y, y + n)), out) : f32.slice(y, y + n);
      // a few values: copied one by one into a new array (cheaper than slice in V8 and JSC)
      const result = out ?? new Float32Array(n);
      for (let i = 0; i < n; i++) result[i] = f32[y + i]!;
      return result;
    }
    const result = out && !aliased ? out : new Float32Array(b * this.outputs);
    for (let first = 0; first < b; first += CHUNK) {
      const n = Math.min(CHUNK, b - first);
      this.ensureCapacity('predict', n);
      this.stage(lay.H_XROW, rows, this.inputs, first, n);
      try {
        this.engine.ex.modelPredict(this.#desc, n);
      } catch (err) {
        this.callFailed('predict', err);
      }
      this.checkStatus('predict', rows, undefined, first);
      const y = this.header(lay.H_YROW) >>> 2;
      copyInto(result, this.engine.f32.subarray(y, y + n * this.outputs), first * this.outputs);
    }
    return out && aliased ? (copyInto(out, result), out) : result;
  }

  /**
   * The mean squared error of the predictions for x against target, computed in f64; or of a
   * StagedBatch of this model against the target staged with it (pass it alone).
   */
  evaluate(staged: StagedBatch): number;
  /** The mean squared error of the predictions for x ([batch, inputs]) against target ([batch, outputs]). */
  evaluate(x: Numbers, target: Numbers, batch?: number): number;
  evaluate(x: Numbers | StagedBatch, target?: Numbers, batch?: number): number {
    Model.#live(this, 'evaluate');
    if (isStaged(x)) {
      if (target !== undefined) fail('evaluate: a StagedBatch holds its own target; pass it alone');
      this.checkStaged('evaluate', x, batch);
      let sse: number;
      try {
        sse = this.engine.ex.modelEvaluateBatch(this.#desc, x.ptr, x.batch);
      } catch (err) {
        this.callFailed('evaluate', err);
      }
      this.checkStatus('evaluate', [], undefined, 0);
      return sse / (x.batch * this.outputs);
    }
    return this.evaluateAs('evaluate', x, target, batch)[0];
  }

  /**
   * For fit() (internal): evaluate(x, target, batch) under the name `what`; also returns the
   * batch size and x and target as read (each read once).
   * @internal
   */
  evaluateAs(what: string, x: unknown, target: unknown, batch?: number): [number, number, Rows, Rows] {
    const [b, xs, ts] = this.rowsAndTargets(what, x, target, batch, Number.MAX_SAFE_INTEGER);
    const lay = this.engine.layout;
    let sum = 0;
    for (let first = 0; first < b; first += CHUNK) {
      const n = Math.min(CHUNK, b - first);
      this.ensureCapacity(what, n);
      this.stage(lay.H_XROW, xs, this.inputs, first, n);
      this.stage(lay.H_TROW, ts, this.outputs, first, n);
      try {
        sum += this.engine.ex.modelEvaluate(this.#desc, n);
      } catch (err) {
        this.callFailed(what, err);
      }
      this.checkStatus(what, xs, ts, first);
    }
    return [sum / (b * this.outputs), b, xs, ts];
  }

  /** The batch size of x and target, checked, and both as typed arrays (see rowsOf). */
  private rowsAndTargets(what: string, x: unknown, target: unknown, batch: number | undefined, max: number): [number, Rows, Rows] {
    // both read before either is measured: reading target may run code that changes x
    const xs = this.rowsOf(what, 'x', x), ts = this.rowsOf(what, 'target', target);
    const b = this.batchOf(what, 'x', xs, this.inputs, batch, max);
    this.batchOf(what, 'target', ts, this.outputs, b, max);
    return [b, xs, ts];
  }

  /** Checks x and target and copies them into the module's staging buffers. */
  private run(what: string, x: Numbers, target: Numbers, batch: number | undefined): [number, Rows, Rows] {
    const [b, xs, ts] = this.rowsAndTargets(what, x, target, batch, MAX_BATCH);
    this.ensureCapacity(what, b);
    const lay = this.engine.layout;
    this.stage(lay.H_XROW, xs, this.inputs, 0, b);
    this.stage(lay.H_TROW, ts, this.outputs, 0, b);
    return [b, xs, ts];
  }

  /**
   * The loss (the mean squared error, as trainStep returns it) and the gradient of every
   * parameter (copies, named as in getWeights): what trainStep with the model's optimizer would
   * apply now (before its clipValue clips them), so with a regulariser they include lambda_t
   * times its gradient at t = step + 1.
   */
  gradients(x: Numbers, target: Numbers, batch?: number): { loss: number; grads: Weights } {
    Model.#live(this, 'gradients');
    const [b, xs, ts] = this.run('gradients', x, target, batch);
    this.engine.f32[(this.#desc >>> 2) + this.engine.layout.H_LAMBDA] = scheduledLambda(this.regularizer, this.step + 1);
    let loss: number;
    try {
      loss = this.engine.ex.modelGradients(this.#desc, b);
    } catch (err) {
      this.callFailed('gradients', err);
    }
    this.checkStatus('gradients', xs, ts, 0);
    return { loss, grads: this.readRegion(1) };
  }

  /**
   * Trains on a fixed data set (x [n, inputs], target [n, outputs]) for `epochs` passes of
   * minibatches, in a new order every epoch (see FitOptions); returns each epoch's training loss
   * and validation error. The options and the data are checked before the first step; a refused
   * step (NonFiniteStepError) ends the fit with that error, the steps before it kept.
   */
  fit(x: Numbers, target: Numbers, options: FitOptionsWithValidation): FitResult;
  fit(x: Numbers, target: Numbers, options?: FitOptions): FitResult;
  fit(x: Numbers, target: Numbers, options?: FitOptions | FitOptionsWithValidation): FitResult;
  fit(x: Numbers, target: Numbers, options?: FitOptions | FitOptionsWithValidation): FitResult {
    Model.#live(this, 'fit');
    return fitModel(this, x, target, options as FitOptions); // (onEpoch is told validationLoss whenever there is a validation set)
  }

  /** One step of `optimizer` on the batch; returns the loss before the update. */
  trainStep(x: Numbers, target: Numbers, optimizer: Optimizer, batch?: number): number {
    return Model.#trainStep(this, 'trainStep', x, target, optimizer, batch);
  }

  /**
   * For fit() (internal): trainStep under the name `what`, which its errors give.
   * @internal
   */
  trainStepAs(what: string, x: Numbers, target: Numbers, optimizer: Optimizer, batch?: number): number {
    return Model.#trainStep(this, what, x, target, optimizer, batch);
  }

  /** trainStep's work, on `self` checked first (a method may be called off its model). */
  static #trainStep(self: unknown, what: string, x: Numbers, target: Numbers, optimizer: Optimizer, batch: number | undefined): number {
    Model.#live(self, what);
    const m = self as Model;
    m.checkOptimizer(what, optimizer);
    const [b, xs, ts] = m.run(what, x, target, batch);
    return m.optimize(what, optimizer, xs, ts, (opt, lr, b1, b2, eps, step, bc2) =>
      m.engine.ex.modelTrainStep(m.#desc, b, opt, lr, b1, b2, eps, step, bc2));
  }

  /**
   * Checks x and target and lays them out inside the module once, for any number of training
   * steps (trainStepOn): each step then skips copying, checking and transposing the batch and,
   * when the first layer has a log path (nalu, nacMul), computing log(|x| + eps). The batch
   * holds a copy (later changes to x do not reach it) and memory of 2 to 3 times x's size until
   * its dispose() or the model's.
   */
  stageBatch(x: Numbers, target: Numbers, batch?: number): StagedBatch {
    Model.#live(this, 'stageBatch');
    const [b, xs, ts] = this.run('stageBatch', x, target, batch);
    const ld = round4(b);
    const logged = this.engine.ex.modelInputLogged(this.#desc) !== 0;
    const xBytes = this.inputs * ld * 4;
    const [raw, rec] = this.engine.alloc('stageBatch', 16 + xBytes * (logged ? 2 : 1) + this.outputs * ld * 4);
    const w = rec >>> 2, i32 = this.engine.i32;
    i32[w] = rec + 16;
    i32[w + 1] = logged ? rec + 16 + xBytes : 0;
    i32[w + 2] = rec + 16 + xBytes * (logged ? 2 : 1);
    this.engine.ex.modelStageBatch(this.#desc, rec, b);
    try {
      this.checkStatus('stageBatch', xs, ts, 0);
    } catch (err) {
      this.engine.free(raw);
      throw err;
    }
    staging = true;
    let staged: StagedBatch;
    try {
      staged = new (StagedBatch as unknown as StagedBatchMaker)(this, b, rec);
    } finally {
      staging = false;
    }
    const held = this.#staged;
    const owned = new Owned(this.engine, staged, () => held.delete(rec));
    owned.add(raw);
    held.set(rec, { batch: weakly(staged), owned });
    return staged;
  }

  /**
   * One step of `optimizer` on a batch that lives in the module; returns the loss before the
   * update. `source` is either a StagedBatch of this model (the same samples every time) or a
   * task's sampler (for example `staticTask({ op: 'add' }).trainSampler()`), which draws a fresh
   * batch of `batch` samples (default 128) inside the module for every step.
   */
  trainStepOn(source: Sampler | StagedBatch, optimizer: Optimizer, batch?: number): number {
    Model.#live(this, 'trainStepOn');
    if (isStaged(source)) return this.trainOnStaged(source, optimizer, batch);
    if (!isSampler(source)) {
      fail(forgery('trainStepOn', source) ?? `trainStepOn: source must be a task's trainSampler() or a StagedBatch from stageBatch(), got ${describe(source)}`);
    }
    const sampler = source;
    if (sampler.isDisposed) fail('trainStepOn: the sampler has been disposed');
    if (sampler.engine !== this.engine) fail('trainStepOn: the sampler and the model were made by different init() calls (engines)');
    if (sampler.config.inputs !== this.inputs || this.outputs !== 1) {
      fail(`trainStepOn: the task has ${sampler.config.inputs} inputs and 1 output, the model ${this.inputs} and ${this.outputs}`);
    }
    this.checkOptimizer('trainStepOn', optimizer);
    const b = batch === undefined ? 128 : checkInt('trainStepOn: batch', batch, 1, MAX_BATCH);
    this.ensureCapacity('trainStepOn', b);
    const scratch = sampler.scratch(2 * round4(b));
    return this.optimize('trainStepOn', optimizer, [], [], (opt, lr, b1, b2, eps, step, bc2) =>
      this.engine.ex.modelTrainTask(this.#desc, sampler.ptr, scratch, b, opt, lr, b1, b2, eps, step, bc2));
  }

  /** Throws unless `staged` is a live batch of this model (of `batch` samples when given); makes room for it. */
  private checkStaged(what: string, staged: StagedBatch, batch: number | undefined): void {
    if (staged.model !== this) fail(`${what}: this StagedBatch was staged by another model`);
    if (staged.isDisposed) fail(`${what}: the StagedBatch has been disposed`);
    // one this model does not hold (its address is trusted only while the model holds it)
    if (this.#staged.get(staged.ptr)?.batch.deref() !== staged) fail(`${what}: this StagedBatch was not made by the model's stageBatch`);
    if (batch !== undefined && batch !== staged.batch) {
      fail(`${what}: the StagedBatch holds ${staged.batch} samples, got batch ${describe(batch)} (leave batch out)`);
    }
    this.ensureCapacity(what, staged.batch);
  }

  private trainOnStaged(staged: StagedBatch, optimizer: Optimizer, batch: number | undefined): number {
    this.checkStaged('trainStepOn', staged, batch);
    this.checkOptimizer('trainStepOn', optimizer);
    return this.optimize('trainStepOn', optimizer, [], [], (opt, lr, b1, b2, eps, step, bc2) =>
      this.engine.ex.modelTrainBatch(this.#desc, staged.ptr, staged.batch, opt, lr, b1, b2, eps, step, bc2));
  }

  /** @internal Frees a staged batch's memory (StagedBatch.dispose). */
  releaseBatch(staged: StagedBatch): void {
    const held = this.#staged.get(staged.ptr);
    if (held?.batch.deref() === staged) held.owned.release();
  }

  /** The optimizer of a state copied by structuredClone or JSON: a new one with its settings. */
  private optimizerOfCopy(what: string, o: unknown): Optimizer {
    // not an optimizer's copy either: checkOptimizer throws its usual error
    if (o === null || typeof o !== 'object' || !('kind' in o)) this.checkOptimizer(what, o as Optimizer);
    const { kind, ...settings } = o as Record<string, unknown>;
    try {
      return optimizerFromSettings(kind, settings);
    } catch (err) {
      fail(`${what}: optimizer: ${(err as Error).message}`);
    }
  }

  private checkOptimizer(what: string, optimizer: Optimizer): void {
    if (!isOptimizer(optimizer)) fail(`${what}: optimizer must come from adam(), sgd() or rmsprop(), got ${describe(optimizer)}`);
  }

  /** Runs one update through `call` with the optimizer's scalars for the next step. */
  private optimize(what: string, o: Optimizer, x: ArrayLike<number>, target: ArrayLike<number>,
    call: (opt: number, lr: number, b1: number, b2: number, eps: number, stepSize: number, bc2sqrt: number) => number): number {
    // A model keeps the state of one optimizer: switching starts that optimizer afresh, and
    // a failed first step (refused, or thrown from inside the module) restores the previous
    // optimizer's moments.
    const switching = this.#binding?.optimizer !== o;
    if (!switching && this.#binding!.step >= Number.MAX_SAFE_INTEGER) {
      fail(`${what}: the optimizer has taken ${this.#binding!.step} steps, as many as a model counts (2^53 - 1); restore a state with fewer (restoreOptimizer) or pass a new optimizer`);
    }
    const moments = this.region(2) >>> 2;
    const previous = switching && this.#binding ? this.engine.f32.slice(moments, moments + 2 * this.nParam) : undefined;
    if (switching) this.engine.f32.fill(0, moments, moments + 2 * this.nParam);
    const t = switching ? 1 : this.#binding!.step + 1;
    const lay = this.engine.layout;
    const h = this.#desc >>> 2;
    this.engine.f32[h + lay.H_LAMBDA] = scheduledLambda(this.regularizer, t); // the model is live here
    this.engine.f32[h + lay.H_CLIP] = o.clipValue;
    let loss: number;
    try {
      loss = o.kind === 'adam'
        ? call(lay.OPT_ADAM, o.learningRate, o.beta1, o.beta2, o.epsilon, o.learningRate / (1 - o.beta1 ** t), Math.sqrt(1 - o.beta2 ** t))
        : o.kind === 'rmsprop'
          ? call(lay.OPT_RMSPROP, o.learningRate, 0, o.beta2, o.epsilon, 0, 0)
          : call(lay.OPT_SGD, o.learningRate, 0, 0, 0, 0, 0);
      this.checkStatus(what, x, target, 0);
    } catch (err) {
      if (previous) this.engine.f32.set(previous, moments);
      this.callFailed(what, err);
    }
    this.#binding = { optimizer: o, step: t };
    return loss;
  }

  /**
   * Rethrows what a call into the module (or the checks after it) threw, once the model has taken
   * its own buffers back from a staged batch it was using (a call stopped halfway leaves them
   * exchanged). The allocator traps with `unreachable` when linear memory runs out, which inside a
   * call only a matrix product growing its scratch buffers can meet: that becomes a NaluError, and
   * the parameters and the optimizer's state are untouched (a step changes them after its last
   * product). Any other trap or abort is a fault of the module and is rethrown as it is.
   */
  private callFailed(what: string, err: unknown): never {
    this.engine.ex.modelRecover(this.#desc);
    // "unreachable" (V8), "unreachable executed" (SpiderMonkey), "Unreachable code should not be executed" (JavaScriptCore)
    if (!(err instanceof WebAssembly.RuntimeError) || !/unreachable/i.test(err.message)) throw err;
    const mib = Math.round(this.engine.ex.memory.buffer.byteLength / 2 ** 20);
    fail(`${what}: the Wasm module stopped during the call (${err.message}) with ${mib} MiB of linear memory in use: ` +
      'most likely out of memory; the model is as it was. Dispose of the models and staged batches you no longer need, or use smaller batches');
  }

  /** The regulariser's weight at optimizer step t (see SequentialOptions.regularizer). */
  lambdaAt(t: number): number {
    Model.#live(this, 'lambdaAt');
    return scheduledLambda(this.regularizer, checkNumber('lambdaAt: t', t, 0, Number.MAX_SAFE_INTEGER, true));
  }

  /** @internal True for a model sequential() or load() made (not an object made from its prototype). */
  static isModel(v: unknown): v is Model {
    return typeof v === 'object' && v !== null && #desc in v;
  }

  /** @internal the byte address of the model's descriptor in linear memory */
  get descriptor(): number {
    return this.#desc;
  }

  /** The number of optimizer steps taken with the current optimizer. */
  get step(): number {
    return this.#binding?.step ?? 0;
  }

  /** The optimizer the model trains with now (the last one passed to a training call). */
  get optimizer(): Optimizer | undefined {
    return this.#binding?.optimizer;
  }

  /** The model's options, as given to sequential() with defaults filled in (for saving). */
  get options(): { allowNonFinite: boolean; regularizer?: ResolvedRegularizer } {
    return { allowNonFinite: this.allowNonFinite, ...(this.regularizer ? { regularizer: { ...this.regularizer } } : {}) };
  }

  /**
   * The optimizer's state: its step count and first and second moments (copies, laid out as
   * getWeights), or undefined before the first training step.
   */
  optimizerState(): OptimizerState | undefined {
    Model.#live(this, 'optimizerState');
    if (!this.#binding) return undefined;
    return { optimizer: this.#binding.optimizer, step: this.#binding.step, m: this.readRegion(2), v: this.readRegion(3) };
  }

  /**
   * Restores an optimizer's state as optimizerState() returned it (of this model or one of the
   * same layers); a step with `state.optimizer` continues it. A copy of such a state
   * (structuredClone, postMessage, JSON) holds a plain object for the optimizer: a new optimizer
   * with its settings is made, and `model.optimizer` continues it. Fields other than optimizer,
   * step, m and v are refused. Unless the model allows non-finite
   * values, m must be finite and v >= 0 (training keeps them so; a NaN or negative moment would
   * make the next update NaN without an error). An infinite v, as older versions could save, is
   * taken: the next step that uses it is refused.
   */
  restoreOptimizer(state: OptimizerStateInput): void {
    asModel('restoreOptimizer', this).restoreOptimizerAs('restoreOptimizer', state);
  }

  /**
   * For load() and fromJSON() (internal): restoreOptimizer under the name `what`.
   * @internal
   */
  restoreOptimizerAs(what: string, state: OptimizerStateInput): void {
    Model.#live(this, what);
    if (state === null || typeof state !== 'object') fail(`${what}: expected what optimizerState() returns, got ${describe(state)}`);
    for (const key of Object.keys(state)) {
      if (!STATE_FIELDS.includes(key)) fail(`${what}: the state has a field ${describe(key)}; a state holds ${STATE_FIELDS.join(', ')} (the optimizer's settings are its own)`);
    }
    const { step, m, v, optimizer: given } = state; // each read once
    const optimizer = isOptimizer(given) ? given : this.optimizerOfCopy(what, given);
    checkInt(`${what}: step`, step, 0, Number.MAX_SAFE_INTEGER);
    // without allowNonFinite the loop below checks the values, naming both moments
    const values = this.allowNonFinite ? 'f32' : 'any';
    const ms = this.checkWeights(`${what}: m`, m, values), vs = this.checkWeights(`${what}: v`, v, values);
    if (!this.allowNonFinite) {
      this.tensors.forEach((t, j) => {
        const mt = ms[j]!, vt = vs[j]!;
        for (let i = 0; i < t.size; i++) {
          if (!Number.isFinite(Math.fround(mt[i]!)) || !(vt[i]! >= 0)) {
            fail(`${what}: the moments of ${t.spec.name} of layer ${t.layer} (${this.layers[t.layer]!.type}) hold m = ${mt[i]}, v = ${vt[i]} at index ${i}; m must be finite${inF32(mt[i])} and v >= 0`);
          }
        }
      });
    }
    Model.#live(this, what); // reading `state` may have run its getters
    this.writeRegion(2, ms);
    this.writeRegion(3, vs);
    this.#binding = { optimizer, step: Math.abs(step) }; // -0 (JSON's) counts as 0
  }

  /** Writes checkWeights' copies, in this.tensors' order, to region k. */
  private writeRegion(k: number, values: ReadonlyArray<ArrayLike<number>>): void {
    const f32 = this.engine.f32;
    const base = this.region(k) >>> 2;
    this.tensors.forEach((t, j) => f32.set(values[j]!, base + t.offset));
  }

  private readRegion(k: number): Weights {
    const f32 = this.engine.f32;
    const base = this.region(k) >>> 2;
    const out: Weights = this.layers.map(() => ({}));
    for (const t of this.tensors) {
      out[t.layer]![t.spec.name] = f32.slice(base + t.offset, base + t.offset + t.size);
    }
    return out;
  }

  /**
   * Copies of every parameter, per layer, by name (W_hat, M_hat, G, ...): a matrix [inputs, outputs]
   * row-major, a vector (b, G_bias, g) as it is.
   */
  getWeights(): Weights {
    Model.#live(this, 'getWeights');
    return this.readRegion(0);
  }

  /**
   * Replaces every parameter; checks all of them before writing any. Non-finite values are
   * refused unless the model was made with allowNonFinite.
   */
  setWeights(weights: WeightsInput): void {
    asModel('setWeights', this).restoreWeights('setWeights', weights);
  }

  /**
   * setWeights under the name `what` (load() and fromJSON() call it): checks `weights` (see
   * checkWeights), then writes them; the effective weights are recomputed on next use.
   * @internal
   */
  restoreWeights(what: string, weights: WeightsInput): void {
    Model.#live(this, what);
    const values = this.checkWeights(what, weights, this.allowNonFinite ? 'f32' : 'finite');
    Model.#live(this, what); // reading `weights` may have run its getters
    this.writeRegion(0, values);
    this.engine.i32[(this.#desc >>> 2) + this.engine.layout.H_WVALID] = 0;
  }

  /**
   * Checks that `weights` names every parameter of every layer with the right length, and its
   * values: 'finite', every value finite in f32; 'f32', NaN and infinities too, but no finite value
   * beyond f32 (it would become infinity); 'any', none. Returns copies of the parameters, in
   * this.tensors' order, taken before the checks: what is checked is what gets written, even if
   * the caller's arrays change (a getter, a Proxy, another thread's shared memory).
   */
  private checkWeights(what: string, weights: WeightsInput, values: 'finite' | 'f32' | 'any'): Array<ArrayLike<number>> {
    if (!Array.isArray(weights) || weights.length !== this.layers.length) {
      fail(`${what}: expected an array of ${this.layers.length} records (one per layer), got ${describe(weights)}`);
    }
    const records = this.layers.map((_, k) => weights[k]); // each read once
    for (let k = 0; k < this.layers.length; k++) {
      const rec = records[k];
      if (rec === null || typeof rec !== 'object') fail(`${what}: layer ${k} must be a record of named parameters, got ${describe(rec)}`);
      const names = this.layerTensors[k]!.map((t) => t.spec.name);
      for (const name of Object.keys(rec)) {
        if (!names.includes(name)) fail(`${what}: layer ${k} (${this.layers[k]!.type}) has no parameter ${describe(name)} (it has ${names.join(', ')})`);
      }
    }
    return this.tensors.map((t) => {
      const v = records[t.layer]![t.spec.name] as unknown;
      const where = `${what}: ${t.spec.name} of layer ${t.layer} (${this.layers[t.layer]!.type})`;
      if (v === undefined) fail(`${where} is missing`);
      let nums: Rows;
      if (Array.isArray(v)) nums = numbersOf(where, v);
      // the values v holds, read once (its length property may lie), bit for bit (a NaN's payload too)
      else if (isFloatArray(v)) nums = typedKind(v) === 'Float32Array' ? new Float32Array(v) : new Float64Array(v);
      else {
        // JSON.stringify writes a Float32Array as {"0": ..., "1": ...}
        const json = v !== null && typeof v === 'object' && Object.hasOwn(v, '0') ? ' (what JSON.stringify makes of a Float32Array: stringify Array.from(it) instead)' : '';
        fail(`${where} must be a Float32Array, Float64Array or number[], got ${describe(v)}${json}`);
      }
      if (nums.length !== t.size) fail(`${where} has ${nums.length} values, expected ${t.spec.rows} x ${t.spec.cols} = ${t.size}`);
      if (values !== 'any') {
        for (let i = 0; i < nums.length; i++) {
          const x = nums[i]!;
          if (Number.isFinite(Math.fround(x))) continue;
          if (values === 'finite') fail(`${where} holds ${x} at index ${i}; weights must be finite${inF32(x)}`);
          if (Number.isFinite(x)) fail(`${where} holds ${x} at index ${i}, beyond the largest f32 (${F32_MAX}); write Infinity for an infinite value`);
        }
      }
      return nums;
    });
  }

  /**
   * The model in the binary format (README: The binary format), for load(): its options, layers
   * and parameters, and with `{ optimizer: true }` the optimizer's state. Deterministic: the
   * same model gives the same bytes on every build and runtime. The bytes have an ArrayBuffer of
   * their own, so `new Blob([bytes])`, `fetch(url, { body: bytes })` and `crypto.subtle` take them.
   */
  save(options?: SaveOptions): Uint8Array<ArrayBuffer> {
    return saveModel(asModel('save', this), options);
  }

  /** The readable twin of save(), for fromJSON(); JSON.stringify(model) calls it. */
  toJSON(options?: SaveOptions): ModelJSON;
  /** @internal JSON.stringify's call, with the key the model is stored under */
  toJSON(key: string): ModelJSON;
  toJSON(options?: SaveOptions | string): ModelJSON {
    return modelToJSON(asModel('toJSON', this), options);
  }

  /** The number of trainable parameters. */
  get parameterCount(): number {
    return this.tensors.reduce((s, t) => s + t.size, 0);
  }

  /** Releases the model's memory; any later call throws. */
  dispose(): void {
    if (asModel('dispose', this).#disposed) return;
    for (const { batch, owned } of [...this.#staged.values()]) {
      const staged = batch.deref();
      if (staged) staged.dispose();
      else owned.release(); // dropped, and not yet finalized by the collector
    }
    this.#disposed = true;
    this.#owned.release();
  }

  /** True once dispose() has run. */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** The model in one line: its layers, build, size and step (console.log's view too). */
  toString(): string {
    if (!Model.isModel(this)) return Object.prototype.toString.call(this); // (the prototype, say)
    const layers = this.layers.map((l) => `${l.type} ${l.inputs} -> ${l.outputs}`).join(', ');
    return `Model { ${layers}; ${this.backend}, ${this.parameterCount} parameters, step ${this.step}${this.#disposed ? ', disposed' : ''} }`;
  }

  /** @internal console.log's view, not the engine's internals */
  [INSPECT](): string {
    return this.toString();
  }
}

/** Set while Model.stageBatch constructs one: `new StagedBatch()` from elsewhere is refused. */
let staging = false;

/** StagedBatch's private constructor, as Model.stageBatch calls it. */
type StagedBatchMaker = new (model: Model, batch: number, ptr: number) => StagedBatch;

/**
 * A batch laid out inside the module by Model.stageBatch, for training steps with
 * model.trainStepOn(batch, optimizer) and for model.predict(batch). Its model's dispose()
 * disposes it; one dropped without dispose() is freed once the collector finds it unreachable.
 */
export class StagedBatch {
  static {
    Object.freeze(this.prototype); // the methods the library calls on its own objects stay its own
  }

  #disposed = false;

  /** Made by Model.stageBatch only (private to the published types; refused at run time elsewhere). */
  private constructor(
    /** The model that staged it, the only one that can use it. */ readonly model: Model,
    /** The samples it holds. */ readonly batch: number,
    /** @internal byte address of the batch's record */ readonly ptr: number) {
    if (!staging) fail('new StagedBatch(): a staged batch comes from model.stageBatch(x, target)');
    lockFields(this, ['model', 'batch', 'ptr']);
    STAGED.add(this);
  }

  /** Releases the batch's memory; training on or predicting it afterwards throws. */
  dispose(): void {
    if (!isStaged(this)) calledOn('dispose', this, 'batch', 'model.stageBatch()', !((this as unknown) instanceof StagedBatch));
    if (this.#disposed) return;
    this.#disposed = true;
    this.model.releaseBatch(this);
  }

  /** True once dispose() has run, here or on its model. */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** The batch in one line (console.log's view too). */
  toString(): string {
    if (!isStaged(this)) return Object.prototype.toString.call(this);
    return `StagedBatch { ${this.batch} samples${this.#disposed ? ', disposed' : ''} }`;
  }

  /** @internal */
  [INSPECT](): string {
    return this.toString();
  }
}

/**
 * The error for an object made to look like a StagedBatch or a Sampler (from its prototype: its
 * addresses are not trusted), or undefined for anything else.
 */
function forgery(what: string, v: unknown): string | undefined {
  if (v instanceof StagedBatch) return `${what}: this StagedBatch was not made by the model's stageBatch`;
  if (v instanceof Sampler) return `${what}: this sampler was not made by a task's trainSampler()`;
  return undefined;
}

/** `self`, checked to be a Model: a method called on something else (through .call) is refused. */
function asModel(what: string, self: unknown): Model {
  if (!Model.isModel(self)) {
    if (self instanceof Model) fail(`${what}: expected a model made by sequential(), got ${describe(self)}`);
    calledOn(what, self, 'model', 'sequential()', true);
  }
  return self;
}

/**
 * The entries of a plain array as a Float64Array, each read once (a getter or a Proxy cannot
 * change what was checked); throws unless every one is a number.
 */
function numbersOf(what: string, a: readonly unknown[]): Float64Array {
  const n = a.length, out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (typeof v !== 'number') fail(`${what} must hold numbers: index ${i} is ${describe(v)}, not a number${Array.isArray(v) ? ' (rows go one after another in one flat array: pass rows.flat())' : ''}`);
    out[i] = v;
  }
  return out;
}

/** The regulariser's weight at optimizer step t: 0 before start, ramping to lambda at end. */
function scheduledLambda(r: ResolvedRegularizer | undefined, t: number): number {
  if (!r) return 0;
  if (r.end <= r.start) return t >= r.start ? r.lambda : 0;
  return r.lambda * Math.min(1, Math.max(0, (t - r.start) / (r.end - r.start)));
}

/** The regularizer option of sequential() (or of a saved model: `what` is the call), resolved. */
export function checkRegularizer(what: string, r: unknown): ResolvedRegularizer | undefined {
  if (r === undefined) return undefined;
  if (r === null || typeof r !== 'object') fail(`${what}: regularizer must be { lambda, start, end }, got ${describe(r)}`);
  const o = checkKeys(`${what}: regularizer`, r, ['lambda', 'start', 'end']);
  const num = (k: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(`${what}: regularizer.${k} must be a finite number >= 0, got ${describe(v)}`);
    return v;
  };
  const lambda = checkF32(`${what}: regularizer.lambda`, o.lambda, 0, F32_MAX, true); // the module's f32
  return Object.freeze({ lambda, start: num('start', o.start ?? 0), end: num('end', o.end ?? 0) });
}

/** Builds a model from layers applied in order: `sequential([nalu(...), nalu(...)], { seed })`. */
export function sequential(layers: readonly LayerSpec[], options?: SequentialOptions): Model {
  const model = new Model(layers, options);
  // (load() takes any saved model as it was: this is sequential's own check)
  if (model.options.regularizer && !model.layers.some((l) => l.type === 'nau' || l.type === 'nmu')) {
    model.dispose();
    fail(`sequential: regularizer acts on nau and nmu layers, and this model has none (${model.layers.map((l) => l.type).join(', ')})`);
  }
  return model;
}
