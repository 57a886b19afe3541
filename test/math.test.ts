// Accuracy, edge cases and bit identity of assembly/math.ts (exp, log, tanh, sigmoid), driven
// through mathSweep (assembly/sweeps.ts) in its SIMD and scalar builds:
//   fn 0..3 = exp, log, tanh, sigmoid (f32x4 versions in the SIMD build, scalar twins for the
//   tail and in the scalar build); fn 4..7 = the scalar twins of 0..3 in both builds.
// Errors are counted in ulps against the correctly rounded f32 of the f64 Math.* result.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bitsOf, fromBits, instantiateSweeps, linspace, ulps } from './f32';

interface MathExports {
  memory: WebAssembly.Memory;
  mathSweep: (fn: number, src: number, dst: number, n: number) => void;
}

const CHUNK = 1 << 20; // floats per mathSweep call
const PAGES = (2 * CHUNK * 4) / 65536; // src + dst

class Harness {
  private base = 0;
  constructor(private readonly ex: MathExports) {
    // Buffers live in pages grown here (the module does not allocate during mathSweep).
    this.base = ex.memory.grow(PAGES) * 65536;
  }
  /** dst[i] = fn(src[i]); views are re-created for every chunk in case memory moved. */
  run(fn: number, input: Float32Array): Float32Array {
    const out = new Float32Array(input.length);
    for (let off = 0; off < input.length; off += CHUNK) {
      const m = Math.min(CHUNK, input.length - off);
      new Float32Array(this.ex.memory.buffer, this.base, m).set(input.subarray(off, off + m));
      this.ex.mathSweep(fn, this.base, this.base + 4 * CHUNK, m);
      out.set(new Float32Array(this.ex.memory.buffer, this.base + 4 * CHUNK, m), off);
    }
    return out;
  }
}

async function instantiate(name: 'simd' | 'scalar'): Promise<Harness> {
  return new Harness(await instantiateSweeps<MathExports>(name));
}

let simd: Harness;
let scalar: Harness;
beforeAll(async () => {
  simd = await instantiate('simd');
  scalar = await instantiate('scalar');
});

// ---- f32 helpers ------------------------------------------------------------------------------

const fr = Math.fround;

function isNaNBits(b: number): boolean {
  return (b & 0x7fffffff) >>> 0 > 0x7f800000;
}

// ---- inputs -----------------------------------------------------------------------------------

/** Every `stride`-th f32 bit pattern from the pattern of `from` to the pattern of `to`. */
function bitRange(from: number, to: number, stride: number): Float32Array {
  const a = bitsOf(from);
  const b = bitsOf(to);
  const n = Math.floor((b - a) / stride) + 1;
  const u = new Uint32Array(n);
  for (let i = 0; i < n; i++) u[i] = a + i * stride;
  return new Float32Array(u.buffer);
}
/** Every `stride`-th f32 bit pattern with |x| <= limit, both signs (includes +-0). */
function symmetricBits(limit: number, stride: number): Float32Array {
  const pos = bitRange(0, limit, stride);
  const out = new Float32Array(2 * pos.length);
  out.set(pos);
  for (let i = 0; i < pos.length; i++) out[pos.length + i] = -pos[i];
  return out;
}
function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---- the functions ----------------------------------------------------------------------------

interface Fn {
  name: string;
  id: number;
  ref: (x: number) => number; // f64
  bound: number; // max ulps, as stated in assembly/math.ts
  sweep: () => Float32Array;
}

const FLT_MAX = fr(3.4028234663852886e38);
const STRIDE = 1021;

const FNS: Fn[] = [
  {
    name: 'exp',
    id: 0,
    ref: Math.exp,
    bound: 1,
    sweep: () =>
      concat(
        linspace(-87.3, 88.7, 1 << 21),
        symmetricBits(88.7, STRIDE).filter((x) => x >= -87.3),
        linspace(-103.98, -87.3, 1 << 18), // subnormal results
      ),
  },
  {
    name: 'log',
    id: 1,
    ref: Math.log,
    bound: 1,
    // every 1021st positive pattern from the smallest subnormal to FLT_MAX, and [0.5, 2] densely
    sweep: () => concat(bitRange(fromBits(1), FLT_MAX, STRIDE), linspace(0.5, 2, 1 << 21)),
  },
  {
    name: 'tanh',
    id: 2,
    ref: Math.tanh,
    bound: 1,
    sweep: () =>
      concat(linspace(-20, 20, 1 << 21), symmetricBits(20, STRIDE), bitRange(20, FLT_MAX, 4099)),
  },
  {
    name: 'sigmoid',
    id: 3,
    ref: (x) => 1 / (1 + Math.exp(-x)),
    bound: 2,
    sweep: () =>
      concat(
        linspace(-20, 20, 1 << 21),
        symmetricBits(20, STRIDE),
        linspace(-104, -20, 1 << 20), // deep negative tail, down to subnormal results and 0
        bitRange(20, FLT_MAX, 4099),
        bitRange(-20, -FLT_MAX, 4099),
      ),
  },
];

