// Float64 reference of iNALU, NPU and RealNPU, forward and backward, written straight from the
// equations of the units issue (and of the headers of assembly/layers/inalu.ts and npu.ts). Plain
// loops per sample and output, no stacking, no shared buffers: this is what the f32 kernels are
// checked against, and what test/units-more.test.ts checks by central finite differences.
//
// Shapes (row-major): x [batch, inputs], weights [inputs, outputs], iNALU g [outputs], NPU g
// [inputs], y and dy [batch, outputs]. Parameter gradients are summed over the batch.
//
// Conventions at the kinks (../shared/DESIGN.md section 1, PyTorch's):
//   d|x|/dx = sign(x) with sign(0) = 0; sign(x) itself has derivative 0 (so has the NPU's k);
//   clamp, min and max pass the gradient inside their range and on its boundary, none outside:
//     min(zm, omega) passes for zm <= omega, max(|x|, eps) for |x| >= eps,
//     clip(sr, -1, 1) for -1 <= sr <= 1, clamp(g, 0, 1) for 0 <= g <= 1.

import { refBackward, refForward } from './layers';
import { sigmoid, sigmoidGrad, tanhGrad } from './activations';
import type { Params, RefLayer } from './types';

export type MoreType = 'inalu' | 'npu' | 'realNpu';

export interface MoreLayer {
  type: MoreType;
  inputs: number;
  outputs: number;
  /** default 1e-7 */
  eps?: number;
  /** iNALU only; default 20 */
  omega?: number;
}

export type AnyLayer = RefLayer | MoreLayer;

export function isMore(layer: AnyLayer): layer is MoreLayer {
  return layer.type === 'inalu' || layer.type === 'npu' || layer.type === 'realNpu';
}

/** Parameter names in the API's order, and each one's length. */
export function moreParamShapes(layer: MoreLayer): Array<[string, number]> {
  const io = layer.inputs * layer.outputs;
  switch (layer.type) {
    case 'inalu':
      return [['W_hat', io], ['M_hat', io], ['W_hat_mul', io], ['M_hat_mul', io], ['g', layer.outputs]];
    case 'npu':
      return [['W_re', io], ['W_im', io], ['g', layer.inputs]];
    case 'realNpu':
      return [['W_re', io], ['g', layer.inputs]];
  }
}

const sign = (v: number) => (v > 0 ? 1 : v < 0 ? -1 : 0);
const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

function get(layer: MoreLayer, p: Params, name: string): Float64Array {
  const t = p[name];
  const want = moreParamShapes(layer).find(([n]) => n === name)![1];
  if (!t || t.length !== want) throw new Error(`${layer.type}: ${name} missing or not ${want} long`);
  return t;
}

function nacWeight(wHat: Float64Array, mHat: Float64Array): Float64Array {
  return wHat.map((w, j) => Math.tanh(w) * sigmoid(mHat[j]!));
}

// ---------------------------------------------------------------------------------------------
// iNALU
//   W = tanh(W_hat) sigmoid(M_hat);  Wm = tanh(W_hat_mul) sigmoid(M_hat_mul)
//   a_o = sum_i x_i W_io;  zm_o = sum_i log(max(|x_i|, eps)) Wm_io;  m_o = exp(min(zm_o, omega))
//   f_io = sign(x_i) |Wm_io| + 1 - |Wm_io|;  sr_o = prod_i f_io;  s_o = clip(sr_o, -1, 1)
//   G_o = sigmoid(g_o);  y_o = G_o a_o + (1 - G_o) m_o s_o
// ---------------------------------------------------------------------------------------------

interface InaluSample { a: number[]; zm: number[]; m: number[]; f: number[][]; sr: number[]; s: number[]; lx: number[]; y: number[] }

