import type { Worker } from 'node:worker_threads';
import { ThreadsRefused, type ThreadSpawner } from './engine.js';
import { notReady, startWorkers, workerBody } from './threads-worker.js';

/**
 * The pool's worker threads in Node, Deno and Bun (node:worker_threads in each): each runs
 * workerBody (threads-worker.ts) and ends once its pool stopped or its part trapped. The workers
 * are unref'd: they never keep a process alive.
 */
// Dynamic import works whether the worker's code is read as CommonJS or, with a parent started
// with --input-type=module, as an ES module.
const WORKER = `import('node:worker_threads').then(({ workerData: { module, memory, ctl, thread, report }, parentPort }) => {
  ${workerBody('parentPort.postMessage')}
});`;

/** Imports node:worker_threads only when threads are asked for: nothing at start-up. */
export const spawnNodeThreads: ThreadSpawner = async (module, memory, ctl, count) => {
  const workerThreads = await import('node:worker_threads').catch((err: unknown) => {
    throw new ThreadsRefused(`node:worker_threads cannot be loaded: ${(err as Error).message}`);
  });
  const [, read] = await startWorkers(count, (worker: Worker) => void worker.terminate(), (i, report, ready, failed) => {
    let worker: Worker;
    try {
      worker = new workerThreads.Worker(WORKER, { eval: true, workerData: { module, memory, ctl, thread: i + 1, report } });
    } catch (err) {
      const denied = (err as { code?: unknown }).code === 'ERR_ACCESS_DENIED'; // Node's permission model
      throw new ThreadsRefused(`${(err as Error).message}${denied ? ' (start node with --allow-worker for threads)' : ''}`);
    }
    worker.once('error', failed);
    worker.once('exit', (code) => failed(new ThreadsRefused(`a worker thread ended before it started (exit code ${code})`, false)));
    worker.once('message', (said) => {
      if (said !== 'ready') return failed(notReady(said));
      worker.removeAllListeners('exit');
      worker.unref();
      ready();
    });
    return worker;
  });
  return read;
};
