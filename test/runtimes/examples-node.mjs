// Node's answers for the examples, from the packed package, for the browsers and workerd to
// match to the bit: the browser demo's result and the worker model's predictions.
import { readFileSync } from 'node:fs';
import * as nalu from 'nalu-wasm';
import { runDemo } from './examples/browser/demo.js';

const demo = await runDemo(nalu);
delete demo.ms;
const spec = JSON.parse(readFileSync(new URL('./examples/worker/src/model.json', import.meta.url), 'utf8'));
const x = JSON.parse(process.argv[2]);
await nalu.init();
const model = nalu.sequential(spec.layers.map(({ type, ...options }) => nalu[type](options)));
model.setWeights(spec.weights);
const y = model.predict(x.flat(), x.length);
const rows = x.map((_, i) => Array.from(y.subarray(i * model.outputs, (i + 1) * model.outputs)));
console.log(`NALU-EXAMPLES ${JSON.stringify({ demo, worker: rows })}`);
