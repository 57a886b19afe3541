// Times the kernels of assembly/gemm.ts alone on the products of the benchmark shapes, and
// checks that several builds of them agree bit for bit.
//
//   node --import tsx bench/peak/gemm-run.ts [--shape S|M|L] [--seconds 0.5] [--rounds 3]
//        [--check] [--wasm a.wasm,b.wasm]
//
// Without --wasm it builds bench/peak/gemm.ts (SIMD and scalar) into bench/build/ and times the
// SIMD one. --check compares gemmAB and gemmABt of every given build on random shapes with
// each other and with a reference in JavaScript that performs the float operations of the
// contract of assembly/gemm.ts in its order.
// GFLOP/s are per CPU second (2 flops per multiply-add).

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../lib/rng';
import { args, opt } from '../lib/args';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Gemm {
  name: string;
  mem: WebAssembly.Memory;
  alloc(bytes: number): number;
  gemmAB(C: number, A: number, sRow: number, sK: number, B: number, K: number, M: number, ld: number, acc: number): void;
  gemmABt(C: number, P: number, NP: number, Q: number, NQ: number, ld: number, sP: number, sQ: number, acc: number): void;
}

function build(target: 'simd' | 'scalar'): string {
  const out = `bench/build/gemm-${target}.wasm`;
  mkdirSync(`${root}bench/build`, { recursive: true });
  execFileSync('npx', ['asc', 'bench/peak/gemm.ts', '--config', 'bench/peak/asconfig.json', '-O3',
    target === 'simd' ? '--enable' : '--disable', 'simd', '--runtime', 'stub', '-o', out], { cwd: root, stdio: 'inherit' });
  return `${root}${out}`;
}

