import { fail } from '../errors.js';
import type { Backend, NaluExports } from './exports.js';
import { readLayout, type Layout } from './layout.js';

/**
 * Starts `count` worker threads, numbered 1 .. count, each instantiating `module` on the shared
 * `memory` and running its export poolWork(ctl, thread); resolves once every one has started,
 * to a function that tells what a worker reported when its part failed (the error's text).
 */
export type ThreadSpawner = (module: WebAssembly.Module, memory: WebAssembly.Memory, ctl: number, count: number)
  => Promise<ThreadReports>;

/** What worker `thread` reported when it failed (read once, synchronously, after the call that failed), or undefined. */
export type ThreadReports = (thread: number) => string | undefined;

/**
 * A host that does not let the pool start its worker threads (the spawner's error). `lasting`:
 * the host's policy (a permission, a page's headers or Content-Security-Policy), which asking
 * again would not change; not so for a worker that was slow to start or ended first.
 */
export class ThreadsRefused extends Error {
  constructor(message: string, readonly lasting = true) {
    super(message);
  }
}

/** Pages of a threads build's shared memory at the start, and at most (4 GiB). */
const SHARED_INITIAL = 16, SHARED_MAXIMUM = 65536;

/**
 * One instance of the module and its linear memory. Models share an engine. This is the only
 * place that creates views of linear memory: `f32`, `i32` and `u8` are re-created whenever the
 * memory has grown. Growth detaches the old buffer, and a view of a detached buffer has length
 * 0 (linear memory never has), which is a cheaper test than comparing with memory.buffer. A
 * shared memory (the threads build) is not detached by growth: its buffer is compared instead.
 */
export class Engine {
  readonly ex: NaluExports;
  readonly layout: Layout;
  private buffer: ArrayBufferLike;
  private f32v: Float32Array;
  private i32v: Int32Array;
  private u8v: Uint8Array;
  /** The address of the thread pool's control block (assembly/pool.ts); 0 without threads. */
  poolBlock = 0;
  /** Models and samplers made on this engine and not disposed (a pool runs on while any is left). */
  liveObjects = 0;
  /** What a worker thread said when it failed (see ThreadSpawner). */
  threadReport: ThreadReports = () => undefined;

  /** The module's build, as it says itself (its FEATURES). */
  readonly backend: Backend;

  constructor(instance: WebAssembly.Instance, private readonly shared = false) {
    this.ex = instance.exports as unknown as NaluExports;
    this.layout = readLayout(this.ex);
    const f = this.layout.FEATURES;
    this.backend = f & 2 ? 'relaxed' : f & 1 ? 'simd' : 'scalar';
    this.buffer = this.ex.memory.buffer;
    this.f32v = new Float32Array(this.buffer);
    this.i32v = new Int32Array(this.buffer);
    this.u8v = new Uint8Array(this.buffer);
  }

  /**
   * Instantiates `module`; with `pool`, the threads build on a new shared memory and its workers.
   * `accept` sees the build the module says it is before any worker starts, and may throw.
   */
  static async create(module: WebAssembly.Module, pool?: { threads: number; spawner: ThreadSpawner },
    accept?: (backend: Backend) => void): Promise<Engine> {
    let engine: Engine | undefined;
    let memory: WebAssembly.Memory | undefined;
    try {
      memory = pool ? new WebAssembly.Memory({ initial: SHARED_INITIAL, maximum: SHARED_MAXIMUM, shared: true }) : undefined;
    } catch (err) {
      fail(`init: the threads build's shared memory cannot be reserved (${(err as Error).message}); threads: 1 needs none`);
    }
    const imports = {
      env: {
        ...(memory ? { memory } : {}),
        abort(msg: number, file: number, line: number, column: number): never {
          const text = engine ? `${engine.readString(msg)} at ${engine.readString(file)}:${line}:${column}` : 'abort';
          throw new Error(`nalu-wasm: internal error in the Wasm module: ${text}`);
        },
      },
    };
    const instance = await WebAssembly.instantiate(module, imports).catch((err: unknown) =>
      fail(`init: the module cannot be instantiated: ${(err as Error).message}`));
    engine = new Engine(instance, memory !== undefined);
    accept?.(engine.backend);
    if (pool) {
      const [, ctl] = engine.alloc('init', engine.layout.POOL_BYTES); // kept for the life of the engine
      engine.threadReport = await pool.spawner(module, memory!, ctl, pool.threads - 1);
      engine.ex.poolSet(ctl, pool.threads);
      engine.poolBlock = ctl;
    }
    return engine;
  }

