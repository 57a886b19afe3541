// logPos (assembly/math.ts), the layers' log(|x| + eps): <= 2 ulps against the correctly
// rounded f32 of Math.log over positive normal floats, log's own results elsewhere, and the
// same bits from the f32x4 version, its scalar twin and the scalar build.
import { beforeAll, describe, expect, it } from 'vitest';
import { instantiateSweeps, ulps } from './f32';

interface Ex { memory: WebAssembly.Memory; logPosSweep(fn: number, src: number, dst: number, n: number): void; mathSweep(fn: number, src: number, dst: number, n: number): void }

const N = 1 << 20;
let builds: Record<'simd' | 'scalar', { ex: Ex; src: number; dst: number }>;

beforeAll(async () => {
  const load = async (name: 'simd' | 'scalar') => {
    const ex = await instantiateSweeps<Ex>(name);
    const base = ex.memory.grow(Math.ceil((8 * N + 64) / 65536)) * 65536;
    return { ex, src: base, dst: base + 4 * N };
  };
  builds = { simd: await load('simd'), scalar: await load('scalar') };
});

function run(build: 'simd' | 'scalar', fn: number, input: Float32Array, sweep: 'logPosSweep' | 'mathSweep' = 'logPosSweep'): Float32Array {
  const { ex, src, dst } = builds[build];
  new Float32Array(ex.memory.buffer, src, input.length).set(input);
  ex[sweep](fn, src, dst, input.length);
  return new Float32Array(ex.memory.buffer, dst, input.length).slice();
}

const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('logPos', () => {
  it('is within 2 ulps over positive normal floats, bit patterns every 2027 apart and [0.5, 2] densely', () => {
    const inputs: number[] = [];
    for (let b = 0x00800000; b < 0x7f800000; b += 2027) inputs.push(new Float32Array(new Uint32Array([b]).buffer)[0]!);
    for (let i = 0; i < (1 << 19); i++) inputs.push(0.5 + (1.5 * i) / (1 << 19));
    const x = Float32Array.from(inputs);
    let worst = 0;
    for (let at = 0; at < x.length; at += N) {
      const chunk = x.subarray(at, at + N);
      const y = run('simd', 0, chunk);
      for (let i = 0; i < chunk.length; i++) worst = Math.max(worst, ulps(y[i]!, Math.fround(Math.log(chunk[i]!))));
    }
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('gives log\'s results on zero, subnormals, negatives, Inf and NaN, in any lane', () => {
    const special = [0, -0, 1e-45, 1e-40, 1.1e-38, -1, -Infinity, Infinity, NaN];
    const x = Float32Array.from([...special, 1.5, 3, 7].flatMap((v) => [v, 2.5, v, 0.75]));
    const want = run('simd', 5, x, 'mathSweep'); // the scalar twin of log
    const got = run('simd', 0, x);
    for (let i = 0; i < x.length; i++) {
      if (special.includes(x[i]!) || Number.isNaN(x[i]!)) {
        expect(Number.isNaN(got[i]!) ? 'NaN' : got[i], `x = ${x[i]}`).toEqual(Number.isNaN(want[i]!) ? 'NaN' : want[i]);
      }
    }
    expect(got[0]).toBe(-Infinity);
    expect(got[4 * 7]).toBe(Infinity);
  });

  it('gives the same bits in the f32x4 version, its scalar twin and the scalar build', () => {
    const x = new Float32Array(N);
    for (let i = 0; i < N; i++) x[i] = new Float32Array(new Uint32Array([0x00001000 + i * 2029]).buffer)[0]!;
    const a = bitsOf(run('simd', 0, x)), b = bitsOf(run('simd', 1, x)), c = bitsOf(run('scalar', 0, x));
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });
});
