// The NALU in TensorFlow.js ops (the baseline of the performance issue): tf.variable for the
// parameters, tf.train.adam for the update (the same semantics as torch.optim.Adam: bias-corrected
// moments, epsilon added to sqrt(v_hat)), tf.variableGrads for the gradient check. Written the
// way a tfjs user would: one op per line of the equations, tf.tidy around the forward pass.
//
//   W = tanh(W_hat) * sigmoid(M_hat);  a = x W;  m = exp(log(|x| + eps) W);  g = sigmoid(x G)
//   y = g a + (1 - g) m;  loss = mean((y - t)^2)

import type { Computed, F32Weights } from './check';
import { importDep, resolveDep } from './deps';
import type { Runner } from './runners';
import type { BenchShape } from './shapes';

export type TfBackend = 'wasm' | 'cpu';

/** Loads @tensorflow/tfjs (and the wasm backend) and selects `backend`; null when not installed. */
export async function loadTf(backend: TfBackend): Promise<{ tf: any; info: Record<string, unknown> } | null> {
  const tf = await importDep('@tensorflow/tfjs');
  if (!tf) return null;
  if (backend === 'wasm') {
    const wasm = await importDep('@tensorflow/tfjs-backend-wasm');
    if (!wasm) return null;
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  const info: Record<string, unknown> = { version: tf.version?.tfjs ?? tf.version_core, backend: tf.getBackend() };
  if (backend === 'wasm') {
    info.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    info.multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    info.threads = tf.backend()?.getThreadsCount?.() ?? null;
  }
  info.module = resolveDep('@tensorflow/tfjs');
  return { tf, info };
}

export function tfRunner(tf: any, backend: TfBackend, shape: BenchShape, initial: F32Weights): Runner {
  const eps = tf.scalar(shape.layers[0]!.eps ?? 1e-7);
  const one = tf.scalar(1);
  const vars = shape.layers.map((l, k) => ({
    W_hat: tf.variable(tf.tensor2d(initial[k]!.W_hat!, [l.inputs, l.outputs]), true, `L${k}_W_hat`),
    M_hat: tf.variable(tf.tensor2d(initial[k]!.M_hat!, [l.inputs, l.outputs]), true, `L${k}_M_hat`),
    G: tf.variable(tf.tensor2d(initial[k]!.G!, [l.inputs, l.outputs]), true, `L${k}_G`),
  }));
  const varList = vars.flatMap((v) => [v.W_hat, v.M_hat, v.G]);
  const inputs = shape.layers[0]!.inputs;
  const outputs = shape.layers.at(-1)!.outputs;
  let optimizer = tf.train.adam(shape.learningRate, 0.9, 0.999, 1e-8);

  const forward = (x: any): any => {
    let h = x;
    for (const p of vars) {
      const W = tf.mul(tf.tanh(p.W_hat), tf.sigmoid(p.M_hat));
      const a = tf.matMul(h, W);
      const l = tf.log(tf.add(tf.abs(h), eps));
      const m = tf.exp(tf.matMul(l, W));
      const g = tf.sigmoid(tf.matMul(h, p.G));
      h = tf.add(tf.mul(g, a), tf.mul(tf.sub(one, g), m));
    }
    return h;
  };
  const lossOf = (x: any, t: any): any => tf.mean(tf.square(tf.sub(forward(x), t)));

  const setWeights = (w: F32Weights) => {
    vars.forEach((v, k) => {
      for (const name of ['W_hat', 'M_hat', 'G'] as const) {
        const t = tf.tensor2d(w[k]![name]!, v[name].shape);
        v[name].assign(t);
        t.dispose();
      }
    });
  };
  let pooled: any[] | undefined; // the pool's inputs as tensors, made once for resident and residentPredict
  const residentInputs = (xs: Float32Array[], batch: number) => (pooled ??= xs.map((x) => tf.tensor2d(x, [batch, inputs])));

  return {
    label: `tfjs ${backend}`,
    reset(start = initial) {
      setWeights(start);
      optimizer.dispose();
      optimizer = tf.train.adam(shape.learningRate, 0.9, 0.999, 1e-8);
    },
    setWeights,
    getWeights: () => vars.map((v) => ({
      W_hat: v.W_hat.dataSync().slice(), M_hat: v.M_hat.dataSync().slice(), G: v.G.dataSync().slice(),
    })),
    train(x, t, batch) {
      const xt = tf.tensor2d(x, [batch, inputs]);
      const tt = tf.tensor2d(t, [batch, outputs]);
      const cost = optimizer.minimize(() => lossOf(xt, tt), true, varList);
      const loss = cost.dataSync()[0];
      cost.dispose();
      xt.dispose();
      tt.dispose();
      return loss;
    },
    resident(xs, ts, batch) {
      const xts = residentInputs(xs, batch);
      const tts = ts.map((t) => tf.tensor2d(t, [batch, outputs]));
      return (k) => {
        const cost = optimizer.minimize(() => lossOf(xts[k], tts[k]), true, varList);
        const loss = cost.dataSync()[0];
        cost.dispose();
        return loss;
      };
    },
    residentPredict(xs, _ts, batch) {
      const xts = residentInputs(xs, batch);
      return (k) => {
        const y = tf.tidy(() => forward(xts[k]));
        const out = y.dataSync() as Float32Array;
        y.dispose();
        return out;
      };
    },
    predict(x, batch) {
      const y = tf.tidy(() => forward(tf.tensor2d(x, [batch, inputs])));
      const out = y.dataSync() as Float32Array;
      y.dispose();
      return out;
    },
    compute(x, t, batch): Computed {
      const y = this.predict(x, batch);
      const xt = tf.tensor2d(x, [batch, inputs]);
      const tt = tf.tensor2d(t, [batch, outputs]);
      const { value, grads } = tf.variableGrads(() => lossOf(xt, tt), varList);
      const loss = value.dataSync()[0];
      const out = vars.map((_v, k) => Object.fromEntries(['W_hat', 'M_hat', 'G'].map((n) => {
        const g = grads[`L${k}_${n}`];
        return [n, g.dataSync().slice() as Float32Array];
      })));
      tf.dispose([value, xt, tt, ...Object.values(grads)]);
      return { y, loss, grads: out };
    },
    dispose() {
      tf.dispose([...varList, eps, one]);
      optimizer.dispose();
    },
  };
}
