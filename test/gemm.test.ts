// The blocked paths of assembly/gemm.ts on shapes large enough to take them: gemmABt over
// several chunks of the batch (NQ >= 512 gives chunks of 256 lanes; NQ = 257 chunks of 512),
// with the tails of P (inputs not a multiple of 4) and of Q (odd outputs); gemmAB with A packed
// and several strips of B packed side by side, followed by a 4-lane strip (batch 300: 37 strips
// of 8 lanes and one of 4). On these, the two builds agree to the bit, predictions do not depend
// on the batch, and the gate bias's gradient (rowSums, four lane sums) equals the gradient of a
// constant-1 input column (gemmABt), which holds only if gemmABt sums in the same order. The
// last two take gemmAB's path for one and two rows (16 lanes at a time), and their inputs (over 2^14
// values) are transposed and logged by both threads of the threads build.
import { describe, expect, it } from 'vitest';
import { dense, nalu, sequential, type LayerSpec } from '../src/index';
import { BACKENDS, BUILDS, bits, firstBitDifference, prng, useBackend } from './helpers';
import { sameBits } from './helpers-random';

const r = (rand: () => number, n: number, s = 1) => Float32Array.from({ length: n }, () => s * (2 * rand() - 1));

const CASES: Array<[string, () => LayerSpec[], number, number, number]> = [
  // name, layers, inputs, outputs, batch
  ['nalu tied 9x260, batch 300', () => [nalu({ inputs: 9, outputs: 260 })], 9, 260, 300],
  ['nalu separate 6x259, batch 301', () => [nalu({ inputs: 6, outputs: 259, sharedWeights: false })], 6, 259, 301],
  ['dense 10x257 then nalu 257x3, batch 1030', () => [dense({ inputs: 10, outputs: 257 }), nalu({ inputs: 257, outputs: 3 })], 10, 3, 1030],
  ['nalu tied 37x2, batch 1027', () => [nalu({ inputs: 37, outputs: 2 })], 37, 2, 1027],
  ['nalu separate 33x1, batch 1100', () => [nalu({ inputs: 33, outputs: 1, sharedWeights: false })], 33, 1, 1100],
];

describe('large shapes: the simd, scalar and threads builds agree to the bit', () => {
  it.each(CASES)('%s', async (_name, layers, nin, nout, batch) => {
    const rand = prng(5);
    const x = r(rand, batch * nin, 2), t = r(rand, batch * nout);
    const out: Array<{ y: Float32Array; loss: number; grads: ReturnType<ReturnType<typeof sequential>['gradients']>['grads'] }> = [];
    for (const backend of BACKENDS) {
      await useBackend(backend);
      const m = sequential(layers(), { seed: 3 });
      const y = m.predict(x);
      const g = m.gradients(x, t);
      out.push({ y, loss: g.loss, grads: g.grads });
      m.dispose();
    }
    for (const o of out.slice(1)) {
      expect(firstBitDifference(o.y, out[0]!.y)).toBe(-1);
      expect(o.loss).toBe(out[0]!.loss);
      expect(sameBits(o.grads, out[0]!.grads)).toBe(true);
    }
  });
});

describe.each(BUILDS)('large shapes, %s build', (backend) => {
  it.each(CASES)('predictions do not depend on the batch: %s', async (_name, layers, nin, _nout, batch) => {
    await useBackend(backend);
    const rand = prng(9);
    const x = r(rand, batch * nin, 2);
    const m = sequential(layers(), { seed: 4 });
    const y = m.predict(x);
    const nout = y.length / batch;
    const cut = 37; // a part whose padding and strips differ from the whole's
    const head = m.predict(x.subarray(0, cut * nin));
    const tail = m.predict(x.subarray(cut * nin));
    expect(firstBitDifference(head, y.subarray(0, cut * nout))).toBe(-1);
    expect(firstBitDifference(tail, y.subarray(cut * nout))).toBe(-1);
    const one = m.predict(x.subarray(200 * nin, 201 * nin));
    expect(bits(one)).toEqual(bits(y.subarray(200 * nout, 201 * nout)));
    m.dispose();
  });

  it.each([true, false])('gate bias over several chunks equals a constant-1 input column (sharedWeights %s)', async (shared) => {
    await useBackend(backend);
    const rand = prng(13);
    const n = 5, out = 260, batch = 700;
    const withBias = sequential([nalu({ inputs: n, outputs: out, gateBias: true, sharedWeights: shared })]);
    const extended = sequential([nalu({ inputs: n + 1, outputs: out, sharedWeights: shared })]);
    const names = Object.keys(withBias.getWeights()[0]!).filter((k) => k !== 'G_bias');
    const set: Record<string, Float32Array> = {};
    for (const k of names) set[k] = r(rand, n * out);
    set.G_bias = r(rand, out);
    withBias.setWeights([set]);
    const ext: Record<string, Float32Array> = {};
    for (const k of names) ext[k] = Float32Array.from([...set[k]!, ...(k === 'G' ? set.G_bias : new Float32Array(out))]);
    extended.setWeights([ext]);
    const x = r(rand, batch * n, 2);
    const x1 = new Float32Array(batch * (n + 1));
    for (let b = 0; b < batch; b++) {
      x1.set(x.subarray(b * n, (b + 1) * n), b * (n + 1));
      x1[b * (n + 1) + n] = 1;
    }
    const t = r(rand, batch * out);
    const ga = withBias.gradients(x, t), gb = extended.gradients(x1, t);
    expect(ga.loss).toBe(gb.loss);
    expect(bits(ga.grads[0]!.G_bias!)).toEqual(bits(gb.grads[0]!.G!.subarray(n * out)));
    expect(bits(ga.grads[0]!.G!)).toEqual(bits(gb.grads[0]!.G!.subarray(0, n * out)));
    withBias.dispose();
    extended.dispose();
  });
});
