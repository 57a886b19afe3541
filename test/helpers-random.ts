// Random cases for the engine tests: layer descriptions that map both to the API's layers and to
// the float64 reference's, seeded random weights and inputs, and conversions between the API's
// Float32Array weights and the reference's Float64Array parameters. All randomness comes from
// `prng` (mulberry32, test/helpers.ts), seeded per case.
import { nac, nacMul, nalu, type LayerSpec, type Weights } from '../src/index';
import { prng } from './helpers';
import { refParamNames, type Params, type RefLayer } from './reference';

export type CoreType = 'nac' | 'nacMul' | 'nalu';

export interface LayerDef {
  type: CoreType;
  inputs: number;
  outputs: number;
  /** nalu only; default true. */
  sharedWeights?: boolean;
  /** nacMul and nalu; default 1e-7. */
  eps?: number;
}

export const DEFAULT_EPS = 1e-7;

export function specOf(d: LayerDef): LayerSpec {
  const io = { inputs: d.inputs, outputs: d.outputs };
  switch (d.type) {
    case 'nac': return nac(io);
    case 'nacMul': return nacMul({ ...io, eps: d.eps ?? DEFAULT_EPS });
    case 'nalu': return nalu({ ...io, eps: d.eps ?? DEFAULT_EPS, sharedWeights: d.sharedWeights ?? true });
  }
}

/**
 * The reference's twin of a layer. Its eps is the f32 value the module stores (the layer record
 * holds eps as f32), so that the comparison measures the kernels' arithmetic, not eps's rounding.
 */
export function refLayerOf(d: LayerDef): RefLayer {
  const r: RefLayer = { type: d.type, inputs: d.inputs, outputs: d.outputs };
  if (d.type !== 'nac') r.eps = Math.fround(d.eps ?? DEFAULT_EPS);
  if (d.type === 'nalu') r.sharedWeights = d.sharedWeights ?? true;
  return r;
}

export function paramNames(d: LayerDef): string[] {
  return refParamNames(refLayerOf(d));
}

/** Uniform in [lo, hi), rounded to f32. */
export function uniform32(rand: () => number, n: number, lo: number, hi: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

export interface WeightScale {
  /** W_hat and M_hat (and their _mul twins) ~ U[-w, w]. */
  w: number;
  /** G ~ U[-g, g]. */
  g: number;
}

/** Random weights for `defs`, named as the API names them. */
export function randomWeights(defs: readonly LayerDef[], rand: () => number, scale: WeightScale | WeightScale[]): Weights {
  return defs.map((d, k) => {
    const s = Array.isArray(scale) ? scale[k]! : scale;
    const rec: Record<string, Float32Array<ArrayBuffer>> = {};
    for (const name of paramNames(d)) {
      const a = name === 'G' ? s.g : s.w;
      rec[name] = uniform32(rand, d.inputs * d.outputs, -a, a);
    }
    return rec;
  });
}

export interface InputSpec {
  /** |x| ~ U[lo, hi) before the sign. */
  lo: number;
  hi: number;
  /** Fraction of entries set to exactly 0. */
  zeros: number;
  /** Fraction of the non-zero entries that are negative. */
  negatives: number;
}

/** Inputs with exact zeros and negative values mixed in. */
export function randomInputs(rand: () => number, n: number, s: InputSpec): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (rand() < s.zeros) { out[i] = 0; continue; }
    const mag = s.lo + (s.hi - s.lo) * rand();
    out[i] = rand() < s.negatives ? -mag : mag;
  }
  return out;
}

export function toRef(w: Weights): Params[] {
  return w.map((rec) => Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, Float64Array.from(v)])));
}

export function f64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}

export function copyWeights(w: Weights): Weights {
  return w.map((rec) => Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, Float32Array.from(v)])));
}

/** True when two weight sets hold the same names and the same bits. */
export function sameBits(a: Weights, b: Weights): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) {
    const ka = Object.keys(a[k]!).sort(), kb = Object.keys(b[k]!).sort();
    if (ka.join() !== kb.join()) return false;
    for (const name of ka) if (!sameArrayBits(a[k]![name]!, b[k]![name]!)) return false;
  }
  return true;
}

export function sameArrayBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

export { prng };
