// Timing and statistics shared by the benchmarks.
//
// A measurement runs `fn` in chunks of `chunk` calls (chosen during warm-up so that a chunk
// takes about 20 ms, which keeps the clock's cost negligible) until at least `minSeconds` have
// passed, and returns calls per second over the whole span.

import { performance } from 'node:perf_hooks';

export interface Summary {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function summarize(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, samples };
}

/** Runs fn for about `seconds` and returns how many calls make a chunk of ~`chunkSeconds`. */
export function warmUp(fn: () => unknown, seconds = 0.3, chunkSeconds = 0.02): number {
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    fn();
    calls++;
    t = performance.now();
  }
  const perCall = (t - t0) / 1000 / calls;
  return Math.max(1, Math.round(chunkSeconds / perCall));
}

export interface Rate {
  /** calls per second of wall-clock time */
  wall: number;
  /** calls per second of this process's CPU time (user + system, all its threads) */
  cpu: number;
  /** CPU time / wall time over the span: well below 1 means other processes took the CPU */
  share: number;
}

/**
 * Calls per second of fn over at least minSeconds of `clock`, by the wall clock and by the process's CPU
 * time. On a machine shared with other work the wall-clock figure drops when the scheduler runs
 * something else; the CPU-time figure does not (caches and a sibling hyper-thread still affect
 * it). On an idle machine the two agree (share ~1).
 */
export function measure(fn: () => unknown, chunk: number, minSeconds = 1, clock: 'cpu' | 'wall' = 'wall'): Rate {
  let calls = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let wall = 0;
  let cpu = 0;
  do {
    for (let i = 0; i < chunk; i++) fn();
    calls += chunk;
    wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    cpu = (c.user + c.system) / 1e6;
  } while ((clock === 'cpu' ? cpu : wall) < minSeconds);
  return { wall: calls / wall, cpu: calls / cpu, share: cpu / wall };
}

/** Formats a number with 3 significant digits and thousands separators. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** A plain-text table with right-aligned columns after the first. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const line = (r: string[]) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