async function load(path: string): Promise<Gemm> {
  const { instance } = await WebAssembly.instantiate(readFileSync(path), { env: { abort() { throw new Error('abort'); } } });
  const ex = instance.exports as any;
  return { name: path.replace(/^.*\//, ''), mem: ex.memory, alloc: ex.alloc, gemmAB: ex.gemmAB, gemmABt: ex.gemmABt };
}

const f32 = (g: Gemm, p: number, n: number) => new Float32Array(g.mem.buffer, p, n);
const u32 = (g: Gemm, p: number, n: number) => new Uint32Array(g.mem.buffer, p, n);

/** One product of a layer of nin inputs, nout outputs (NALU: E = [W | G] is [nin, 2 nout]) at batch ld. */
interface Case { name: string; flops: number; run(g: Gemm, buf: Record<string, number>): void }

function cases(nin: number, nout: number, ld: number): Case[] {
  const o2 = 2 * nout;
  return [
    { name: `AB  xE   M=${o2} K=${nin}`, flops: 2 * o2 * nin * ld, run: (g, b) => g.gemmAB(b.C!, b.E!, 1, o2, b.X!, nin, o2, ld, 0) },
    { name: `AB  lW   M=${nout} K=${nin}`, flops: 2 * nout * nin * ld, run: (g, b) => g.gemmAB(b.C!, b.E!, 1, o2, b.X!, nin, nout, ld, 0) },
    { name: `AB  dE^T M=${nin} K=${o2}`, flops: 2 * o2 * nin * ld, run: (g, b) => g.gemmAB(b.C!, b.E!, o2, 1, b.T!, o2, nin, ld, 0) },
    { name: `ABt x^Td NP=${nin} NQ=${o2}`, flops: 2 * o2 * nin * ld, run: (g, b) => g.gemmABt(b.D!, b.X!, nin, b.T!, o2, ld, o2, 1, 0) },
    { name: `ABt +l^Td NP=${nin} NQ=${nout}`, flops: 2 * nout * nin * ld, run: (g, b) => g.gemmABt(b.D!, b.X!, nin, b.T!, nout, ld, o2, 1, 1) },
  ];
}

function setup(g: Gemm, nin: number, nout: number, ld: number, seed: number): Record<string, number> {
  const rand = mulberry32(seed);
  const o2 = 2 * nout;
  const mk = (n: number, fill: boolean) => {
    const p = g.alloc(4 * n);
    const a = f32(g, p, n);
    if (fill) for (let i = 0; i < n; i++) a[i] = rand() * 2 - 1;
    return p;
  };
  return { E: mk(nin * o2, true), X: mk(nin * ld, true), T: mk(o2 * ld, true), C: mk(Math.max(o2, nin) * ld, false), D: mk(nin * o2, true) };
}

const SHAPES: Record<string, [number, number, number]> = { S: [100, 2, 128], M: [64, 64, 1024], L: [256, 256, 4096] };

async function time(gs: Gemm[]): Promise<void> {
  const [nin, nout, ld] = SHAPES[opt('shape', 'L')]!;
  const secs = Number(opt('seconds', '0.5')), rounds = Number(opt('rounds', '3'));
  const bufs = gs.map((g) => setup(g, nin, nout, ld, 1));
  const cs = cases(nin, nout, ld);
  const best: number[][] = cs.map(() => gs.map(() => 0));
  for (let r = 0; r < rounds; r++) {
    cs.forEach((c, ci) => gs.forEach((g, gi) => {
      for (let i = 0; i < 3; i++) c.run(g, bufs[gi]!);
      const t0 = process.cpuUsage();
      let n = 0, dt = 0;
      do { c.run(g, bufs[gi]!); n++; const u = process.cpuUsage(t0); dt = (u.user + u.system) / 1e6; } while (dt < secs);
      best[ci]![gi] = Math.max(best[ci]![gi]!, (n * c.flops) / dt / 1e9);
    }));
  }
  console.log(`shape ${opt('shape', 'L')} (in ${nin}, out ${nout}, ld ${ld}); GFLOP/s, best of ${rounds}`);
  console.log(['case'.padEnd(26), ...gs.map((g) => g.name.padStart(22))].join(' '));
  cs.forEach((c, ci) => console.log([c.name.padEnd(26), ...best[ci]!.map((v) => v.toFixed(1).padStart(22))].join(' ')));
}

function check(gs: Gemm[]): void {
  const rand = mulberry32(7);
  const ri = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  let bad = 0, refBad = 0;
  for (let t = 0; t < 300; t++) {
    // the last cases: batches of several chunks of gemmABt (NQ = K >= 512: chunks of 256 lanes)
    const M = ri(1, t < 100 ? 13 : t < 285 ? 70 : 9);
    const K = t < 285 ? ri(1, t < 100 ? 9 : t < 250 ? 300 : 20) : ri(512, 700);
    const ld = 4 * ri(t < 285 ? 1 : 60, t < 150 ? 12 : t < 250 ? 80 : 400);
    const acc = rand() < 0.3 ? 1 : 0;
    const trans = rand() < 0.5;
    const outs: Uint32Array[] = [], outsT: Uint32Array[] = [];
    const rnd = Array.from({ length: M * K + K * ld + M * ld + M * K }, () => rand() * 2 - 1);
    for (const g of gs) {
      const A = g.alloc(4 * M * K), B = g.alloc(4 * K * ld), C = g.alloc(4 * M * ld), D = g.alloc(4 * M * K);
      const P = g.alloc(4 * M * ld), Q = g.alloc(4 * K * ld);
      let o = 0;
      f32(g, A, M * K).set(rnd.slice(o, (o += M * K)));
      f32(g, B, K * ld).set(rnd.slice(o, (o += K * ld)));
      f32(g, C, M * ld).set(rnd.slice(o, (o += M * ld)));
      f32(g, D, M * K).set(rnd.slice(o, (o += M * K)));
      f32(g, P, M * ld).set(rnd.slice(M * K, M * K + M * ld));
      f32(g, Q, K * ld).set(rnd.slice(0, K * ld).map((v) => -v));
      if (trans) g.gemmAB(C, A, K, 1, B, K, M, ld, acc); else g.gemmAB(C, A, 1, M, B, K, M, ld, acc);
      outs.push(u32(g, C, M * ld).slice());
      if (trans) g.gemmABt(D, P, M, Q, K, ld, K, 1, acc); else g.gemmABt(D, P, M, Q, K, ld, 1, M, acc);
      outsT.push(u32(g, D, M * K).slice());
    }
    // reference, in f32: gemmAB sums over k in order from 0; gemmABt sums b = j, j + 4, ... in
    // order into lane j from 0 and adds (l0 + l1) + (l2 + l3); C is added at the end
    const f = Math.fround;
    const A = rnd.slice(0, M * K), B = rnd.slice(M * K, M * K + K * ld), C0 = rnd.slice(M * K + K * ld, M * K + K * ld + M * ld);
    const D0 = rnd.slice(M * K + K * ld + M * ld), Pm = rnd.slice(M * K, M * K + M * ld), Qm = rnd.slice(0, K * ld).map((v) => -v);
    const refAB = new Float32Array(M * ld), refABt = new Float32Array(M * K);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < ld; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s = f(s + f(f(A[trans ? m * K + k : k * M + m]!) * f(B[k * ld + n]!)));
        refAB[m * ld + n] = acc ? f(f(C0[m * ld + n]!) + s) : s;
      }
      for (let q = 0; q < K; q++) {
        const l = [0, 0, 0, 0];
        for (let b = 0; b < ld; b++) l[b & 3] = f(l[b & 3]! + f(f(Pm[m * ld + b]!) * f(Qm[q * ld + b]!)));
        const s = f(f(l[0]! + l[1]!) + f(l[2]! + l[3]!));
        const i = trans ? m * K + q : q * M + m;
        refABt[i] = acc ? f(f(D0[i]!) + s) : s;
      }
    }
    const r = new Uint32Array(refAB.buffer), rT = new Uint32Array(refABt.buffer);
    for (let i = 0; i < gs.length; i++) {
      const d = outs[i]!.findIndex((v, j) => v !== r[j]), dT = outsT[i]!.findIndex((v, j) => v !== rT[j]);
      if (d >= 0 || dT >= 0) {
        if (++refBad < 10) console.log(`M ${M} K ${K} ld ${ld} acc ${acc} trans ${trans}: ${gs[i]!.name} vs the reference: gemmAB ${d >= 0 ? `differs at ${d}` : 'same'}, gemmABt ${dT >= 0 ? `differs at ${dT}` : 'same'}`);
      }
    }
    for (let i = 1; i < gs.length; i++) {
      const d = outs[i]!.findIndex((v, j) => v !== outs[0]![j]);
      const dT = outsT[i]!.findIndex((v, j) => v !== outsT[0]![j]);
      if (d >= 0 || dT >= 0) {
        bad++;
        if (bad < 10) console.log(`M ${M} K ${K} ld ${ld} acc ${acc} trans ${trans}: ${gs[i]!.name} vs ${gs[0]!.name}: gemmAB ${d >= 0 ? `differs at ${d}` : 'same'}, gemmABt ${dT >= 0 ? `differs at ${dT}` : 'same'}`);
      }
    }
  }
  console.log(bad ? `${bad} of 300 cases differ` : `all 300 cases agree (${gs.map((g) => g.name).join(', ')})`);
  console.log(refBad ? `${refBad} results differ from the reference` : 'all agree with the reference');
  if (bad || refBad) process.exitCode = 1;
}

async function main(): Promise<void> {
  const given = opt('wasm', '');
  const paths = given ? given.split(',') : args.includes('--check') ? [build('simd'), build('scalar')] : [build('simd')];
  const gs = await Promise.all(paths.map(load));
  if (args.includes('--check')) check(gs); else await time(gs);
}

main().catch((e) => { console.error(e); process.exit(1); });
