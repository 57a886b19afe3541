// Shared set-up of the engine tests: both builds, golden cases as models, bit comparisons.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { dense, init, nac, nacMul, nalu, nau, nmu, sequential, type InitOptions, type LayerSpec, type Model } from '../src/index';
import { buildOf } from '../src/wasm/exports';
import { relaxedSimdSupported } from '../src/wasm/probe';
import type { GoldenCase, GoldenLayer } from './golden';

/**
 * The builds that give identical bits: SIMD, scalar, and SIMD with two threads sharing the
 * products (build/nalu-threads.wasm).
 */
export const BACKENDS = ['simd', 'scalar', 'threads'] as const;
export type TestBackend = (typeof BACKENDS)[number] | 'relaxed' | 'relaxed-threads';

// Node 20 has relaxed SIMD behind a V8 flag, which a running process may still set.
if (!relaxedSimdSupported()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

/**
 * The builds checked against references and invariants: those above and the opt-in relaxed-SIMD
 * build on one and two threads (their own rounding; compared with the others only within
 * tolerances, with each other to the bit).
 */
export const BUILDS: readonly TestBackend[] = relaxedSimdSupported() ? [...BACKENDS, 'relaxed', 'relaxed-threads'] : BACKENDS;

/** The backend a model of `backend` reports (the threads build runs the SIMD one). */
export function backendOf(backend: TestBackend): string {
  return backend === 'threads' ? 'simd' : backend === 'relaxed-threads' ? 'relaxed' : backend;
}

/** init()'s options for `backend`, on `wasm` (a module of build/nalu-<backend>.wasm) if given. */
export function initOptions(backend: TestBackend, wasm?: WebAssembly.Module): InitOptions {
  const o: InitOptions = backend === 'relaxed' ? { relaxed: true } : backend === 'relaxed-threads' ? { relaxed: true, threads: 2 }
    : backend === 'threads' ? { threads: 2 } : { simd: backend === 'simd' };
  return wasm ? { ...o, wasm } : o;
}

/** A new compiled module of build/nalu-<backend>.wasm. */
export function moduleOf(backend: TestBackend): WebAssembly.Module {
  return new WebAssembly.Module(readFileSync(new URL(`../build/nalu-${backend}.wasm`, import.meta.url)));
}

/** Makes `backend` the engine of the models created next. */
export async function useBackend(backend: TestBackend, wasm?: WebAssembly.Module): Promise<void> {
  const info = await init(initOptions(backend, wasm));
  const got = buildOf(info.backend, info.threads);
  if (got !== backend) throw new Error(`asked for ${backend}, got ${got} (${info.threads} threads)`);
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

/**
 * The first index where two arrays' bit patterns differ, -1 when they are equal: a cheap
 * comparison for long arrays (a failing toEqual on them spends minutes rendering the diff).
 */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const ua = bits(a), ub = bits(b);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
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
