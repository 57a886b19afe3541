// Cold start: the wall time of a fresh `node` process that imports the library, initialises it,
// builds the NALU 100-2-1 and predicts once (bench/cold/*.mjs, plain JavaScript), minus the
// wall time of a bare process (bench/cold/bare.mjs); plus the bytes (and gzip -9 bytes) of every
// file the process loads, found by an untimed run with a tracing preload.
// Three views of "minus bare", because a busy machine swings a 70 ms process by +-50 ms: the
// median of the per-round differences, the fastest run minus the fastest bare run, and the CPU
// time the process reports at its end minus the bare process's (which includes work on V8's
// background threads, and is the stable one on a shared machine: run.ts judges the target on it).
//
// nalu-wasm is loaded from a snapshot of dist/ (the published layout: index.js, its chunk and
// nalu-simd.wasm), or, when dist/ is absent, from an esbuild bundle of src/ beside build/*.wasm.
// TensorFlow.js is loaded the way Node resolves it (its CommonJS dist bundles).

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { resolveDep } from './deps';
import { summarize, type Summary } from './stats';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const root = here('../../');

export interface ColdTarget {
  key: string;
  label: string;
  args: string[];
}

export interface ColdResult {
  key: string;
  label: string;
  wallMs: Summary;
  /** wall time minus the bare process's in the same round */
  aboveBareMs: Summary;
  /** the fastest run minus the fastest bare run */
  bestAboveBareMs: number;
  /** CPU time minus the bare process's CPU time in the same round */
  cpuAboveBareMs: Summary;
  /** CPU time (user + system, all threads) of the process when the script ends */
  cpuMs: Summary;
  files: Array<{ path: string; bytes: number; gzipBytes: number }>;
  bytes: number;
  gzipBytes: number;
}

/** A private copy of the package's Node entry, so that a concurrent rebuild cannot disturb it. */
function naluEntry(): { entry: string; source: string } {
  const out = here('../build/cold/nalu/');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const dist = join(root, 'dist');
  if (existsSync(join(dist, 'index.js'))) {
    for (const f of readdirSync(dist)) {
      if (f.endsWith('.js') || f.endsWith('.wasm')) copyFileSync(join(dist, f), join(out, f));
    }
    return { entry: join(out, 'index.js'), source: 'dist/ (rollup build)' };
  }
  const r = spawnSync(process.execPath, [join(root, 'node_modules/esbuild/bin/esbuild'), 'src/index.ts', '--bundle', '--format=esm',
    '--platform=node', `--outfile=${join(out, 'index.js')}`], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`esbuild failed: ${r.stderr}`);
  for (const b of ['simd', 'scalar']) copyFileSync(join(root, `build/nalu-${b}.wasm`), join(out, `nalu-${b}.wasm`));
  return { entry: join(out, 'index.js'), source: 'esbuild bundle of src/ (no dist/)' };
}

function run(args: string[], env?: NodeJS.ProcessEnv): { wallMs: number; cpuMs: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: env ?? process.env });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (!line) throw new Error(`node ${args.join(' ')} printed no result: ${r.stdout}`);
  return { wallMs, cpuMs: (JSON.parse(line) as { cpuUs: number }).cpuUs / 1000 };
}

function manifest(args: string[]): Array<{ path: string; bytes: number; gzipBytes: number }> {
  const trace = here(`../build/cold/trace-${process.pid}.txt`);
  rmSync(trace, { force: true });
  run(['--import', pathToFileURL(here('../cold/trace.mjs')).href, ...args], { ...process.env, NALU_BENCH_TRACE: trace });
  const files = readFileSync(trace, 'utf8').split('\n').filter((p) => p)
    .filter((p) => !p.startsWith(here('../cold/')) && existsSync(p) && statSync(p).isFile());
  rmSync(trace, { force: true });
  return [...new Set(files)].sort().map((p) => {
    const bytes = readFileSync(p);
    return { path: p.startsWith(root) ? p.slice(root.length) : p, bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
  });
}

export function coldTargets(): { targets: ColdTarget[]; notes: string[] } {
  const notes: string[] = [];
  const nalu = naluEntry();
  notes.push(`nalu-wasm loaded from ${nalu.source}`);
  const targets: ColdTarget[] = [
    { key: 'bare', label: 'bare node', args: [here('../cold/bare.mjs')] },
    { key: 'nalu', label: 'nalu-wasm', args: [here('../cold/nalu.mjs'), nalu.entry] },
  ];
  const core = resolveDep('@tensorflow/tfjs-core');
  const full = resolveDep('@tensorflow/tfjs');
  const wasm = resolveDep('@tensorflow/tfjs-backend-wasm');
  if (core && wasm) targets.push({ key: 'tfjs-wasm-core', label: 'tfjs-core + tfjs-backend-wasm', args: [here('../cold/tfjs.mjs'), core, wasm] });
  if (full && wasm) targets.push({ key: 'tfjs-wasm', label: '@tensorflow/tfjs + tfjs-backend-wasm', args: [here('../cold/tfjs.mjs'), full, wasm] });
  if (!wasm) notes.push('skipped: tfjs cold start (@tensorflow/tfjs-backend-wasm not installed)');
  return { targets, notes };
}

/** `rounds` rounds, each running every target once in a rotating order. */
export function coldStart(targets: ColdTarget[], rounds = 20): ColdResult[] {
  for (const t of targets) run(t.args); // warm the file cache
  const wall = new Map<string, number[]>(), cpu = new Map<string, number[]>(), above = new Map<string, number[]>();
  const cpuAbove = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    const got = new Map<string, { wallMs: number; cpuMs: number }>();
    for (let j = 0; j < targets.length; j++) {
      const t = targets[(j + r) % targets.length]!;
      got.set(t.key, run(t.args));
    }
    const bare = got.get('bare')!;
    for (const [k, v] of got) {
      wall.set(k, [...(wall.get(k) ?? []), v.wallMs]);
      cpu.set(k, [...(cpu.get(k) ?? []), v.cpuMs]);
      above.set(k, [...(above.get(k) ?? []), v.wallMs - bare.wallMs]);
      cpuAbove.set(k, [...(cpuAbove.get(k) ?? []), v.cpuMs - bare.cpuMs]);
    }
  }
  return targets.map((t) => {
    const files = t.key === 'bare' ? [] : manifest(t.args);
    return {
      key: t.key, label: t.label,
      wallMs: summarize(wall.get(t.key)!), aboveBareMs: summarize(above.get(t.key)!), cpuMs: summarize(cpu.get(t.key)!),
      bestAboveBareMs: Math.min(...wall.get(t.key)!) - Math.min(...wall.get('bare')!),
      cpuAboveBareMs: summarize(cpuAbove.get(t.key)!),
      files, bytes: files.reduce((s, f) => s + f.bytes, 0), gzipBytes: files.reduce((s, f) => s + f.gzipBytes, 0),
    };
  });
}
