// Threads over shared memory, in the threads builds only (init({ threads })).
//
// The host creates a shared memory, instantiates this module once per thread on it, allocates
// the control block below and calls poolWork(ctl, t) on each worker thread t = 1 .. n - 1,
// where it waits for jobs; the main thread's instance learns the pool through poolSet. A job is
// one matrix product (gemm.ts) or one long elementwise kernel (elementwise.ts) split into parts:
// the main thread writes each part's arguments, starts the job, runs part 0 itself and waits for
// the others. Each part computes its own outputs in the summation order of the whole product, so
// results do not depend on the number of threads. Nothing allocates during a job: the main thread grows every thread's scratch
// before it starts one (an allocation that failed mid-job would leave workers running).
//
// A worker whose part traps leaves poolWork by the exception; its host then calls poolFail,
// which counts the part as finished, so the main thread is not left waiting. The main thread
// stops the pool at the end of that job and runs on alone; the call's entry point learns of the
// failure from poolLost (model.ts reports it and applies no update from that call).
// If the main thread traps in its own part instead (the call ends with the exception while the
// workers still run theirs), the job stays pending: the next poolThreads, which every shared
// kernel asks before it writes a part's arguments, first waits for those parts to finish, so a
// late one cannot be counted as a part of the next job, nor read arguments written for it.
//
// Control block, in bytes from ctl (16-byte aligned, POOL_BYTES long, zeroed by the host):
//   0    SEQ   jobs started (atomic; idle workers wait on it)
//   4    DONE  parts of the current job finished by workers (atomic)
//   8    KIND  what the job is (gemm.ts); 0 stops the workers
//   12   FAILED  the number of a worker whose part trapped (poolFail), else 0 (atomic)
//   64 + 64 t            part t's arguments, 16 words
//   64 + 64 POOL_MAX + 32 t   thread t's scratch table (gemm.ts)

import { runPart } from "./gemm";

export const POOL_MAX: i32 = 8;
const SEQ: usize = 0, DONE: usize = 4, KIND: usize = 8, FAILED: usize = 12;
const ARGS: usize = 64;
const TABLES: usize = ARGS + (<usize>POOL_MAX << 6);
export const POOL_BYTES: i32 = <i32>TABLES + (POOL_MAX << 5);
/**
 * Polls of SEQ before an idle worker sleeps, about 5 us at one poll per cycle of a 4 GHz core.
 * Longer spins trade an oversubscribed machine for a little speed: on 2 cores, M training on two
 * threads ran 3-5% faster with 2^16 or 2^18 polls (a worker sleeps in some gaps between a step's
 * products, the host's copy of the batch among the longest, and wakes late), while on four
 * threads it ran 1.7x (2^16) and 4.6x (2^18) slower than with this spin.
 */
const SPIN: i32 = 1 << 14;

let ctl: usize = 0;
let threads: i32 = 1;
/** The worker that failed since poolLost last asked (main thread), else 0. */
let lost: i32 = 0;
/** A job was started and not yet joined (main thread). */
let pending = false;

/** Tells the main thread's instance about the pool: `n` threads in all, itself included. */
export function poolSet(block: usize, n: i32): void {
  ctl = block;
  threads = n;
}

/**
 * Threads that share a product, the calling one included: 1 without a pool or once it stopped.
 * Joins a job left pending first (see above).
 */
export function poolThreads(): i32 {
  if (ASC_FEATURE_THREADS && pending) poolJoin();
  return threads;
}

/**
 * Where part t begins (0 <= t <= poolThreads(); part T "begins" at n) when n elements are split
 * among the threads in whole grains: parts differ by at most a grain, the last one takes the rest.
 */
// @ts-ignore: decorator
@inline export function partBound(n: i32, grain: i32, t: i32): i32 {
  return t >= threads ? n : (n / grain * t / threads) * grain;
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
    pending = kind != 0;
  }
}

/**
 * Ends the workers' loops (a job of kind 0: each returns from poolWork, and its thread can end)
 * and runs every later product on this thread alone, with the same results.
 */
export function poolStop(): void {
  if (ASC_FEATURE_THREADS && poolThreads() > 1) {
    poolStart(0);
    threads = 1;
  }
}

/**
 * Waits until every worker has finished its part of the current job. If one failed, the job's
 * results are not to be used: the pool stops, and poolLost says so.
 */
export function poolJoin(): void {
  if (ASC_FEATURE_THREADS) {
    while (atomic.load<i32>(ctl + DONE) < threads - 1) {
      // spin: the main thread has finished its own part, the others end about now
    }
    pending = false;
    const failed = atomic.load<i32>(ctl + FAILED);
    if (failed) {
      lost = failed;
      atomic.store<i32>(ctl + FAILED, 0);
      poolStop();
    }
  }
}

/** The worker whose part failed since the last call (then forgotten), or 0. */
export function poolLost(): i32 {
  const t = lost;
  lost = 0;
  return t;
}

/**
 * Called by the host of worker t after its poolWork trapped: records the failure and counts the
 * part as finished, so that the main thread's poolJoin returns.
 */
export function poolFail(block: usize, t: i32): void {
  if (ASC_FEATURE_THREADS) {
    atomic.store<i32>(block + FAILED, t);
    atomic.add<i32>(block + DONE, 1);
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