  /**
   * Ends the worker threads of a pooled engine (they return from poolWork); its models carry
   * on, on the calling thread alone, with the same results.
   */
  stopThreads(): void {
    if (this.shared) this.ex.poolStop();
  }

  /** The threads its products run on now: 1 once its pool has stopped (stopThreads, or a worker that failed). */
  get threads(): number {
    return this.shared ? this.ex.poolThreads() : 1;
  }

  private refresh(): void {
    this.buffer = this.ex.memory.buffer;
    this.f32v = new Float32Array(this.buffer);
    this.i32v = new Int32Array(this.buffer);
    this.u8v = new Uint8Array(this.buffer);
  }

  private stale(view: ArrayBufferView): boolean {
    return view.byteLength === 0 || (this.shared && this.ex.memory.buffer !== this.buffer);
  }

  get f32(): Float32Array {
    if (this.stale(this.f32v)) this.refresh();
    return this.f32v;
  }

  get i32(): Int32Array {
    if (this.stale(this.i32v)) this.refresh();
    return this.i32v;
  }

  get u8(): Uint8Array {
    if (this.stale(this.u8v)) this.refresh();
    return this.u8v;
  }

  /**
   * Allocates `bytes` zeroed bytes, 16-byte aligned, for the call `what` (which its errors name);
   * returns [raw block, aligned address].
   */
  alloc(what: string, bytes: number): [number, number] {
    if (!(bytes >= 0 && bytes <= MAX_BLOCK)) {
      fail(`${what}: cannot allocate ${bytes} bytes: a block is limited to ${MAX_BLOCK} bytes of linear memory`);
    }
    let raw: number;
    try {
      raw = this.ex.alloc(bytes) >>> 0;
    } catch (err) {
      fail(`${what}: out of linear memory allocating ${bytes} bytes (${(err as Error).message}): dispose of the models, samplers and staged batches you no longer need`);
    }
    const ptr = raw + (-raw & 15); // unsigned: addresses reach 4 GiB
    this.u8.fill(0, ptr, ptr + bytes);
    return [raw, ptr];
  }

  free(raw: number): void {
    this.ex.free(raw);
  }

  /** Reads an AssemblyScript string (UTF-16, length in the header) for error messages. */
  private readString(ptr: number): string {
    if (!ptr) return '';
    const u8 = this.u8;
    const bytes = new DataView(u8.buffer).getUint32(ptr - 4, true);
    const units = new Uint16Array(u8.buffer, ptr, bytes >>> 1);
    return String.fromCharCode(...units);
  }
}

/**
 * The largest single block the engine hands out: 992 MiB with alloc's 16 bytes of alignment
 * room, the largest multiple of 32 MiB below the allocator's limit of 1 GiB (the module rounds
 * requests of 512 MiB and more up to such a multiple: assembly/memory.ts heapAlloc); wasm32
 * memory ends at 4 GiB.
 */
export const MAX_BLOCK = 992 * 2 ** 20 - 16;

/**
 * The blocks of linear memory that one model, sampler or staged batch owns: freed by its
 * dispose(), or, once the owner is unreachable, by the garbage collector (where the host has
 * FinalizationRegistry), so that an object dropped without dispose() does not hold its memory
 * for good. `onRelease` runs once the blocks are freed (it must not hold the owner).
 */
export class Owned {
  #blocks = new Set<number>();
  #released = false;

  constructor(readonly engine: Engine, owner: object, private readonly onRelease?: () => void) {
    engine.liveObjects++;
    COLLECTED?.register(owner, this, this);
  }

  /** Takes `raw` (a block from engine.alloc) into the owner's blocks; returns it. */
  add(raw: number): number {
    this.#blocks.add(raw);
    return raw;
  }

  /** Frees `raw` if it is one of the owner's blocks (0 is none). */
  free(raw: number): void {
    if (this.#blocks.delete(raw)) this.engine.free(raw);
  }

  /** Frees every block, once. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    COLLECTED?.unregister(this);
    for (const raw of this.#blocks) this.engine.free(raw);
    this.#blocks.clear();
    this.engine.liveObjects--;
    this.onRelease?.();
  }
}

/** A weak reference to `target`: a strong one where the host has no WeakRef. */
export function weakly<T extends object>(target: T): { deref(): T | undefined } {
  return typeof WeakRef === 'function' ? new WeakRef(target) : { deref: () => target };
}

const COLLECTED = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<Owned>((owned) => owned.release()) : undefined;
