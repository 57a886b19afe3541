import { NaluError } from '../errors.js';
import { ThreadsRefused, type ThreadSpawner } from './engine.js';

/**
 * The pool's worker threads in browsers: Web Workers, which may share a WebAssembly.Memory only
 * on a cross-origin isolated page (served with `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`); elsewhere init() runs one thread. Each worker
 * instantiates the threads build on the shared memory and stays inside its poolWork loop
 * (assembly/pool.ts). A worker whose part traps writes the error's text into its report (a
 * small SharedArrayBuffer, which the main thread reads synchronously after the call that
 * failed: a page has no synchronous way to read a message), reports the failure through
 * poolFail and closes; so does a worker whose pool stopped.
 */
const REPORT_CHARS = 500;

// A classic worker from a blob: URL: no file of its own for a bundler to find.
const WORKER = `onmessage = ({ data: { module, memory, ctl, thread, report } }) => {
  let instance;
  try {
    instance = new WebAssembly.Instance(module, {
      env: { memory, abort() { throw new Error('nalu-wasm: internal error in a worker thread of the Wasm module'); } },
    });
  } catch (err) {
    postMessage(String(err));
    return close();
  }
  postMessage('ready');
  try {
    instance.exports.poolWork(ctl, thread);
  } catch (err) {
    const text = String(err).slice(0, report.length - 1);
    for (let i = 0; i < text.length; i++) report[i + 1] = text.charCodeAt(i);
    Atomics.store(report, 0, text.length); // before poolFail lets the main thread go on
    instance.exports.poolFail(ctl, thread);
  }
  close();
};`;

export const spawnWebThreads: ThreadSpawner = async (module, memory, ctl, count) => {
  if (globalThis.crossOriginIsolated !== true) {
    throw new ThreadsRefused('the page is not cross-origin isolated: serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp');
  }
  if (typeof Worker !== 'function') throw new ThreadsRefused('this host has no Worker');
  const url = URL.createObjectURL(new Blob([WORKER], { type: 'text/javascript' }));
  const workers: Worker[] = [];
  const reports = Array.from({ length: count }, () => new Int32Array(new SharedArrayBuffer(4 * (REPORT_CHARS + 1))));
  try {
    await Promise.all(reports.map((report, i) => new Promise<void>((resolve, reject) => {
      let worker: Worker;
      try {
        worker = new Worker(url);
      } catch (err) {
        reject(new ThreadsRefused((err as Error).message)); // a Content-Security-Policy, say
        return;
      }
      workers.push(worker);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new ThreadsRefused(event.message || 'a worker could not start (a Content-Security-Policy that refuses blob: workers?)'));
      };
      worker.onmessage = ({ data }) => {
        if (data === 'ready') resolve();
        else reject(new NaluError(`init: a worker thread cannot instantiate the module: ${String(data)}`));
      };
      worker.postMessage({ module, memory, ctl, thread: i + 1, report });
    })));
  } catch (err) {
    for (const worker of workers) worker.terminate();
    throw err;
  } finally {
    URL.revokeObjectURL(url);
  }
  for (const worker of workers) worker.onerror = worker.onmessage = null;
  return (thread) => {
    const report = reports[thread - 1];
    const n = report ? Atomics.load(report, 0) : 0;
    if (!n) return undefined;
    Atomics.store(report!, 0, 0);
    return String.fromCharCode(...report!.subarray(1, 1 + n));
  };
};
