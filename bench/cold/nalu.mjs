// Cold start of nalu-wasm: import, init(), a NALU 100-2-1 model, one batch-1 predict.
// Plain JavaScript (no tsx), run as `node bench/cold/nalu.mjs <path of the package's index.js>`.
const t0 = performance.now();
const { init, sequential, nalu } = await import(process.argv[2]);
await init();
const model = sequential([nalu({ inputs: 100, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })], { seed: 1 });
const y = model.predict(new Float32Array(100).fill(0.5), 1);
if (!Number.isFinite(y[0])) throw new Error('bad prediction');
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ inScriptMs: performance.now() - t0, cpuUs: cpu.user + cpu.system }) + '\n');
