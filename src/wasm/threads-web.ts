import { ThreadsRefused, type ThreadSpawner } from './engine.js';
import { NOT_ISOLATED } from './init.js';
import { notReady, startWorkers, workerBody } from './threads-worker.js';

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
  try {
    const [workers, read] = await startWorkers(count, (worker: Worker) => worker.terminate(), (i, report, ready, failed) => {
      let worker: Worker;
      try {
        worker = new Worker(url);
      } catch (err) {
        throw new ThreadsRefused((err as Error).message); // a Content-Security-Policy, Trusted Types
      }
      worker.onerror = (event) => {
        event.preventDefault();
        failed(new ThreadsRefused(event.message || 'a worker could not start (a Content-Security-Policy that refuses blob: workers?)'));
      };
      worker.onmessage = ({ data }) => (data === 'ready' ? ready() : failed(notReady(data)));
      worker.postMessage({ module, memory, ctl, thread: i + 1, report });
      return worker;
    });
    for (const worker of workers) worker.onerror = worker.onmessage = null;
    return read;
  } finally {
    URL.revokeObjectURL(url);
  }
};
