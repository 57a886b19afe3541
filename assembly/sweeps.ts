// The test entry: loops that apply one of the vectorized transcendentals (math.ts, trig.ts) to a
// whole array, so that the tests can measure their accuracy and compare each f32x4 version with
// its scalar twin. Built on its own (asconfig.sweeps.json: build/sweeps-simd.wasm and
// build/sweeps-scalar.wasm, with the shipped builds' compiler options), so that the shipped
// modules do not carry them. The kernels are inlined functions: a sweep compiles the same code
// that the layers' loops compile.

import { EXP_NORMAL_MIN, expFlush4, expFlushS, sigmoidFlush4, sigmoidFlushS } from "./elementwise";
import { exp4, expS, log4, logPos4, logPosS, logS, sigmoid4, sigmoidS, tanh4, tanhS } from "./math";
import { sincos4, sincosS } from "./trig";

/** dst[i] = logPos(src[i]): fn 0 the f32x4 version (SIMD build) or twin, fn 1 the scalar twin. */
export function logPosSweep(fn: i32, src: usize, dst: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD && fn == 0) {
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), logPos4(v128.load(src + (<usize>i << 2))));
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), logPosS(load<f32>(src + (<usize>i << 2))));
}

// mathSweep: dst[i] = fn(src[i]) for i < n. fn: 0 exp, 1 log, 2 tanh, 3 sigmoid (f32x4 versions
// over groups of four in the SIMD build, scalar twins for the tail and in the scalar build);
// 4..7: the scalar twins of 0..3 everywhere (to compare twins inside one build); 8, 9: the
// layers' exp and sigmoid flushed to 0 below the normal range (elementwise.ts), 12, 13 their twins.

export function mathSweep(fn: i32, src: usize, dst: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let n4 = n & ~3;
    if (fn == 0) {
      for (; i < n4; i += 4) v128.store(dst + (<usize>i << 2), exp4(v128.load(src + (<usize>i << 2))));
    } else if (fn == 1) {
      for (; i < n4; i += 4) v128.store(dst + (<usize>i << 2), log4(v128.load(src + (<usize>i << 2))));
    } else if (fn == 2) {
      for (; i < n4; i += 4) v128.store(dst + (<usize>i << 2), tanh4(v128.load(src + (<usize>i << 2))));
    } else if (fn == 3) {
      for (; i < n4; i += 4) v128.store(dst + (<usize>i << 2), sigmoid4(v128.load(src + (<usize>i << 2))));
    } else if (fn == 8) {
      const lo = f32x4.splat(EXP_NORMAL_MIN);
      for (; i < n4; i += 4) v128.store(dst + (<usize>i << 2), expFlush4(v128.load(src + (<usize>i << 2)), lo));
    } else if (fn == 9) {
      const lo = f32x4.splat(EXP_NORMAL_MIN), hi = f32x4.splat(-EXP_NORMAL_MIN);
      for (; i < n4; i += 4) v128.store(dst + (<usize>i << 2), sigmoidFlush4(v128.load(src + (<usize>i << 2)), lo, hi));
    }
  }
  let f = fn & 3;
  if (fn & 8) {
    if (f == 0) for (; i < n; i++) store<f32>(dst + (<usize>i << 2), expFlushS(load<f32>(src + (<usize>i << 2))));
    else for (; i < n; i++) store<f32>(dst + (<usize>i << 2), sigmoidFlushS(load<f32>(src + (<usize>i << 2))));
  } else if (f == 0) {
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), expS(load<f32>(src + (<usize>i << 2))));
  } else if (f == 1) {
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), logS(load<f32>(src + (<usize>i << 2))));
  } else if (f == 2) {
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), tanhS(load<f32>(src + (<usize>i << 2))));
  } else {
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), sigmoidS(load<f32>(src + (<usize>i << 2))));
  }
}

// trigSweep: for i < n, sinDst[i] = sin(src[i]) and cosDst[i] = cos(src[i]). fn 0: the f32x4
// version over groups of four in the SIMD build (the scalar twin for the tail and in the scalar
// build); fn 1: the scalar twin everywhere (to compare the twins inside one build).

export function trigSweep(fn: i32, src: usize, sinDst: usize, cosDst: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    if (fn == 0) {
      const n4 = n & ~3;
      for (; i < n4; i += 4) {
        const o = <usize>i << 2;
        sincos4(v128.load(src + o), sinDst + o, cosDst + o);
      }
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    sincosS(load<f32>(src + o), sinDst + o, cosDst + o);
  }
}
