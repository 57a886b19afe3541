// The opt-in relaxed-SIMD build (init({ relaxed: true })): refused with a clear error where the
// engine lacks relaxed SIMD. Where it runs, the suites of the default builds run it too (BUILDS
// in helpers.ts): against the float64 reference and PyTorch's golden cases with the same
// tolerances, and every invariant but the bit identity with the other builds (a batch-1
// prediction still equals its batch's, to the bit).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { init } from '../src/index';
import './helpers'; // sets Node 20's relaxed-SIMD flag in this process

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
});
