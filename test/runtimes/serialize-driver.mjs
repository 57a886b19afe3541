// Saved models across runtimes: run by test/runtimes/serialize.test.mjs in Node, Deno and Bun,
// inside the temporary project where the packed package is installed. For each build it makes
// the same model (every stable layer type, model options, Adam with clipping), trains it 10
// steps on fixed data, saves it (binary and JSON, with the optimizer), and takes one more step.
// When ./from-node.mjs exists (Node's output), it also loads Node's saved models, predicts, saves
// them again and takes the next step. Prints one JSON line. Plain JavaScript, no imports but the
// package.
import * as nalu from 'nalu-wasm';

function runtimeName() {
  if (typeof Deno !== 'undefined') return `Deno ${Deno.version.deno}`;
  if (typeof Bun !== 'undefined') return `Bun ${Bun.version}`;
  return `Node.js ${process.versions.node}`;
}

const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (s) => Uint8Array.from(s.match(/../g), (h) => parseInt(h, 16));
const hex32 = (a) => hex(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const hex64 = (n) => hex(new Uint8Array(Float64Array.of(n).buffer));

/** mulberry32, as test/helpers.ts. */
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeModel() {
  return nalu.sequential([
    nalu.nalu({ inputs: 4, outputs: 3, eps: 1e-6, init: 'seed' }),
    nalu.nalu({ inputs: 3, outputs: 3, sharedWeights: false }),
    nalu.nacMul({ inputs: 3, outputs: 3, eps: 1e-5 }),
    nalu.nac({ inputs: 3, outputs: 3, init: 'madsen' }),
    nalu.dense({ inputs: 3, outputs: 3, activation: 'selu' }),
    nalu.nau({ inputs: 3, outputs: 2 }),
    nalu.nmu({ inputs: 2, outputs: 1 }),
  ], { seed: 11, regularizer: { lambda: 0.1, start: 2, end: 8 } });
}

const rand = prng(42);
const x = Float32Array.from({ length: 16 * 4 }, () => (rand() < 0.1 ? 0 : (rand() < 0.3 ? -1 : 1) * (0.1 + 1.9 * rand())));
const t = Float32Array.from({ length: 16 }, () => 2 * rand() - 1);

let fromNode = null;
try {
  fromNode = (await import('./from-node.mjs')).default;
} catch {
  fromNode = null;
}

const out = { runtime: runtimeName(), builds: {}, loaded: {} };
for (const backend of ['simd', 'scalar']) {
  await nalu.init({ simd: backend === 'simd' });
  const m = makeModel();
  const opt = nalu.adam({ learningRate: 0.01, clipValue: 0.5 });
  const losses = [];
  for (let s = 0; s < 10; s++) losses.push(m.trainStep(x, t, opt));
  const bytes = m.save({ optimizer: true });
  const json = JSON.stringify(m.toJSON({ optimizer: true }));
  const y = hex32(m.predict(x));
  const next = hex64(m.trainStep(x, t, opt));
  out.builds[backend] = { bytes: hex(bytes), json, y, losses: losses.map(hex64), next, after: hex(m.save({ optimizer: true })) };
  m.dispose();
  if (fromNode) {
    const l = nalu.load(unhex(fromNode[backend].bytes));
    const j = nalu.fromJSON(fromNode[backend].json);
    out.loaded[backend] = {
      y: hex32(l.predict(x)),
      resaved: hex(l.save({ optimizer: true })),
      jsonY: hex32(j.predict(x)),
      jsonResaved: hex(j.save({ optimizer: true })),
      next: hex64(l.trainStep(x, t, l.optimizer)),
      after: hex(l.save({ optimizer: true })),
    };
    l.dispose();
    j.dispose();
  }
}
console.log(`NALU-SERIALIZE ${JSON.stringify(out)}`);
