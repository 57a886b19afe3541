// A naive JavaScript NALU stack: the baseline the benchmarks divide by.
//
// Written straight from ../shared/DESIGN.md section 2 with plain loops over Float32Array, row-major
// [batch, features], weights [inputs, outputs]. It is what a careful JavaScript programmer
// writes without tricks: buffers are allocated once per batch size and reused, the effective
// weights are computed once per forward, loops run in the cache-friendly i-k-j order, and the
// input gradient of the first layer is not computed (nobody needs it). No SIMD, no blocking,
// no fusion, no approximations: Math.exp/log/tanh.
//
//   W = tanh(W_hat) * sigmoid(M_hat)          (W' likewise from W_hat_mul, M_hat_mul if separate)
//   l = log(|x| + eps);  a = x W;  m = exp(l W');  g = sigmoid(x G);  y = g a + (1 - g) m
//   da = d g;  dmm = d (1 - g) m;  dg = d (a - m) g (1 - g)
//   dW = x^T da (+ l^T dmm tied);  dW' = l^T dmm (separate);  dG = x^T dg
//   dx = da W^T + ((dmm W'^T) * sign(x) / (|x| + eps)) + dg G^T
//   dW_hat = dW (1 - tanh(W_hat)^2) sigmoid(M_hat);  dM_hat = dW tanh(W_hat) s (1 - s)
// Loss: mean over batch*outputs of (y - t)^2. Adam: torch.optim.Adam semantics.

export interface NaiveLayerSpec {
  inputs: number;
  outputs: number;
  /** default 1e-7 */
  eps?: number;
  /** default true (tied weights, the paper) */
  sharedWeights?: boolean;
}

export type NaiveWeights = Array<Record<string, Float32Array>>;

export interface NaiveAdamOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** x [n, k] @ w [k, m] -> out [n, m] (overwrites out). */
function matmul(out: Float32Array, x: Float32Array, w: Float32Array, n: number, k: number, m: number): void {
  out.fill(0, 0, n * m);
  for (let r = 0; r < n; r++) {
    const xo = r * k, oo = r * m;
    for (let i = 0; i < k; i++) {
      const xv = x[xo + i]!;
      const wo = i * m;
      for (let c = 0; c < m; c++) out[oo + c] += xv * w[wo + c]!;
    }
  }
}

/** out [k, m] += a^T @ b with a [n, k], b [n, m]. */
function matmulTAAcc(out: Float32Array, a: Float32Array, b: Float32Array, n: number, k: number, m: number): void {
  for (let r = 0; r < n; r++) {
    const ao = r * k, bo = r * m;
    for (let i = 0; i < k; i++) {
      const av = a[ao + i]!;
      const oo = i * m;
      for (let c = 0; c < m; c++) out[oo + c] += av * b[bo + c]!;
    }
  }
}

/** out [n, k] += d @ w^T with d [n, m], w [k, m]. */
function matmulTBAcc(out: Float32Array, d: Float32Array, w: Float32Array, n: number, m: number, k: number): void {
  for (let r = 0; r < n; r++) {
    const d0 = r * m, o0 = r * k;
    for (let i = 0; i < k; i++) {
      const wo = i * m;
      let s = 0;
      for (let c = 0; c < m; c++) s += d[d0 + c]! * w[wo + c]!;
      out[o0 + i] += s;
    }
  }
}

class Layer {
  readonly nIn: number;
  readonly nOut: number;
  readonly eps: number;
  readonly shared: boolean;
  readonly names: string[];
  readonly params: Record<string, Float32Array> = {};
  readonly grads: Record<string, Float32Array> = {};
  readonly m1: Record<string, Float32Array> = {};
  readonly m2: Record<string, Float32Array> = {};
  // effective weights
  private w: Float32Array;
  private wm: Float32Array;
  private dW: Float32Array;
  private dWm: Float32Array;
  // activations for batches of up to `cap`
  private cap = 0;
  x!: Float32Array; // the input (a view of the previous layer's y, or the caller's x)
  private l!: Float32Array;
  private a!: Float32Array;
  private m!: Float32Array;
  private g!: Float32Array;
  y!: Float32Array;
  private da!: Float32Array;
  private dmm!: Float32Array;
  private dg!: Float32Array;
  private dxm!: Float32Array;
  dx!: Float32Array;

