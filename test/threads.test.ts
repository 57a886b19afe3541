// Threads (init({ threads })): the threads build runs every suite of the other builds with two
// threads (BACKENDS in helpers.ts), bit for bit equal to the SIMD build. Here: what init says,
// its errors, and that the worker threads never keep a process alive.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { adam, init, nalu, nau, sequential, staticTask } from '../src/index';
import { bits, moduleOf } from './helpers';
import { ThreadsRefused, type ThreadSpawner } from '../src/wasm/engine';
import { currentEngine, makeInit } from '../src/wasm/init';
import { loadFromFile } from '../src/wasm/load-node';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs an ES module script in a fresh Node process (src/ through tsx) and returns its stdout; a
 * failure says how the process ended (exit code or signal) and what it printed, so that a rare
 * one can be told apart from a failed expectation.
 */
function runScript(script: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    throw new Error(`the script ended with ${r.signal ? `signal ${r.signal}` : `exit code ${r.status}`}${r.error ? ` (${r.error.message})` : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r.stdout;
}

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
    await expect(init({ wasm: moduleOf('threads') })).rejects.toThrow(/is a threads build .*, but one thread was asked for/);
  });

  it('a pool that is no longer current and has no live model stops; one with a live model runs on', async () => {
    await init({ threads: 3 });
    const three = currentEngine('test');
    expect(three.threads).toBe(3);
    await init({ threads: 2 });
    const two = currentEngine('test');
    expect(three.threads).toBe(1); // stopped: no model was made on it
    const model = sequential([nalu({ inputs: 64, outputs: 64 })], { seed: 3 });
    await init({ threads: 3 });
    expect(currentEngine('test')).not.toBe(three); // a new pool, the stopped one forgotten
    expect(two.threads).toBe(2); // its model is live
    const x = new Float32Array(64 * 512).fill(0.5);
    const y = model.predict(x);
    model.dispose();
    await init();
    expect(two.threads).toBe(1);
    const again = sequential([nalu({ inputs: 64, outputs: 64 })], { seed: 3 });
    expect(bits(again.predict(x))).toEqual(bits(y));
    again.dispose();
  });

  it('a live sampler keeps its pool too: a model of a later init with the same threads trains on it', async () => {
    await init({ threads: 2 });
    const pool = currentEngine('test');
    const task = staticTask({ op: 'add', inputSize: 8, seed: 1 });
    const sampler = task.trainSampler();
    await init();
    expect(pool.threads).toBe(2); // not stopped: the sampler is live
    await init({ threads: 2 });
    expect(currentEngine('test')).toBe(pool);
    const model = sequential([nau({ inputs: 8, outputs: 1 })], { seed: 1 });
    expect(Number.isFinite(model.trainStepOn(sampler, adam()))).toBe(true);
    // what it draws, as everything the library returns, has an ArrayBuffer of its own, not the
    // shared memory's (a SharedArrayBuffer cannot be transferred)
    const { x, target } = sampler.sample(4);
    const test = task.testSet(4);
    for (const a of [x, target, test.x, test.target, model.predict(x), model.getWeights()[0]!.W!, model.save(),
      model.gradients(x, Float32Array.from(target)).grads[0]!.W!, model.optimizerState()!.m[0]!.W!]) {
      expect(a.buffer).toBeInstanceOf(ArrayBuffer);
    }
    model.dispose();
    sampler.dispose();
    await init();
    expect(pool.threads).toBe(1); // nothing made on it is left
  });

  it('a host that refuses worker threads (Node\'s permission model) runs on one thread', () => {
    const dist = join(root, 'dist', 'index.js');
    if (!existsSync(dist)) return; // npm test builds dist/ first
    const script = `const N = await import(${JSON.stringify(dist)}); const info = await N.init({ threads: 2 });
      const m = N.sequential([N.nac({ inputs: 2, outputs: 1 })], { seed: 1 }); console.log(JSON.stringify({ info, loss: m.trainStep([1, 2], [3], N.adam()) }));`;
    const out = (flags: string[]) => JSON.parse(execFileSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const refused = out(['--experimental-permission', '--allow-fs-read=*']);
    expect(refused.info).toEqual({ backend: 'simd', threads: 1, threadsUnavailable: 'Access to this API has been restricted (start node with --allow-worker for threads)' });
    expect(refused.loss).toBe(out([]).loss); // the same loss as with threads
  });

  it('a host that refused threads is not asked again, and its refusal does not override a later init call', async () => {
    let asked = 0;
    const refusing: ThreadSpawner = async () => {
      asked++;
      throw new ThreadsRefused('no workers here');
    };
    const initWith = makeInit(loadFromFile, async () => refusing);
    // the refused call falls back to one thread while a later call asks for the scalar build: that one decides
    const [a, b] = await Promise.all([initWith({ threads: 2 }), initWith({ simd: false })]);
    expect(a).toEqual({ backend: 'simd', threads: 1, threadsUnavailable: 'no workers here' });
    expect(b).toEqual({ backend: 'scalar', threads: 1 });
    expect(currentEngine('test').backend).toBe('scalar');
    expect(await initWith({ threads: 3 })).toEqual({ backend: 'simd', threads: 1, threadsUnavailable: 'no workers here' });
    expect(asked).toBe(1);
    await init();
  });

  it('a threads module passed where the host refuses workers throws, and the refusal is remembered; a passing one (a slow start) is not', async () => {
    let asked = 0;
    const refusing = (lasting: boolean): ThreadSpawner => async () => {
      asked++;
      throw new ThreadsRefused(lasting ? 'no workers here' : 'a worker did not start in time', lasting);
    };
    const slow = makeInit(loadFromFile, async () => refusing(false));
    expect(await slow({ threads: 2 })).toEqual({ backend: 'simd', threads: 1, threadsUnavailable: 'a worker did not start in time' });
    expect(await slow({ threads: 2 })).toEqual({ backend: 'simd', threads: 1, threadsUnavailable: 'a worker did not start in time' });
    expect(asked).toBe(2); // asked again: it may start next time
    const initWith = makeInit(loadFromFile, async () => refusing(true));
    await expect(initWith({ threads: 2, wasm: moduleOf('threads') }))
      .rejects.toThrow(/^init: this host does not let worker threads start \(no workers here\); pass a single-thread build without threads$/);
    expect(await initWith({ threads: 2 })).toEqual({ backend: 'simd', threads: 1, threadsUnavailable: 'no workers here' });
    await expect(initWith({ threads: 2, wasm: moduleOf('threads') }))
      .rejects.toThrow(/^init: the module passed as wasm is a threads build \(nalu-threads\.wasm, nalu-relaxed-threads\.wasm\), but this host runs one thread \(no workers here\)$/);
    expect(asked).toBe(3);
    await init();
  });

  it('an engine without SIMD runs the scalar build on one thread when threads are asked for', async () => {
    const validate = WebAssembly.validate;
    try {
      WebAssembly.validate = () => false; // as an engine without SIMD refuses the probe
      expect(await init({ threads: 2 })).toEqual({ backend: 'scalar', threads: 1, threadsUnavailable: 'threads run a SIMD build, and this engine has no WebAssembly SIMD' });
    } finally {
      WebAssembly.validate = validate;
    }
    expect(await init()).toEqual({ backend: 'simd', threads: 1 });
  });

  it('a process that used them exits by itself', () => {
    const script = `
      import { init, nalu, sequential, adam } from './src/index.ts';
      const info = await init({ threads: 2 });
      const m = sequential([nalu({ inputs: 64, outputs: 64 })]);
      const x = new Float32Array(64 * 512).fill(0.5);
      console.log(JSON.stringify({ info, loss: m.trainStep(x, x, adam()) }));`;
    const started = Date.now();
    const out = JSON.parse(runScript(script));
    expect(out.info).toEqual({ backend: 'simd', threads: 2 });
    expect(Number.isFinite(out.loss)).toBe(true);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('a pool works from its first product: 200 new pools, each used at once, all finish', () => {
    // A worker that reached its loop only after the first job had started once waited for the
    // next one, and the main thread for it, forever (seen here within about 60 new pools).
    const script = `
      import { readFileSync } from 'node:fs';
      import { adam, init, nalu, rmsprop, sequential } from './src/index.ts';
      const module = new WebAssembly.Module(readFileSync('build/nalu-threads.wasm'));
      const x = new Float32Array(64 * 256).fill(0.5);
      let done = 0;
      for (let i = 0; i < 200; i++) {
        await init({ threads: 2, wasm: module });
        sequential([nalu({ inputs: 64, outputs: 64 })]).predict(x);
        done++;
      }
      console.log(done);`;
    const out = runScript(script);
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

  it('a worker thread that traps: a clear error instead of a hang, the model unchanged, later calls on one thread with the same results', () => {
    // The fault: worker 1's scratch table (pool.ts: control block + 64 + 64 POOL_MAX + 32 t,
    // four [address, bytes] slots) made to point past the end of memory, so its next product
    // traps. Before workers reported their failures, the main thread waited for one forever.
    const script = `
      import { init, nalu, sequential, adam } from './src/index.ts';
      const make = () => sequential([nalu({ inputs: 64, outputs: 64 })], { seed: 3 });
      const breakWorker = ({ ex, i32, poolBlock }) => {
        const table = (poolBlock + 64 + 64 * ex.POOL_MAX.value + 32) >> 2;
        for (let slot = 0; slot < 4; slot++) { i32[table + 2 * slot] = 0xfffff000 | 0; i32[table + 2 * slot + 1] = 0x7fffffff; }
      };
      const attempt = (f) => { try { f(); return ''; } catch (err) { return err.message; } };
      const x = new Float32Array(64 * 512).map((_, i) => Math.sin(i));
      const t = new Float32Array(64 * 512).map((_, i) => Math.cos(i));
      await init({ threads: 1 });
      const ref = make(), refOpt = adam();
      const refLoss = [ref.trainStep(x, t, refOpt), ref.trainStep(x, t, refOpt)];
      const refY = Array.from(ref.predict(x));

      await init({ threads: 2 });
      const m = make(), opt = adam();
      const loss = [m.trainStep(x, t, opt)];
      const before = Array.from(m.save({ optimizer: true }));
      breakWorker(m.engine);
      const trainError = attempt(() => m.trainStep(x, t, opt));
      const unchanged = Array.from(m.save({ optimizer: true })).every((b, i) => b === before[i]);
      loss.push(m.trainStep(x, t, opt));
      const nanError = attempt(() => m.predict(new Float32Array(64 * 512).fill(NaN)));

      const info = await init({ threads: 2 }); // a new pool: the failed one's engine runs on one thread
      const p = make(), pOpt = adam();
      p.trainStep(x, t, pOpt);
      p.trainStep(x, t, pOpt);
      breakWorker(p.engine);
      const predictError = attempt(() => p.predict(x));
      const y = Array.from(p.predict(x));
      console.log(JSON.stringify({ trainError, unchanged, sameLoss: loss.every((l, i) => Object.is(l, refLoss[i])), nanError,
        info, newEngine: p.engine !== m.engine, predictError, sameY: y.every((v, i) => Object.is(v, refY[i])) }));`;
    const out = JSON.parse(runScript(script));
    const says = 'worker thread 1 of the module failed during the call (RuntimeError: memory access out of bounds); '
      + 'its results were dropped and the parameters not updated. '
      + 'The module runs on one thread from now on (same results); call again';
    expect(out.trainError).toBe(`trainStep: ${says}`);
    expect(out.unchanged).toBe(true);
    expect(out.sameLoss).toBe(true);
    expect(out.nanError).toMatch(/^predict: x holds NaN at index 0/); // later calls report their own faults
    expect(out.info).toEqual({ backend: 'simd', threads: 2 });
    expect(out.newEngine).toBe(true);
    expect(out.predictError).toBe(`predict: ${says}`);
    expect(out.sameY).toBe(true);
  });

  it('the main thread trapping in its own part of a shared product: the next call waits for the worker\'s part first', () => {
    // test/fixtures/main-thread-fault.ts: the threads build plus exports that break and reset the
    // main thread's scratch buffers. The worker's half of this 256 x 512 x 4096 product runs for
    // ~25 ms after the main thread's trap. The call that follows at once starts with the shared
    // check of x for NaN; had that job counted the late part as its own, the worker would have
    // skipped it, and the NaN in its half of x would have gone unreported.
    const dir = mkdtempSync(join(tmpdir(), 'nalu-fault-'));
    const wasmPath = join(dir, 'fault.wasm');
    execFileSync(process.execPath, [join(root, 'node_modules/assemblyscript/bin/asc.js'), 'test/fixtures/main-thread-fault.ts',
      '--config', 'asconfig.json', '--target', 'threads', '-o', wasmPath, '--textFile', join(dir, 'fault.wat')], { cwd: root, stdio: 'pipe' });
    const script = `
      import { readFileSync } from 'node:fs';
      import { adam, init, nalu, rmsprop, sequential } from './src/index.ts';
      const make = () => sequential([nalu({ inputs: 256, outputs: 256 })], { seed: 4 });
      const x = new Float32Array(256 * 4096).map((_, i) => Math.sin(i));
      const bad = x.slice();
      bad[bad.length - 1] = NaN;
      await init({ threads: 1 });
      const ref = make().predict(x);
      await init({ threads: 2, wasm: readFileSync(${JSON.stringify(wasmPath)}) });
      const m = make(), ex = m.engine.ex;
      const attempt = (f) => { try { f(); return ''; } catch (err) { return err.name + ': ' + err.message; } };
      const rounds = [];
      for (let r = 0; r < 3; r++) {
        ex.breakMainScratch();
        const trap = attempt(() => m.predict(x));
        ex.resetMainScratch();
        const nan = attempt(() => m.predict(bad));
        ex.breakMainScratch();
        attempt(() => m.predict(x));
        ex.resetMainScratch();
        const y = m.predict(x);
        rounds.push({ trap, nan, same: y.every((v, i) => Object.is(v, ref[i])) });
      }
      // a training call that switches optimizers and traps: the previous optimizer's state stays
      const tx = x.subarray(0, 256 * 512), tt = tx.map(Math.cos);
      const opt = adam();
      m.trainStep(tx, tt, opt);
      m.trainStep(tx, tt, opt);
      const before = m.optimizerState();
      ex.breakMainScratch();
      const switchTrap = attempt(() => m.trainStep(tx, tt, rmsprop()));
      ex.resetMainScratch();
      const after = m.optimizerState();
      const same = (a, b) => a.every((rec, k) => Object.keys(rec).every((n) => rec[n].every((v, i) => Object.is(v, b[k][n][i]))));
      const kept = after.optimizer === opt && after.step === 2 && same(after.m, before.m) && same(after.v, before.v);
      console.log(JSON.stringify({ rounds, threads: m.engine.threads, switchTrap, kept }));`;
    try {
      const out = JSON.parse(runScript(script));
      expect(out.rounds).toHaveLength(3);
      for (const round of out.rounds) {
        expect(round.trap).toBe('RuntimeError: memory access out of bounds');
        expect(round.nan).toMatch(/^NaluError: predict: x holds NaN at index 1048575 \(sample 4095, input 255\)/);
        expect(round.same).toBe(true);
      }
      expect(out.threads).toBe(2);
      expect(out.switchTrap).toBe('RuntimeError: memory access out of bounds');
      expect(out.kept).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
