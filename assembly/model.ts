// A sequential model: its layers run forward and backward inside one call, driven by the
// descriptor that the host writes (see memory.ts). Every entry point takes the descriptor's
// address and the batch size; the host has written x (and the target) row-major into the
// staging buffers.

import { firstNonFinite, toFeatureMajor, toRowMajor, vclamp } from "./elementwise";
import {
  fld, fldF, fldI, hdr, hdrI, layerAt, round4,
  H_BATCH, H_CLIP, H_DY, H_GRADS, H_LAMBDA, H_MOM1, H_MOM2, H_NLAYERS, H_NPARAM, H_OPTIONS, H_PARAMS, H_STATUS,
  H_STATUS_ARG, H_T, H_TROW, H_WVALID, H_X, H_XROW, H_YROW,
  L_EPS, L_FLAGS, L_G, L_IN, L_LOG, L_OUT, L_P, L_TYPE, L_X, L_Y,
  F_LOG_READY, O_ALLOW_NONFINITE, S_GRAD_NONFINITE, S_LOSS_NONFINITE, S_OK, S_T_NONFINITE, S_THREAD_FAILED, S_UPDATE_NONFINITE, S_X_NONFINITE,
  T_DENSE, T_INALU, T_NAC, T_NACMUL, T_NALU, T_NAU, T_NMU, T_NPU, T_REALNPU,
} from "./memory";
import { mseGrad, sumSquares } from "./loss";
import { poolLost } from "./pool";
import { adamPass, rmspropPass, sgdPass, updateSafe } from "./optim";
import { nacBackward, nacForward, nacForwardRow, nacWeights } from "./layers/nac";
import { nacMulBackward, nacMulForward, nacMulForwardRow } from "./layers/nacmul";
import { naluBackward, naluForward, naluForwardRow, naluWeights } from "./layers/nalu";
import { denseBackward, denseForward, denseForwardRow } from "./layers/dense";
import { nauBackward, nauWeights, regularize } from "./layers/nau";
import { nmuBackward, nmuForward, nmuWeights } from "./layers/nmu";
import { inaluBackward, inaluForward, inaluWeights } from "./layers/inalu";
import { npuBackward, npuForward, npuWeights } from "./layers/npu";

export const OPT_SGD: i32 = 0;
export const OPT_ADAM: i32 = 1;
export const OPT_RMSPROP: i32 = 2;

// @ts-ignore: decorator
@inline function setStatus(model: usize, status: i32, arg: i32): void {
  store<i32>(model + (<usize>H_STATUS << 2), status);
  store<i32>(model + (<usize>H_STATUS_ARG << 2), arg);
}

/**
 * True, with status S_THREAD_FAILED, when a worker thread failed during this call (pool.ts): its
 * results are not to be used, whatever status the call had set.
 */
function threadFailed(model: usize): bool {
  const t = poolLost();
  if (t) setStatus(model, S_THREAD_FAILED, t);
  return t != 0;
}

function lastLayer(model: usize): usize { return layerAt(model, hdrI(model, H_NLAYERS) - 1); }

/** Recomputes every layer's effective weights from the parameters, if they changed. */
function ensureWeights(model: usize): void {
  if (hdrI(model, H_WVALID)) return;
  const n = hdrI(model, H_NLAYERS);
  for (let k = 0; k < n; k++) {
    const L = layerAt(model, k);
    const type = fldI(L, L_TYPE);
    if (type == T_NAC || type == T_NACMUL) nacWeights(L);
    else if (type == T_NALU) naluWeights(L);
    else if (type == T_NAU) nauWeights(L);
    else if (type == T_NMU) nmuWeights(L);
    else if (type == T_INALU) inaluWeights(L);
    else if (type == T_NPU || type == T_REALNPU) npuWeights(L, type == T_REALNPU);
  }
  store<i32>(model + (<usize>H_WVALID << 2), 1);
}