  constructor(spec: NaiveLayerSpec) {
    this.nIn = spec.inputs;
    this.nOut = spec.outputs;
    this.eps = spec.eps ?? 1e-7;
    this.shared = spec.sharedWeights ?? true;
    this.names = this.shared ? ['W_hat', 'M_hat', 'G'] : ['W_hat', 'M_hat', 'W_hat_mul', 'M_hat_mul', 'G'];
    const n = this.nIn * this.nOut;
    for (const name of this.names) {
      this.params[name] = new Float32Array(n);
      this.grads[name] = new Float32Array(n);
      this.m1[name] = new Float32Array(n);
      this.m2[name] = new Float32Array(n);
    }
    this.w = new Float32Array(n);
    this.wm = this.shared ? this.w : new Float32Array(n);
    this.dW = new Float32Array(n);
    this.dWm = this.shared ? this.dW : new Float32Array(n);
  }

  private ensure(batch: number): void {
    if (batch <= this.cap) return;
    const i = batch * this.nIn, o = batch * this.nOut;
    this.l = new Float32Array(i);
    this.a = new Float32Array(o);
    this.m = new Float32Array(o);
    this.g = new Float32Array(o);
    this.y = new Float32Array(o);
    this.da = new Float32Array(o);
    this.dmm = new Float32Array(o);
    this.dg = new Float32Array(o);
    this.dxm = new Float32Array(i);
    this.dx = new Float32Array(i);
    this.cap = batch;
  }

  private weights(): void {
    const n = this.nIn * this.nOut;
    const wh = this.params.W_hat!, mh = this.params.M_hat!;
    for (let j = 0; j < n; j++) this.w[j] = Math.tanh(wh[j]!) * sigmoid(mh[j]!);
    if (!this.shared) {
      const wh2 = this.params.W_hat_mul!, mh2 = this.params.M_hat_mul!;
      for (let j = 0; j < n; j++) this.wm[j] = Math.tanh(wh2[j]!) * sigmoid(mh2[j]!);
    }
  }

  /** y [batch, out] = NALU(x [batch, in]); keeps what backward needs. */
  forward(x: Float32Array, batch: number): Float32Array {
    this.ensure(batch);
    this.weights();
    const nIn = this.nIn, nOut = this.nOut, eps = this.eps;
    this.x = x;
    const l = this.l, a = this.a, m = this.m, g = this.g, y = this.y;
    for (let j = 0; j < batch * nIn; j++) l[j] = Math.log(Math.abs(x[j]!) + eps);
    matmul(a, x, this.w, batch, nIn, nOut);
    matmul(m, l, this.wm, batch, nIn, nOut);
    matmul(g, x, this.params.G!, batch, nIn, nOut);
    for (let j = 0; j < batch * nOut; j++) {
      const mv = Math.exp(m[j]!);
      const gv = sigmoid(g[j]!);
      m[j] = mv;
      g[j] = gv;
      y[j] = gv * a[j]! + (1 - gv) * mv;
    }
    return y;
  }

  /** Overwrites this layer's parameter gradients; fills dx when wantDx. */
  backward(d: Float32Array, batch: number, wantDx: boolean): void {
    const nIn = this.nIn, nOut = this.nOut, eps = this.eps, n = nIn * nOut;
    const a = this.a, m = this.m, g = this.g, da = this.da, dmm = this.dmm, dg = this.dg, x = this.x, l = this.l;
    for (let j = 0; j < batch * nOut; j++) {
      const dv = d[j]!, gv = g[j]!, mv = m[j]!;
      da[j] = dv * gv;
      dmm[j] = dv * (1 - gv) * mv;
      dg[j] = dv * (a[j]! - mv) * gv * (1 - gv);
    }
    this.dW.fill(0);
    if (!this.shared) this.dWm.fill(0);
    const dG = this.grads.G!;
    dG.fill(0);
    matmulTAAcc(this.dW, x, da, batch, nIn, nOut);
    matmulTAAcc(this.dWm, l, dmm, batch, nIn, nOut);
    matmulTAAcc(dG, x, dg, batch, nIn, nOut);
    if (wantDx) {
      const dx = this.dx, dxm = this.dxm;
      dx.fill(0, 0, batch * nIn);
      dxm.fill(0, 0, batch * nIn);
      matmulTBAcc(dx, da, this.w, batch, nOut, nIn);
      matmulTBAcc(dx, dg, this.params.G!, batch, nOut, nIn);
      matmulTBAcc(dxm, dmm, this.wm, batch, nOut, nIn);
      for (let j = 0; j < batch * nIn; j++) {
        const xv = x[j]!;
        const s = xv > 0 ? 1 : xv < 0 ? -1 : 0;
        dx[j] += dxm[j]! * s / (Math.abs(xv) + eps);
      }
    }
    this.weightBack(this.dW, this.params.W_hat!, this.params.M_hat!, this.grads.W_hat!, this.grads.M_hat!, n);
    if (!this.shared) {
      this.weightBack(this.dWm, this.params.W_hat_mul!, this.params.M_hat_mul!, this.grads.W_hat_mul!, this.grads.M_hat_mul!, n);
    }
  }

