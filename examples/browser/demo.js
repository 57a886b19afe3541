// The demo of index.html, kept apart so that it runs unchanged in any runtime: a NAC learns
// y = a + b from 256 samples with a, b in [0, 10), then extrapolates to numbers 100 times larger.
// Everything is seeded (mulberry32 for the data, the package's own seed for the weights), so the
// result is the same to the bit in every browser and in Node.

/** mulberry32: a small seeded generator for the data. */
function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sums(n, scale, seed) {
  const rand = mulberry32(seed);
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = scale * rand();
    x[2 * i + 1] = scale * rand();
    y[i] = x[2 * i] + x[2 * i + 1];
  }
  return { x, y };
}

export async function runDemo(nalu, { steps = 500, learningRate = 1, onProgress } = {}) {
  const { backend } = await nalu.init();
  const model = nalu.sequential([nalu.nac({ inputs: 2, outputs: 1 })], { seed: 7 });
  const train = sums(256, 10, 1);
  const test = sums(256, 1000, 2);
  const optimizer = nalu.adam({ learningRate });
  const t0 = performance.now();
  let loss = NaN;
  const losses = [];
  for (let step = 0; step < steps; step++) {
    loss = model.trainStep(train.x, train.y, optimizer);
    if (step % 50 === 0 || step === steps - 1) {
      losses.push([step, loss]);
      onProgress?.(step, loss);
    }
  }
  const ms = performance.now() - t0;
  const extrapolationMse = model.evaluate(test.x, test.y);
  const weights = model.getWeights()[0];
  const W = Array.from(weights.W_hat, (w, i) => Math.tanh(w) / (1 + Math.exp(-weights.M_hat[i])));
  const probe = Array.from(model.predict([1234.5, 4321], 1));
  model.dispose();
  return { backend, steps, loss, losses, extrapolationMse, W, probe, ms };
}
