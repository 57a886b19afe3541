// Cold start of TensorFlow.js with the wasm backend: import, setBackend('wasm'), the NALU
// 100-2-1 as tf.variables, one batch-1 predict (dataSync).
// Plain JavaScript, run as `node bench/cold/tfjs.mjs <tfjs module path> <tfjs-backend-wasm module path>`:
// the first is @tensorflow/tfjs-core (the smallest set that predicts) or @tensorflow/tfjs (what
// training needs: tfjs-core alone registers no gradients in Node).
const t0 = performance.now();
const mod = await import(process.argv[2]);
const tf = mod.default ?? mod;
await import(process.argv[3]);
await tf.setBackend('wasm');
await tf.ready();
const layer = (i, o, seed) => {
  let s = seed;
  const u = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296 - 0.5);
  const t = () => tf.variable(tf.tensor2d(Float32Array.from({ length: i * o }, u), [i, o]));
  return { W_hat: t(), M_hat: t(), G: t() };
};
const vars = [layer(100, 2, 1), layer(2, 1, 2)];
const y = tf.tidy(() => {
  let h = tf.tensor2d(new Float32Array(100).fill(0.5), [1, 100]);
  for (const p of vars) {
    const W = tf.mul(tf.tanh(p.W_hat), tf.sigmoid(p.M_hat));
    const a = tf.matMul(h, W);
    const m = tf.exp(tf.matMul(tf.log(tf.add(tf.abs(h), 1e-7)), W));
    const g = tf.sigmoid(tf.matMul(h, p.G));
    h = tf.add(tf.mul(g, a), tf.mul(tf.sub(1, g), m));
  }
  return h;
}).dataSync();
if (!Number.isFinite(y[0])) throw new Error('bad prediction');
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ inScriptMs: performance.now() - t0, cpuUs: cpu.user + cpu.system }) + '\n');
