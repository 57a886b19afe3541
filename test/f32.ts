// Helpers of the tests that drive the kernels' exports directly (math, trig, logPos): loading a
// build without the API, and f32 bit patterns and ulp distances.
import { readFileSync } from 'node:fs';

/** The raw exports of build/nalu-<name>.wasm, instantiated on their own. */
export async function instantiateBuild<T>(name: 'simd' | 'scalar'): Promise<T> {
  const bytes = readFileSync(new URL(`../build/nalu-${name}.wasm`, import.meta.url));
  const { instance } = await WebAssembly.instantiate(bytes, { env: { abort: () => { throw new Error('abort'); } } });
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
