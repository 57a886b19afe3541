import type { Worker } from 'node:worker_threads';
import { ThreadsRefused, type ThreadSpawner } from './engine.js';
import { notReady, startedInTime, workerBody, workerReports } from './threads-worker.js';

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
  const workers: Worker[] = [];
  const [reports, read] = workerReports(count);
  try {
    await startedInTime(Promise.all(reports.map((report, i) => new Promise<void>((resolve, reject) => {
      let worker: Worker;
      try {
        worker = new workerThreads.Worker(WORKER, { eval: true, workerData: { module, memory, ctl, thread: i + 1, report } });
      } catch (err) {
        const denied = (err as { code?: unknown }).code === 'ERR_ACCESS_DENIED'; // Node's permission model
        reject(new ThreadsRefused(`${(err as Error).message}${denied ? ' (start node with --allow-worker for threads)' : ''}`));
        return;
      }
      workers.push(worker);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new ThreadsRefused(`a worker thread ended before it started (exit code ${code})`, false)));
      worker.once('message', (said) => {
        if (said !== 'ready') return reject(notReady(said));
        worker.removeAllListeners('exit');
        worker.unref();
        resolve();
      });
    }))));
  } catch (err) {
    for (const worker of workers) void worker.terminate();
    throw err;
  }
  return read;
};
