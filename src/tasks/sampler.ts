import { calledOn, checkInt, copyInto, describe, F32_MAX, fail, INSPECT, lengthOf, lockFields, typedKind } from '../errors.js';
import { Owned, type Engine } from '../wasm/engine.js';
import { round4 } from '../wasm/layout.js';
import { currentEngine } from '../wasm/init.js';

/** Word layout of a task record: see assembly/tasks.ts. */
const RECORD_BYTES = 128;
/** The words of the record that hold the four generators' state (generator j: words j, 4 + j, 8 + j, 12 + j). */
const STATE_WORD = 16, STATE_WORDS = 16;

export interface TaskConfig {
  /** 0 static arithmetic, 1 identity (assembly/tasks.ts TASK_*). */
  readonly kind: number;
  readonly inputs: number;
  readonly start1: number;
  readonly start2: number;
  readonly subsetSize: number;
  /** Index into OPS. */
  readonly op: number;
}

/** A labelled set: x [n, inputs] as f32, targets in f64 (the metrics use these). */
export interface Dataset {
  /** The inputs, [n, inputs] row-major. */
  readonly x: Float32Array<ArrayBuffer>;
  /** The targets, one per sample, computed in f64 from the f32 inputs. */
  readonly target: Float64Array<ArrayBuffer>;
  /** The number of samples. */
  readonly n: number;
}

/**
 * A task's range [lo, hi]: finite in f32, lo < hi once both are rounded to f32 (the module draws
 * values in f32), and hi - lo finite in f32.
 */
export function checkRange(what: string, r: unknown): readonly [number, number] {
  // the task's own copy, each end read once: a sampler made later reads it
  const range = Array.isArray(r) && r.length === 2 ? Object.freeze([r[0] as unknown, r[1] as unknown]) : [];
  const [a, b] = range;
  if (typeof a !== 'number' || typeof b !== 'number' || !(Math.abs(a) <= F32_MAX && Math.abs(b) <= F32_MAX && a < b)) {
    fail(`${what} must be [lo, hi] with lo < hi, both finite f32 values, got ${describe(r)}`);
  }
  const lo = Math.fround(a), hi = Math.fround(b);
  if (!(lo < hi)) fail(`${what} ${describe(range)} is one value in f32 (${lo}), in which values are drawn: widen it`);
  if (Math.fround(hi - lo) > F32_MAX) fail(`${what} ${describe(range)} is wider than the largest f32 (${F32_MAX}), in which values are drawn`);
  return range as readonly [number, number];
}