/** Checks the staged x (and target) and moves them to feature-major; false on bad input. */
function stage(model: usize, batch: i32, withTarget: bool): bool {
  const ld = round4(batch);
  const L = layerAt(model, 0);
  const nin = fldI(L, L_IN);
  const lg = inputLog(model);
  if (!toFeatureMajor(hdr(model, H_X), hdr(model, H_XROW), batch, nin, ld, 1, lg, fldF(L, L_EPS))) {
    setLogReady(model, false);
    setStatus(model, S_X_NONFINITE, firstNonFinite(hdr(model, H_XROW), batch * nin));
    return false;
  }
  setLogReady(model, lg != 0);
  if (withTarget) {
    const nout = fldI(lastLayer(model), L_OUT);
    if (!toFeatureMajor(hdr(model, H_T), hdr(model, H_TROW), batch, nout, ld, 1)) {
      setStatus(model, S_T_NONFINITE, firstNonFinite(hdr(model, H_TROW), batch * nout));
      return false;
    }
  }
  setStatus(model, S_OK, 0);
  return true;
}

/**
 * Where the first layer keeps log(|x| + eps) when it has a log path (NALU, NAC*), else 0. Whoever
 * writes the input (stage, a task's generator) computes the log in the same pass, into this
 * buffer, and says so with setLogReady: the layer then skips its own.
 */
export function inputLog(model: usize): usize {
  const L = layerAt(model, 0);
  const type = fldI(L, L_TYPE);
  return type == T_NALU || type == T_NACMUL ? fld(L, L_LOG) : 0;
}

/** Whether a staged batch of this model keeps the first layer's log (Model.stageBatch sizes it so). */
export function modelInputLogged(model: usize): bool { return inputLog(model) != 0; }

/** The eps of the first layer's log path. */
export function inputEps(model: usize): f32 { return fldF(layerAt(model, 0), L_EPS); }

/** Sets or clears F_LOG_READY on the first layer (see inputLog). */
export function setLogReady(model: usize, ready: bool): void {
  const L = layerAt(model, 0);
  const flags = fldI(L, L_FLAGS) & ~F_LOG_READY;
  store<i32>(L + (<usize>L_FLAGS << 2), ready ? flags | F_LOG_READY : flags);
}

function forward(model: usize, batch: i32): void {
  ensureWeights(model);
  const ld = round4(batch);
  const n = hdrI(model, H_NLAYERS);
  for (let k = 0; k < n; k++) {
    const L = layerAt(model, k);
    const type = fldI(L, L_TYPE);
    if (type == T_NAC || type == T_NAU) nacForward(L, batch, ld); // y = x E, E = W or clamp(W)
    else if (type == T_NACMUL) nacMulForward(L, batch, ld);
    else if (type == T_NALU) naluForward(L, batch, ld);
    else if (type == T_DENSE) denseForward(L, batch, ld);
    else if (type == T_NMU) nmuForward(L, batch, ld);
    else if (type == T_INALU) inaluForward(L, batch, ld);
    else if (type == T_NPU || type == T_REALNPU) npuForward(L, batch, ld, type == T_REALNPU);
    else unreachable();
  }
}

function backward(model: usize, batch: i32): void {
  const ld = round4(batch);
  const last = lastLayer(model);
  mseGrad(hdr(model, H_DY), fld(last, L_Y), hdr(model, H_T), fldI(last, L_OUT), batch, ld);
  for (let k = hdrI(model, H_NLAYERS) - 1; k >= 0; k--) {
    const L = layerAt(model, k);
    const type = fldI(L, L_TYPE);
    if (type == T_NAC) nacBackward(L, ld);
    else if (type == T_NACMUL) nacMulBackward(L, ld);
    else if (type == T_NALU) naluBackward(L, ld);
    else if (type == T_DENSE) denseBackward(L, ld);
    else if (type == T_NAU) nauBackward(L, ld);
    else if (type == T_NMU) nmuBackward(L, ld);
    else if (type == T_INALU) inaluBackward(L, ld);
    else if (type == T_NPU || type == T_REALNPU) npuBackward(L, ld, type == T_REALNPU);
    else unreachable();
  }
}

/** The sum of squared errors of the last forward against the staged target. */
function sseOf(model: usize, batch: i32): f64 {
  const last = lastLayer(model);
  return sumSquares(fld(last, L_Y), hdr(model, H_T), fldI(last, L_OUT), batch, round4(batch));
}

