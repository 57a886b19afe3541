// The check before every optimizer update (assembly/optim.ts: updateSafe, the quick screen, and
// the exact pass without commit), against the truth: the same step on a twin model made with
// allowNonFinite, which updates without any check. Over random states from ordinary to near the
// f32 limit (weights, inputs, moments, learning rates and eps over many decades), for each
// optimizer: when the checked step refuses the update, the unchecked twin's new state holds a
// NaN or infinity; when it accepts, the twin's state is finite and both have the same bits.
import { describe, expect, it } from 'vitest';
import { adam, nac, nalu, NaluError, rmsprop, sequential, sgd, type Model, type Optimizer, type Weights } from '../src/index';
import { BUILDS, prng, useBackend } from './helpers';
import { sameBits } from './helpers-random';
import { F32_MAX } from '../src/errors';

/** 10^e for e uniform in [lo, hi], with a random sign when `signed`; finite in f32. */
function decade(rand: () => number, lo: number, hi: number, signed = true): number {
  const v = Math.min(10 ** (lo + (hi - lo) * rand()), F32_MAX * 0.99);
  return signed && rand() < 0.5 ? -v : v;
}

function mapWeights(w: Weights, f: () => number): Weights {
  return w.map((rec) => Object.fromEntries(Object.entries(rec).map(([k, a]) => [k, Float32Array.from(a, f)])));
}

function allFinite(w: Weights): boolean {
  return w.every((rec) => Object.values(rec).every((a) => a.every(Number.isFinite)));
}

type Kind = 'adam' | 'rmsprop' | 'sgd';

function optimizerOf(kind: Kind, rand: () => number): Optimizer {
  const learningRate = decade(rand, -6, 6, false);
  if (kind === 'sgd') return sgd({ learningRate });
  const epsilon = decade(rand, -30, 0, false);
  if (kind === 'rmsprop') return rmsprop({ learningRate, epsilon, alpha: 1 - decade(rand, -7, -0.5, false) });
  return adam({ learningRate, epsilon, beta1: 1 - decade(rand, -3, -0.1, false), beta2: 1 - decade(rand, -7, -0.5, false) });
}

interface Outcome {
  /** 'update' (refused by the check), 'other' (refused for the loss or a gradient) or 'ok' */
  result: 'update' | 'other' | 'ok';
  w: Weights;
  m?: Weights;
  v?: Weights;
}

describe.each(BUILDS)('the update check agrees with an unchecked step, %s build', (backend) => {
  it.each(['adam', 'rmsprop', 'sgd'] as const)('%s: 300 random states', async (kind) => {
    await useBackend(backend);
    const counts = { update: 0, ok: 0, other: 0 };
    for (let c = 0; c < 300; c++) {
      const rand = prng(1000 * c + kind.length);
      const layers = c % 2 ? [nac({ inputs: 3, outputs: 2 }), nac({ inputs: 2, outputs: 1 })] : [nalu({ inputs: 3, outputs: 1 })];
      const wScale = rand() < 0.5 ? 38.5 : 3, momentScale = rand() < 0.5 ? 38 : 4;
      // inputs: ordinary, over 22 decades, or all from 1e14 to 1e19 (gradients up to ~1e38)
      const [xLo, xHi] = [[-2, 2], [-2, 20], [14, 19]][Math.floor(rand() * 3)]!;
      const weights = mapWeights(sequential(layers, { seed: c }).getWeights(), () => decade(rand, -3, wScale));
      const x = Float32Array.from({ length: 4 * 3 }, () => decade(rand, xLo, xHi));
      const t = Float32Array.from({ length: 4 }, () => decade(rand, -2, 2));
      const step = 1 + Math.floor(rand() * 1000);
      const m = mapWeights(weights, () => decade(rand, -4, momentScale));
      const v = mapWeights(weights, () => decade(rand, -8, momentScale, false));
      const optSeed = 77 * c + 1;

      const run = (allowNonFinite: boolean): Outcome => {
        const model: Model = sequential(layers, { seed: c, allowNonFinite });
        try {
          model.setWeights(weights);
          const opt = optimizerOf(kind, prng(optSeed));
          model.restoreOptimizer({ optimizer: opt, step, m, v });
          try {
            model.trainStep(x, t, opt);
          } catch (e) {
            if (!(e instanceof NaluError)) throw e;
            const result = / the update of /.test(e.message) ? 'update' : 'other';
            return { result, w: model.getWeights() };
          }
          const s = model.optimizerState()!;
          return { result: 'ok', w: model.getWeights(), m: s.m, v: s.v };
        } finally {
          model.dispose();
        }
      };
      const checked = run(false);
      const truth = run(true);
      counts[checked.result]++;
      if (checked.result === 'other') continue; // the loss or a gradient: older checks, tested elsewhere
      const finite = allFinite(truth.w) && allFinite(truth.m!) && allFinite(truth.v!);
      if (checked.result === 'update') {
        expect(finite, `case ${c}: refused, but the unchecked update is finite`).toBe(false);
        expect(sameBits(checked.w, weights), `case ${c}: a refused step changed the weights`).toBe(true);
      } else {
        expect(finite, `case ${c}: accepted, but the unchecked update is not finite`).toBe(true);
        expect(sameBits(checked.w, truth.w) && sameBits(checked.m!, truth.m!) && sameBits(checked.v!, truth.v!), `case ${c}: bits differ`).toBe(true);
      }
    }
    // the draws reach both sides of the check (here: 16 to 124 refused, 152 to 271 accepted)
    expect(counts.update, JSON.stringify(counts)).toBeGreaterThanOrEqual(10);
    expect(counts.ok, JSON.stringify(counts)).toBeGreaterThanOrEqual(50);
  });
});
