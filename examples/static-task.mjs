// The README's second quick start: Madsen & Johansen's static task, an NAU and an NMU learn a * b.
import { init, sequential, nau, nmu, adam, staticTask } from 'nalu-wasm';
await init();
const task = staticTask({ op: 'mul', seed: 0 });   // 100 inputs, subsets of 25 overlapping by 12
const model = sequential([nau({ inputs: 100, outputs: 2 }), nmu({ inputs: 2, outputs: 1 })],
  { seed: 0, regularizer: { lambda: 10, start: 1e6, end: 2e6 } });
const sampler = task.trainSampler();
const opt = adam();                                // its state lives with the model
for (let i = 0; i < 2_000_000; i++) model.trainStepOn(sampler, opt, 128);  // about 25 s
const test = task.testSet(10_000);                 // inputs drawn from [2, 6], outside training's [1, 2]
console.log(model.evaluate(test.x, test.target), task.threshold(), model.getWeights()[1].W);
// 0.0000018933057785034179 0.16054442771168484 Float32Array(2) [ 1, 1 ]
