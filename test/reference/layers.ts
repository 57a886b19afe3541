// Float64 reference of every layer, forward and backward, written straight from the equations of
// ../shared/DESIGN.md sections 1 and 2. Plain loops, no cleverness: this is what the f32 kernels are
// checked against (together with ../../shared/golden/, PyTorch autograd) and what the finite-difference
// tests of test/reference.test.ts check in turn.
//
// Shapes (row-major): x [batch, inputs], every weight [inputs, outputs], dense b [outputs],
// y and dy [batch, outputs]. Parameter gradients are summed over the batch.
//
// Conventions at the kinks (PyTorch's):
//   d|x|/dx = sign(x) with sign(0) = 0, so an input exactly 0 gets no gradient from the log path;
//   clamp(W, lo, hi) passes the gradient for lo <= W <= hi (boundary included), none outside;
//   dense activations: see ./activations.ts.

import { activate, activateGrad, sigmoid, sigmoidGrad, tanhGrad } from './activations';
import { DEFAULT_EPS, type Params, type RefLayer } from './types';

export { refAdam, refAdamState } from './optim';
export { refNauReg, refNmuReg } from './regularizers';

// ---------------------------------------------------------------------------------------------
// Names and small helpers
// ---------------------------------------------------------------------------------------------

/** Parameter names of a layer, in the order of ../shared/DESIGN.md section 1's table. */
export function refParamNames(layer: RefLayer): string[] {
  switch (layer.type) {
    case 'nac':
    case 'nacMul':
      return ['W_hat', 'M_hat'];
    case 'nalu':
      return isShared(layer) ? ['W_hat', 'M_hat', 'G'] : ['W_hat', 'M_hat', 'W_hat_mul', 'M_hat_mul', 'G'];
    case 'nau':
    case 'nmu':
      return ['W'];
    case 'dense':
      return ['W', 'b'];
    default:
      throw new Error(`unknown layer type ${String((layer as RefLayer).type)}`);
  }
}

/** Length of each named parameter: weights inputs*outputs, dense b outputs. */
export function refParamSize(layer: RefLayer, name: string): number {
  return layer.type === 'dense' && name === 'b' ? layer.outputs : layer.inputs * layer.outputs;
}

function isShared(layer: RefLayer): boolean {
  return layer.sharedWeights ?? true;
}

function epsOf(layer: RefLayer): number {
  return layer.eps ?? DEFAULT_EPS;
}

/** sign(v) with sign(0) = 0 (and never -0). */
function sign(v: number): number {
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

function param(layer: RefLayer, p: Params, name: string): Float64Array {
  const t = p[name];
  if (!t) throw new Error(`${layer.type}: missing parameter ${name}`);
  const n = refParamSize(layer, name);
  if (t.length !== n) throw new Error(`${layer.type}: ${name} has ${t.length} values, expected ${n}`);
  return t;
}

function checkX(layer: RefLayer, x: Float64Array, batch: number): void {
  if (x.length !== batch * layer.inputs) {
    throw new Error(`${layer.type}: x has ${x.length} values, expected batch*inputs = ${batch * layer.inputs}`);
  }
}

/** a [n, k] @ b [k, m] -> [n, m] */
function matmul(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const c = new Float64Array(n * m);
  for (let r = 0; r < n; r++) {
    for (let col = 0; col < m; col++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += a[r * k + i] * b[i * m + col];
      c[r * m + col] = s;
    }
  }
  return c;
}

/** a^T @ b with a [n, k], b [n, m] -> [k, m]  (x^T d: a weight gradient summed over the batch) */
function matmulTA(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const c = new Float64Array(k * m);
  for (let i = 0; i < k; i++) {
    for (let col = 0; col < m; col++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += a[r * k + i] * b[r * m + col];
      c[i * m + col] = s;
    }
  }
  return c;
}

/** a @ b^T with a [n, m], b [k, m] -> [n, k]  (d W^T: the input gradient) */
function matmulTB(a: Float64Array, b: Float64Array, n: number, m: number, k: number): Float64Array {
  const c = new Float64Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let col = 0; col < m; col++) s += a[r * m + col] * b[i * m + col];
      c[r * k + i] = s;
    }
  }
  return c;
}