function lossOf(model: usize, batch: i32): f64 {
  return sseOf(model, batch) / <f64>(batch * fldI(lastLayer(model), L_OUT));
}

/** True when every layer has a forward for one sample's row (xxxForwardRow). */
function rowForwardable(model: usize): bool {
  const n = hdrI(model, H_NLAYERS);
  for (let k = 0; k < n; k++) {
    const type = fldI(layerAt(model, k), L_TYPE);
    if (type != T_NAC && type != T_NACMUL && type != T_NALU && type != T_DENSE && type != T_NAU) return false;
  }
  return true;
}

/**
 * The prediction of a single sample, without the feature-major staging: each layer maps the
 * previous layer's output row to its own (its L_Y holds the row), the last one into H_YROW.
 * The bits are those of the batched forward (see vecmat.ts).
 */
function predictRow(model: usize): void {
  ensureWeights(model);
  const n = hdrI(model, H_NLAYERS);
  let x = hdr(model, H_XROW);
  for (let k = 0; k < n; k++) {
    const L = layerAt(model, k);
    const y = k == n - 1 ? hdr(model, H_YROW) : fld(L, L_Y);
    const type = fldI(L, L_TYPE);
    if (type == T_NAC || type == T_NAU) nacForwardRow(L, x, y);
    else if (type == T_NACMUL) nacMulForwardRow(L, x, y, k == 0); // the caller checked x
    else if (type == T_NALU) naluForwardRow(L, x, y, k == 0);
    else if (type == T_DENSE) denseForwardRow(L, x, y);
    else unreachable();
    x = y;
  }
}

/** Predicts the staged x into the y staging buffer. */
export function modelPredict(model: usize, batch: i32): void {
  if (batch == 1 && rowForwardable(model)) {
    const bad = firstNonFinite(hdr(model, H_XROW), fldI(layerAt(model, 0), L_IN));
    setStatus(model, bad >= 0 ? S_X_NONFINITE : S_OK, bad >= 0 ? bad : 0);
    if (bad < 0) predictRow(model);
    return;
  }
  if (stage(model, batch, false)) {
    forward(model, batch);
    rowMajorOutput(model, batch);
  }
  threadFailed(model);
}

/** Writes the last forward's output row-major into the y staging buffer. */
function rowMajorOutput(model: usize, batch: i32): void {
  const last = lastLayer(model);
  toRowMajor(hdr(model, H_YROW), fld(last, L_Y), batch, fldI(last, L_OUT), round4(batch));
}

/** The sum of squared errors of the staged x and target (NaN on bad input: see the status). */
export function modelEvaluate(model: usize, batch: i32): f64 {
  let sse = NaN;
  if (stage(model, batch, true)) {
    forward(model, batch);
    sse = sseOf(model, batch);
  }
  return threadFailed(model) ? NaN : sse;
}

/**
 * The loss, with the gradients of every parameter in the gradient region: the loss's, plus the
 * NAU and NMU regulariser's at the weight H_LAMBDA holds, as a training step applies them.
 */
export function modelGradients(model: usize, batch: i32): f64 {
  let loss = NaN;
  if (stage(model, batch, true)) {
    forward(model, batch);
    loss = lossOf(model, batch);
    backward(model, batch);
    const lambda = load<f32>(model + (<usize>H_LAMBDA << 2));
    if (lambda != 0) eachUnit(model, lambda, false);
  }
  return threadFailed(model) ? NaN : loss;
}

/**
 * One training step: forward, loss, backward and the optimizer's update, for the staged batch.
 * Returns the loss before the update. A non-finite loss or gradient, or an update that would make
 * a parameter or moment non-finite, skips the update (status S_LOSS_NONFINITE, S_GRAD_NONFINITE or
 * S_UPDATE_NONFINITE) unless the model's options allow it; so does a worker thread that failed
 * (S_THREAD_FAILED).
 */
export function modelTrainStep(model: usize, batch: i32, opt: i32, lr: f32,
                               beta1: f64, beta2: f64, eps: f32, stepSize: f32, bc2sqrt: f32): f64 {
  if (!stage(model, batch, true)) {
    threadFailed(model);
    return NaN;
  }
  return modelTrainStaged(model, batch, opt, lr, beta1, beta2, eps, stepSize, bc2sqrt);
}