function maxUlps(input: Float32Array, out: Float32Array, ref: Float32Array) {
  let worst = 0;
  let at = NaN;
  for (let i = 0; i < input.length; i++) {
    const d = ulps(out[i], ref[i]);
    if (d > worst) {
      worst = d;
      at = input[i];
    }
  }
  return { worst, at };
}

/** Indices where two result arrays differ in bits (a NaN matches any NaN: see below). */
function bitMismatches(input: Float32Array, a: Float32Array, b: Float32Array): string[] {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const bad: string[] = [];
  for (let i = 0; i < ua.length && bad.length < 10; i++) {
    if (ua[i] === ub[i]) continue;
    // WebAssembly leaves the payload and sign of a NaN result nondeterministic
    if (isNaNBits(ua[i]) && isNaNBits(ub[i])) continue;
    bad.push(`x=${input[i]} (0x${bitsOf(input[i]).toString(16)}): ${a[i]} vs ${b[i]}`);
  }
  return bad;
}

for (const f of FNS) {
  describe(f.name, () => {
    it(`is within ${f.bound} ulp over the sweep (both builds, vector and scalar twins)`, () => {
      const input = f.sweep();
      expect(input.length).toBeGreaterThanOrEqual(1e6);
      const ref = new Float32Array(input.length);
      for (let i = 0; i < input.length; i++) ref[i] = f.ref(input[i]);
      const runs = {
        simd: simd.run(f.id, input),
        simdTwin: simd.run(f.id + 4, input),
        scalar: scalar.run(f.id, input),
      };
      for (const [build, out] of Object.entries(runs)) {
        const { worst, at } = maxUlps(input, out, ref);
        expect(worst, `${f.name} ${build}: ${worst} ulps at x=${at} over ${input.length} points`).toBeLessThanOrEqual(
          f.bound,
        );
      }
    });

    it('gives identical bits in the SIMD build (vector and twin) and the scalar build', () => {
      // the sweep, plus every 65521st bit pattern of all 2^32 (NaNs, infinities, subnormals)
      const all = new Uint32Array(Math.ceil(2 ** 32 / 65521));
      for (let i = 0; i < all.length; i++) all[i] = i * 65521;
      const input = concat(f.sweep(), new Float32Array(all.buffer), EDGES);
      const v = simd.run(f.id, input);
      const t = simd.run(f.id + 4, input);
      const s = scalar.run(f.id, input);
      expect(bitMismatches(input, v, t), 'simd vector vs simd twin').toEqual([]);
      expect(bitMismatches(input, v, s), 'simd vector vs scalar build').toEqual([]);
      expect(bitMismatches(input, t, s), 'simd twin vs scalar build').toEqual([]);
      // the 4-lane path must not depend on the neighbours of a lane: shift the input by one
      const shifted = simd.run(f.id, input.subarray(1));
      expect(bitMismatches(input.subarray(1), shifted, v.subarray(1)), 'shifted by one lane').toEqual([]);
    });
  });
}

