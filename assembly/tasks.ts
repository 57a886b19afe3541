// Data generators, sampled inside the module so that a training step on a fresh batch is one
// call and the batch is written straight into the model's feature-major input.
//
// Task record (32-bit words, written by src/tasks/sampler.ts; 128 bytes, 16-byte aligned):
//   0 kind (TASK_STATIC, TASK_IDENTITY)   1 inputs   2 start of subset 1   3 start of subset 2
//   4 subset size   5 op (OP_*)   6 lo (f32)   7 hi - lo (f32)   16-31 generator state
//
// Randomness: four xoshiro128** generators, one per lane (see rng.ts), stepped together as
// i32x4 (or one after another by the scalar build, with the same integer operations). A
// batch is drawn feature by feature, four samples at a time: lane j draws the values of the
// samples b = j (mod 4). A draw r becomes u = (r >>> 8) * 2^-24 and the value lo + (hi-lo) u,
// in f32.
//
// Static arithmetic task (Madsen & Johansen 2020): every input uniform in [lo, hi);
// a = sum of subset 1, b = sum of subset 2; target op(a, b). Identity task: one input, target x.
// Training targets are computed in f32 lanes (sums in order over the subset); the fixed sets
// of taskFill get f64 targets from the same f32 inputs.

import { fillPad, toRowMajor, vlogAbsEps } from "./elementwise";
import { seedState } from "./rng";
import { H_T, H_X, hdr, round4 } from "./memory";
import { inputEps, inputLog, modelTrainStaged, setLogReady } from "./model";
import { logPosS } from "./math";

export const TASK_STATIC: i32 = 0;
export const TASK_IDENTITY: i32 = 1;

export const OP_ADD: i32 = 0;
export const OP_SUB: i32 = 1;
export const OP_MUL: i32 = 2;
export const OP_DIV: i32 = 3;
export const OP_SQUARE: i32 = 4;
export const OP_SQRT: i32 = 5;

const STATE: usize = 64;
/** Floats drawn before their log is taken (drawUniform). */
const CHUNK: i32 = 256;
const INV24: f32 = 5.9604644775390625e-8; // 2^-24

// @ts-ignore: decorator
@inline function word(task: usize, k: i32): i32 { return load<i32>(task + (<usize>k << 2)); }

/** Seeds the four lane generators of a task from one 32-bit seed. */
export function taskSeed(task: usize, seed: u32): void {
  for (let j = 0; j < 4; j++) {
    seedState(task + STATE + (<usize>j << 2), 16, seed + <u32>j * 0x632be5ab);
  }
}

// @ts-ignore: decorator
@inline function rotl(x: u32, k: u32): u32 { return (x << k) | (x >>> (32 - k)); }

/** One xoshiro128** step of lane j (words j, 4 + j, 8 + j, 12 + j of the state). */
// @ts-ignore: decorator
@inline function nextLane(st: usize): u32 {
  const s0 = load<u32>(st), s1 = load<u32>(st, 16), s2 = load<u32>(st, 32), s3 = load<u32>(st, 48);
  const r = rotl(s1 * 5, 7) * 9;
  const t = s1 << 9;
  const n2 = s2 ^ s0;
  const n3 = s3 ^ s1;
  store<u32>(st, s0 ^ n3);
  store<u32>(st, s1 ^ n2, 16);
  store<u32>(st, n2 ^ t, 32);
  store<u32>(st, rotl(n3, 11), 48);
  return r;
}

/**
 * Draws rows x cols values (cols a multiple of 4) into X [rows, cols], uniform in [lo, lo + w);
 * with lg != 0 also lg = log(|X| + eps), the first layer's log path (see model.ts, inputLog).
 * r * 5 and r * 9 are shifts and adds, and w 2^-24 is one factor (exact for w >= 2^-102: the
 * values are those of lo + w (r 2^-24)), which keeps the multiply ports free.
 */
