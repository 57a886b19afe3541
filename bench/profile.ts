// Where the time goes in nalu-wasm: builds the SIMD (or scalar) module with a name section
// (asc --debug, same optimisation level) into bench/build/, runs one operation of shape S (or M,
// L) under `node --cpu-prof` in a child process, and prints self time per function.
//
//   node --import tsx bench/profile.ts [--op train|task|forward|predict1] [--shape S|E|M|L]
//                                      [--build simd|scalar|threads] [--seconds 5] [--pretrain 0]
//
// --pretrain N first takes N Adam steps (not profiled) and profiles from there: the cost of a
// step depends on the state of training (see README.md of bench/). The profile is taken with
// the inspector's Profiler (what --cpu-prof uses) around the timed loop only.
//
// Inlined kernels are charged to the function they were inlined into (Binaryen inlines small
// helpers), so the table names the kernels that survive as functions.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Build } from '../src/wasm/exports';
import { fmt, table } from './lib/stats';
import { args, opt } from './lib/args';
import { naluWorkload } from './lib/workload';

const OP = opt('op', 'train');
const SHAPE = opt('shape', 'S');
const BUILD = opt('build', 'simd');
const SECONDS = Number(opt('seconds', '5'));
const PRETRAIN = Number(opt('pretrain', '0'));
const OUT_DIR = opt('out', '');
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const root = here('../');
const wasmPath = here(`./build/nalu-${BUILD}-names.wasm`);

async function child(): Promise<void> {
  // the threads build on two threads: the main thread's profile (its waits for the worker included)
  const call = await naluWorkload(SHAPE, OP, { build: BUILD as Build, bytes: readFileSync(wasmPath), pretrain: PRETRAIN });
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<any>((res, rej) =>
    session.post(method, params, (err, r) => (err ? rej(err) : res(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
  const t0 = Date.now();
  let calls = 0;
  while (Date.now() - t0 < SECONDS * 1000) {
    call();
    calls++;
  }
  const { profile } = await post('Profiler.stop');
  writeFileSync(join(OUT_DIR, 'child.cpuprofile'), JSON.stringify(profile));
  console.log(`${calls} calls in ${SECONDS} s (pretrained ${PRETRAIN} steps)`);
}

interface Node { id: number; callFrame: { functionName: string; url: string }; children?: number[] }

function summarize(file: string): void {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    const n = byId.get(id)!;
    let name = n.callFrame.functionName || '(anonymous)';
    if (n.callFrame.url.startsWith('wasm://')) name = `[wasm] ${name}`;
    else if (n.callFrame.url) name = `${name} (${n.callFrame.url.replace(/^.*\/(src|bench|test)\//, '$1/')})`;
    self.set(name, (self.get(name) ?? 0) + dt);
    total += dt;
  });
  const idle = (self.get('(idle)') ?? 0) + (self.get('(program)') ?? 0) + (self.get('(garbage collector)') ?? 0);
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)
    .map(([name, t]) => [name, fmt(t / 1000), `${((100 * t) / total).toFixed(1)}%`]);
  console.log(table(['function (self time)', 'ms', 'share'], rows));
  console.log(`total ${fmt(total / 1000)} ms sampled; idle+program+gc ${fmt(idle / 1000)} ms`);
}

async function main(): Promise<void> {
  if (args.includes('--child')) return child();
  mkdirSync(here('./build'), { recursive: true });
  execFileSync('npx', ['asc', '--config', 'asconfig.json', '--target', BUILD, '--debug', '-o', wasmPath], { cwd: root, stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'nalu-prof-'));
  const out = execFileSync(process.execPath, ['--import', 'tsx',
    here('./profile.ts'), '--child', '--out', dir, ...args], { cwd: root, encoding: 'utf8' });
  process.stdout.write(out);
  const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f))[0];
  if (!file) throw new Error('no .cpuprofile written');
  console.log(`profile: ${file}  (shape ${SHAPE}, op ${OP}, ${BUILD} build)`);
  summarize(file);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