/** The training step on x and target already in feature-major H_X and H_T. */
export function modelTrainStaged(model: usize, batch: i32, opt: i32, lr: f32,
                                 beta1: f64, beta2: f64, eps: f32, stepSize: f32, bc2sqrt: f32): f64 {
  setStatus(model, S_OK, 0);
  forward(model, batch);
  const loss = lossOf(model, batch);
  backward(model, batch);
  const lambda = load<f32>(model + (<usize>H_LAMBDA << 2));
  if (lambda != 0) eachUnit(model, lambda, false);
  const n = hdrI(model, H_NPARAM);
  const p = hdr(model, H_PARAMS), g = hdr(model, H_GRADS);
  const checked = (hdrI(model, H_OPTIONS) & O_ALLOW_NONFINITE) == 0;
  const bad = checked ? firstNonFinite(g, n) : -1; // the step's last job that threads share
  if (threadFailed(model)) return NaN;
  if (checked) {
    if (!isFinite(loss)) { setStatus(model, S_LOSS_NONFINITE, 0); return loss; }
    if (bad >= 0) { setStatus(model, S_GRAD_NONFINITE, bad); return loss; }
  }
  const clip = load<f32>(model + (<usize>H_CLIP << 2));
  if (clip > 0) vclamp(g, g, n, -clip, clip);
  const m = hdr(model, H_MOM1), v = hdr(model, H_MOM2);
  if (checked) {
    const over = updateOverflow(opt, p, g, m, v, n, lr, beta1, beta2, eps, stepSize, bc2sqrt);
    if (over >= 0) { setStatus(model, S_UPDATE_NONFINITE, over); return loss; }
  }
  optimizerPass(true, opt, p, g, m, v, n, lr, beta1, beta2, eps, stepSize, bc2sqrt);
  eachUnit(model, 0, true);
  store<i32>(model + (<usize>H_WVALID << 2), 0);
  return loss;
}

/**
 * The index of the first parameter whose new value or moment the update would make non-finite,
 * or -1: the quick screen (updateSafe), then, when it cannot rule an overflow out, the exact check.
 */
@noinline function updateOverflow(opt: i32, p: usize, g: usize, m: usize, v: usize, n: i32, lr: f32,
                                  beta1: f64, beta2: f64, eps: f32, stepSize: f32, bc2sqrt: f32): i32 {
  if (updateSafe(opt != OPT_SGD, opt == OPT_ADAM, p, g, m, v, n, <f32>beta2, opt == OPT_ADAM ? stepSize : lr, eps)) return -1;
  return optimizerPass(false, opt, p, g, m, v, n, lr, beta1, beta2, eps, stepSize, bc2sqrt);
}

/**
 * The optimizer's pass over the parameter region (optim.ts): with commit the update, without it
 * the check for a parameter or moment that the update would make non-finite (its index, or -1).
 */
@inline function optimizerPass(commit: bool, opt: i32, p: usize, g: usize, m: usize, v: usize, n: i32, lr: f32,
                               beta1: f64, beta2: f64, eps: f32, stepSize: f32, bc2sqrt: f32): i32 {
  if (opt == OPT_ADAM) return adamPass(commit, p, g, m, v, n, beta1, beta2, eps, stepSize, bc2sqrt);
  if (opt == OPT_RMSPROP) return rmspropPass(commit, p, g, v, n, lr, beta2, eps);
  return sgdPass(commit, p, g, n, lr);
}

// ---------------------------------------------------------------------------------------------
// Staged batches: a batch checked, moved to feature-major and (for a first layer with a log
// path) given its log(|x| + eps) once, then trained on any number of times. A staged batch is a
// record of three byte addresses, [x: [inputs, ld], log: [inputs, ld] or 0, target: [outputs, ld]],
// ld = batch rounded up to 4, owned by the host.

/**
 * Exchanges the model's first-layer input, input log and target buffers with the staged batch's
 * (the record's three words): the model then reads and writes the batch's buffers (`on`), and a
 * second exchange restores both. H_BATCH says which batch's buffers the model holds, if any.
 */
