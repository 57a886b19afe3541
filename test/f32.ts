// Helpers of the tests that drive the transcendentals directly (math, trig, logPos): loading the
// sweeps build, and f32 bit patterns and ulp distances.
import { existsSync, readFileSync } from 'node:fs';

/**
 * The test build of assembly/sweeps.ts (npm run asbuild:sweeps), which drives the transcendentals
 * over whole arrays, in its SIMD or scalar form.
 */
export async function instantiateSweeps<T>(name: 'simd' | 'scalar'): Promise<T> {
  const url = new URL(`../build/sweeps-${name}.wasm`, import.meta.url);
  if (!existsSync(url)) throw new Error(`${url.pathname} is missing: run npm run asbuild:sweeps (npm test does)`);
  const { instance } = await WebAssembly.instantiate(readFileSync(url), { env: { abort: () => { throw new Error('abort'); } } });
  return instance.exports as unknown as T;
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
const i32buf = new Int32Array(f32buf.buffer);

export function bitsOf(x: number): number {
  f32buf[0] = x;
  return u32buf[0]!;
}

export function fromBits(b: number): number {
  u32buf[0] = b >>> 0;
  return f32buf[0]!;
}

/** Position of an f32 on a line where consecutive floats differ by 1 (+0 and -0 both at 0). */
export function ordinal(x: number): number {
  f32buf[0] = x;
  const i = i32buf[0]!;
  return i < 0 ? -(i & 0x7fffffff) : i;
}

/** Distance in ulps between two f32 values; 0 if both are NaN, Infinity if only one is. */
export function ulps(a: number, b: number): number {
  const na = Number.isNaN(a), nb = Number.isNaN(b);
  if (na || nb) return na && nb ? 0 : Infinity;
  return Math.abs(ordinal(a) - ordinal(b));
}

/** n evenly spaced f32 values from lo to hi inclusive. */
export function linspace(lo: number, hi: number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + ((hi - lo) * i) / (n - 1);
  return a;
}
