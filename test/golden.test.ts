// Every layer against PyTorch autograd (../shared/golden/{core,dense,units}-torch.json: NAC,
// NAC*, NALU tied and separate; dense with each activation; NAU and NMU), on both builds,
// with the tolerances of the golden README: forward and loss 1e-5 relative, gradients 1e-4
// relative to each tensor's largest magnitude, training losses and final parameters 1e-4.
// "Relative" for y and the final parameters is taken to each tensor's largest magnitude, as
// for the gradients: a NALU output g a + (1 - g) m can cancel to near zero (nalu_separate_5x3
// has y = -0.00166 from terms of order 1, where f32 leaves an absolute error of 4e-8), and a
// parameter that Adam drives across zero ends near 0 (nac_odd_7x5_train's M_hat[26] goes from
// -0.198 to -0.002, within 1.2e-6 of PyTorch's f32 run: 1e-4 of one learning-rate step).
import { describe, expect, it } from 'vitest';
import { adam } from '../src/index';
import { loadGolden, maxErrRelToMax } from './golden';
import { BUILDS, bits, modelOf, useBackend } from './helpers';

describe.each(['core', 'dense', 'units'] as const)('golden %s cases', (file) => {
  const cases = loadGolden(file);

  describe.each(BUILDS)('%s build', (backend) => {
    it.each(cases.map((c) => [c.name, c] as const))('%s: forward, loss and gradients', async (_name, c) => {
      await useBackend(backend);
      const m = modelOf(c);
      const x = Float32Array.from(c.x);
      const t = Float32Array.from(c.target);
      const y = m.predict(x, c.batch);
      expect(maxErrRelToMax(y, c.expected.y)).toBeLessThan(1e-5);
      const { loss, grads } = m.gradients(x, t, c.batch);
      expect(Math.abs(loss - c.expected.loss) / c.expected.loss).toBeLessThan(1e-5);
      expect(m.evaluate(x, t, c.batch)).toBe(loss);
      c.expected.grads.forEach((g, k) => {
        expect(Object.keys(grads[k]!).sort()).toEqual(Object.keys(g).sort());
        for (const [name, want] of Object.entries(g)) {
          expect(maxErrRelToMax(grads[k]![name]!, want), `${name} of layer ${k}`).toBeLessThan(1e-4);
        }
      });
      m.dispose();
    });

    it.each(cases.filter((c) => c.train).map((c) => [c.name, c] as const))('%s: Adam training run', async (_name, c) => {
      await useBackend(backend);
      const m = modelOf(c);
      const opt = adam({ learningRate: c.train!.lr });
      const x = Float32Array.from(c.x);
      const t = Float32Array.from(c.target);
      c.train!.losses.forEach((want, s) => {
        const loss = m.trainStep(x, t, opt, c.batch);
        expect(Math.abs(loss - want) / want, `loss before step ${s}`).toBeLessThan(1e-4);
      });
      m.getWeights().forEach((rec, k) => {
        for (const [name, want] of Object.entries(c.train!.finalParams[k]!)) {
          expect(maxErrRelToMax(rec[name]!, want), `${name} of layer ${k}`).toBeLessThan(1e-4);
        }
      });
      m.dispose();
    });
  });

  describe('simd, scalar and threads builds agree bit for bit', () => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const run = async (backend: 'simd' | 'scalar' | 'threads') => {
        await useBackend(backend);
        const m = modelOf(c);
        const x = Float32Array.from(c.x);
        const t = Float32Array.from(c.target);
        const y = m.predict(x, c.batch);
        const { loss, grads } = m.gradients(x, t, c.batch);
        const opt = adam({ learningRate: 0.01 });
        const losses = [0, 1, 2].map(() => m.trainStep(x, t, opt, c.batch));
        const after = m.getWeights();
        m.dispose();
        return { y, loss, grads, losses, after };
      };
      const a = await run('simd');
      for (const other of ['scalar', 'threads'] as const) {
        const b = await run(other);
        expect(bits(a.y)).toEqual(bits(b.y));
        expect(a.loss).toBe(b.loss);
        expect(a.losses).toEqual(b.losses);
        a.grads.forEach((g, k) => {
          for (const name of Object.keys(g)) expect(bits(g[name]!)).toEqual(bits(b.grads[k]![name]!));
        });
        a.after.forEach((g, k) => {
          for (const name of Object.keys(g)) expect(bits(g[name]!)).toEqual(bits(b.after[k]![name]!));
        });
      }
    });
  });
});
