// Accuracy, special values and bit identity of assembly/trig.ts (sin and cos together), driven
// through trigSweep (assembly/sweeps.ts) in its SIMD and scalar builds: fn 0 = the f32x4
// version over groups of four in the SIMD build (the scalar twin for the tail and in the scalar
// build), fn 1 = the scalar twin everywhere. Errors are counted in ulps against the correctly
// rounded f32 of Math.sin/cos in f64 (the distance between the f32 bit patterns), and absolutely
// against the f64 values.
import { beforeAll, describe, expect, it } from 'vitest';
import { bitsOf, fromBits, instantiateSweeps, linspace, ulps } from './f32';

interface TrigExports {
  memory: WebAssembly.Memory;
  trigSweep: (fn: number, src: number, sinDst: number, cosDst: number, n: number) => void;
}

const CHUNK = 1 << 20; // floats per trigSweep call
const PAGES = (3 * CHUNK * 4) / 65536; // src + sin + cos

class Harness {
  private readonly base: number;
  constructor(private readonly ex: TrigExports) {
    this.base = ex.memory.grow(PAGES) * 65536; // the module does not allocate during trigSweep
  }
  run(fn: number, input: Float32Array): { sin: Float32Array; cos: Float32Array } {
    const sin = new Float32Array(input.length), cos = new Float32Array(input.length);
    const b = this.base;
    for (let off = 0; off < input.length; off += CHUNK) {
      const m = Math.min(CHUNK, input.length - off);
      new Float32Array(this.ex.memory.buffer, b, m).set(input.subarray(off, off + m));
      this.ex.trigSweep(fn, b, b + 4 * CHUNK, b + 8 * CHUNK, m);
      sin.set(new Float32Array(this.ex.memory.buffer, b + 4 * CHUNK, m), off);
      cos.set(new Float32Array(this.ex.memory.buffer, b + 8 * CHUNK, m), off);
    }
    return { sin, cos };
  }
}

async function instantiate(name: 'simd' | 'scalar'): Promise<Harness> {
  return new Harness(await instantiateSweeps<TrigExports>(name));
}

let simd: Harness;
let scalar: Harness;
beforeAll(async () => {
  simd = await instantiate('simd');
  scalar = await instantiate('scalar');
});

// ---- f32 helpers ------------------------------------------------------------------------------

/** Every `stride`-th f32 bit pattern with 0 <= x <= limit, and their negatives. */
function symmetricBits(limit: number, stride: number): Float32Array {
  const hi = bitsOf(limit);
  const n = Math.floor(hi / stride) + 1;
  const u = new Uint32Array(2 * n);
  for (let i = 0; i < n; i++) {
    u[i] = i * stride;
    u[n + i] = (i * stride) | 0x80000000;
  }
  return new Float32Array(u.buffer);
}
/** The `width` f32 on either side of each f32 nearest to k pi/2, |k| <= kmax. */
function nearQuarterTurns(kmax: number, width: number): Float32Array {
  const out: number[] = [];
  for (let d = 1; d <= width; d++) { // k = 0: the smallest subnormals of both signs
    out.push(fromBits(d), -fromBits(d));
  }
  for (let k = -kmax; k <= kmax; k++) {
    if (k === 0) continue;
    const c = bitsOf(k * Math.PI / 2);
    for (let d = -width; d <= width; d++) {
      out.push(fromBits(c + (k < 0 ? -d : d)));
    }
  }
  return Float32Array.from(out);
}

interface Errors { sinUlp: number; cosUlp: number; sinAbs: number; cosAbs: number; exact: number; where: number[] }

function measure(h: Harness, x: Float32Array): Errors {
  const { sin, cos } = h.run(0, x);
  const e: Errors = { sinUlp: 0, cosUlp: 0, sinAbs: 0, cosAbs: 0, exact: 0, where: [0, 0] };
  for (let i = 0; i < x.length; i++) {
    const s = Math.sin(x[i]!), c = Math.cos(x[i]!);
    const us = ulps(sin[i]!, Math.fround(s)), uc = ulps(cos[i]!, Math.fround(c));
    if (us > e.sinUlp) { e.sinUlp = us; e.where[0] = x[i]!; }
    if (uc > e.cosUlp) { e.cosUlp = uc; e.where[1] = x[i]!; }
    e.sinAbs = Math.max(e.sinAbs, Math.abs(sin[i]! - s));
    e.cosAbs = Math.max(e.cosAbs, Math.abs(cos[i]! - c));
    if (us === 0 && uc === 0) e.exact++;
  }
  e.exact /= x.length;
  return e;
}

// ---- accuracy ---------------------------------------------------------------------------------

