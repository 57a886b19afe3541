// The performance benchmark: every implementation on every shape, each configuration in its own
// process (bench/worker.ts, or bench/torch_worker.py), driven round-robin from here.
//
//   node --import tsx bench/run.ts [--shapes S,E,M,L]
//        [--impls simd,scalar,relaxed,threads,relaxed-threads,naive,tfjs-wasm,tfjs-cpu,torch,torch-2t]
//        [--samples 5] [--seconds 1] [--clock cpu|wall] [--cold-rounds 20] [--no-peak] [--no-cold]
//        [--out bench/results] [--reuse]
//
// --reuse keeps the figures of the previous bench.json that this run does not measure, e.g.
// `--reuse --shapes none --no-peak` re-measures only the cold start. `--shapes none` skips all.
// A shape it measures is measured with every implementation of the previous run as well (so
// --impls only adds to them), and its figures and ratios all come from this run.
//
// Shapes (bench/lib/shapes.ts): S = NALU 100-2-1 at batch 128 (train on a pool of batches, train
// on a fresh batch of the static task every step, forward), E = S at batch 1
// (predict), M = NALU 64-64 at batch 1024, L = NALU 256-256 at batch 4096 (train, forward).
// Implementations: nalu-wasm simd and scalar builds and the opt-in relaxed-SIMD build (fused
// multiply-add; its worker gets --experimental-wasm-relaxed-simd where Node needs it), the naive
// JavaScript (bench/naive/), the
// same NALU in TensorFlow.js ops on the wasm and cpu backends, PyTorch with one thread when
// python3 (on PATH, or Debian's /usr/bin/python3) can import torch. Every configuration first
// passes the float64-reference check.
// Method: each worker warms up, then for each of `samples` rounds every configuration measures
// >= `seconds` in turn (rotating order); median and min-max. Clock: CPU time of the worker
// process by default (robust on a shared machine; --clock wall for the wall clock).
// Also: the WebAssembly SIMD mul+add peak (bench/peak/) with M and L's achieved GFLOP/s as a
// fraction of it, cold start (bench/lib/cold.ts), and the performance issue's targets.
// Writes bench.json and bench.md (for the README) to --out.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RefLayer } from '../test/reference/index';
import { staticTask } from '../src/index';
import { relaxedSimdSupported } from '../src/wasm/probe';
import { compareWithReference, randomCase } from './lib/check';
import { coldStart, coldTargets, type ColdResult } from './lib/cold';
import { machine, machineLine } from './lib/machine';
import { isForward, matmulFlops, RESET_EVERY, SHAPES, torchSpec, type OpKey, type ShapeKey } from './lib/shapes';
import { fmt, summarize, table, type Summary } from './lib/stats';
import { runPeak, type PeakResult } from './peak/run';
import { args, opt } from './lib/args';

const SHAPE_KEYS = (opt('shapes', 'S,E,M,L') === 'none' ? [] : opt('shapes', 'S,E,M,L').split(',')) as ShapeKey[];
const ALL_SHAPES: ShapeKey[] = ['S', 'E', 'M', 'L'];
const REUSE = args.includes('--reuse');
const IMPLS = opt('impls', 'simd,scalar,relaxed,threads,relaxed-threads,naive,tfjs-wasm,tfjs-cpu,torch,torch-2t').split(',');
/**
 * Configurations on two threads: measured on M and L only (S and E have no product large enough
 * to share), by the wall clock (the CPU time of a process counts both of its threads).
 */
const TWO_THREADS = new Set(['threads', 'relaxed-threads', 'torch-2t']);
const clockOf = (impl: string): 'cpu' | 'wall' => (TWO_THREADS.has(impl) ? 'wall' : CLOCK);
const SAMPLES = Number(opt('samples', '5'));
const SECONDS = Number(opt('seconds', '1'));
const CLOCK = opt('clock', 'cpu') as 'cpu' | 'wall';
const COLD_ROUNDS = Number(opt('cold-rounds', '20'));
const OUT = opt('out', fileURLToPath(new URL('./results/', import.meta.url)));
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const root = here('../');