function inaluSample(layer: MoreLayer, W: Float64Array, Wm: Float64Array, G: Float64Array, x: Float64Array, b: number): InaluSample {
  const { inputs: nIn, outputs: nOut } = layer;
  const eps = layer.eps ?? 1e-7, omega = layer.omega ?? 20;
  const xs = Array.from({ length: nIn }, (_, i) => x[b * nIn + i]!);
  const lx = xs.map((v) => Math.log(Math.max(Math.abs(v), eps)));
  const r: InaluSample = { a: [], zm: [], m: [], f: [], sr: [], s: [], lx, y: [] };
  for (let o = 0; o < nOut; o++) {
    let a = 0, zm = 0, sr = 1;
    const f: number[] = [];
    for (let i = 0; i < nIn; i++) {
      a += xs[i]! * W[i * nOut + o]!;
      zm += lx[i]! * Wm[i * nOut + o]!;
      const w = Math.abs(Wm[i * nOut + o]!);
      f.push(sign(xs[i]!) * w + (1 - w));
      sr *= f[i]!;
    }
    const m = Math.exp(Math.min(zm, omega));
    const s = clamp(sr, -1, 1);
    r.a.push(a); r.zm.push(zm); r.m.push(m); r.f.push(f); r.sr.push(sr); r.s.push(s);
    r.y.push(G[o]! * a + (1 - G[o]!) * m * s);
  }
  return r;
}

function inaluForward(layer: MoreLayer, p: Params, x: Float64Array, batch: number): Float64Array {
  const W = nacWeight(get(layer, p, 'W_hat'), get(layer, p, 'M_hat'));
  const Wm = nacWeight(get(layer, p, 'W_hat_mul'), get(layer, p, 'M_hat_mul'));
  const G = get(layer, p, 'g').map(sigmoid);
  const y = new Float64Array(batch * layer.outputs);
  for (let b = 0; b < batch; b++) inaluSample(layer, W, Wm, G, x, b).y.forEach((v, o) => { y[b * layer.outputs + o] = v; });
  return y;
}

// da = d G;  dms = d (1 - G);  dzm = dms s m [zm <= omega];  dsr = dms m [-1 <= sr <= 1]
// dg = sum d (a - m s) G (1 - G)
// dW = x^T da;  dWm_io = sum lx_i dzm_o + sign(Wm_io) sum dsr_o (sign(x_i) - 1) prod_{k != i} f_ko
// dx_i = sum_o W_io da_o + [|x_i| >= eps] sign(x_i) / |x_i| sum_o Wm_io dzm_o
function inaluBackward(layer: MoreLayer, p: Params, x: Float64Array, batch: number, dy: Float64Array) {
  const { inputs: nIn, outputs: nOut } = layer;
  const eps = layer.eps ?? 1e-7, omega = layer.omega ?? 20;
  const wHat = get(layer, p, 'W_hat'), mHat = get(layer, p, 'M_hat');
  const wHatM = get(layer, p, 'W_hat_mul'), mHatM = get(layer, p, 'M_hat_mul');
  const W = nacWeight(wHat, mHat), Wm = nacWeight(wHatM, mHatM);
  const gate = get(layer, p, 'g'), G = gate.map(sigmoid);
  const dW = new Float64Array(nIn * nOut), dWm = new Float64Array(nIn * nOut);
  const dg = new Float64Array(nOut), dx = new Float64Array(batch * nIn);
  for (let b = 0; b < batch; b++) {
    const st = inaluSample(layer, W, Wm, G, x, b);
    for (let o = 0; o < nOut; o++) {
      const d = dy[b * nOut + o]!;
      const da = d * G[o]!;
      const dms = d * (1 - G[o]!);
      const dzm = st.zm[o]! <= omega ? dms * st.s[o]! * st.m[o]! : 0;
      const dsr = st.sr[o]! >= -1 && st.sr[o]! <= 1 ? dms * st.m[o]! : 0;
      dg[o] += d * (st.a[o]! - st.m[o]! * st.s[o]!) * sigmoidGrad(gate[o]!); // G (1 - G)
      const f = st.f[o]!;
      for (let i = 0; i < nIn; i++) {
        const xi = x[b * nIn + i]!;
        let loo = 1; // prod_{k != i} f_k, straight (the reference may take its time)
        for (let k = 0; k < nIn; k++) if (k !== i) loo *= f[k]!;
        dW[i * nOut + o] += xi * da;
        dWm[i * nOut + o] += st.lx[i]! * dzm + sign(Wm[i * nOut + o]!) * dsr * (sign(xi) - 1) * loo;
        dx[b * nIn + i] += W[i * nOut + o]! * da +
          (Math.abs(xi) >= eps ? (sign(xi) / Math.abs(xi)) * Wm[i * nOut + o]! * dzm : 0);
      }
    }
  }
  const back = (wh: Float64Array, mh: Float64Array, dw: Float64Array) => ({
    dWh: wh.map((w, j) => dw[j]! * tanhGrad(w) * sigmoid(mh[j]!)),
    dMh: wh.map((w, j) => dw[j]! * Math.tanh(w) * sigmoidGrad(mh[j]!)),
  });
  const A = back(wHat, mHat, dW), M = back(wHatM, mHatM, dWm);
  return { dx, grads: { W_hat: A.dWh, M_hat: A.dMh, W_hat_mul: M.dWh, M_hat_mul: M.dMh, g: dg } as Params };
}