describe('sin and cos on [-100, 100]: at most 1 ulp, at most 6.5e-8 absolute', () => {
  const sweeps: Array<[string, () => Float32Array]> = [
    ['2^22 evenly spaced points', () => linspace(-100, 100, 1 << 22)],
    ['every 1021st f32 bit pattern with |x| <= 100', () => symmetricBits(100, 1021)],
    ['the 100 f32 on either side of k pi/2, |k| <= 63 (where sin or cos is smallest)', () => nearQuarterTurns(63, 100)],
  ];
  it.each(sweeps)('%s', (name, make) => {
    const x = make();
    const e = measure(simd, x);
    console.log(`[trig] ${name}: ${x.length} points, sin ${e.sinUlp} ulp (at ${e.where[0]}), cos ${e.cosUlp} ulp (at ${e.where[1]}), ` +
      `abs ${e.sinAbs.toExponential(2)} / ${e.cosAbs.toExponential(2)}, both correctly rounded ${(100 * e.exact).toFixed(1)}%`);
    expect(e.sinUlp).toBeLessThanOrEqual(1);
    expect(e.cosUlp).toBeLessThanOrEqual(1);
    expect(e.sinAbs).toBeLessThan(6.5e-8);
    expect(e.cosAbs).toBeLessThan(6.5e-8);
  });

  it('is accurate to 1.1e-7 absolute on the reduction\'s exact range |x| < 2^13 pi/2 = 12868', () => {
    const x = linspace(-12868, 12868, 1 << 21);
    const e = measure(simd, x);
    console.log(`[trig] |x| <= 12868: abs ${e.sinAbs.toExponential(2)} / ${e.cosAbs.toExponential(2)}`);
    expect(e.sinAbs).toBeLessThan(1.1e-7);
    expect(e.cosAbs).toBeLessThan(1.1e-7);
  });
});

// ---- special values -----------------------------------------------------------------------------

describe('special values', () => {
  it('NaN and +-Inf give NaN; +-0 give +-0 and 1; tiny x gives sin x = x, cos x = 1', () => {
    const x = Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 1e-40, 2 ** -20]);
    for (const h of [simd, scalar]) {
      for (const fn of [0, 1]) {
        const { sin, cos } = h.run(fn, x);
        for (let i = 0; i < 3; i++) {
          expect(Number.isNaN(sin[i]!)).toBe(true);
          expect(Number.isNaN(cos[i]!)).toBe(true);
        }
        expect(Object.is(sin[3], 0)).toBe(true);
        expect(Object.is(sin[4], -0)).toBe(true);
        for (let i = 3; i < 8; i++) {
          expect(sin[i]).toBe(x[i]);
          expect(cos[i]).toBe(1);
        }
        expect(ulps(sin[8]!, Math.fround(Math.sin(x[8]!)))).toBe(0);
      }
    }
  });

  it('stays finite and within [-1, 1] for every finite x, however large', () => {
    const x = symmetricBits(3.4028234663852886e38, 4099);
    for (const h of [simd, scalar]) {
      const { sin, cos } = h.run(0, x);
      let bad = 0;
      for (let i = 0; i < x.length; i++) {
        if (!(Math.abs(sin[i]!) <= 1 && Math.abs(cos[i]!) <= 1)) bad++;
      }
      expect(bad).toBe(0);
    }
  });
});

// ---- bit identity -----------------------------------------------------------------------------

describe('the builds and the twins agree bit for bit', () => {
  it('SIMD build (f32x4), SIMD build (scalar twin) and scalar build', () => {
    const x = new Float32Array([
      ...linspace(-200, 200, 1 << 18), ...symmetricBits(3.4028234663852886e38, 65521), ...nearQuarterTurns(63, 20),
      NaN, Infinity, -Infinity, 0, -0,
    ]);
    const a = simd.run(0, x), b = simd.run(1, x), c = scalar.run(0, x);
    const u = (f: Float32Array) => new Uint32Array(f.buffer);
    // NaN payloads are not guaranteed (WebAssembly leaves them nondeterministic): compare NaN-ness there.
    const same = (p: Float32Array, q: Float32Array) => {
      let diff = 0;
      const up = u(p), uq = u(q);
      for (let i = 0; i < p.length; i++) {
        if (Number.isNaN(p[i]!) ? !Number.isNaN(q[i]!) : up[i] !== uq[i]) diff++;
      }
      return diff;
    };
    expect(same(a.sin, b.sin)).toBe(0);
    expect(same(a.cos, b.cos)).toBe(0);
    expect(same(a.sin, c.sin)).toBe(0);
    expect(same(a.cos, c.cos)).toBe(0);
  });
});