const LABELS: Record<string, string> = {
  simd: 'nalu-wasm simd', scalar: 'nalu-wasm scalar', relaxed: 'nalu-wasm relaxed (opt-in)',
  threads: 'nalu-wasm simd, 2 threads (wall)', 'relaxed-threads': 'nalu-wasm relaxed, 2 threads (wall)',
  'torch-2t': 'PyTorch 2 threads (wall)', naive: 'naive JS',
  'tfjs-wasm': 'tfjs wasm', 'tfjs-cpu': 'tfjs cpu', torch: 'PyTorch 1 thread',
};

// ---- workers ---------------------------------------------------------------------------------

interface Worker {
  impl: string;
  proc: ChildProcessWithoutNullStreams;
  next: () => Promise<any>;
  send: (o: object) => void;
  stderr: string[];
}

function startWorker(impl: string, shape: ShapeKey, checkFile: string): Worker {
  const proc = impl.startsWith('torch')
    ? spawn(PYTHON, [here('./torch_worker.py'), '--spec', torchSpec(shape), '--check', checkFile, '--threads', impl === 'torch' ? '1' : '2'], { cwd: root })
    : spawn(process.execPath, [...(impl.startsWith('relaxed') && !relaxedSimdSupported() ? ['--experimental-wasm-relaxed-simd'] : []),
      '--import', 'tsx', here('./worker.ts'), '--impl', impl, '--shape', shape], { cwd: root });
  const queue: any[] = [];
  const waiting: Array<(v: any) => void> = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stdout }).on('line', (line) => {
    if (!line.startsWith('@@')) return;
    const msg = JSON.parse(line.slice(2));
    const w = waiting.shift();
    if (w) w(msg); else queue.push(msg);
  });
  createInterface({ input: proc.stderr }).on('line', (l) => stderr.push(l));
  proc.on('exit', (code) => {
    while (waiting.length) waiting.shift()!({ error: `worker exited with code ${code}: ${stderr.slice(-5).join('\n')}` });
  });
  return {
    impl, proc, stderr,
    next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((res) => waiting.push(res))),
    send: (o) => proc.stdin.write(JSON.stringify(o) + '\n'),
  };
}

/** The torch worker cannot import the TypeScript reference: it computes, run.ts compares. */
function checkTorch(shape: ShapeKey, reply: any): { worst: number; where: string; ok: boolean } {
  const s = SHAPES[shape];
  const c = randomCase(`${shape}`, s.layers.map((l) => ({ type: 'nalu', ...l }) as RefLayer), s.checkBatch, 101);
  const grads = (reply.computed.grads as Array<Record<string, number[]>>).map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Float32Array.from(v)])));
  const r = compareWithReference(c, { y: Float32Array.from(reply.computed.y), loss: reply.computed.loss, grads });
  return { ...r, ok: r.worst <= 1e-4 };
}

function writeCheckCase(shape: ShapeKey): string {
  const s = SHAPES[shape];
  const c = randomCase(`${shape}`, s.layers.map((l) => ({ type: 'nalu', ...l }) as RefLayer), s.checkBatch, 101);
  const file = here(`./build/check-${shape}-${process.pid}.json`);
  mkdirSync(here('./build'), { recursive: true });
  // the static task of the 'task' operation, for the workers that draw it themselves (PyTorch)
  const t = staticTask({ op: 'add', seed: 0 });
  writeFileSync(file, JSON.stringify({
    layers: s.layers, batch: c.batch, x: Array.from(c.x), target: Array.from(c.target),
    weights: c.weights.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.from(v)]))),
    task: { start1: t.start1, start2: t.start2, size: t.subsetSize, range: t.interpolation },
  }));
  return file;
}

// ---- measurement -----------------------------------------------------------------------------

interface Cell {
  /** steps/s (train) or samples/s (forward) */
  figure: Summary;
  /** us per call (E only) */
  latencyUs?: Summary;
  gflops?: Summary;
  cpuShare: number;
}

type Results = Partial<Record<ShapeKey, Partial<Record<OpKey, Record<string, Cell>>>>>;

