// Threads over shared memory, in the threads builds only (init({ threads })).
//
// The host creates a shared memory, instantiates this module once per thread on it, allocates
// the control block below and calls poolWork(ctl, t) on each worker thread t = 1 .. n - 1,
// where it waits for jobs; the main thread's instance learns the pool through poolSet. A job is
// one matrix product split into parts (gemm.ts): the main thread writes each part's arguments,
// starts the job, runs part 0 itself and waits for the others. Each part computes its own
// outputs in the summation order of the whole product, so results do not depend on the number
// of threads. Nothing allocates during a job: the main thread grows every thread's scratch
// before it starts one (an allocation that failed mid-job would leave workers running).
//
// Control block, in bytes from ctl (16-byte aligned, POOL_BYTES long, zeroed by the host):
//   0    SEQ   jobs started (atomic; idle workers wait on it)
//   4    DONE  parts of the current job finished by workers (atomic)
//   8    KIND  what the job is (gemm.ts); 0 stops the workers
//   64 + 64 t            part t's arguments, 16 words
//   64 + 64 POOL_MAX + 32 t   thread t's scratch table (gemm.ts)

import { runPart } from "./gemm";

export const POOL_MAX: i32 = 8;
const SEQ: usize = 0, DONE: usize = 4, KIND: usize = 8;
const ARGS: usize = 64;
const TABLES: usize = ARGS + (<usize>POOL_MAX << 6);
export const POOL_BYTES: i32 = <i32>TABLES + (POOL_MAX << 5);
/** Polls of SEQ before an idle worker sleeps: a step's products come tens of microseconds apart. */
const SPIN: i32 = 1 << 14;

let ctl: usize = 0;
let threads: i32 = 1;

/** Tells the main thread's instance about the pool: `n` threads in all, itself included. */
export function poolSet(block: usize, n: i32): void {
  ctl = block;
  threads = n;
}

/** Threads that share a product: 1 without a pool. */
// @ts-ignore: decorator
@inline export function poolThreads(): i32 {
  return threads;
}

/** Where part t's arguments go. */
// @ts-ignore: decorator
@inline export function partArgs(t: i32): usize {
  return ctl + ARGS + (<usize>t << 6);
}

/** Thread t's scratch table. */
// @ts-ignore: decorator
@inline export function threadTable(t: i32): usize {
  return ctl + TABLES + (<usize>t << 5);
}

/** Starts a job of `kind` on the workers; its parts' arguments are written. */
export function poolStart(kind: i32): void {
  if (ASC_FEATURE_THREADS) {
    store<i32>(ctl + KIND, kind);
    atomic.store<i32>(ctl + DONE, 0);
    atomic.add<i32>(ctl + SEQ, 1);
    atomic.notify(ctl + SEQ, threads - 1);
  }
}

/**
 * Ends the workers' loops (a job of kind 0: each returns from poolWork, and its thread can end)
 * and runs every later product on this thread alone, with the same results.
 */
export function poolStop(): void {
  if (ASC_FEATURE_THREADS && threads > 1) {
    poolStart(0);
    threads = 1;
  }
}

/** Waits until every worker has finished its part of the current job. */
export function poolJoin(): void {
  if (ASC_FEATURE_THREADS) {
    while (atomic.load<i32>(ctl + DONE) < threads - 1) {
      // spin: the main thread has finished its own part, the others end about now
    }
  }
}

/** A worker thread's loop: runs part t of every job until a job of kind 0. */
export function poolWork(block: usize, t: i32): void {
  if (ASC_FEATURE_THREADS) {
    // Job 1 is this worker's first even if it was started before the worker got here (the host
    // hears "ready" just before this call): no job ends without every worker, so none is missed.
    ctl = block; // this worker's own instance: its partArgs and threadTable
    let seen = 0;
    while (true) {
      let spins = 0;
      let seq = atomic.load<i32>(ctl + SEQ);
      while (seq == seen) {
        if (++spins >= SPIN) {
          atomic.wait<i32>(ctl + SEQ, seen, -1);
          spins = 0;
        }
        seq = atomic.load<i32>(ctl + SEQ);
      }
      seen = seq;
      const kind = load<i32>(ctl + KIND);
      if (kind == 0) return;
      runPart(kind, partArgs(t), threadTable(t));
      atomic.add<i32>(ctl + DONE, 1);
    }
  }
}
