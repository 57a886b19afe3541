import type { ThreadSpawner } from './engine.js';

/**
 * The pool's worker threads in Node: each instantiates the threads build on the shared memory
 * and stays inside its poolWork loop (assembly/pool.ts), waiting for products to share. A worker
 * whose part traps reports it through poolFail and ends. They are unref'd: they never keep a
 * process alive.
 */
// Dynamic import works whether the worker's code is read as CommonJS or, with a parent started
// with --input-type=module, as an ES module.
const WORKER = `
import('node:worker_threads').then(({ parentPort, workerData }) => {
  const { module, memory, ctl, thread } = workerData;
  const instance = new WebAssembly.Instance(module, {
    env: { memory, abort() { throw new Error('nalu-wasm: internal error in a worker thread of the Wasm module'); } },
  });
  parentPort.postMessage('ready');
  try {
    instance.exports.poolWork(ctl, thread);
  } catch {
    instance.exports.poolFail(ctl, thread);
  }
});
`;

/** Imports node:worker_threads only when threads are asked for: nothing at start-up. */
export const spawnNodeThreads: ThreadSpawner = async (module, memory, ctl, count) => {
  const { Worker } = await import('node:worker_threads');
  await Promise.all(Array.from({ length: count }, (_, i) => new Promise<void>((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData: { module, memory, ctl, thread: i + 1 } });
    worker.once('error', reject);
    worker.once('message', () => {
      worker.unref();
      resolve();
    });
  })));
};