describe('the layers\' exp and sigmoid, flushed to 0 below the normal range (elementwise.ts)', () => {
  // expFlush4 and sigmoidFlush4 compute exp through expNormal4 where every lane is in its range:
  // one scaling by 2^n instead of exp4's two. They must give exp4's bits, flushed below -87.33654.
  const LO = fr(-87.33654);
  // every float within 0.01 of x (bit patterns grow with the magnitude)
  const near = (x: number) => (x < 0 ? bitRange(fr(x + 0.01), fr(x - 0.01), 1) : bitRange(fr(x - 0.01), fr(x + 0.01), 1));
  const all = new Uint32Array(Math.ceil(2 ** 32 / 65521));
  for (let i = 0; i < all.length; i++) all[i] = i * 65521;
  const input = concat(linspace(-110, 110, 1 << 21), new Float32Array(all.buffer), EDGES,
    near(LO), near(-LO), near(88), near(88.376), near(88.7228));

  it('identical bits: SIMD vector, SIMD twin and scalar build', () => {
    for (const id of [8, 9]) {
      const v = simd.run(id, input);
      expect(bitMismatches(input, v, simd.run(id + 4, input)), `fn ${id}: simd vector vs simd twin`).toEqual([]);
      expect(bitMismatches(input, v, scalar.run(id, input)), `fn ${id}: simd vector vs scalar build`).toEqual([]);
      const shifted = simd.run(id, input.subarray(1));
      expect(bitMismatches(input.subarray(1), shifted, v.subarray(1)), `fn ${id}: shifted by one lane`).toEqual([]);
    }
  });

  it('exp4\'s bits (sigmoid: of the argument clamped to 87.33654) from -87.33654 up, 0 below', () => {
    const exp = simd.run(0, input), sigmoid = simd.run(3, input.map((x) => Math.min(x, -LO)));
    const want = (f: Float32Array) => f.map((y, i) => (input[i]! < LO ? 0 : y));
    expect(bitMismatches(input, simd.run(8, input), want(exp)), 'exp').toEqual([]);
    expect(bitMismatches(input, simd.run(9, input), want(sigmoid)), 'sigmoid').toEqual([]);
  });
});

const SUB_MIN = fromBits(1);
const SUB_MAX = fromBits(0x007fffff);
const EDGES = new Float32Array([
  0, -0, Infinity, -Infinity, NaN, fromBits(0xffc00000), 1, -1, 2, 0.5, SUB_MIN, -SUB_MIN, SUB_MAX, -SUB_MAX,
  fromBits(0x00800000), FLT_MAX, -FLT_MAX, 88.72283172607422, 88.72283935546875, 89, 90, 1e30,
  -1e30, -87.33654, -103.97, -103.972084, -103.9721, -104, -110, -1000, 0.625, -0.625,
  fr(0.625 - 2 ** -24), 9.01, 9.02, -9.02, 17.33, 20, -20, 1e-20, -1e-20, fromBits(0x7fa00001),
]);

// ---- edge cases -------------------------------------------------------------------------------

/** Evaluate fn on xs with all three paths and require them to agree; returns the SIMD vector result. */
function ev(id: number, xs: number[]): number[] {
  // pad to a multiple of 4 plus a tail of 3 so both the vector loop and the scalar tail run
  const input = new Float32Array([...xs, ...xs, 1, 1, 1, ...xs]);
  const v = simd.run(id, input);
  const t = simd.run(id + 4, input);
  const s = scalar.run(id, input);
  expect(bitMismatches(input, v, t)).toEqual([]);
  expect(bitMismatches(input, v, s)).toEqual([]);
  // tail elements (scalar twin in both builds) agree with the vector results
  expect(bitMismatches(input.subarray(0, xs.length), v.subarray(0, xs.length), v.subarray(2 * xs.length + 3))).toEqual([]);
  return Array.from(v.subarray(0, xs.length));
}
const isNegZero = (x: number) => Object.is(x, -0);
const isPosZero = (x: number) => Object.is(x, 0);

describe('the sweeps build', () => {
  it('compiles with the shipped builds\' compiler options and features', () => {
    const read = (name: string) => JSON.parse(readFileSync(new URL(`../${name}`, import.meta.url), 'utf8'));
    const shipped = read('asconfig.json'), sweeps = read('asconfig.sweeps.json');
    expect(sweeps.options).toEqual(shipped.options);
    for (const t of ['simd', 'scalar']) {
      expect([sweeps.targets[t].enable, sweeps.targets[t].disable]).toEqual([shipped.targets[t].enable, shipped.targets[t].disable]);
    }
  });
});

