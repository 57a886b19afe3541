// Data generators, sampled inside the module so that a training step on a fresh batch is one
// call. A task record (32-bit words, written by src/tasks/):
//   0 kind (TASK_STATIC, TASK_IDENTITY)   1 inputs   2 start of subset 1   3 start of subset 2
//   4 subset size   5 op (OP_*)   6-7 unused   8-9 lo (f64)   10-11 hi (f64)   12-15 rng state
//
// Static arithmetic task (Madsen & Johansen 2020): x_i ~ U[lo, hi) for every input;
// a = sum of subset 1, b = sum of subset 2 (both sums in f64); target = op(a, b).
// Identity task: one input x ~ U[lo, hi), target x.
// x values are rounded to f32 after drawing; sums and targets use those rounded values.

import { rngNext, rngRange } from "./rng";
import { H_TROW, H_XROW, hdr } from "./memory";
import { modelTrainStep } from "./model";

export const TASK_STATIC: i32 = 0;
export const TASK_IDENTITY: i32 = 1;

export const OP_ADD: i32 = 0;
export const OP_SUB: i32 = 1;
export const OP_MUL: i32 = 2;
export const OP_DIV: i32 = 3;
export const OP_SQUARE: i32 = 4;
export const OP_SQRT: i32 = 5;

// @ts-ignore: decorator
@inline function word(task: usize, k: i32): i32 { return load<i32>(task + (<usize>k << 2)); }

function apply(op: i32, a: f64, b: f64): f64 {
  switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV: return a / b;
    case OP_SQUARE: return a * a;
    case OP_SQRT: return Math.sqrt(a);
    default: return NaN;
  }
}

/**
 * Draws `batch` samples: x row-major [batch, inputs] (f32) and the targets, as f32 into t32
 * and, when t64 is not 0, as f64 into t64.
 */
export function taskFill(task: usize, x: usize, t32: usize, t64: usize, batch: i32): void {
  const kind = word(task, 0), inputs = word(task, 1);
  const s1 = word(task, 2), s2 = word(task, 3), len = word(task, 4), op = word(task, 5);
  const lo = load<f64>(task, 32), hi = load<f64>(task, 40);
  const state = task + 48;
  for (let b = 0; b < batch; b++) {
    const row = x + (<usize>(b * inputs) << 2);
    let y: f64;
    if (kind == TASK_IDENTITY) {
      const v = <f32>rngRange(state, lo, hi);
      store<f32>(row, v);
      y = v;
    } else {
      for (let i = 0; i < inputs; i++) store<f32>(row + (<usize>i << 2), <f32>rngRange(state, lo, hi));
      let a: f64 = 0, c: f64 = 0;
      for (let i = 0; i < len; i++) {
        a += <f64>load<f32>(row + (<usize>(s1 + i) << 2));
        c += <f64>load<f32>(row + (<usize>(s2 + i) << 2));
      }
      y = apply(op, a, c);
    }
    store<f32>(t32 + (<usize>b << 2), <f32>y);
    if (t64) store<f64>(t64 + (<usize>b << 3), y);
  }
}

/** One training step on a fresh batch of the task (see modelTrainStep). */
export function modelTrainTask(model: usize, task: usize, batch: i32, opt: i32, lr: f32,
                               beta1: f32, beta2: f32, eps: f32, stepSize: f32, bc2sqrt: f32): f64 {
  taskFill(task, hdr(model, H_XROW), hdr(model, H_TROW), 0, batch);
  return modelTrainStep(model, batch, opt, lr, beta1, beta2, eps, stepSize, bc2sqrt);
}


