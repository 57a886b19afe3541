import { ThreadsRefused, type ThreadSpawner } from './engine.js';
import { NOT_ISOLATED } from './init.js';
import { notReady, startedInTime, workerBody, workerReports } from './threads-worker.js';

/**
 * The pool's worker threads in browsers: Web Workers, which may share a WebAssembly.Memory only
 * on a cross-origin isolated page; elsewhere init() runs one thread. Each runs workerBody
 * (threads-worker.ts), then closes: after its pool stopped, or its part trapped.
 */
// A classic worker from a blob: URL: no file of its own for a bundler to find.
const WORKER = `onmessage = ({ data: { module, memory, ctl, thread, report } }) => {
  (() => { ${workerBody('postMessage')} })();
  close();
};`;

export const spawnWebThreads: ThreadSpawner = async (module, memory, ctl, count) => {
  if (globalThis.crossOriginIsolated !== true) throw new ThreadsRefused(NOT_ISOLATED);
  if (typeof Worker !== 'function') throw new ThreadsRefused('this host has no Worker');
  const url = URL.createObjectURL(new Blob([WORKER], { type: 'text/javascript' }));
  const workers: Worker[] = [];
  const [reports, read] = workerReports(count);
  try {
    await startedInTime(Promise.all(reports.map((report, i) => new Promise<void>((resolve, reject) => {
      let worker: Worker;
      try {
        worker = new Worker(url);
      } catch (err) {
        reject(new ThreadsRefused((err as Error).message)); // a Content-Security-Policy, Trusted Types
        return;
      }
      workers.push(worker);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new ThreadsRefused(event.message || 'a worker could not start (a Content-Security-Policy that refuses blob: workers?)'));
      };
      worker.onmessage = ({ data }) => (data === 'ready' ? resolve() : reject(notReady(data)));
      worker.postMessage({ module, memory, ctl, thread: i + 1, report });
    }))));
  } catch (err) {
    for (const worker of workers) worker.terminate();
    throw err;
  } finally {
    URL.revokeObjectURL(url);
  }
  for (const worker of workers) worker.onerror = worker.onmessage = null;
  return read;
};