/** Mixes a seed and a stream number into an independent 32-bit seed. */
export function streamSeed(seed: number, stream: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(stream + 1, 0x85ebca77)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** The samplers made by tasks: the only objects whose task record address is trusted. */
const made = new WeakSet<object>();
/** Those not disposed of, kept apart from the samplers: nothing written to one can undo its disposal. */
const live = new WeakSet<object>();
/** Set while makeSampler constructs one: `new Sampler()` from elsewhere is refused. */
let making = false;

/** Sampler's private constructor, as makeSampler calls it. */
type SamplerMaker = new (config: TaskConfig, range: readonly [number, number], seed: number, what: string) => Sampler;

/** The tasks made by staticTask() and identityTask(), frozen: the only ones whose config is trusted. */
const tasks = new WeakSet<object>();

/**
 * @internal Throws unless `task` is one staticTask() or identityTask() made (not an object made
 * from one, whose config would be trusted; not undefined, as for a method passed on by itself:
 * `detached` adds the hint).
 */
export function checkTask(what: string, task: unknown, detached = false): void {
  if (!tasks.has(task as object)) calledOn(what, task, 'task', 'staticTask() or identityTask()', detached);
}

/** @internal Records a task, once it is frozen, as one whose samplers may be made. */
export function registerTask(task: object): void {
  tasks.add(task);
}

/**
 * @internal The sampler of `task` (trainSampler(); validationSet() and testSet() draw from one:
 * `what`), from its config and range, refused when the method was called on something else.
 */
export function makeSampler(task: { readonly config: TaskConfig }, range: readonly [number, number], seed: number, what = 'trainSampler'): Sampler {
  checkTask(what, task);
  const config = task.config;
  making = true;
  try {
    return new (Sampler as unknown as SamplerMaker)(config, range, seed, what);
  } finally {
    making = false;
  }
}

/**
 * Throws unless `s` is a sampler a task made (not one made to look like it, whose record address
 * would be trusted; not undefined, as for a method passed on by itself), and, with `live`, not
 * disposed.
 */
function checkSampler(what: string, s: Sampler, live = true): void {
  if (!isSampler(s)) calledOn(what, s, 'sampler', "a task's trainSampler()", !((s as unknown) instanceof Sampler));
  if (live && s.isDisposed) fail(`${what}: this sampler has been disposed`);
}

/** True for a sampler a task made (known by identity: no Proxy or prototype can fake one). */
export function isSampler(s: unknown): s is Sampler {
  return made.has(s as object);
}

/**
 * An endless stream of samples of a task over [lo, hi), drawn inside the module by four
 * interleaved xoshiro128** generators (see assembly/tasks.ts). It lives in the engine that was
 * current when it was made.
 */
export class Sampler {
  static {
    Object.freeze(this.prototype); // the methods the library calls on its own objects stay its own
  }

  /** @internal */
  readonly engine: Engine;
  /** @internal the task as the module reads it */
  readonly config: TaskConfig;
  /** The range [lo, hi) the inputs are drawn from. */
  readonly range: readonly [number, number];
  /** @internal byte address of the task record */
  readonly ptr: number;
  #owned: Owned; // private fields: no code outside the class can write them
  #scratchRaw = 0;
  #scratchPtr = 0;
  #scratchFloats = 0;

  /** Made by makeSampler only (private to the published types; refused at run time elsewhere). */
  private constructor(config: TaskConfig, range: readonly [number, number], seed: number, what = 'trainSampler') {
    if (!making) fail("new Sampler(): a sampler comes from a task's trainSampler()");
    this.config = config;
    this.range = range;
    this.engine = currentEngine(what);
    const [raw, ptr] = this.engine.alloc(what, RECORD_BYTES);
    this.#owned = new Owned(this.engine, this);
    this.#owned.add(raw);
    this.ptr = ptr;
    const i32 = this.engine.i32;
    const f32 = this.engine.f32;
    const w = this.ptr >>> 2;
    i32[w] = config.kind;
    i32[w + 1] = config.inputs;
    i32[w + 2] = config.start1;
    i32[w + 3] = config.start2;
    i32[w + 4] = config.subsetSize;
    i32[w + 5] = config.op;
    f32[w + 6] = range[0];
    f32[w + 7] = range[1] - range[0];
    this.engine.ex.taskSeed(this.ptr, seed >>> 0);
    lockFields(this, ['engine', 'config', 'range', 'ptr']);
    made.add(this);
    live.add(this);
  }

  /** @internal a scratch block of at least `floats` floats owned by the sampler */
  scratch(floats: number): number {
    if (floats > this.#scratchFloats) {
      const [raw, ptr] = this.engine.alloc('trainStepOn', floats * 4);
      this.#owned.free(this.#scratchRaw);
      this.#scratchRaw = this.#owned.add(raw);
      this.#scratchPtr = ptr;
      this.#scratchFloats = floats;
    }
    return this.#scratchPtr;
  }

  /** Draws the next n samples as a dataset (copies). */
  sample(n: number): Dataset {
    checkSampler('sample', this); // before this.draw, for a method called off its sampler
    return this.draw('sample', n);
  }

  /** @internal sample() for the call `what`, which its errors name */
  draw(what: string, n: number): Dataset {
    checkSampler(what, this);
    checkInt(`${what}: n`, n, 1, 1 << 22);
    const inputs = this.config.inputs;
    const ld = round4(n);
    const [raw, base] = this.engine.alloc(what, n * 8 + n * inputs * 4 + inputs * ld * 4);
    try {
      const t64 = base, x = base + n * 8, scratch = x + ((n * inputs * 4 + 15) & ~15);
      this.engine.ex.taskFill(this.ptr, x, t64, scratch, n);
      return {
        n,
        x: this.engine.f32.slice(x >>> 2, (x >>> 2) + n * inputs),
        // a copy of its own (slicing the buffer would give a SharedArrayBuffer on a threads engine)
        target: new Float64Array(this.engine.u8.buffer, t64, n).slice(),
      };
    } finally {
      this.engine.free(raw);
    }
  }

  /**
   * The state of the sampler's random generators: 16 words (a copy). A sampler of the same task
   * given it by setState draws what this one would draw next, so a long run saved with its model
   * (save({ optimizer: true })) resumes exactly where it stopped.
   */
  getState(): Uint32Array {
    checkSampler('getState', this);
    const w = (this.ptr >>> 2) + STATE_WORD;
    return new Uint32Array(this.engine.i32.slice(w, w + STATE_WORDS).buffer);
  }

  /** Puts back a state that getState() returned (a Uint32Array, or its 16 words as numbers, as JSON gives them). */
  setState(state: Uint32Array | readonly number[]): void {
    checkSampler('setState', this);
    const words = new Uint32Array(STATE_WORDS);
    if (typedKind(state) === 'Uint32Array' && lengthOf(state as Uint32Array) === STATE_WORDS) {
      copyInto(words, state as Uint32Array);
    } else if (Array.isArray(state) && state.length === STATE_WORDS) {
      for (let i = 0; i < STATE_WORDS; i++) {
        const v: unknown = state[i]; // read once
        if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) fail(`setState: word ${i} is ${describe(v)}, not an integer from 0 to 2^32 - 1`);
        words[i] = v as number;
      }
    } else {
      const length = typedKind(state) ? lengthOf(state as Uint32Array) : Array.isArray(state) ? state.length : undefined;
      fail(`setState: expected the 16 words getState() returns (a Uint32Array or an array of numbers), got ${describe(state)}${length === undefined ? '' : ` of length ${length}`}`);
    }
    for (let j = 0; j < 4; j++) {
      // xoshiro128** from an all-zero state draws zeros for ever
      if (!(words[j]! | words[4 + j]! | words[8 + j]! | words[12 + j]!)) fail(`setState: the words of generator ${j} (${j}, ${4 + j}, ${8 + j}, ${12 + j}) are all 0, which getState() never returns`);
    }
    checkSampler('setState', this); // reading `state` may have run its getters
    this.engine.i32.set(new Int32Array(words.buffer), (this.ptr >>> 2) + STATE_WORD);
  }

  /** True once dispose() has run. */
  get isDisposed(): boolean {
    return !live.has(this);
  }

  /** @internal console.log's view, without the engine's internals. */
  [INSPECT](): string {
    return this.toString();
  }

  /** The sampler in one line (console.log's view too). */
  toString(): string {
    if (!isSampler(this)) return Object.prototype.toString.call(this);
    return `Sampler { ${this.config.inputs} inputs from [${this.range.join(', ')}]${this.isDisposed ? ', disposed' : ''} }`;
  }

  /** Frees the sampler's memory in the module; sample() and trainStepOn(sampler) then throw. */
  dispose(): void {
    checkSampler('dispose', this, false);
    if (!live.delete(this)) return;
    this.#owned.release();
  }
}
