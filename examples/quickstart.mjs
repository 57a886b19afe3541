// The README's quick start: an NAU learns y = a - b from pairs in [0, 1), then extrapolates.
import { init, sequential, nau, adam } from 'nalu-wasm';

const { backend } = await init(); // 'simd', or 'scalar' where SIMD is missing
const model = sequential([nau({ inputs: 2, outputs: 1 })], { seed: 1 });
const opt = adam({ learningRate: 0.05 });

const x = new Float32Array(2 * 64), y = new Float32Array(64);
for (let step = 0; step < 2000; step++) {
  for (let i = 0; i < 64; i++) {
    x[2 * i] = Math.random(); x[2 * i + 1] = Math.random();
    y[i] = x[2 * i] - x[2 * i + 1];
  }
  model.trainStep(x, y, opt); // returns the loss before the update
}
console.log(backend, model.getWeights()[0].W, model.predict(new Float32Array([1000, 250])));
// simd Float32Array(2) [ 1, -1 ] Float32Array(1) [ 750 ]
model.dispose();
