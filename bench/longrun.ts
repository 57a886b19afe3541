// The long run: 1,000,000 fused training steps (model.trainStepOn) of the NALU stack
// 100 -> 2 -> 1 at batch 128 on the static addition task, Adam at its defaults. It answers one
// question: does memory stay flat? Linear memory (the Wasm instance's, in bytes) after
// 1,000,000 steps must equal linear memory after 1,000. JavaScript's heap and the process's
// resident size are printed too (they move with the garbage collector; with --expose-gc the
// bench collects before each reading).
//
// Each build runs on a fresh instance (init with a compiled module), so that its memory starts
// small and any growth shows. At the end the model is saved with its optimizer, loaded, and
// saved again: the two byte strings must be equal.
//
//   node --import tsx bench/longrun.ts [--steps 1000000] [--backend simd|scalar|both] [--json path]
//
// Writes bench/results/longrun.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adam, init, load, nalu, sequential, staticTask, type Model } from '../src/index';
import { opt } from './lib/args';

const STEPS = Number(opt('steps', '1000000'));
const BACKENDS = opt('backend', 'simd') === 'both' ? ['simd', 'scalar'] as const : [opt('backend', 'simd') as 'simd' | 'scalar'];
const JSON_OUT = opt('json', fileURLToPath(new URL('./results/longrun.json', import.meta.url)));
const BATCH = 128;
if (!Number.isInteger(STEPS) || STEPS < 1000) throw new Error('--steps must be an integer >= 1000');

const memoryBytes = (m: Model): number =>
  (m as unknown as { engine: { ex: { memory: WebAssembly.Memory } } }).engine.ex.memory.buffer.byteLength;
const gc = (globalThis as { gc?: () => void }).gc;

interface Reading { step: number; wasmBytes: number; heapUsed: number; rss: number; seconds: number; loss: number }

async function run(backend: 'simd' | 'scalar') {
  const module = new WebAssembly.Module(readFileSync(new URL(`../build/nalu-${backend}.wasm`, import.meta.url)));
  await init({ simd: backend === 'simd', wasm: module });
  const model = sequential([nalu({ inputs: 100, outputs: 2 }), nalu({ inputs: 2, outputs: 1 })], { seed: 0 });
  const sampler = staticTask({ op: 'add' }).trainSampler();
  const optimizer = adam();
  const at = new Set([1, 1000, 10000, 100000]);
  for (let s = 200000; s <= STEPS; s += 200000) at.add(s);
  at.add(STEPS);
  const readings: Reading[] = [];
  const started = performance.now();
  let loss = NaN;
  for (let s = 1; s <= STEPS; s++) {
    loss = model.trainStepOn(sampler, optimizer, BATCH);
    if (at.has(s)) {
      gc?.();
      const mem = process.memoryUsage();
      const r = { step: s, wasmBytes: memoryBytes(model), heapUsed: mem.heapUsed, rss: mem.rss, seconds: (performance.now() - started) / 1000, loss };
      readings.push(r);
      console.log(`${backend} ${String(s).padStart(8)} steps: linear memory ${r.wasmBytes} bytes, JS heap ${(r.heapUsed / 2 ** 20).toFixed(1)} MiB, ` +
        `rss ${(r.rss / 2 ** 20).toFixed(1)} MiB, ${r.seconds.toFixed(1)} s, loss ${loss.toPrecision(4)}`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const bytes = model.save({ optimizer: true });
  const copy = load(bytes);
  const roundTrip = Buffer.compare(Buffer.from(copy.save({ optimizer: true })), Buffer.from(bytes)) === 0;
  const after1000 = readings.find((r) => r.step === 1000)!.wasmBytes;
  const end = readings[readings.length - 1]!.wasmBytes;
  copy.dispose();
  model.dispose();
  sampler.dispose();
  return {
    backend, steps: STEPS, batch: BATCH, seconds, stepsPerSecond: STEPS / seconds,
    wasmBytesAfter1000: after1000, wasmBytesAtEnd: end, flat: end === after1000,
    finalLoss: loss, step: STEPS, savedBytes: bytes.length, saveLoadRoundTrip: roundTrip, readings,
  };
}

const results = [];
for (const backend of BACKENDS) results.push(await run(backend));
for (const r of results) {
  console.log(`\n${r.backend}: ${r.steps} steps in ${r.seconds.toFixed(1)} s (${Math.round(r.stepsPerSecond)} steps/s); linear memory ` +
    `${r.wasmBytesAfter1000} bytes after 1,000 steps, ${r.wasmBytesAtEnd} after ${r.steps}: ${r.flat ? 'flat' : 'GREW'}; ` +
    `saved model ${r.savedBytes} bytes, save/load/save ${r.saveLoadRoundTrip ? 'identical' : 'DIFFERENT'}`);
}
mkdirSync(dirname(JSON_OUT), { recursive: true });
writeFileSync(JSON_OUT, `${JSON.stringify({
  bench: 'longrun', date: new Date().toISOString(), node: process.version, platform: `${process.platform} ${process.arch}`,
  cpu: cpus()[0]?.model, gcExposed: gc !== undefined, results,
}, null, 2)}\n`);
console.log(`\nwrote ${JSON_OUT}`);
if (results.some((r) => !r.flat || !r.saveLoadRoundTrip)) process.exitCode = 1;
