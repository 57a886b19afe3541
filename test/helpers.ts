// Shared set-up of the engine tests: both builds, golden cases as models, bit comparisons.
import v8 from 'node:v8';
import { dense, init, nac, nacMul, nalu, nau, nmu, sequential, type LayerSpec, type Model } from '../src/index';
import { relaxedSimdSupported } from '../src/wasm/probe';
import type { GoldenCase, GoldenLayer } from './golden';

/** The default builds, which give identical bits. */
export const BACKENDS = ['simd', 'scalar'] as const;
export type TestBackend = (typeof BACKENDS)[number] | 'relaxed';

// Node 20 has relaxed SIMD behind a V8 flag, which a running process may still set.
if (!relaxedSimdSupported()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

/**
 * The builds checked against references and invariants: the default two and the opt-in
 * relaxed-SIMD build (its own rounding; compared with the others only within tolerances).
 */
export const BUILDS: readonly TestBackend[] = relaxedSimdSupported() ? [...BACKENDS, 'relaxed'] : BACKENDS;

/** Makes `backend` the engine of the models created next. */
export async function useBackend(backend: TestBackend): Promise<void> {
  const info = await init(backend === 'relaxed' ? { relaxed: true } : { simd: backend === 'simd' });
  if (info.backend !== backend) throw new Error(`asked for ${backend}, got ${info.backend}`);
}

export function layerOf(g: GoldenLayer): LayerSpec {
  const io = { inputs: g.inputs, outputs: g.outputs };
  switch (g.type) {
    case 'nac': return nac(io);
    case 'nacMul': return nacMul({ ...io, eps: g.eps });
    case 'nalu': return nalu({ ...io, eps: g.eps, sharedWeights: g.sharedWeights });
    case 'dense': return dense({ ...io, activation: g.activation });
    case 'nau': return nau(io);
    case 'nmu': return nmu(io);
    default: throw new Error(`no layer factory for ${g.type} yet`);
  }
}

/** A model with the golden case's layers and initial parameters. */
export function modelOf(c: GoldenCase): Model {
  const m = sequential(c.layers.map(layerOf));
  m.setWeights(c.layers.map((l) => Object.fromEntries(Object.entries(l.params).map(([k, v]) => [k, Float32Array.from(v)]))));
  return m;
}

/** Bit patterns, so that -0 != 0 and NaN payloads count. */
export function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** mulberry32: the tests' own seeded generator. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
