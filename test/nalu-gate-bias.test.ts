// The NALU's gate bias: g = sigmoid(x G + G_bias) must equal a NALU without the bias whose
// input has one more column of 1.0 (G's extra row = G_bias, W's extra row = 0): to the bit,
// since the bias is added after the same sum and its gradient is the same lane-wise batch sum.
import { describe, expect, it } from 'vitest';
import { adam, nalu, sequential } from '../src/index';
import { BUILDS, bits, prng, useBackend } from './helpers';

describe.each(BUILDS)('NALU gateBias, %s build', (backend) => {
  it.each([true, false])('equals a constant-1 input column (sharedWeights %s)', async (shared) => {
    await useBackend(backend);
    const rand = prng(21);
    const n = 5, out = 3, batch = 9;
    const r = (k: number, s = 1) => Float32Array.from({ length: k }, () => s * (2 * rand() - 1));
    const withBias = sequential([nalu({ inputs: n, outputs: out, gateBias: true, sharedWeights: shared })]);
    const extended = sequential([nalu({ inputs: n + 1, outputs: out, sharedWeights: shared })]);
    const p = withBias.getWeights()[0]!;
    const names = Object.keys(p).filter((k) => k !== 'G_bias');
    const set: Record<string, Float32Array> = {};
    for (const k of names) set[k] = r(n * out);
    set.G_bias = r(out);
    withBias.setWeights([set]);
    const ext: Record<string, Float32Array> = {};
    for (const k of names) {
      const extra = k === 'G' ? set.G_bias : new Float32Array(out); // tanh(0) = 0: that row of W is 0
      ext[k] = Float32Array.from([...set[k]!, ...extra]);
    }
    extended.setWeights([ext]);
    const x = r(batch * n, 2);
    const x1 = new Float32Array(batch * (n + 1));
    for (let b = 0; b < batch; b++) {
      x1.set(x.subarray(b * n, (b + 1) * n), b * (n + 1));
      x1[b * (n + 1) + n] = 1;
    }
    const t = r(batch * out);
    expect(bits(withBias.predict(x))).toEqual(bits(extended.predict(x1)));
    const ga = withBias.gradients(x, t), gb = extended.gradients(x1, t);
    expect(ga.loss).toBe(gb.loss);
    expect(bits(ga.grads[0]!.G_bias!)).toEqual(bits(gb.grads[0]!.G!.subarray(n * out)));
    // every other parameter's gradient is the extended one's without its extra row (separate
    // weights have six tensors: the layer record must hold six parameter and gradient addresses)
    for (const k of names) expect(bits(ga.grads[0]![k]!), k).toEqual(bits(gb.grads[0]![k]!.subarray(0, n * out)));
    expect(names.length).toBe(shared ? 3 : 5);
    // gradients() writes gradients only
    expect(bits(withBias.getWeights()[0]!.G_bias!)).toEqual(bits(set.G_bias));
    for (const k of names) expect(bits(withBias.getWeights()[0]![k]!), k).toEqual(bits(set[k]!));
    // ... and it trains: every parameter moves.
    withBias.trainStep(x, t, adam({ learningRate: 0.01 }));
    for (const k of [...names, 'G_bias']) expect(bits(withBias.getWeights()[0]![k]!), k).not.toEqual(bits(set[k]!));
    withBias.dispose();
    extended.dispose();
  });
});