function exchangeBatch(model: usize, rec: usize, on: bool): void {
  store<u32>(model + (<usize>H_BATCH << 2), on ? <u32>rec : 0);
  const L = layerAt(model, 0);
  const x = load<u32>(rec), t = load<u32>(rec, 8);
  store<u32>(rec, hdr(model, H_X));
  store<u32>(rec, hdr(model, H_T), 8);
  store<u32>(model + (<usize>H_X << 2), x);
  store<u32>(L + (<usize>L_X << 2), x);
  store<u32>(model + (<usize>H_T << 2), t);
  if (inputLog(model)) {
    const lg = load<u32>(rec, 4);
    store<u32>(rec, fld(L, L_LOG), 4);
    store<u32>(L + (<usize>L_LOG << 2), lg);
  }
}

/**
 * After a call that trapped (linear memory exhausted while a product grew its scratch): gives the
 * model its own buffers back if a staged batch's were in use. Nothing else needs mending: the
 * parameters and the optimizer's state change only after the last product of a step.
 */
export function modelRecover(model: usize): void {
  const rec = hdr(model, H_BATCH);
  if (rec) useBatch(model, rec, false);
}

/**
 * Makes the staged batch at `rec` the model's input, input log and target (on), or gives the
 * model its own buffers back (off); the first layer then finds its log ready, or computes it.
 */
function useBatch(model: usize, rec: usize, on: bool): void {
  exchangeBatch(model, rec, on);
  setLogReady(model, on && modelInputLogged(model));
}

/** Checks the staged x and target and writes them into the batch's buffers (see stage). */
export function modelStageBatch(model: usize, rec: usize, batch: i32): void {
  exchangeBatch(model, rec, true);
  stage(model, batch, true);
  useBatch(model, rec, false);
  threadFailed(model);
}

/** modelTrainStep on a staged batch: no checks, transposes or logs of the input. */
export function modelTrainBatch(model: usize, rec: usize, batch: i32, opt: i32, lr: f32,
                                beta1: f64, beta2: f64, eps: f32, stepSize: f32, bc2sqrt: f32): f64 {
  useBatch(model, rec, true);
  const loss = modelTrainStaged(model, batch, opt, lr, beta1, beta2, eps, stepSize, bc2sqrt);
  useBatch(model, rec, false);
  return loss;
}

/** modelPredict on a staged batch: no checks, transposes or logs of the input. */
export function modelPredictBatch(model: usize, rec: usize, batch: i32): void {
  useBatch(model, rec, true);
  setStatus(model, S_OK, 0);
  forward(model, batch);
  useBatch(model, rec, false);
  rowMajorOutput(model, batch);
  threadFailed(model);
}

/** modelEvaluate on a staged batch: the sum of squared errors against its target. */
export function modelEvaluateBatch(model: usize, rec: usize, batch: i32): f64 {
  useBatch(model, rec, true);
  setStatus(model, S_OK, 0);
  forward(model, batch);
  const sse = sseOf(model, batch);
  useBatch(model, rec, false);
  return threadFailed(model) ? NaN : sse;
}

/**
 * For every NAU and NMU layer: adds lambda times its regulariser's gradient (when lambda != 0),
 * or projects its weights back into range (when `project`); the projection also clamps the NPU's
 * and RealNPU's relevance gate into [0, 1].
 */
function eachUnit(model: usize, lambda: f32, project: bool): void {
  const nl = hdrI(model, H_NLAYERS);
  for (let k = 0; k < nl; k++) {
    const L = layerAt(model, k);
    const type = fldI(L, L_TYPE);
    if (type == T_NPU || type == T_REALNPU) {
      // the relevance gate g back into [0, 1] (layers/npu.ts); no regulariser
      const gp = fld(L, L_P + (type == T_NPU ? 2 : 1));
      if (project) vclamp(gp, gp, round4(fldI(L, L_IN)), 0, 1);
      continue;
    }
    if (type != T_NAU && type != T_NMU) continue;
    const count = fldI(L, L_IN) * fldI(L, L_OUT);
    const w = fld(L, L_P);
    if (project) vclamp(w, w, round4(count), type == T_NAU ? <f32>-1 : <f32>0, 1);
    else regularize(fld(L, L_G), w, count, lambda, type == T_NMU);
  }
}
