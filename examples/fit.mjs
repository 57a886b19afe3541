// The README's third example: an NMU fits a * b on a fixed data set (model.fit).
import { init, sequential, nmu, adam } from 'nalu-wasm';
await init();

let s = 1; // a small seeded generator, so that the run prints the same lines every time
const uniform = (lo, hi) => lo + (hi - lo) * ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const pairs = (n, lo, hi) => {
  const x = new Float32Array(2 * n), target = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = uniform(lo, hi); x[2 * i + 1] = uniform(lo, hi);
    target[i] = x[2 * i] * x[2 * i + 1];
  }
  return { x, target };
};
const train = pairs(1000, 1, 2), validation = pairs(200, 2, 6);   // validation outside [1, 2]

const model = sequential([nmu({ inputs: 2, outputs: 1 })], { seed: 0 });
const result = model.fit(train.x, train.target, {
  optimizer: adam({ learningRate: 0.01 }), epochs: 100, batchSize: 32, validation, patience: 5,
  onEpoch: ({ epoch, loss, validationLoss }) => console.log(`epoch ${epoch}: loss ${loss.toExponential(1)}, validation ${validationLoss.toExponential(1)}`),
});
console.log(result.loss.length, 'epochs, the best', result.bestEpoch, model.getWeights()[0].W, model.predict([10, 20]));
// epoch 1: loss 2.9e-1, validation 1.8e+1
// ...
// epoch 5: loss 4.8e-6, validation 0.0e+0
// ...
// 10 epochs, the best 5 Float32Array(2) [ 1, 1 ] Float32Array(1) [ 200 ]
model.dispose();
