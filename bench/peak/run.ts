// Measures the WebAssembly SIMD128 mul + add peak of this machine with bench/peak/peak.ts
// (compiled to bench/build/peak.wasm, rebuilt when missing or older than the source).
//
//   node --import tsx bench/peak/run.ts [--seconds 1] [--samples 5] [--clock cpu|wall] [--json]
//
// Prints GFLOP/s of the 4x8 register-blocked matrix micro-kernel (the realistic peak, operands
// in L1) and of the register-only kernel, median (min-max) over the samples; and, where the engine
// has relaxed SIMD (Node 20: a V8 flag, set here), the matrix kernel with f32x4.relaxed_madd, the
// yardstick of nalu-wasm's opt-in relaxed build.

import { execFileSync } from 'node:child_process';
import v8 from 'node:v8';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { measure, summarize, type Summary } from '../lib/stats';
import { args, opt } from '../lib/args';
import { relaxedSimdSupported } from '../../src/wasm/probe';

const SECONDS = Number(opt('seconds', '1'));
const SAMPLES = Number(opt('samples', '5'));
const CLOCK = opt('clock', 'cpu') as 'cpu' | 'wall';

const src = fileURLToPath(new URL('./peak.ts', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));

export interface PeakResult {
  gemm4x8: Summary;
  regs: Summary;
  /** the figure to compare kernels with: the matrix micro-kernel's median */
  peak: number;
  /** the matrix micro-kernel with f32x4.relaxed_madd, where the engine has relaxed SIMD */
  fma: Summary | null;
  unit: 'GFLOP/s';
}

type PeakExports = { setup(): void; gemm4x8(k: number, reps: number): number; regs(reps: number): number };

/** Compiles peak.ts (when the .wasm is missing or stale) with `features` and instantiates it. */
async function peakModule(name: string, features: string): Promise<PeakExports> {
  const out = fileURLToPath(new URL(`../build/${name}.wasm`, import.meta.url));
  const cfg = fileURLToPath(new URL('./asconfig.json', import.meta.url));
  if (!existsSync(out) || statSync(out).mtimeMs < Math.max(statSync(src).mtimeMs, statSync(cfg).mtimeMs)) {
    mkdirSync(fileURLToPath(new URL('../build/', import.meta.url)), { recursive: true });
    // --config: without it asc also picks up the repository's asconfig.json and its entries
    execFileSync('npx', ['asc', 'bench/peak/peak.ts', '--config', 'bench/peak/asconfig.json', '-O3', '--enable', features,
      '--runtime', 'stub', '-o', `bench/build/${name}.wasm`], { cwd: root, stdio: 'inherit' });
  }
  const { instance } = await WebAssembly.instantiate(readFileSync(out), { env: { abort() { throw new Error('abort'); } } });
  const ex = instance.exports as PeakExports;
  ex.setup();
  return ex;
}

export async function runPeak(): Promise<PeakResult> {
  const ex = await peakModule('peak', 'simd');
  if (!relaxedSimdSupported()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const fx = relaxedSimdSupported() ? await peakModule('peak-relaxed', 'simd,relaxed-simd') : null;
  const K = 256, GR = 64, RR = 1 << 16;
  let sink = 0;
  const g = () => { sink += ex.gemm4x8(K, GR); };
  const r = () => { sink += ex.regs(RR); };
  const f = () => { sink += fx!.gemm4x8(K, GR); };
  const gFlops = 64 * K * GR, rFlops = 96 * RR;
  // warm-up (tier-up to TurboFan), then interleaved samples
  for (let i = 0; i < 200; i++) { g(); r(); if (fx) f(); }
  const gs: number[] = [], rs: number[] = [], fs: number[] = [];
  const gflops = (fn: () => void, flops: number) => {
    const a = measure(fn, 50, SECONDS, CLOCK);
    return ((CLOCK === 'cpu' ? a.cpu : a.wall) * flops) / 1e9;
  };
  for (let s = 0; s < SAMPLES; s++) {
    gs.push(gflops(g, gFlops));
    rs.push(gflops(r, rFlops));
    if (fx) fs.push(gflops(f, gFlops));
  }
  if (!Number.isFinite(sink)) throw new Error('checksum not finite');
  const gemm4x8 = summarize(gs), regs = summarize(rs);
  return { gemm4x8, regs, peak: gemm4x8.median, fma: fx ? summarize(fs) : null, unit: 'GFLOP/s' };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runPeak().then((p) => {
    if (args.includes('--json')) { console.log(JSON.stringify(p)); return; }
    const f = (s: Summary) => `${s.median.toFixed(1)} GFLOP/s (${s.min.toFixed(1)}-${s.max.toFixed(1)})`;
    console.log(`WebAssembly SIMD128 f32x4 mul+add, one core, ${CLOCK === 'cpu' ? 'CPU-time' : 'wall'} clock:`);
    console.log(`  4x8 register-blocked matrix micro-kernel (L1): ${f(p.gemm4x8)}`);
    console.log(`  register-only, 12 chains:                      ${f(p.regs)}`);
    if (p.fma) console.log(`  4x8 kernel with relaxed_madd (opt-in build):   ${f(p.fma)}`);
  }, (e) => { console.error(e); process.exit(1); });
}
