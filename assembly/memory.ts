// Arena and descriptor layout shared with src/wasm/layout.ts.
//
// The TypeScript side owns every allocation. A model is two blocks:
//   * the state block: parameters, gradients, first and second optimizer moments, four
//     regions of identical layout and equal length (a multiple of 4 floats, 16-byte aligned),
//     so that zeroing gradients is one fill and an optimizer step is one flat loop;
//   * the work block: the descriptor below, the row-major staging buffers for x, target and y,
//     and the feature-major activations ([features, ld], ld = batch rounded up to 4).
// Every pointer stored in a descriptor is an absolute byte address, 16-byte aligned.
//
// Padding lanes (batch <= lane < ld) of every activation hold 1.0 and of every upstream
// gradient hold 0.0: all lane-parallel math stays finite there and contributes nothing to
// the batch sums.

// Model header, in 32-bit words.
export const H_NLAYERS: i32 = 0;
export const H_NPARAM: i32 = 1; // floats in each state region
export const H_PARAMS: i32 = 2;
export const H_GRADS: i32 = 3;
export const H_MOM1: i32 = 4;
export const H_MOM2: i32 = 5;
export const H_XROW: i32 = 6; // [batch, inputs] row-major staging, written by the host
export const H_TROW: i32 = 7; // [batch, outputs] target staging
export const H_YROW: i32 = 8; // [batch, outputs] prediction staging, read by the host
export const H_X: i32 = 9; // [inputs, ld] first layer input, feature-major
export const H_T: i32 = 10; // [outputs, ld] target, feature-major
export const H_DY: i32 = 11; // [outputs, ld] dLoss/dy of the last layer
export const H_WVALID: i32 = 12; // 1 when the effective weights match the parameters
export const H_STATUS: i32 = 13; // outcome of the last call, one of the S_ codes below
export const H_STATUS_ARG: i32 = 14; // the index the status refers to
export const H_OPTIONS: i32 = 15; // bit 0: let non-finite gradients update the parameters
export const H_LAMBDA: i32 = 16; // f32: weight of the NAU/NMU sparsity regulariser this step
export const H_CLIP: i32 = 17; // f32: clip every gradient to [-clip, clip] when > 0
export const H_BATCH: i32 = 18; // the staged batch whose buffers the model holds (model.ts, exchangeBatch), else 0
export const H_WORDS: i32 = 20;

/** The build, for the host: bit 0 SIMD, bit 1 relaxed SIMD, bit 2 threads (shared memory). */
export const FEATURES: i32 = (ASC_FEATURE_SIMD ? 1 : 0) | (ASC_FEATURE_RELAXED_SIMD ? 2 : 0) | (ASC_FEATURE_THREADS ? 4 : 0);

// Layer record, in 32-bit words; record k starts at word H_WORDS + k * L_WORDS.
export const L_TYPE: i32 = 0;
export const L_IN: i32 = 1;
export const L_OUT: i32 = 2;
export const L_FLAGS: i32 = 3; // F_* below: separate log-path weights, log ready, gate bias
export const L_EPS: i32 = 4; // f32
export const L_ACT: i32 = 5; // dense activation id
export const L_OMEGA: i32 = 21; // f32: iNALU's cap on the log path's exponent
export const L_X: i32 = 6; // [in, ld] input (the previous layer's L_Y)
export const L_Y: i32 = 7; // [out, ld] output
export const L_DX: i32 = 8; // [in, ld] dLoss/dx, 0 for the first layer
export const L_DY: i32 = 9; // [out, ld] dLoss/dy (the next layer's L_DX, or H_DY)
export const L_E: i32 = 10; // effective weights (layout per layer)
export const L_EM: i32 = 11; // effective weights of the log path when separate
export const L_LOG: i32 = 12; // [in, ld] log(|x| + eps)
export const L_A: i32 = 13; // [2 out, ld] scratch: NALU a then g; dense pre-activation
export const L_M: i32 = 14; // [out, ld] NALU multiplicative path
export const L_T: i32 = 15; // [2 out, ld] backward scratch
export const L_T2: i32 = 16; // [out, ld] backward scratch
export const L_T3: i32 = 17; // [in, ld] backward scratch
export const L_DE: i32 = 18; // gradient of the effective weights, same layout as L_E
export const L_DEM: i32 = 19; // gradient of L_EM
export const L_TMP: i32 = 20; // [in * out] contiguous scratch for the weight transform
export const L_WC: i32 = 22; // [2 n4] tanh(W_hat) then exp(-|M_hat|) of L_E's transform, for its backward
export const L_WCM: i32 = 23; // the same for L_EM's
export const L_P: i32 = 24; // up to 6 parameter pointers, in the API's order
export const L_G: i32 = 30; // the matching gradient pointers (in the gradient region)
export const L_WORDS: i32 = 40;

