import type { MessagePort } from 'node:worker_threads';
import { ThreadsRefused, type ThreadSpawner } from './engine.js';

/**
 * The pool's worker threads in Node, Deno and Bun (node:worker_threads in each): each
 * instantiates the threads build on the shared memory and stays inside its poolWork loop
 * (assembly/pool.ts), waiting for products to share. A worker whose part traps posts the
 * error's text on its report port, reports the failure through poolFail and ends; the main
 * thread reads the port synchronously when a call says a worker failed. The workers are
 * unref'd: they never keep a process alive.
 */
// Dynamic import works whether the worker's code is read as CommonJS or, with a parent started
// with --input-type=module, as an ES module.
const WORKER = `
import('node:worker_threads').then(({ workerData }) => {
  const { module, memory, ctl, thread, report } = workerData;
  const instance = new WebAssembly.Instance(module, {
    env: { memory, abort() { throw new Error('nalu-wasm: internal error in a worker thread of the Wasm module'); } },
  });
  report.postMessage('ready');
  try {
    instance.exports.poolWork(ctl, thread);
  } catch (err) {
    report.postMessage(String(err)); // queued before poolFail lets the main thread go on
    instance.exports.poolFail(ctl, thread);
  }
});
`;

/** Imports node:worker_threads only when threads are asked for: nothing at start-up. */
export const spawnNodeThreads: ThreadSpawner = async (module, memory, ctl, count) => {
  const { Worker, MessageChannel, receiveMessageOnPort } = await import('node:worker_threads').catch((err: unknown) => {
    throw new ThreadsRefused(`node:worker_threads cannot be loaded: ${(err as Error).message}`);
  });
  const ports = await Promise.all(Array.from({ length: count }, (_, i) => new Promise<MessagePort>((resolve, reject) => {
    const { port1, port2 } = new MessageChannel();
    let worker: InstanceType<typeof Worker>;
    try {
      worker = new Worker(WORKER, {
        eval: true,
        workerData: { module, memory, ctl, thread: i + 1, report: port2 },
        transferList: [port2],
      });
    } catch (err) {
      reject(new ThreadsRefused((err as Error).message)); // Node's permission model, say
      return;
    }
    worker.once('error', reject);
    port1.once('message', () => { // 'ready'; a later report is read with receiveMessageOnPort
      port1.unref();
      worker.unref();
      resolve(port1);
    });
  })));
  return (thread) => {
    const port = ports[thread - 1];
    return port && receiveMessageOnPort(port)?.message;
  };
};