// ---------------------------------------------------------------------------------------------
// NPU and RealNPU
//   gc = clamp(g, 0, 1);  r_i = gc_i (|x_i| + eps) + (1 - gc_i);  k_i = gc_i [x_i < 0]
//   u_o = sum_i log(r_i) W_re,io - pi k_i W_im,io;  v_o = sum_i pi k_i W_re,io + log(r_i) W_im,io
//   y_o = exp(u_o) cos(v_o)                   (RealNPU: W_im = 0)
// ---------------------------------------------------------------------------------------------

function npuParts(layer: MoreLayer, p: Params) {
  const re = get(layer, p, 'W_re');
  const im = layer.type === 'npu' ? get(layer, p, 'W_im') : new Float64Array(re.length);
  const gRaw = get(layer, p, 'g');
  return { re, im, gRaw, gc: gRaw.map((v) => clamp(v, 0, 1)) };
}

function npuForward(layer: MoreLayer, p: Params, x: Float64Array, batch: number): Float64Array {
  const { inputs: nIn, outputs: nOut } = layer;
  const eps = layer.eps ?? 1e-7;
  const { re, im, gc } = npuParts(layer, p);
  const y = new Float64Array(batch * nOut);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < nOut; o++) {
      let u = 0, v = 0;
      for (let i = 0; i < nIn; i++) {
        const xi = x[b * nIn + i]!;
        const l = Math.log(gc[i]! * (Math.abs(xi) + eps) + (1 - gc[i]!));
        const k = xi < 0 ? gc[i]! : 0;
        u += l * re[i * nOut + o]! - Math.PI * k * im[i * nOut + o]!;
        v += Math.PI * k * re[i * nOut + o]! + l * im[i * nOut + o]!;
      }
      y[b * nOut + o] = Math.exp(u) * Math.cos(v);
    }
  }
  return y;
}

