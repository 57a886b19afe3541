// Adam with torch.optim.Adam's semantics (PyTorch 1.13, single-tensor path, no weight decay,
// amsgrad off), in float64, in place:
//   t += 1
//   m = beta1 m + (1 - beta1) g
//   v = beta2 v + (1 - beta2) g^2
//   p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// Defaults beta1 0.9, beta2 0.999, eps 1e-8 (../shared/DESIGN.md section 1).

import type { Params } from './types';

export interface RefAdamState {
  m: Params[];
  v: Params[];
  t: number;
}

/** Zeroed moments shaped like `params`, t = 0. (refAdam also creates missing moments lazily.) */
export function refAdamState(params: Params[]): RefAdamState {
  const zeros = (p: Params): Params => {
    const z: Params = {};
    for (const name of Object.keys(p)) z[name] = new Float64Array(p[name].length);
    return z;
  };
  return { m: params.map(zeros), v: params.map(zeros), t: 0 };
}

export function refAdam(
  params: Params[],
  grads: Params[],
  state: { m: Params[]; v: Params[]; t: number },
  o: { lr: number; beta1?: number; beta2?: number; eps?: number },
): void {
  const beta1 = o.beta1 ?? 0.9;
  const beta2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  if (grads.length !== params.length) throw new Error('refAdam: one gradient set per parameter set');
  state.t += 1;
  const t = state.t;
  const stepSize = o.lr / (1 - beta1 ** t);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
  for (let k = 0; k < params.length; k++) {
    const mk = (state.m[k] ??= {});
    const vk = (state.v[k] ??= {});
    for (const name of Object.keys(params[k])) {
      const p = params[k][name];
      const g = grads[k][name];
      if (!g || g.length !== p.length) throw new Error(`refAdam: gradient of ${name} (set ${k}) missing or of the wrong length`);
      const m = (mk[name] ??= new Float64Array(p.length));
      const v = (vk[name] ??= new Float64Array(p.length));
      for (let j = 0; j < p.length; j++) {
        m[j] = beta1 * m[j] + (1 - beta1) * g[j];
        v[j] = beta2 * v[j] + (1 - beta2) * g[j] * g[j];
        const denom = Math.sqrt(v[j]) / bc2Sqrt + eps;
        p[j] -= stepSize * (m[j] / denom);
      }
    }
  }
}