// Layer types.
export const T_NAC: i32 = 0;
export const T_NACMUL: i32 = 1;
export const T_NALU: i32 = 2;
export const T_DENSE: i32 = 3;
export const T_NAU: i32 = 4;
export const T_NMU: i32 = 5;
export const T_INALU: i32 = 6;
export const T_NPU: i32 = 7;
export const T_REALNPU: i32 = 8;

export const F_SEPARATE: i32 = 1;
export const F_LOG_READY: i32 = 2; // set by the module: layer 0's L_LOG holds log(|x| + eps)
export const F_GATE_BIAS: i32 = 4; // NALU: g = sigmoid(x G + G_bias)
export const O_ALLOW_NONFINITE: i32 = 1;

// Status codes.
export const S_OK: i32 = 0;
export const S_X_NONFINITE: i32 = 1; // H_STATUS_ARG = index into x
export const S_T_NONFINITE: i32 = 2; // H_STATUS_ARG = index into the target
export const S_LOSS_NONFINITE: i32 = 3; // the update was skipped
export const S_GRAD_NONFINITE: i32 = 4; // H_STATUS_ARG = index into the gradient region; skipped
export const S_THREAD_FAILED: i32 = 5; // H_STATUS_ARG = the worker thread; results dropped, no update
export const S_UPDATE_NONFINITE: i32 = 6; // H_STATUS_ARG = index into the parameter region; skipped

@inline export function hdr(model: usize, field: i32): usize {
  return <usize>load<u32>(model + (<usize>field << 2));
}

@inline export function hdrI(model: usize, field: i32): i32 {
  return load<i32>(model + (<usize>field << 2));
}

@inline export function layerAt(model: usize, k: i32): usize {
  return model + (<usize>(H_WORDS + k * L_WORDS) << 2);
}

@inline export function fld(layer: usize, field: i32): usize {
  return <usize>load<u32>(layer + (<usize>field << 2));
}

@inline export function fldI(layer: usize, field: i32): i32 {
  return load<i32>(layer + (<usize>field << 2));
}

@inline export function fldF(layer: usize, field: i32): f32 {
  return load<f32>(layer + (<usize>field << 2));
}

/** The address of float i of the array at p. */
@inline export function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** n rounded up to a multiple of 4: a region's length in floats, and ld for a batch. */
@inline export function round4(n: i32): i32 {
  return (n + 3) & ~3;
}

/** Allocates `bytes + 16` bytes, so that the host can align the block's start to 16. */
export function alloc(bytes: usize): usize {
  return heapAlloc(bytes + 16);
}

/** Requests from LARGE to LARGEST are rounded up to a multiple of LARGE_CLASS (see heapAlloc). */
const LARGE: usize = (1 << 29) - 1024;
const LARGE_CLASS: usize = 1 << 25;
const LARGEST: usize = 31 << 25;

/**
 * heap.alloc for every block of the module. The allocator (TLSF) files free blocks of 512 MiB to
 * 1 GiB in classes 32 MiB wide and, unlike below, searches them without rounding the request up
 * to the next class: a freed block of the request's class may be smaller than the request, and
 * is handed out all the same (its debug check aborts). A request there is rounded up to a
 * multiple of 32 MiB, the lower end of its class, which every block of the class reaches. The
 * host asks for at most 992 MiB (src/wasm/engine.ts MAX_BLOCK), so that no request rounds up
 * past the allocator's largest block (just under 1 GiB); a request beyond 992 MiB (none of the
 * products' scratch buffers comes near: they are smaller than the model's own regions) is passed
 * on as it is.
 */
export function heapAlloc(bytes: usize): usize {
  if (bytes >= LARGE && bytes <= LARGEST) bytes = (bytes + LARGE_CLASS - 1) & ~(LARGE_CLASS - 1);
  return heap.alloc(bytes);
}

export function free(raw: usize): void {
  heap.free(raw);
}