describe('exp edge cases', () => {
  it('handles infinities, NaN and zeros', () => {
    const [pinf, ninf, nan, z, nz] = ev(0, [Infinity, -Infinity, NaN, 0, -0]);
    expect(pinf).toBe(Infinity);
    expect(isPosZero(ninf)).toBe(true);
    expect(nan).toBeNaN();
    expect(z).toBe(1);
    expect(nz).toBe(1);
  });
  it('overflows to +Inf exactly where the f32 result does', () => {
    const lastFinite = 88.72283172607422; // largest f32 whose exp is below FLT_MAX (0x42b17217)
    const firstInf = fromBits(bitsOf(lastFinite) + 1);
    expect(fr(Math.exp(lastFinite))).toBeLessThan(Infinity);
    expect(fr(Math.exp(firstInf))).toBe(Infinity);
    const [a, b, c, d, e] = ev(0, [lastFinite, firstInf, 89, 1e30, FLT_MAX]);
    expect(a).toBeLessThan(Infinity);
    expect(ulps(a, fr(Math.exp(lastFinite)))).toBeLessThanOrEqual(1);
    expect([b, c, d, e]).toEqual([Infinity, Infinity, Infinity, Infinity]);
  });
  it('underflows gradually through the subnormals to 0', () => {
    const xs = [-87.33654, -90, -95, -100, -103, -103.9, -103.97, -103.9721, -104, -110, -1000, -FLT_MAX].map(fr);
    const ys = ev(0, xs);
    xs.forEach((x, i) => expect(ulps(ys[i], fr(Math.exp(x))), `exp(${x})`).toBeLessThanOrEqual(1));
    expect(ys[1]).toBeGreaterThan(0); // exp(-90) is subnormal, not flushed
    expect(ys[5]).toBeGreaterThan(0);
    expect(ys.slice(8).every(isPosZero)).toBe(true);
  });
  it('is 1 for subnormal inputs', () => {
    expect(ev(0, [SUB_MIN, -SUB_MIN, SUB_MAX, -SUB_MAX])).toEqual([1, 1, 1, 1]);
  });
});

describe('log edge cases', () => {
  it('handles zeros, negatives, infinities and NaN', () => {
    const [z, nz, m1, ninf, nsub, nmax, pinf, nan] = ev(1, [0, -0, -1, -Infinity, -SUB_MIN, -FLT_MAX, Infinity, NaN]);
    expect(z).toBe(-Infinity);
    expect(nz).toBe(-Infinity);
    expect(m1).toBeNaN();
    expect(ninf).toBeNaN();
    expect(nsub).toBeNaN();
    expect(nmax).toBeNaN();
    expect(pinf).toBe(Infinity);
    expect(nan).toBeNaN();
  });
  it('is exactly +0 at 1 and accurate at the ends of the range', () => {
    const xs = [SUB_MIN, fromBits(2), fromBits(3), 1e-40, SUB_MAX, fromBits(0x00800000), 1e-7, FLT_MAX, 2, 0.5, Math.E].map(fr);
    const [one, ...ys] = ev(1, [1, ...xs]);
    expect(isPosZero(one)).toBe(true);
    xs.forEach((x, i) => expect(ulps(ys[i], fr(Math.log(x))), `log(${x})`).toBeLessThanOrEqual(1));
  });
  it('computes normal lanes the same whether or not a special value shares their vector', () => {
    const normal = [3, 1e-7, 0.75, 123456];
    const alone = ev(1, normal);
    for (const special of [0, -1, SUB_MIN, Infinity, NaN]) {
      for (let lane = 0; lane < 4; lane++) {
        const xs = [...normal];
        xs[lane] = special;
        const ys = ev(1, xs);
        normal.forEach((_, i) => {
          if (i !== lane) expect(ys[i]).toBe(alone[i]);
        });
      }
    }
  });
  it('is correct for every subnormal exponent', () => {
    const xs: number[] = [];
    for (let b = 0; b < 23; b++) xs.push(fromBits(2 ** b), fromBits(2 ** (b + 1) - 1));
    const ys = ev(1, xs);
    xs.forEach((x, i) => expect(ulps(ys[i], fr(Math.log(x))), `log(${x})`).toBeLessThanOrEqual(1));
  });
});