function mul(a: Float64Array, b: Float64Array): Float64Array {
  const c = new Float64Array(a.length);
  for (let j = 0; j < a.length; j++) c[j] = a[j] * b[j];
  return c;
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  const c = new Float64Array(a.length);
  for (let j = 0; j < a.length; j++) c[j] = a[j] + b[j];
  return c;
}

// ---------------------------------------------------------------------------------------------
// Weight transform (NAC, NALU): W = tanh(W_hat) * sigmoid(M_hat)
//   dW_hat = dW * (1 - tanh(W_hat)^2) * sigmoid(M_hat)
//   dM_hat = dW * tanh(W_hat) * sigmoid(M_hat) * (1 - sigmoid(M_hat))
// ---------------------------------------------------------------------------------------------

export function refNacWeight(wHat: Float64Array, mHat: Float64Array): Float64Array {
  const w = new Float64Array(wHat.length);
  for (let j = 0; j < w.length; j++) w[j] = Math.tanh(wHat[j]) * sigmoid(mHat[j]);
  return w;
}

function nacWeightBackward(
  wHat: Float64Array,
  mHat: Float64Array,
  dW: Float64Array,
): { dWHat: Float64Array; dMHat: Float64Array } {
  const dWHat = new Float64Array(wHat.length);
  const dMHat = new Float64Array(wHat.length);
  for (let j = 0; j < wHat.length; j++) {
    dWHat[j] = dW[j] * tanhGrad(wHat[j]) * sigmoid(mHat[j]);
    dMHat[j] = dW[j] * Math.tanh(wHat[j]) * sigmoidGrad(mHat[j]);
  }
  return { dWHat, dMHat };
}

// ---------------------------------------------------------------------------------------------
// Log path (nacMul, nalu): l = log(|x| + eps);  dl/dx = sign(x) / (|x| + eps)
// ---------------------------------------------------------------------------------------------

function logPath(x: Float64Array, eps: number): Float64Array {
  const l = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) l[j] = Math.log(Math.abs(x[j]) + eps);
  return l;
}

function logPathGrad(x: Float64Array, eps: number): Float64Array {
  const g = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) g[j] = sign(x[j]) / (Math.abs(x[j]) + eps);
  return g;
}

