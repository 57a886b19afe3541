// Threads (init({ threads })): the threads build runs every suite of the other builds with two
// threads (BACKENDS in helpers.ts), bit for bit equal to the SIMD build. Here: what init says,
// its errors, and that the worker threads never keep a process alive.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { init, nalu, sequential } from '../src/index';
import { bits, moduleOf } from './helpers';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('threads', () => {
  it('init reports the threads in use', async () => {
    expect(await init({ threads: 2 })).toEqual({ backend: 'simd', threads: 2 });
    expect(await init({ threads: 1 })).toEqual({ backend: 'simd', threads: 1 });
    expect(await init()).toEqual({ backend: 'simd', threads: 1 });
  });

  it('rejects bad counts and builds that have no threads', async () => {
    for (const bad of [0, 9, 2.5, '2', NaN]) {
      await expect(init({ threads: bad as number })).rejects.toThrow(/init: threads must be an integer from 1 to 8/);
    }
    await expect(init({ threads: 2, simd: false })).rejects.toThrow('init: threads run a SIMD build; they cannot be combined with the scalar build');
    await expect(init({ threads: 2, wasm: moduleOf('simd') })).rejects.toThrow(/is not a threads build \(nalu-threads.wasm, nalu-relaxed-threads.wasm\), but threads: 2 was asked for/);
    await expect(init({ wasm: moduleOf('threads') })).rejects.toThrow(/is a threads build .*, but a single thread was asked for/);
  });

  it('a process that used them exits by itself', () => {
    const script = `
      import { init, nalu, sequential, adam } from './src/index.ts';
      const info = await init({ threads: 2 });
      const m = sequential([nalu({ inputs: 64, outputs: 64 })]);
      const x = new Float32Array(64 * 512).fill(0.5);
      console.log(JSON.stringify({ info, loss: m.trainStep(x, x, adam()) }));`;
    const started = Date.now();
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 }));
    expect(out.info).toEqual({ backend: 'simd', threads: 2 });
    expect(Number.isFinite(out.loss)).toBe(true);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('a pool works from its first product: 200 new pools, each used at once, all finish', () => {
    // A worker that reached its loop only after the first job had started once waited for the
    // next one, and the main thread for it, forever (seen here within about 60 new pools).
    const script = `
      import { readFileSync } from 'node:fs';
      import { init, nalu, sequential } from './src/index.ts';
      const module = new WebAssembly.Module(readFileSync('build/nalu-threads.wasm'));
      const x = new Float32Array(64 * 256).fill(0.5);
      let done = 0;
      for (let i = 0; i < 200; i++) {
        await init({ threads: 2, wasm: module });
        sequential([nalu({ inputs: 64, outputs: 64 })]).predict(x);
        done++;
      }
      console.log(done);`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(Number(out.trim())).toBe(200);
  });

  it.runIf(existsSync('/proc/self/status'))('init({ threads, wasm }) again ends the previous instance\'s worker threads; its models carry on, same bits', async () => {
    const osThreads = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    const module = moduleOf('threads');
    await init({ threads: 2, wasm: module });
    const a = sequential([nalu({ inputs: 40, outputs: 40 })], { seed: 2 });
    const x = new Float32Array(40 * 600).map((_, i) => Math.sin(i));
    const y = a.predict(x);
    const before = osThreads();
    for (let i = 0; i < 12; i++) await init({ threads: 2, wasm: module });
    // every init started a worker; all but the last one's end (a thread exits a little later)
    const deadline = Date.now() + 10_000;
    while (osThreads() > before + 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(osThreads()).toBeLessThanOrEqual(before + 3);
    expect(bits(a.predict(x))).toEqual(bits(y));
    const b = sequential([nalu({ inputs: 40, outputs: 40 })], { seed: 2 });
    expect(bits(b.predict(x))).toEqual(bits(y));
  });

  it('a model keeps the engine it was made with', async () => {
    await init({ threads: 2 });
    const a = sequential([nalu({ inputs: 40, outputs: 40 })], { seed: 2 });
    await init({ threads: 1 });
    const b = sequential([nalu({ inputs: 40, outputs: 40 })], { seed: 2 });
    const x = new Float32Array(40 * 300).map((_, i) => Math.sin(i));
    expect(a.predict(x)).toEqual(b.predict(x));
  });
});