describe('tanh edge cases', () => {
  it('keeps the sign of zero, saturates at infinity and passes NaN', () => {
    const [z, nz, pinf, ninf, nan] = ev(2, [0, -0, Infinity, -Infinity, NaN]);
    expect(isPosZero(z)).toBe(true);
    expect(isNegZero(nz)).toBe(true);
    expect(pinf).toBe(1);
    expect(ninf).toBe(-1);
    expect(nan).toBeNaN();
  });
  it('returns tiny and subnormal inputs unchanged', () => {
    const xs = [SUB_MIN, -SUB_MIN, SUB_MAX, -SUB_MAX, 1e-20, -1e-20, fr(2 ** -13), -fr(2 ** -13)];
    expect(ev(2, xs)).toEqual(xs.map(fr));
  });
  it('is exactly +-1 wherever the rounded result is', () => {
    // tanh(x) rounds to 1 in f32 from about 9.01; check every 4099th pattern up to FLT_MAX
    const xs = bitRange(9.02, FLT_MAX, 4099);
    const ys = simd.run(2, concat(xs, xs.map((x) => -x)));
    const n = xs.length;
    for (let i = 0; i < n; i++) {
      if (ys[i] !== 1 || ys[n + i] !== -1) throw new Error(`tanh(+-${xs[i]}) = ${ys[i]}, ${ys[n + i]}`);
    }
    expect(fr(Math.tanh(9.02))).toBe(1);
    expect(ev(2, [9.02, -9.02, 20, -20, FLT_MAX, -FLT_MAX])).toEqual([1, -1, 1, -1, 1, -1]);
  });
  it('is odd, bit for bit, and accurate on both sides of the polynomial cut at 0.625', () => {
    const xs = linspace(0, 30, 1 << 16);
    const ys = simd.run(2, concat(xs, xs.map((x) => -x)));
    for (let i = 0; i < xs.length; i++) {
      if (bitsOf(ys[i]) !== (bitsOf(-ys[xs.length + i]) >>> 0)) throw new Error(`tanh not odd at ${xs[i]}`);
    }
    const near = [fromBits(bitsOf(0.625) - 2), fromBits(bitsOf(0.625) - 1), 0.625, fromBits(bitsOf(0.625) + 1)];
    const yn = ev(2, near);
    near.forEach((x, i) => expect(ulps(yn[i], fr(Math.tanh(x)))).toBeLessThanOrEqual(1));
  });
});

describe('sigmoid edge cases', () => {
  it('handles zeros, infinities and NaN', () => {
    const [z, nz, pinf, ninf, nan] = ev(3, [0, -0, Infinity, -Infinity, NaN]);
    expect(z).toBe(0.5);
    expect(nz).toBe(0.5);
    expect(pinf).toBe(1);
    expect(isPosZero(ninf)).toBe(true);
    expect(nan).toBeNaN();
  });
  it('stays within [0, 1] and never gives NaN for a non-NaN input', () => {
    // every 4099th bit pattern of all 2^32 (NaN patterns skipped)
    const all: number[] = [];
    for (let b = 0; b < 2 ** 32; b += 4099) if (!isNaNBits(b)) all.push(b);
    const xs = new Float32Array(new Uint32Array(all).buffer);
    const ys = simd.run(3, xs);
    const ysScalar = scalar.run(3, xs);
    for (const y of [ys, ysScalar]) {
      for (let i = 0; i < xs.length; i++) {
        if (!(y[i] >= 0 && y[i] <= 1)) throw new Error(`sigmoid(${xs[i]}) = ${y[i]}`);
      }
    }
    expect(ev(3, [FLT_MAX, -FLT_MAX, 17.5, 30, -110])).toEqual([1, 0, 1, 1, 0]);
  });
  it('keeps its relative accuracy in the deep negative tail', () => {
    // normal results: relative error within 2 ulps of the result (2^-22); subnormal results: ulps
    const xs = linspace(-87.3, -20, 1 << 20);
    const ys = simd.run(3, xs);
    let worstRel = 0;
    for (let i = 0; i < xs.length; i++) {
      const r = 1 / (1 + Math.exp(-xs[i]));
      worstRel = Math.max(worstRel, Math.abs(ys[i] - r) / r);
    }
    expect(worstRel).toBeLessThanOrEqual(2 ** -22);
    const sub = linspace(-103.98, -87.4, 1 << 14);
    const ysub = simd.run(3, sub);
    for (let i = 0; i < sub.length; i++) {
      const r = fr(1 / (1 + Math.exp(-sub[i])));
      if (ulps(ysub[i], r) > 2) throw new Error(`sigmoid(${sub[i]}) = ${ysub[i]}, want ${r}`);
    }
    expect(ev(3, [-104, -1000])).toEqual([0, 0]);
  });
});

describe('ulps helper', () => {
  it('counts across zero and the subnormals', () => {
    expect(ulps(0, -0)).toBe(0);
    expect(ulps(SUB_MIN, -SUB_MIN)).toBe(2);
    expect(ulps(1, fromBits(bitsOf(1) + 3))).toBe(3);
    expect(ulps(FLT_MAX, Infinity)).toBe(1);
    expect(ulps(NaN, NaN)).toBe(0);
    expect(ulps(NaN, 1)).toBe(Infinity);
  });
});
