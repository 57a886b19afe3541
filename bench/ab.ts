// Quick A/B of two SIMD modules on one operation: `node --import tsx bench/ab.ts a.wasm b.wasm
// [--shape S] [--op train|task|forward|predict1] [--rounds 5] [--seconds 1] [--pretrain N] [--threads N]`
// (--pretrain: N Adam steps first, untimed; training then returns to that state every 1000 steps). Each round runs each module
// in its own process (alternating), per second of CPU time (of wall time with --threads, for threads
// builds); prints the medians and the ratio b/a. A module in the build/ of another checkout (a git
// worktree of an older commit, say) runs under that checkout's bench/ab.ts, so with the host code
// (src/) it was built with: the two sides of a layout change can be compared.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { args, opt } from './lib/args';
import { naluWorkload } from './lib/workload';

async function child(wasm: string): Promise<void> {
  const threads = Number(opt('threads', '1'));
  const call = await naluWorkload(opt('shape', 'S'), opt('op', 'train'),
    { build: threads > 1 ? 'threads' : 'simd', bytes: readFileSync(wasm), threads, pretrain: Number(opt('pretrain', '0')) });
  const run = (n: number): void => {
    for (let s = 0; s < n; s++) call();
  };
  run(200);
  let calls = 0;
  const t0 = process.cpuUsage(), w0 = performance.now();
  const elapsed = (): number => {
    if (threads > 1) return (performance.now() - w0) * 1e3;
    const d = process.cpuUsage(t0);
    return d.user + d.system;
  };
  let us = 0;
  while (us < Number(opt('seconds', '1')) * 1e6) {
    run(10);
    calls += 10;
    us = elapsed();
  }
  console.log(String(calls / (us / 1e6)));
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

if (args[0] === '--child') {
  await child(args[1]!);
} else {
  const [a, b] = [args[0]!, args[1]!];
  const here = fileURLToPath(import.meta.url);
  const runner = (wasm: string): string => {
    const dir = dirname(resolve(wasm));
    const theirs = join(dir, '..', 'bench', 'ab.ts');
    return dir.endsWith('/build') && existsSync(theirs) ? theirs : here;
  };
  const ra: number[] = [], rb: number[] = [];
  for (let r = 0; r < Number(opt('rounds', '5')); r++) {
    for (const [w, out] of (r & 1 ? [[b, rb], [a, ra]] : [[a, ra], [b, rb]]) as Array<[string, number[]]>) {
      const script = runner(w);
      out.push(Number(execFileSync(process.execPath, ['--import', 'tsx', script, '--child', resolve(w), ...args.slice(2)], { encoding: 'utf8', cwd: dirname(script) }).trim()));
    }
  }
  console.log(`a ${median(ra).toFixed(0)}/s  b ${median(rb).toFixed(0)}/s  b/a ${(median(rb) / median(ra)).toFixed(3)}`);
}
