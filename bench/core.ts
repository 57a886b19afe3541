// The core benchmark: the NALU stack 100 -> 2 -> 1 (tied weights, Adam lr 1e-3), on
// nalu-wasm's SIMD build, its scalar build and a naive JavaScript implementation
// (bench/naive/nalu.ts), in one process.
//
//   train     Adam training steps per second at batch 128 (forward + MSE + backward + update)
//   forward   predicted samples per second at batch 128 (predict)
//   predict1  microseconds per predict call at batch 1
//
// Before timing, every implementation's y, loss and gradients are checked against the float64
// reference (test/reference) on random cases, and Adam against refAdam; a mismatch beyond 1e-4
// (relative to each tensor's largest magnitude) aborts. Method: a warm-up per configuration,
// then 5 samples of >= 1 s each, the configurations interleaved round-robin within each sample;
// median and min-max. Ratios are speed-ups (higher is faster; for latency, the inverse ratio).
//
// Clock: by default the figures are per second of this process's CPU time (user + system), so
// that other processes on a shared machine do not pollute them; --clock wall uses the wall
// clock. Both are recorded in the JSON, with the CPU share (CPU time / wall time) of each sample.
//
//   node --import tsx bench/core.ts [--seconds 1] [--samples 5] [--clock cpu|wall] [--json path]

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RefLayer } from '../test/reference/index';
import { checkRunner, randomCase, type CheckCase, type F32Weights } from './lib/check';
import { machine, machineLine } from './lib/machine';
import { naiveRunner, wasmRunner, type Runner, type StackShape } from './lib/runners';
import { fmt, measure, summarize, table, warmUp, type Summary } from './lib/stats';
import { makePool } from './lib/tasks';
import { opt } from './lib/args';

const SECONDS = Number(opt('seconds', '1'));
const SAMPLES = Number(opt('samples', '5'));
const JSON_OUT = opt('json', fileURLToPath(new URL('./results/core.json', import.meta.url)));
const CLOCK = opt('clock', 'cpu') as 'cpu' | 'wall';
if (CLOCK !== 'cpu' && CLOCK !== 'wall') throw new Error('--clock must be cpu or wall');
const TOL = 1e-4;

const SHAPE: StackShape = {
  layers: [{ inputs: 100, outputs: 2 }, { inputs: 2, outputs: 1 }],
  seed: 1,
  learningRate: 1e-3,
};
const BATCH = 128;

// ---- correctness gate ------------------------------------------------------------------------

async function gate(): Promise<string[]> {
  const lines: string[] = [];
  const shapes: Array<{ shape: StackShape; c: CheckCase }> = [
    {
      shape: SHAPE,
      c: randomCase('100->2->1 tied, batch 128', SHAPE.layers.map((l) => ({ type: 'nalu', ...l }) as RefLayer), BATCH, 11),
    },
  ];
  const sep: StackShape = {
    layers: [{ inputs: 6, outputs: 4, eps: 1e-6, sharedWeights: false }, { inputs: 4, outputs: 3 }, { inputs: 3, outputs: 2, sharedWeights: false }],
    seed: 2,
    learningRate: 1e-2,
  };
  shapes.push({ shape: sep, c: randomCase('6->4->3->2 mixed tied/separate, eps 1e-6, batch 5', sep.layers.map((l) => ({ type: 'nalu', ...l }) as RefLayer), 5, 12) });

  for (const { shape, c } of shapes) {
    const runners: Runner[] = [await wasmRunner(shape, true), await wasmRunner(shape, false)];
    runners.push(naiveRunner(shape, runners[0]!.getWeights()));
    for (const r of runners) {
      const { worst, where, adam: adamErr } = checkRunner(r, c, shape.learningRate, 3);
      const ok = worst <= TOL && adamErr <= TOL;
      lines.push(`  ${ok ? 'ok  ' : 'FAIL'} ${r.label.padEnd(18)} ${c.name}: worst ${worst.toExponential(2)} (${where}), Adam x3 ${adamErr.toExponential(2)}`);
      if (!ok) {
        console.error(lines.join('\n'));
        throw new Error(`${r.label} differs from the float64 reference beyond ${TOL} on "${c.name}": not benchmarking it`);
      }
      r.dispose();
    }
  }
  return lines;
}

// ---- timing ----------------------------------------------------------------------------------

type State = 'init' | 'trained';