// du = d exp(u) cos(v);  dv = -d exp(u) sin(v)
// dW_re = l du + pi k dv;  dW_im = l dv - pi k du
// dl_i = sum_o W_re du + W_im dv;  dk_i = sum_o pi W_re dv - pi W_im du
// dgc_i = sum_b (dl / r) (|x| + eps - 1) + dk [x < 0];  dg = dgc [0 <= g <= 1]
// dx_i = (dl / r) gc sign(x)
function npuBackward(layer: MoreLayer, p: Params, x: Float64Array, batch: number, dy: Float64Array) {
  const { inputs: nIn, outputs: nOut } = layer;
  const eps = layer.eps ?? 1e-7;
  const { re, im, gRaw, gc } = npuParts(layer, p);
  const dRe = new Float64Array(nIn * nOut), dIm = new Float64Array(nIn * nOut);
  const dgc = new Float64Array(nIn), dx = new Float64Array(batch * nIn);
  for (let b = 0; b < batch; b++) {
    const xs = Array.from({ length: nIn }, (_, i) => x[b * nIn + i]!);
    const r = xs.map((xi, i) => gc[i]! * (Math.abs(xi) + eps) + (1 - gc[i]!));
    const l = r.map(Math.log);
    const k = xs.map((xi, i) => (xi < 0 ? gc[i]! : 0));
    const dl = new Array<number>(nIn).fill(0), dk = new Array<number>(nIn).fill(0);
    for (let o = 0; o < nOut; o++) {
      let u = 0, v = 0;
      for (let i = 0; i < nIn; i++) {
        u += l[i]! * re[i * nOut + o]! - Math.PI * k[i]! * im[i * nOut + o]!;
        v += Math.PI * k[i]! * re[i * nOut + o]! + l[i]! * im[i * nOut + o]!;
      }
      const d = dy[b * nOut + o]!;
      const du = d * Math.exp(u) * Math.cos(v);
      const dv = -d * Math.exp(u) * Math.sin(v);
      for (let i = 0; i < nIn; i++) {
        dRe[i * nOut + o] += l[i]! * du + Math.PI * k[i]! * dv;
        dIm[i * nOut + o] += l[i]! * dv - Math.PI * k[i]! * du;
        dl[i] += re[i * nOut + o]! * du + im[i * nOut + o]! * dv;
        dk[i] += Math.PI * re[i * nOut + o]! * dv - Math.PI * im[i * nOut + o]! * du;
      }
    }
    for (let i = 0; i < nIn; i++) {
      const dr = dl[i]! / r[i]!;
      dgc[i] += dr * (Math.abs(xs[i]!) + eps - 1) + (xs[i]! < 0 ? dk[i]! : 0);
      dx[b * nIn + i] = dr * gc[i]! * sign(xs[i]!);
    }
  }
  const dg = dgc.map((v, i) => (gRaw[i]! >= 0 && gRaw[i]! <= 1 ? v : 0));
  const grads: Params = layer.type === 'npu' ? { W_re: dRe, W_im: dIm, g: dg } : { W_re: dRe, g: dg };
  return { dx, grads };
}

// ---------------------------------------------------------------------------------------------
// Dispatch and the stack (any mix of these and the layers of ./layers)
// ---------------------------------------------------------------------------------------------

export function refMoreForward(layer: AnyLayer, p: Params, x: Float64Array, batch: number): Float64Array {
  if (!isMore(layer)) return refForward(layer, p, x, batch);
  return layer.type === 'inalu' ? inaluForward(layer, p, x, batch) : npuForward(layer, p, x, batch);
}

export function refMoreBackward(layer: AnyLayer, p: Params, x: Float64Array, batch: number, dy: Float64Array): { dx: Float64Array; grads: Params } {
  if (!isMore(layer)) return refBackward(layer, p, x, batch, dy);
  return layer.type === 'inalu' ? inaluBackward(layer, p, x, batch, dy) : npuBackward(layer, p, x, batch, dy);
}

/** Forward, MSE loss (mean over batch * outputs) and backward through `layers`. */
export function refMoreStack(layers: AnyLayer[], params: Params[], x: Float64Array, target: Float64Array, batch: number) {
  const acts: Float64Array[] = [x];
  layers.forEach((l, k) => acts.push(refMoreForward(l, params[k]!, acts[k]!, batch)));
  const y = acts[layers.length]!;
  const n = y.length;
  let sum = 0;
  let dy: Float64Array = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const e = y[j]! - target[j]!;
    sum += e * e;
    dy[j] = (2 * e) / n;
  }
  const grads: Params[] = new Array(layers.length);
  for (let k = layers.length - 1; k >= 0; k--) {
    const r = refMoreBackward(layers[k]!, params[k]!, acts[k]!, batch, dy);
    grads[k] = r.grads;
    dy = r.dx;
  }
  return { y, loss: sum / n, grads, dx: dy };
}