/** Says which parts came from which run, when --reuse kept some from an earlier one. */
function runsLine(measured: Record<string, string>): string[] {
  const byRun = new Map<string, string[]>();
  for (const [part, when] of Object.entries(measured)) byRun.set(when, [...(byRun.get(when) ?? []), part === 'cold' ? 'cold start' : part]);
  if (byRun.size < 2) return [];
  const runs = [...byRun].sort(([a], [b]) => a.localeCompare(b)).map(([when, parts]) => `${parts.join(', ')} at ${when.slice(0, 16).replace('T', ' ')} UTC`);
  return [`Measured in ${byRun.size} runs of this command (\`--reuse\` keeps what a run does not measure): ${runs.join('; ')}.`];
}

async function benchShape(shape: ShapeKey, impls: string[], status: Record<string, Record<string, string>>, checks: Record<string, any>): Promise<Partial<Record<OpKey, Record<string, Cell>>>> {
  const s = SHAPES[shape];
  const checkFile = writeCheckCase(shape);
  const workers: Worker[] = [];
  for (const impl of impls) {
    if (TWO_THREADS.has(impl) && shape !== 'M' && shape !== 'L') continue;
    // one at a time, so that warm-ups do not overlap
    const w = startWorker(impl, shape, checkFile);
    let msg = await w.next();
    if (msg.ready && impl.startsWith('torch')) {
      const c = checkTorch(shape, msg);
      msg = { ...msg, check: c };
      if (!c.ok) msg = { error: `PyTorch differs from the float64 reference: worst ${c.worst} (${c.where})` };
    }
    if (msg.ready) {
      workers.push(w);
      checks[`${shape}/${impl}`] = { ...msg.check, info: msg.info };
      process.stderr.write(`  ${shape} ${LABELS[impl]}: ready (reference check worst ${msg.check.worst.toExponential(2)})\n`);
    } else {
      const why = msg.skipped ?? `error: ${msg.error}`;
      (status[shape] ??= {})[impl] = why;
      process.stderr.write(`  ${shape} ${LABELS[impl]}: ${why}\n`);
      w.proc.kill();
    }
  }
  const raw = new Map<string, Array<{ rate: number; share: number }>>();
  for (let k = 0; k < SAMPLES; k++) {
    for (const op of s.ops) {
      for (let j = 0; j < workers.length; j++) {
        const w = workers[(j + k) % workers.length]!;
        const clock = clockOf(w.impl);
        w.send({ cmd: 'measure', op, seconds: SECONDS, clock });
        const msg = await w.next();
        if (!msg.rate) throw new Error(`${shape} ${w.impl} ${op}: ${msg.error ?? JSON.stringify(msg)}`);
        const id = `${op}/${w.impl}`;
        raw.set(id, [...(raw.get(id) ?? []), { rate: clock === 'cpu' ? msg.rate.cpu : msg.rate.wall, share: msg.rate.share }]);
      }
    }
    process.stderr.write(`  ${shape}: sample ${k + 1}/${SAMPLES}\n`);
  }
  for (const w of workers) w.send({ cmd: 'quit' });
  const out: Partial<Record<OpKey, Record<string, Cell>>> = {};
  for (const op of s.ops) {
    out[op] = {};
    for (const w of workers) {
      const r = raw.get(`${op}/${w.impl}`);
      if (!r) continue;
      const calls = r.map((x) => x.rate);
      out[op]![w.impl] = {
        figure: summarize(calls.map((c) => (isForward(op) ? c * s.batch : c))),
        latencyUs: shape === 'E' ? summarize(calls.map((c) => 1e6 / c)) : undefined,
        gflops: shape === 'M' || shape === 'L' ? summarize(calls.map((c) => (c * matmulFlops(s, op)) / 1e9)) : undefined,
        cpuShare: summarize(r.map((x) => x.share)).median,
      };
    }
  }
  return out;
}

// ---- report ----------------------------------------------------------------------------------

interface Target { name: string; value: number | null; goal: string; met: boolean | null; note?: string }

function ratio(results: Results, shape: ShapeKey, op: OpKey, a: string, b: string): number | null {
  const x = results[shape]?.[op]?.[a]?.figure.median, y = results[shape]?.[op]?.[b]?.figure.median;
  return x && y ? x / y : null;
}