function expAll(a: Float64Array): Float64Array {
  const c = new Float64Array(a.length);
  for (let j = 0; j < a.length; j++) c[j] = Math.exp(a[j]);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Clamps (nau, nmu): forward clamp, backward passes inside and on the boundary
// ---------------------------------------------------------------------------------------------

function clampAll(w: Float64Array, lo: number, hi: number): Float64Array {
  const c = new Float64Array(w.length);
  for (let j = 0; j < w.length; j++) c[j] = Math.min(Math.max(w[j], lo), hi);
  return c;
}

function clampGrad(w: Float64Array, dWc: Float64Array, lo: number, hi: number): Float64Array {
  const d = new Float64Array(w.length);
  for (let j = 0; j < w.length; j++) d[j] = w[j] >= lo && w[j] <= hi ? dWc[j] : 0;
  return d;
}

// ---------------------------------------------------------------------------------------------
// NMU: y_o = prod_i f_io,  f_io = Wc_io x_i + 1 - Wc_io,  Wc = clamp(W, 0, 1)
// The leave-one-out products prod_{k != i} f_ko come from prefix and suffix products, so a
// factor that is exactly zero still gives the right gradients (no division).
// ---------------------------------------------------------------------------------------------

/** For one sample and one output: f_i (i < n) and leave-one-out products L_i = prod_{k != i} f_k. */
function leaveOneOut(f: Float64Array): Float64Array {
  const n = f.length;
  const out = new Float64Array(n);
  let prefix = 1; // prod_{k < i} f_k
  for (let i = 0; i < n; i++) {
    out[i] = prefix;
    prefix *= f[i];
  }
  let suffix = 1; // prod_{k > i} f_k
  for (let i = n - 1; i >= 0; i--) {
    out[i] *= suffix;
    suffix *= f[i];
  }
  return out;
}

function nmuFactors(wc: Float64Array, x: Float64Array, b: number, o: number, nIn: number, nOut: number): Float64Array {
  const f = new Float64Array(nIn);
  for (let i = 0; i < nIn; i++) {
    const w = wc[i * nOut + o];
    f[i] = w * x[b * nIn + i] + (1 - w);
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// Forward
// ---------------------------------------------------------------------------------------------

/** y [batch, outputs] of one layer. */
export function refForward(layer: RefLayer, p: Params, x: Float64Array, batch: number): Float64Array {
  checkX(layer, x, batch);
  const nIn = layer.inputs;
  const nOut = layer.outputs;
  switch (layer.type) {
    case 'nac': {
      // y = x W
      const w = refNacWeight(param(layer, p, 'W_hat'), param(layer, p, 'M_hat'));
      return matmul(x, w, batch, nIn, nOut);
    }
    case 'nacMul': {
      // y = exp(l W)
      const w = refNacWeight(param(layer, p, 'W_hat'), param(layer, p, 'M_hat'));
      return expAll(matmul(logPath(x, epsOf(layer)), w, batch, nIn, nOut));
    }
    case 'nalu':
      return naluForward(layer, p, x, batch).y;
    case 'nau': {
      // y = x clamp(W, -1, 1)
      const wc = clampAll(param(layer, p, 'W'), -1, 1);
      return matmul(x, wc, batch, nIn, nOut);
    }
    case 'nmu': {
      const wc = clampAll(param(layer, p, 'W'), 0, 1);
      const y = new Float64Array(batch * nOut);
      for (let b = 0; b < batch; b++) {
        for (let o = 0; o < nOut; o++) {
          const f = nmuFactors(wc, x, b, o, nIn, nOut);
          let prod = 1;
          for (let i = 0; i < nIn; i++) prod *= f[i];
          y[b * nOut + o] = prod;
        }
      }
      return y;
    }
    case 'dense': {
      // y = act(x W + b)
      const z = denseZ(layer, p, x, batch);
      const act = layer.activation ?? 'linear';
      const y = new Float64Array(z.length);
      for (let j = 0; j < z.length; j++) y[j] = activate(act, z[j]);
      return y;
    }
    default:
      throw new Error(`unknown layer type ${String((layer as RefLayer).type)}`);
  }
}

function denseZ(layer: RefLayer, p: Params, x: Float64Array, batch: number): Float64Array {
  const nOut = layer.outputs;
  const z = matmul(x, param(layer, p, 'W'), batch, layer.inputs, nOut);
  const bias = param(layer, p, 'b');
  for (let b = 0; b < batch; b++) for (let o = 0; o < nOut; o++) z[b * nOut + o] += bias[o];
  return z;
}

interface NaluState {
  w: Float64Array; // additive weight
  wm: Float64Array; // multiplicative weight (=== w when tied)
  l: Float64Array; // log(|x| + eps)
  a: Float64Array; // x W
  m: Float64Array; // exp(l W')
  g: Float64Array; // sigmoid(x G)
  y: Float64Array;
}

// a = x W;  m = exp(l W');  g = sigmoid(x G);  y = g a + (1 - g) m   (W' = W when tied)
function naluForward(layer: RefLayer, p: Params, x: Float64Array, batch: number): NaluState {
  const nIn = layer.inputs;
  const nOut = layer.outputs;
  const w = refNacWeight(param(layer, p, 'W_hat'), param(layer, p, 'M_hat'));
  const wm = isShared(layer) ? w : refNacWeight(param(layer, p, 'W_hat_mul'), param(layer, p, 'M_hat_mul'));
  const l = logPath(x, epsOf(layer));
  const a = matmul(x, w, batch, nIn, nOut);
  const m = expAll(matmul(l, wm, batch, nIn, nOut));
  const gz = matmul(x, param(layer, p, 'G'), batch, nIn, nOut);
  const g = new Float64Array(gz.length);
  const y = new Float64Array(gz.length);
  for (let j = 0; j < g.length; j++) {
    g[j] = sigmoid(gz[j]);
    y[j] = g[j] * a[j] + (1 - g[j]) * m[j];
  }
  return { w, wm, l, a, m, g, y };
}

// ---------------------------------------------------------------------------------------------
// Backward
// ---------------------------------------------------------------------------------------------

/** dx [batch, inputs] and the parameter gradients (summed over the batch) for upstream dy. */
export function refBackward(
  layer: RefLayer,
  p: Params,
  x: Float64Array,
  batch: number,
  dy: Float64Array,
): { dx: Float64Array; grads: Params } {
  checkX(layer, x, batch);
  const nIn = layer.inputs;
  const nOut = layer.outputs;
  if (dy.length !== batch * nOut) throw new Error(`${layer.type}: dy has ${dy.length} values, expected ${batch * nOut}`);
  switch (layer.type) {
    case 'nac': {
      // dW = x^T d;  dx = d W^T
      const wHat = param(layer, p, 'W_hat');
      const mHat = param(layer, p, 'M_hat');
      const w = refNacWeight(wHat, mHat);
      const dW = matmulTA(x, dy, batch, nIn, nOut);
      const dx = matmulTB(dy, w, batch, nOut, nIn);
      const { dWHat, dMHat } = nacWeightBackward(wHat, mHat, dW);
      return { dx, grads: { W_hat: dWHat, M_hat: dMHat } };
    }
    case 'nacMul': {
      // dW = l^T (d * y);  dx = ((d * y) W^T) * sign(x) / (|x| + eps)
      const eps = epsOf(layer);
      const wHat = param(layer, p, 'W_hat');
      const mHat = param(layer, p, 'M_hat');
      const w = refNacWeight(wHat, mHat);
      const l = logPath(x, eps);
      const y = expAll(matmul(l, w, batch, nIn, nOut));
      const dyy = mul(dy, y);
      const dW = matmulTA(l, dyy, batch, nIn, nOut);
      const dx = mul(matmulTB(dyy, w, batch, nOut, nIn), logPathGrad(x, eps));
      const { dWHat, dMHat } = nacWeightBackward(wHat, mHat, dW);
      return { dx, grads: { W_hat: dWHat, M_hat: dMHat } };
    }
    case 'nalu':
      return naluBackward(layer, p, x, batch, dy);
    case 'nau': {
      // dWc = x^T d, through the clamp;  dx = d Wc^T
      const wRaw = param(layer, p, 'W');
      const wc = clampAll(wRaw, -1, 1);
      const dWc = matmulTA(x, dy, batch, nIn, nOut);
      const dx = matmulTB(dy, wc, batch, nOut, nIn);
      return { dx, grads: { W: clampGrad(wRaw, dWc, -1, 1) } };
    }
    case 'nmu': {
      // dWc_io = sum_b d_o (x_i - 1) L_io;  dx_i = sum_o d_o Wc_io L_io;  L_io = prod_{k != i} f_ko
      const wRaw = param(layer, p, 'W');
      const wc = clampAll(wRaw, 0, 1);
      const dWc = new Float64Array(nIn * nOut);
      const dx = new Float64Array(batch * nIn);
      for (let b = 0; b < batch; b++) {
        for (let o = 0; o < nOut; o++) {
          const d = dy[b * nOut + o];
          const loo = leaveOneOut(nmuFactors(wc, x, b, o, nIn, nOut));
          for (let i = 0; i < nIn; i++) {
            dWc[i * nOut + o] += d * (x[b * nIn + i] - 1) * loo[i];
            dx[b * nIn + i] += d * wc[i * nOut + o] * loo[i];
          }
        }
      }
      return { dx, grads: { W: clampGrad(wRaw, dWc, 0, 1) } };
    }
    case 'dense': {
      // dz = d * act'(z);  dW = x^T dz;  db = sum_b dz;  dx = dz W^T
      const z = denseZ(layer, p, x, batch);
      const act = layer.activation ?? 'linear';
      const dz = new Float64Array(z.length);
      for (let j = 0; j < z.length; j++) dz[j] = dy[j] * activateGrad(act, z[j]);
      const dW = matmulTA(x, dz, batch, nIn, nOut);
      const db = new Float64Array(nOut);
      for (let b = 0; b < batch; b++) for (let o = 0; o < nOut; o++) db[o] += dz[b * nOut + o];
      const dx = matmulTB(dz, param(layer, p, 'W'), batch, nOut, nIn);
      return { dx, grads: { W: dW, b: db } };
    }
    default:
      throw new Error(`unknown layer type ${String((layer as RefLayer).type)}`);
  }
}

// da = d g;  dm = d (1 - g);  dg = d (a - m) g (1 - g)
// dW = x^T da + l^T (dm m)  (separate weights: the two terms go to the two weight sets)
// dG = x^T dg
// dx = da W^T + ((dm m) W'^T) sign(x) / (|x| + eps) + dg G^T
function naluBackward(
  layer: RefLayer,
  p: Params,
  x: Float64Array,
  batch: number,
  dy: Float64Array,
): { dx: Float64Array; grads: Params } {
  const nIn = layer.inputs;
  const nOut = layer.outputs;
  const eps = epsOf(layer);
  const { w, wm, l, a, m, g } = naluForward(layer, p, x, batch);
  const G = param(layer, p, 'G');
  const da = new Float64Array(dy.length);
  const dmm = new Float64Array(dy.length); // dm * m
  const dg = new Float64Array(dy.length); // gradient w.r.t. the gate's pre-activation x G
  for (let j = 0; j < dy.length; j++) {
    da[j] = dy[j] * g[j];
    dmm[j] = dy[j] * (1 - g[j]) * m[j];
    dg[j] = dy[j] * (a[j] - m[j]) * g[j] * (1 - g[j]);
  }
  const dWadd = matmulTA(x, da, batch, nIn, nOut);
  const dWmul = matmulTA(l, dmm, batch, nIn, nOut);
  const dG = matmulTA(x, dg, batch, nIn, nOut);

  const dxAdd = matmulTB(da, w, batch, nOut, nIn);
  const dxMul = mul(matmulTB(dmm, wm, batch, nOut, nIn), logPathGrad(x, eps));
  const dxGate = matmulTB(dg, G, batch, nOut, nIn);
  const dx = add(add(dxAdd, dxMul), dxGate);

  const wHat = param(layer, p, 'W_hat');
  const mHat = param(layer, p, 'M_hat');
  if (isShared(layer)) {
    const { dWHat, dMHat } = nacWeightBackward(wHat, mHat, add(dWadd, dWmul));
    return { dx, grads: { W_hat: dWHat, M_hat: dMHat, G: dG } };
  }
  const addPart = nacWeightBackward(wHat, mHat, dWadd);
  const mulPart = nacWeightBackward(param(layer, p, 'W_hat_mul'), param(layer, p, 'M_hat_mul'), dWmul);
  return {
    dx,
    grads: { W_hat: addPart.dWHat, M_hat: addPart.dMHat, W_hat_mul: mulPart.dWHat, M_hat_mul: mulPart.dMHat, G: dG },
  };
}

// ---------------------------------------------------------------------------------------------
// Stack + MSE loss
// ---------------------------------------------------------------------------------------------

/**
 * Forward through `layers`, loss = mean over batch*outputs of (y - target)^2, and backward:
 * dL/dy = 2 (y - target) / (batch*outputs). Returns y, the loss, each layer's gradients, and dL/dx.
 */
export function refStack(
  layers: RefLayer[],
  params: Params[],
  x: Float64Array,
  target: Float64Array,
  batch: number,
): { y: Float64Array; loss: number; grads: Params[]; dx: Float64Array } {
  if (layers.length === 0) throw new Error('refStack: no layers');
  if (params.length !== layers.length) throw new Error('refStack: one Params per layer');
  for (let k = 1; k < layers.length; k++) {
    if (layers[k].inputs !== layers[k - 1].outputs) throw new Error(`refStack: layer ${k} inputs != layer ${k - 1} outputs`);
  }
  const acts: Float64Array[] = [x]; // acts[k] is the input of layer k
  for (let k = 0; k < layers.length; k++) acts.push(refForward(layers[k], params[k], acts[k], batch));
  const y = acts[layers.length];
  if (target.length !== y.length) throw new Error(`refStack: target has ${target.length} values, expected ${y.length}`);

  const n = y.length;
  let sum = 0;
  let dy: Float64Array = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const e = y[j] - target[j];
    sum += e * e;
    dy[j] = (2 * e) / n;
  }
  const loss = sum / n;

  const grads: Params[] = new Array(layers.length);
  for (let k = layers.length - 1; k >= 0; k--) {
    const r = refBackward(layers[k], params[k], acts[k], batch, dy);
    grads[k] = r.grads;
    dy = r.dx;
  }
  return { y, loss, grads, dx: dy };
}
