import { describe, fail } from '../errors.js';
import type { Engine } from '../wasm/engine.js';
import { currentEngine } from '../wasm/init.js';

/** Word layout of a task record: see assembly/tasks.ts. */
const RECORD_BYTES = 64;

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
  readonly x: Float32Array;
  readonly target: Float64Array;
  readonly n: number;
}

/** Mixes a seed and a stream number into an independent 32-bit seed. */
export function streamSeed(seed: number, stream: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(stream + 1, 0x85ebca77)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * An endless stream of samples of a task, drawn inside the module (xoshiro128**, see
 * assembly/rng.ts) over [lo, hi). It lives in the engine that was current when it was made.
 */
export class Sampler {
  readonly engine: Engine;
  private raw: number;
  /** Byte address of the task record. */
  readonly ptr: number;
  private disposed = false;

  constructor(readonly config: TaskConfig, readonly range: readonly [number, number], seed: number) {
    this.engine = currentEngine();
    [this.raw, this.ptr] = this.engine.alloc(RECORD_BYTES);
    const i32 = this.engine.i32;
    const w = this.ptr >> 2;
    i32[w] = config.kind;
    i32[w + 1] = config.inputs;
    i32[w + 2] = config.start1;
    i32[w + 3] = config.start2;
    i32[w + 4] = config.subsetSize;
    i32[w + 5] = config.op;
    const f64 = new Float64Array(this.engine.u8.buffer, this.ptr + 32, 2);
    f64[0] = range[0];
    f64[1] = range[1];
    this.engine.ex.rngSeed(this.ptr + 48, seed >>> 0);
  }

  /** Draws the next n samples as a dataset (copies). */
  sample(n: number): Dataset {
    this.live();
    if (!Number.isInteger(n) || n < 1 || n > 1 << 24) fail(`sample: n must be an integer from 1 to ${1 << 24}, got ${describe(n)}`);
    const inputs = this.config.inputs;
    const bytes = n * inputs * 4 + n * 4 + n * 8 + 32;
    const [raw, base] = this.engine.alloc(bytes);
    try {
      const x = base, t32 = base + n * inputs * 4, t64 = (t32 + n * 4 + 7) & ~7;
      this.engine.ex.taskFill(this.ptr, x, t32, t64, n);
      return {
        n,
        x: this.engine.f32.slice(x >> 2, (x >> 2) + n * inputs),
        target: new Float64Array(this.engine.u8.buffer.slice(t64, t64 + n * 8)),
      };
    } finally {
      this.engine.free(raw);
    }
  }

  private live(): void {
    if (this.disposed) fail('this sampler has been disposed');
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.engine.free(this.raw);
  }
}