function targets(results: Results, cold: ColdResult[] | null, peak: PeakResult | null): Target[] {
  const t: Target[] = [];
  const atLeast = (name: string, v: number | null, goal: number) =>
    t.push({ name, value: v, goal: `>= ${goal}x`, met: v === null ? null : v >= goal });
  atLeast('S train vs naive JS', ratio(results, 'S', 'train', 'simd', 'naive'), 30);
  atLeast('S train vs tfjs wasm', ratio(results, 'S', 'train', 'simd', 'tfjs-wasm'), 80);
  atLeast('S train, data resident in each library, vs naive JS', ratio(results, 'S', 'resident', 'simd', 'naive'), 30);
  atLeast('S train, data resident in each library, vs tfjs wasm', ratio(results, 'S', 'resident', 'simd', 'tfjs-wasm'), 80);
  atLeast('S train on a fresh task batch every step vs naive JS', ratio(results, 'S', 'task', 'simd', 'naive'), 20);
  atLeast('S forward vs naive JS', ratio(results, 'S', 'forward', 'simd', 'naive'), 20);
  atLeast('S forward, data resident in each library, vs naive JS', ratio(results, 'S', 'residentForward', 'simd', 'naive'), 20);
  // E: time per call <= 1/25 of naive's, <= 1/250 of tfjs-wasm's  <=>  speed-up >= 25, 250
  atLeast('E time per call, naive JS / nalu-wasm', ratio(results, 'E', 'forward', 'simd', 'naive'), 25);
  atLeast('E time per call, tfjs wasm / nalu-wasm', ratio(results, 'E', 'forward', 'simd', 'tfjs-wasm'), 250);
  atLeast('M train vs tfjs wasm', ratio(results, 'M', 'train', 'simd', 'tfjs-wasm'), 8);
  atLeast('M train, data resident in each library, vs tfjs wasm', ratio(results, 'M', 'resident', 'simd', 'tfjs-wasm'), 8);
  atLeast('L train vs tfjs wasm', ratio(results, 'L', 'train', 'simd', 'tfjs-wasm'), 12);
  atLeast('L train, data resident in each library, vs tfjs wasm', ratio(results, 'L', 'resident', 'simd', 'tfjs-wasm'), 12);
  // beyond one core: both on two threads, by the wall clock
  atLeast('M train on 2 threads vs PyTorch on 2 threads', ratio(results, 'M', 'train', 'threads', 'torch-2t'), 1);
  atLeast('L train on 2 threads vs PyTorch on 2 threads', ratio(results, 'L', 'train', 'threads', 'torch-2t'), 0.5);
  atLeast('L train on 2 threads, data resident in each library, vs PyTorch on 2 threads', ratio(results, 'L', 'resident', 'threads', 'torch-2t'), 0.5);
  atLeast('L train on 2 threads, opt-in relaxed build, vs PyTorch on 2 threads', ratio(results, 'L', 'train', 'relaxed-threads', 'torch-2t'), 0.5);
  atLeast('L forward vs tfjs wasm', ratio(results, 'L', 'forward', 'simd', 'tfjs-wasm'), 1.3);
  // the matrix products' share of the SIMD128 peak, for L (compute-bound), training and forward
  for (const op of ['train', 'forward'] as OpKey[]) {
    const g = results.L?.[op]?.simd?.gflops?.median;
    const v = g && peak ? (100 * g) / peak.peak : null;
    t.push({ name: `L ${op}: matrix products, % of the SIMD128 peak`, value: v, goal: '>= 60%', met: v === null ? null : v >= 60 });
  }
  if (cold) {
    const n = cold.find((c) => c.key === 'nalu');
    const tfs = cold.filter((c) => c.key.startsWith('tfjs'));
    // CPU time above bare: on a busy machine the wall-clock differences drown in the noise of
    // the bare process itself (70-160 ms here); the CPU time of the process does not
    const v = n ? n.cpuAboveBareMs.median : null;
    t.push({ name: 'cold start above bare node (CPU ms, median)', value: v, goal: '<= 20 ms', met: v === null ? null : v <= 20 });
    for (const tf of tfs) {
      const r = n ? n.cpuAboveBareMs.median / tf.cpuAboveBareMs.median : null;
      t.push({ name: `cold start vs ${tf.label} (same measure)`, value: r, goal: '< 0.1x', met: r === null ? null : r < 0.1 });
    }
  }
  return t;
}