  private weightBack(dW: Float32Array, wh: Float32Array, mh: Float32Array, dwh: Float32Array, dmh: Float32Array, n: number): void {
    for (let j = 0; j < n; j++) {
      const t = Math.tanh(wh[j]!);
      const s = sigmoid(mh[j]!);
      dwh[j] = dW[j]! * (1 - t * t) * s;
      dmh[j] = dW[j]! * t * s * (1 - s);
    }
  }
}

/** A stack of NALU layers with MSE loss and Adam. */
export class NaiveNaluStack {
  readonly layers: Layer[];
  readonly inputs: number;
  readonly outputs: number;
  private dy = new Float32Array(0);
  private t = 0;
  private readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  constructor(specs: NaiveLayerSpec[], adam: NaiveAdamOptions = {}) {
    this.layers = specs.map((s) => new Layer(s));
    this.inputs = specs[0]!.inputs;
    this.outputs = specs[specs.length - 1]!.outputs;
    this.lr = adam.learningRate ?? 1e-3;
    this.beta1 = adam.beta1 ?? 0.9;
    this.beta2 = adam.beta2 ?? 0.999;
    this.epsilon = adam.epsilon ?? 1e-8;
  }

  setWeights(w: NaiveWeights): void {
    this.layers.forEach((L, k) => {
      for (const name of L.names) L.params[name]!.set(w[k]![name]!);
    });
  }

  getWeights(): NaiveWeights {
    return this.layers.map((L) => Object.fromEntries(L.names.map((n) => [n, L.params[n]!.slice()])));
  }

  getGradients(): NaiveWeights {
    return this.layers.map((L) => Object.fromEntries(L.names.map((n) => [n, L.grads[n]!.slice()])));
  }

  /** Forgets Adam's moments and step count. */
  resetOptimizer(): void {
    this.t = 0;
    for (const L of this.layers) for (const n of L.names) { L.m1[n]!.fill(0); L.m2[n]!.fill(0); }
  }

  private forward(x: Float32Array, batch: number): Float32Array {
    let h = x;
    for (const L of this.layers) h = L.forward(h, batch);
    return h;
  }

  /** A fresh [batch, outputs] array, as the wasm API returns. */
  predict(x: Float32Array, batch = x.length / this.inputs): Float32Array {
    return this.forward(x, batch).slice(0, batch * this.outputs);
  }

  /** The loss; leaves the gradients in the layers (see getGradients). */
  gradients(x: Float32Array, target: Float32Array, batch = x.length / this.inputs): number {
    const y = this.forward(x, batch);
    const n = batch * this.outputs;
    if (this.dy.length < n) this.dy = new Float32Array(n);
    const dy = this.dy;
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = y[j]! - target[j]!;
      sum += e * e;
      dy[j] = (2 * e) / n;
    }
    let d: Float32Array = dy;
    for (let k = this.layers.length - 1; k >= 0; k--) {
      const L = this.layers[k]!;
      L.backward(d, batch, k > 0);
      d = L.dx;
    }
    return sum / n;
  }

  /** One Adam step; returns the loss before it. */
  trainStep(x: Float32Array, target: Float32Array, batch = x.length / this.inputs): number {
    const loss = this.gradients(x, target, batch);
    this.t += 1;
    const b1 = this.beta1, b2 = this.beta2, eps = this.epsilon;
    const stepSize = this.lr / (1 - b1 ** this.t);
    const bc2 = Math.sqrt(1 - b2 ** this.t);
    for (const L of this.layers) {
      for (const name of L.names) {
        const p = L.params[name]!, g = L.grads[name]!, m = L.m1[name]!, v = L.m2[name]!;
        for (let j = 0; j < p.length; j++) {
          const gv = g[j]!;
          const mv = b1 * m[j]! + (1 - b1) * gv;
          const vv = b2 * v[j]! + (1 - b2) * gv * gv;
          m[j] = mv;
          v[j] = vv;
          p[j] = p[j]! - stepSize * (mv / (Math.sqrt(vv) / bc2 + eps));
        }
      }
    }
    return loss;
  }
}