interface Op {
  key: string;
  label: string;
  unit: string;
  state: State;
  /** Converts calls per second into the reported figure. */
  figure: (callsPerSecond: number) => number;
  /** true when smaller is better (latency). */
  lowerIsBetter: boolean;
  make: (r: Runner, start: F32Weights) => () => unknown;
}

/** Adam steps that take the model from its initialisation to the "trained" state. */
const PRETRAIN = 10_000;
/** Training loops go back to their starting weights every this many steps. */
const RESET_EVERY = 1000;

async function main(): Promise<void> {
  const m = machine();
  console.log(machineLine(m));
  console.log(`shape: NALU ${SHAPE.layers.map((l) => l.inputs).join(' -> ')} -> ${SHAPE.layers.at(-1)!.outputs}, tied weights, Adam lr ${SHAPE.learningRate}; batch ${BATCH}`);
  console.log(`method: warm-up, then ${SAMPLES} samples of >= ${SECONDS} s per configuration, interleaved round-robin; median (min-max)`);
  console.log(`states: "init" = the seed-1 initialisation, "trained" = after ${PRETRAIN.toLocaleString('en-US')} Adam steps on the task; training loops return to their state every ${RESET_EVERY} steps\n`);

  console.log('correctness against the float64 reference (test/reference), tolerance 1e-4 relative to max:');
  console.log((await gate()).join('\n'));
  console.log();

  const simd = await wasmRunner(SHAPE, true);
  const scalar = await wasmRunner(SHAPE, false);
  const initial = simd.getWeights();
  const naive = naiveRunner(SHAPE, initial);
  const configs: Array<{ key: string; runner: Runner }> = [
    { key: 'simd', runner: simd },
    { key: 'scalar', runner: scalar },
    { key: 'naive', runner: naive },
  ];

  const inputs = SHAPE.layers[0]!.inputs;
  const outputs = SHAPE.layers.at(-1)!.outputs;
  const pool = makePool(inputs, outputs, BATCH, 8, 42);
  const singles: Float32Array[] = [];
  for (let b = 0; b < BATCH; b++) singles.push(pool.x[0]!.slice(b * inputs, (b + 1) * inputs));

  // The trained state: PRETRAIN steps of the SIMD build from the initialisation.
  simd.reset();
  for (let s = 0; s < PRETRAIN; s++) simd.train(pool.x[s & 7]!, pool.t[s & 7]!, BATCH);
  const trained = simd.getWeights();
  const starts: Record<State, F32Weights> = { init: initial, trained };

  const trainOp = (state: State): Op => ({
    key: `train-${state}`, label: `train steps/s, batch ${BATCH}, ${state}`, unit: 'steps/s', state,
    figure: (c) => c, lowerIsBetter: false,
    make: (r, start) => {
      let i = 0;
      return () => {
        if (i === RESET_EVERY) { r.reset(start); i = 0; }
        const k = i++ & 7;
        return r.train(pool.x[k]!, pool.t[k]!, BATCH);
      };
    },
  });
  const forwardOp = (state: State): Op => ({
    key: `forward-${state}`, label: `forward samples/s, batch ${BATCH}, ${state}`, unit: 'samples/s', state,
    figure: (c) => c * BATCH, lowerIsBetter: false,
    make: (r) => { let i = 0; return () => r.predict(pool.x[i++ & 7]!, BATCH); },
  });
  const predictOp = (state: State): Op => ({
    key: `predict1-${state}`, label: `predict latency us, batch 1, ${state}`, unit: 'us/call', state,
    figure: (c) => 1e6 / c, lowerIsBetter: true,
    make: (r) => { let i = 0; return () => r.predict(singles[i++ & 127]!, 1); },
  });
  const ops: Op[] = [trainOp('init'), trainOp('trained'), forwardOp('init'), forwardOp('trained'), predictOp('init'), predictOp('trained')];

  const prepare = (op: Op, r: Runner) => {
    r.reset(starts[op.state]);
    return op.make(r, starts[op.state]);
  };

  // Warm-up: every configuration and operation, and the chunk size of each.
  const chunk = new Map<string, number>();
  for (const op of ops) {
    for (const c of configs) chunk.set(`${op.key}/${c.key}`, warmUp(prepare(op, c.runner)));
  }

  const raw = new Map<string, number[]>();
  const rawOther = new Map<string, number[]>();
  const shares: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    for (const op of ops) {
      // rotate the starting configuration from sample to sample
      for (let j = 0; j < configs.length; j++) {
        const c = configs[(j + s) % configs.length]!;
        const fn = prepare(op, c.runner);
        const rate = measure(fn, chunk.get(`${op.key}/${c.key}`)!, SECONDS, CLOCK);
        const id = `${op.key}/${c.key}`;
        raw.set(id, [...(raw.get(id) ?? []), op.figure(CLOCK === 'cpu' ? rate.cpu : rate.wall)]);
        rawOther.set(id, [...(rawOther.get(id) ?? []), op.figure(CLOCK === 'cpu' ? rate.wall : rate.cpu)]);
        shares.push(rate.share);
      }
    }
    process.stderr.write(`  sample ${s + 1}/${SAMPLES} done\n`);
  }

  // ---- report ----
  const results: Record<string, Record<string, Summary & { unit: string }>> = {};
  for (const c of configs) {
    results[c.key] = {};
    for (const op of ops) results[c.key]![op.key] = { ...summarize(raw.get(`${op.key}/${c.key}`)!), unit: op.unit };
  }
  const pairs: Array<[string, string]> = [['simd', 'naive'], ['scalar', 'naive'], ['simd', 'scalar']];
  const ratios: Record<string, Record<string, Summary>> = {};
  for (const [a, b] of pairs) {
    ratios[`${a}/${b}`] = {};
    for (const op of ops) {
      const ra = raw.get(`${op.key}/${a}`)!, rb = raw.get(`${op.key}/${b}`)!;
      // paired per sample (the samples were interleaved); speed-up, so inverted for latency
      const per = ra.map((v, i) => (op.lowerIsBetter ? rb[i]! / v : v / rb[i]!));
      const med = op.lowerIsBetter ? results[b]![op.key]!.median / results[a]![op.key]!.median
        : results[a]![op.key]!.median / results[b]![op.key]!.median;
      ratios[`${a}/${b}`]![op.key] = { ...summarize(per), median: med };
    }
  }

  const cell = (s: Summary) => `${fmt(s.median)} (${fmt(s.min)}-${fmt(s.max)})`;
  const rcell = (s: Summary) => `${s.median.toFixed(1)}x (${s.min.toFixed(1)}-${s.max.toFixed(1)})`;
  const head = ['', 'nalu-wasm simd', 'nalu-wasm scalar', 'naive JS', 'simd/naive', 'scalar/naive', 'simd/scalar'];
  const rows = ops.map((op) => [
    op.label,
    cell(results.simd![op.key]!), cell(results.scalar![op.key]!), cell(results.naive![op.key]!),
    rcell(ratios['simd/naive']![op.key]!), rcell(ratios['scalar/naive']![op.key]!), rcell(ratios['simd/scalar']![op.key]!),
  ]);
  console.log(table(head, rows));
  const share = summarize(shares);
  console.log(`\nclock: ${CLOCK === 'cpu' ? 'CPU time of this process' : 'wall clock'}; CPU share of the samples (CPU time / wall time): median ${share.median.toFixed(2)}, min ${share.min.toFixed(2)}${share.min < 0.9 ? ' -- the machine was busy: wall-clock figures are unreliable' : ''}`);
  console.log('ratios are speed-ups (for latency: the inverse ratio of times); their ranges pair the interleaved samples.');

  const out = {
    benchmark: 'core',
    machine: m,
    shape: { layers: SHAPE.layers.map((l) => ({ type: 'nalu', ...l, sharedWeights: true })), batch: BATCH, optimizer: { kind: 'adam', learningRate: SHAPE.learningRate } },
    method: { warmUpSeconds: 0.3, minSecondsPerSample: SECONDS, samples: SAMPLES, interleaved: true, process: 'single', statistic: 'median, min-max', pretrainSteps: PRETRAIN, resetEvery: RESET_EVERY },
    wasm: { simd: simd.info?.wasm, scalar: scalar.info?.wasm },
    configurations: { simd: simd.label, scalar: scalar.label, naive: 'bench/naive/nalu.ts' },
    clock: CLOCK === 'cpu' ? 'cpu time of the process (user + system)' : 'wall clock',
    cpuShare: share,
    results,
    ratios,
    otherClock: Object.fromEntries([...rawOther].map(([k, v]) => [k, summarize(v)])),
  };
  mkdirSync(dirname(JSON_OUT), { recursive: true });
  writeFileSync(JSON_OUT, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote ${JSON_OUT}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