function drawUniform(task: usize, X: usize, rows: i32, cols: i32, lg: usize, eps: f32): void {
  const lo = load<f32>(task, 24), wu = load<f32>(task, 28) * INV24;
  const n = rows * cols;
  const st = task + STATE;
  if (ASC_FEATURE_SIMD) {
    let s0 = v128.load(st), s1 = v128.load(st, 16), s2 = v128.load(st, 32), s3 = v128.load(st, 48);
    const lov = f32x4.splat(lo), wv = f32x4.splat(wu);
    const finite = isFinite(wu); // then every value drawn is finite
    for (let i0 = 0; i0 < n; i0 += CHUNK) {
      const end = min(i0 + CHUNK, n);
      for (let i = i0; i < end; i += 4) {
        let r = i32x4.add(i32x4.shl(s1, 2), s1);
        r = v128.or(i32x4.shl(r, 7), i32x4.shr_u(r, 25));
        r = i32x4.add(i32x4.shl(r, 3), r);
        const t = i32x4.shl(s1, 9);
        s2 = v128.xor(s2, s0);
        s3 = v128.xor(s3, s1);
        s1 = v128.xor(s1, s2);
        s0 = v128.xor(s0, s3);
        s2 = v128.xor(s2, t);
        s3 = v128.or(i32x4.shl(s3, 11), i32x4.shr_u(s3, 21));
        v128.store(X + (<usize>i << 2), f32x4.add(lov, f32x4.mul(wv, f32x4.convert_i32x4_s(i32x4.shr_u(r, 8)))));
      }
      // the log of the chunk while it is in L1 (in the loop above, it would crowd the registers)
      if (lg) vlogAbsEps(lg + (<usize>i0 << 2), X + (<usize>i0 << 2), end - i0, eps, finite);
    }
    v128.store(st, s0); v128.store(st, s1, 16); v128.store(st, s2, 32); v128.store(st, s3, 48);
  } else {
    for (let i = 0; i < n; i += 4) {
      for (let j = 0; j < 4; j++) {
        const r = nextLane(st + (<usize>j << 2));
        const v = lo + wu * <f32><i32>(r >>> 8);
        store<f32>(X + (<usize>(i + j) << 2), v);
        if (lg) store<f32>(lg + (<usize>(i + j) << 2), logPosS(Mathf.abs(v) + eps));
      }
    }
  }
}

/** A subset's sum per sample: rows [start, start + len) of X [*, ld] added into dst [ld], in order, in f32. */
function subsetSum(dst: usize, X: usize, start: i32, len: i32, ld: i32): void {
  if (ASC_FEATURE_SIMD) {
    for (let b = 0; b < ld; b += 4) {
      let s = f32x4.splat(0);
      for (let i = 0; i < len; i++) s = f32x4.add(s, v128.load(X + (<usize>((start + i) * ld + b) << 2)));
      v128.store(dst + (<usize>b << 2), s);
    }
  } else {
    for (let b = 0; b < ld; b++) {
      let s: f32 = 0;
      for (let i = 0; i < len; i++) s += load<f32>(X + (<usize>((start + i) * ld + b) << 2));
      store<f32>(dst + (<usize>b << 2), s);
    }
  }
}

/** Training targets in f32 lanes: T [ld] = op(A, B) with A, B the subset sums ([ld] each). */
function opLanes(op: i32, T: usize, A: usize, B: usize, ld: i32): void {
  if (ASC_FEATURE_SIMD) {
    for (let b = 0; b < ld; b += 4) {
      const o = <usize>b << 2;
      const a = v128.load(A + o), c = v128.load(B + o);
      let y: v128;
      switch (op) {
        case OP_ADD: y = f32x4.add(a, c); break;
        case OP_SUB: y = f32x4.sub(a, c); break;
        case OP_MUL: y = f32x4.mul(a, c); break;
        case OP_DIV: y = f32x4.div(a, c); break;
        case OP_SQUARE: y = f32x4.mul(a, a); break;
        default: y = f32x4.sqrt(a);
      }
      v128.store(T + o, y);
    }
  } else {
    for (let b = 0; b < ld; b++) {
      const o = <usize>b << 2;
      const a = load<f32>(A + o), c = load<f32>(B + o);
      let y: f32;
      switch (op) {
        case OP_ADD: y = a + c; break;
        case OP_SUB: y = a - c; break;
        case OP_MUL: y = a * c; break;
        case OP_DIV: y = a / c; break;
        case OP_SQUARE: y = a * a; break;
        default: y = Mathf.sqrt(a);
      }
      store<f32>(T + o, y);
    }
  }
}

