// The opt-in relaxed-SIMD build (init({ relaxed: true })): refused with a clear error where the
// engine lacks relaxed SIMD. Where it runs, the suites of the default builds run it too (BUILDS
// in helpers.ts): against the float64 reference and PyTorch's golden cases with the same
// tolerances, and every invariant but the bit identity with the other builds (a batch-1
// prediction still equals its batch's, to the bit). On two threads it gives its own bits again.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { adam, init, nalu, sequential } from '../src/index';
import { BUILDS, firstBitDifference, prng, useBackend } from './helpers'; // helpers sets Node 20's relaxed-SIMD flag
import { sameBits } from './helpers-random';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('relaxed-SIMD build', () => {
  it('an engine without relaxed SIMD cannot compile it, and init({ relaxed: true }) says what is missing', () => {
    // a fresh process, without the V8 flag that helpers.ts sets in this one
    const script = `
      import { readFileSync } from 'node:fs';
      import { init } from './src/index.ts';
      import { relaxedSimdSupported } from './src/wasm/probe.ts';
      const out = { supported: relaxedSimdSupported(), compiles: WebAssembly.validate(readFileSync('build/nalu-relaxed.wasm')) };
      try { out.backend = (await init({ relaxed: true })).backend; } catch (err) { out.error = err.message; }
      console.log(JSON.stringify(out));`;
    const res = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }));
    if (res.supported) {
      expect(res).toEqual({ supported: true, compiles: true, backend: 'relaxed' });
    } else {
      expect(res.compiles).toBe(false); // the build does use relaxed-SIMD instructions
      expect(res.error).toMatch(/relaxed: true needs WebAssembly relaxed SIMD.*--experimental-wasm-relaxed-simd/);
    }
  });

  it('rejects bad options', async () => {
    await expect(init({ relaxed: 'yes' as never })).rejects.toThrow('init: relaxed must be true or false, got "yes"');
    await expect(init({ relaxed: true, simd: false })).rejects.toThrow(/cannot be combined with simd: false/);
  });

  it.runIf(BUILDS.includes('relaxed-threads'))('on two threads it gives the bits of one thread', async () => {
    const rand = prng(31);
    const n = 64, batch = 1030;
    const x = new Float32Array(n * batch).map(() => rand() * 4 - 2);
    const t = new Float32Array(batch).map(() => rand() - 0.5);
    const run = async (backend: 'relaxed' | 'relaxed-threads') => {
      await useBackend(backend);
      const m = sequential([nalu({ inputs: n, outputs: n }), nalu({ inputs: n, outputs: 1 })], { seed: 8 });
      const { loss, grads } = m.gradients(x, t);
      const opt = adam({ learningRate: 1e-3 });
      const losses = [0, 1, 2].map(() => m.trainStep(x, t, opt));
      const out = { y: m.predict(x), loss, grads, losses, weights: m.getWeights() };
      m.dispose();
      return out;
    };
    const one = await run('relaxed'), two = await run('relaxed-threads');
    expect(firstBitDifference(two.y, one.y)).toBe(-1);
    expect(two.loss).toBe(one.loss);
    expect(sameBits(two.grads, one.grads)).toBe(true);
    expect(two.losses).toEqual(one.losses);
    expect(sameBits(two.weights, one.weights)).toBe(true);
  });
});