function render(results: Results, impls: string[], status: Record<string, Record<string, string>>,
  peak: PeakResult | null, cold: ColdResult[] | null, tgts: Target[], md: boolean): string {
  const lines: string[] = [];
  const shown = ALL_SHAPES.filter((k) => results[k]);
  const present = impls.filter((i) => shown.some((k) => Object.values(results[k] ?? {}).some((op) => op?.[i])));
  const pipe = (head: string[], rows: string[][]) => [
    `| ${head.join(' | ')} |`, `|${head.map((_h, j) => (j === 0 ? ':--' : '--:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  const tab = (head: string[], rows: string[][]) => (md ? pipe(head, rows) : table(head, rows));
  const cell = (c: Cell | undefined, f: (c: Cell) => Summary) => (c ? (md ? fmt(f(c).median) : `${fmt(f(c).median)} (${fmt(f(c).min)}-${fmt(f(c).max)})`) : '-');
  const rows: string[][] = [];
  for (const k of shown) {
    const s = SHAPES[k];
    for (const op of s.ops) {
      const r = results[k]?.[op];
      if (!r) continue;
      const what = k === 'E' ? 'predict, us/call' : op === 'train' ? 'train, steps/s'
        : op === 'resident' ? 'train, data resident, steps/s'
          : op === 'task' ? 'train on a fresh task batch, steps/s'
            : op === 'residentForward' ? 'forward, data resident, samples/s' : 'forward, samples/s';
      rows.push([`${k}: ${s.title}, ${what}`, ...present.map((i) => cell(r[i], (c) => (k === 'E' ? c.latencyUs! : c.figure)))]);
    }
  }
  lines.push(md ? `### Absolute figures (median of ${SAMPLES})` : 'absolute figures, median (min-max):');
  lines.push(tab(['', ...present.map((i) => LABELS[i]!)], rows));
  lines.push('');
  const rat = (base: string) => {
    const others = present.filter((i) => i !== base);
    const rr: string[][] = [];
    for (const k of shown) for (const op of SHAPES[k].ops) {
      if (!results[k]?.[op]?.[base]) continue;
      rr.push([`${k} ${k === 'E' ? 'predict' : op === 'residentForward' ? 'resident forward' : op}`, ...others.map((i) => {
        const v = ratio(results, k, op, i, base);
        return v === null ? '-' : `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}x`;
      })]);
    }
    if (!rr.length) return;
    lines.push(md ? `### Speed-up over ${LABELS[base]}` : `speed-up over ${LABELS[base]} (higher is faster; E compares time per call):`);
    lines.push(tab(['', ...others.map((i) => LABELS[i]!)], rr));
    lines.push('');
  };
  rat('naive');
  rat('tfjs-wasm');
  if (peak && shown.some((k) => k === 'M' || k === 'L')) {
    lines.push(md ? '### Achieved GFLOP/s (matrix products of forward + backward)' : 'achieved GFLOP/s of the matrix products (forward + backward):');
    const gr: string[][] = [];
    for (const k of ['M', 'L'] as ShapeKey[]) for (const op of SHAPES[k].ops) {
      const r = results[k]?.[op];
      if (!r) continue;
      // the relaxed build against the peak of its own multiply-add; two threads against two cores'
      const yard = (i: string) => (i.startsWith('relaxed') && peak.fma ? peak.fma.median : peak.peak) * (TWO_THREADS.has(i) ? 2 : 1);
      gr.push([`${k} ${op}`, ...present.map((i) => (r[i]?.gflops ? `${r[i]!.gflops!.median.toFixed(2)} (${((100 * r[i]!.gflops!.median) / yard(i)).toFixed(0)}%)` : '-'))]);
    }
    if (gr.length) lines.push(tab(['', ...present.map((i) => LABELS[i]!)], gr));
  }
  if (peak) {
    lines.push(`${md ? '\n' : ''}WebAssembly SIMD128 mul+add peak (bench/peak, 4x8 register-blocked f32x4 kernel, one core): ${peak.gemm4x8.median.toFixed(1)} GFLOP/s (${peak.gemm4x8.min.toFixed(1)}-${peak.gemm4x8.max.toFixed(1)}); register-only kernel ${peak.regs.median.toFixed(1)} GFLOP/s. Percentages are of the first (twice it for the 2-thread columns)${peak.fma ? `, except for the relaxed builds: of the same kernel with relaxed_madd (fused multiply-add), ${peak.fma.median.toFixed(1)} GFLOP/s (${peak.fma.min.toFixed(1)}-${peak.fma.max.toFixed(1)})` : ''}.`);
    lines.push('');
  }
  if (cold) {
    lines.push(md ? '### Cold start (fresh node process: import + init + one predict)' : 'cold start (fresh node process: import + init + one predict), wall ms:');
    const dash = (c: ColdResult, f: (c: ColdResult) => string) => (c.key === 'bare' ? '-' : f(c));
    lines.push(tab(['', 'wall ms (median)', 'above bare: median of rounds', 'best - best bare', 'CPU ms above bare', 'bytes loaded', 'gzip -9'],
      cold.map((c) => [c.label, c.wallMs.median.toFixed(1), dash(c, (x) => x.aboveBareMs.median.toFixed(1)),
        dash(c, (x) => x.bestAboveBareMs.toFixed(1)), dash(c, (x) => x.cpuAboveBareMs.median.toFixed(1)),
        dash(c, (x) => x.bytes.toLocaleString('en-US')), dash(c, (x) => x.gzipBytes.toLocaleString('en-US'))])));
    lines.push('');
  }
  lines.push(md ? '### Targets of the performance issue (nalu-wasm simd)' : 'targets of the performance issue (nalu-wasm simd build):');
  lines.push(tab(['target', 'measured', 'goal', ''], tgts.map((t) => [t.name, t.value === null ? 'n/a' : Math.abs(t.value) < 1 ? t.value.toFixed(3) : t.value.toFixed(1), t.goal,
    t.met === null ? 'not measured' : t.met ? 'met' : 'SHORT'])));
  const skipped = Object.entries(status).flatMap(([k, m]) => Object.entries(m).map(([i, why]) => `${k === 'all' ? '' : `${k} `}${LABELS[i]}: ${why}`));
  if (skipped.length) lines.push('', ...skipped.map((s) => (md ? `- ${s}` : `  ${s}`)));
  return lines.join('\n');
}

// ---- main ------------------------------------------------------------------------------------

/** The Python that imports torch: the one on PATH, else Debian's (python3-torch installs there). */
let PYTHON = '';

async function main(): Promise<void> {
  const m = machine();
  console.log(machineLine(m));
  console.log(`method: one process per configuration, warm-up, ${SAMPLES} samples of >= ${SECONDS} s (${CLOCK === 'cpu' ? 'CPU time of the worker' : 'wall clock'}), configurations interleaved; median (min-max)`);
  const impls = [...IMPLS];
  // --reuse: start from the previous bench.json and replace only the shapes this run measures,
  // each with every implementation the previous run had too, so that a shape's figures (and the
  // ratios between them) come from one run
  const prior = REUSE && existsSync(join(OUT, 'bench.json')) ? JSON.parse(readFileSync(join(OUT, 'bench.json'), 'utf8')) : null;
  if (prior) for (const impl of Object.keys(prior.implementations ?? {})) if (!impls.includes(impl)) impls.push(impl);
  const status: Record<string, Record<string, string>> = {};
  if (impls.some((i) => i.startsWith('torch'))) {
    PYTHON = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) ?? '';
    if (!PYTHON) {
      console.log('PyTorch: skipped: torch not installed');
      status.all = {};
      for (const t of impls.filter((i) => i.startsWith('torch'))) {
        impls.splice(impls.indexOf(t), 1);
        status.all[t] = 'skipped: torch not installed';
      }
    }
  }
  const results: Results = prior ? Object.fromEntries(Object.entries(prior.results).filter(([k]) => !SHAPE_KEYS.includes(k as ShapeKey))) : {};
  const checks: Record<string, any> = prior?.checks ?? {};
  for (const k of SHAPE_KEYS) {
    if (!SHAPES[k]) throw new Error(`unknown shape ${k}`);
    results[k] = await benchShape(k, impls, status, checks);
  }

  let peak: PeakResult | null = prior?.peak ?? null;
  if (!args.includes('--no-peak')) {
    process.stderr.write('  peak: measuring\n');
    peak = await runPeak();
  }
  let cold: ColdResult[] | null = prior?.cold ?? null;
  const coldNotes: string[] = [];
  if (!args.includes('--no-cold')) {
    process.stderr.write('  cold start: measuring\n');
    const { targets: ts, notes } = coldTargets();
    coldNotes.push(...notes);
    cold = coldStart(ts, COLD_ROUNDS);
  } else if (prior?.coldNotes) {
    coldNotes.push(...prior.coldNotes);
  }
  const tgts = targets(results, cold, peak);
  // when each part was measured: with --reuse, parts come from more than one run
  const now = m.date;
  const measured: Record<string, string> = prior
    ? prior.measured ?? Object.fromEntries([...Object.keys(results), 'peak', 'cold'].map((k) => [k, prior.machine.date]))
    : {};
  for (const k of SHAPE_KEYS) measured[k] = now;
  if (!args.includes('--no-peak')) measured.peak = now;
  if (!args.includes('--no-cold')) measured.cold = now;

  console.log();
  console.log(render(results, impls, status, peak, cold, tgts, false));
  if (coldNotes.length) console.log(coldNotes.map((n) => `  ${n}`).join('\n'));

  mkdirSync(OUT, { recursive: true });
  const json = {
    benchmark: 'nalu-wasm performance', machine: m,
    // the module each nalu-wasm worker instantiated, by shape (builds can change between shapes)
    wasm: Object.fromEntries(Object.entries(checks).filter(([, c]) => c.info?.wasm).map(([k, c]) => [k, c.info.wasm])),
    method: { processPerConfiguration: true, samples: SAMPLES, minSecondsPerSample: SECONDS, clock: CLOCK, interleaved: true, warmUpSeconds: 0.5, trainResetEvery: RESET_EVERY, statistic: 'median, min-max' },
    shapes: Object.fromEntries(ALL_SHAPES.filter((k) => results[k]).map((k) => [k, SHAPES[k]])),
    implementations: Object.fromEntries(impls.map((i) => [i, LABELS[i]])),
    checks, status, results, peak, cold, coldNotes, targets: tgts, measured,
  };
  writeFileSync(join(OUT, 'bench.json'), JSON.stringify(json, null, 2) + '\n');
  const md = [
    '## Benchmarks',
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.date.slice(0, 10)}. Generated by \`bench/run.ts\`;`,
    `each configuration runs in its own process, after warm-up, ${SAMPLES} interleaved samples of at least ${SECONDS} s`,
    `(${CLOCK === 'cpu' ? 'CPU time of the process' : 'wall clock'}); medians. Every implementation first matches the float64 reference`,
    'within 1e-4. NALU layers have tied weights; training is Adam (lr 1e-3) on MSE. TensorFlow.js runs the same NALU',
    'written in tf ops (tf.variable, tf.train.adam), single-threaded. Training is timed from the initialisation',
    '(back to it every 1000 steps); `bench/core.ts` also times the 100-2-1 stack after 10,000 Adam steps, the state',
    'that once exposed f32 subnormals in the log path (see bench/README.md).',
    `Modules measured: ${[...new Set(Object.entries(json.wasm).map(([k, w]: [string, any]) => `${k.split('/')[1]} ${w.bytes} bytes, sha256 ${w.sha256.slice(0, 12)}`))].join('; ') || 'not recorded'}.`,
    ...torchLine(checks),
    ...runsLine(measured),
    '',
    render(results, impls, status, peak, cold, tgts, true),
    '',
  ].join('\n');
  writeFileSync(join(OUT, 'bench.md'), md);
  console.log(`\nwrote ${join(OUT, 'bench.json')} and ${join(OUT, 'bench.md')}`);
}

/** What PyTorch ran on (Debian's torch calls the system BLAS), from its workers' info. */
function torchLine(checks: Record<string, any>): string[] {
  const info = Object.entries(checks).find(([k]) => k.endsWith('/torch'))?.[1]?.info;
  if (!info) return [];
  const blas = String(info.blas ?? '');
  const kind = /openblas/i.test(blas) ? 'OpenBLAS' : /\/blas\/libblas/.test(blas) ? 'netlib reference BLAS' : 'BLAS';
  return [`PyTorch ${info.torch}, ${info.threads} thread, ${kind} (${blas}).`];
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