/** Draws a batch feature-major into X [inputs, ld] (and its log into lg, if not 0); padding lanes hold 1.0. */
function drawBatch(task: usize, X: usize, batch: i32, ld: i32, lg: usize = 0, eps: f32 = 0): void {
  const inputs = word(task, 1);
  drawUniform(task, X, inputs, ld, lg, eps);
  fillPad(X, inputs, batch, ld, 1);
  if (lg) fillPad(lg, inputs, batch, ld, logPosS(<f32>1 + eps));
}

/** f32 training targets of a feature-major batch into T [ld] (scratch: 2 ld floats). */
function targetsF32(task: usize, X: usize, T: usize, scratch: usize, batch: i32, ld: i32): void {
  if (word(task, 0) == TASK_IDENTITY) {
    memory.copy(T, X, <usize>ld << 2);
  } else {
    const len = word(task, 4);
    const B = scratch + (<usize>ld << 2);
    subsetSum(scratch, X, word(task, 2), len, ld);
    subsetSum(B, X, word(task, 3), len, ld);
    opLanes(word(task, 5), T, scratch, B, ld);
  }
  fillPad(T, 1, batch, ld, 1);
}

function opF64(op: i32, a: f64, b: f64): f64 {
  switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV: return a / b;
    case OP_SQUARE: return a * a;
    default: return Math.sqrt(a);
  }
}

/**
 * Draws `batch` samples for a fixed set: x row-major [batch, inputs] (f32) and the targets in
 * f64 computed from those f32 inputs. `scratch` holds inputs * ld floats (ld = batch rounded
 * up to 4).
 */
export function taskFill(task: usize, x: usize, t64: usize, scratch: usize, batch: i32): void {
  const ld = round4(batch);
  const inputs = word(task, 1);
  drawBatch(task, scratch, batch, ld);
  toRowMajor(x, scratch, batch, inputs, ld);
  const kind = word(task, 0), s1 = word(task, 2), s2 = word(task, 3), len = word(task, 4), op = word(task, 5);
  for (let b = 0; b < batch; b++) {
    const row = x + (<usize>(b * inputs) << 2);
    let y: f64;
    if (kind == TASK_IDENTITY) {
      y = <f64>load<f32>(row);
    } else {
      let a: f64 = 0, c: f64 = 0;
      for (let i = 0; i < len; i++) {
        a += <f64>load<f32>(row + (<usize>(s1 + i) << 2));
        c += <f64>load<f32>(row + (<usize>(s2 + i) << 2));
      }
      y = opF64(op, a, c);
    }
    store<f64>(t64 + (<usize>b << 3), y);
  }
}

/**
 * One training step on a fresh batch of the task, drawn into the model's input and target
 * (see modelTrainStep). `scratch` holds 2 ld floats.
 */
export function modelTrainTask(model: usize, task: usize, scratch: usize, batch: i32, opt: i32, lr: f32,
                               beta1: f64, beta2: f64, eps: f32, stepSize: f32, bc2sqrt: f32): f64 {
  const ld = round4(batch);
  const X = hdr(model, H_X);
  const lg = inputLog(model);
  drawBatch(task, X, batch, ld, lg, lg ? inputEps(model) : 0);
  setLogReady(model, lg != 0);
  targetsF32(task, X, hdr(model, H_T), scratch, batch, ld);
  return modelTrainStaged(model, batch, opt, lr, beta1, beta2, eps, stepSize, bc2sqrt);
}
