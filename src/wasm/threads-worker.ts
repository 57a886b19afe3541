import { NaluError } from '../errors.js';
import { ThreadsRefused, type ThreadReports } from './engine.js';

/**
 * The body of a pool's worker, the same in every host (threads-node.ts, threads-web.ts wrap it):
 * with `module`, `memory`, `ctl`, `thread` and `report` in scope, it instantiates the threads
 * build on the shared memory, says 'ready' through `post` (or why it cannot) and stays in
 * poolWork (assembly/pool.ts) until the pool stops. A part that traps writes the error's text
 * into `report` (an Int32Array on a SharedArrayBuffer: the text's length, then its UTF-16 code
 * units), which the main thread reads synchronously after the call that failed, then counts
 * itself finished through poolFail, so that the main thread is not left waiting.
 */
export function workerBody(post: string): string {
  return `let instance;
  try {
    instance = new WebAssembly.Instance(module, {
      env: { memory, abort() { throw new Error('nalu-wasm: internal error in a worker thread of the Wasm module'); } },
    });
  } catch (err) {
    return ${post}(String(err));
  }
  ${post}('ready');
  try {
    instance.exports.poolWork(ctl, thread);
  } catch (err) {
    const text = String(err).slice(0, report.length - 1);
    for (let i = 0; i < text.length; i++) report[i + 1] = text.charCodeAt(i);
    Atomics.store(report, 0, text.length); // before poolFail lets the main thread go on
    instance.exports.poolFail(ctl, thread);
  }`;
}

/** The characters of a worker's report that are kept. */
const REPORT_CHARS = 500;

/** One report per worker (see workerBody), and what the main thread reads of them. */
function workerReports(count: number): [Int32Array[], ThreadReports] {
  const reports = Array.from({ length: count }, () => new Int32Array(new SharedArrayBuffer(4 * (REPORT_CHARS + 1))));
  return [reports, (thread) => {
    const report = reports[thread - 1];
    const n = report ? Atomics.load(report, 0) : 0;
    if (!n) return undefined;
    Atomics.store(report!, 0, 0);
    return String.fromCharCode(...report!.subarray(1, 1 + n));
  }];
}

/** A worker's message before it is ready: why it cannot instantiate the module. */
export function notReady(said: unknown): NaluError {
  return new NaluError(`init: a worker thread cannot instantiate the module: ${String(said)}`);
}

/** How long the workers may take to start (Firefox queues workers past its limit per site). */
const START_MS = 20_000;

/**
 * `started`, or a refusal that may pass (ThreadsRefused, not lasting) if the workers have not
 * all started within START_MS: init then runs one thread instead of waiting for good.
 */
async function startedInTime(started: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ThreadsRefused(`a worker did not start within ${START_MS / 1000} s`, false)), START_MS);
  });
  try {
    await Promise.race([started, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts `count` workers: `start` makes worker i (throwing a ThreadsRefused where the host will
 * not), hands it its report and calls `ready` once it says so, or `failed`. If one fails or they
 * are not all ready within START_MS, those made are ended (`end`) and the error is thrown.
 * Returns the workers and what the main thread reads of their reports.
 */
export async function startWorkers<W>(count: number, end: (worker: W) => void,
  start: (i: number, report: Int32Array, ready: () => void, failed: (err: unknown) => void) => W): Promise<[W[], ThreadReports]> {
  const [reports, read] = workerReports(count);
  const workers: W[] = [];
  try {
    await startedInTime(Promise.all(reports.map((report, i) => new Promise<void>((resolve, reject) => {
      workers.push(start(i, report, resolve, reject));
    }))));
  } catch (err) {
    for (const worker of workers) end(worker);
    throw err;
  }
  return [workers, read];
}
