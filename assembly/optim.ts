// Optimizers as flat loops over the state arena: parameters p, gradients g and the two
// moment regions m and v share one layout of n floats (n a multiple of 4).
//
// Adam, as torch.optim.Adam (no weight decay, not amsgrad): at step t
//   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
//   p = p - stepSize * m / (sqrt(v) / bc2sqrt + eps),  stepSize = lr / (1 - beta1^t),
//   bc2sqrt = sqrt(1 - beta2^t)   (both computed by the host in f64, passed as f32).
// RMSProp, as torch.optim.RMSprop (no momentum, not centered): v = alpha v + (1 - alpha) g^2;
//   p = p - lr g / (sqrt(v) + eps).
// SGD: p = p - lr g.
// Gradient clipping (the clip option) clamps every gradient to [-c, c] first: vclamp (elementwise.ts).

export function adamUpdate(p: usize, g: usize, m: usize, v: usize, n: i32,
                           beta1: f32, beta2: f32, eps: f32, stepSize: f32, bc2sqrt: f32): void {
  const c1: f32 = 1 - beta1, c2: f32 = 1 - beta2;
  if (ASC_FEATURE_SIMD) {
    const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2), k1 = f32x4.splat(c1), k2 = f32x4.splat(c2);
    const ev = f32x4.splat(eps), sv = f32x4.splat(-stepSize), bc = f32x4.splat(bc2sqrt);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      const gv = v128.load(g + o);
      const mv = f32x4.add(f32x4.mul(v128.load(m + o), b1), f32x4.mul(gv, k1));
      const vv = f32x4.add(f32x4.mul(v128.load(v + o), b2), f32x4.mul(f32x4.mul(gv, gv), k2));
      v128.store(m + o, mv);
      v128.store(v + o, vv);
      const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), bc), ev);
      v128.store(p + o, f32x4.add(v128.load(p + o), f32x4.mul(sv, f32x4.div(mv, denom))));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      const gv = load<f32>(g + o);
      const mv = load<f32>(m + o) * beta1 + gv * c1;
      const vv = load<f32>(v + o) * beta2 + (gv * gv) * c2;
      store<f32>(m + o, mv);
      store<f32>(v + o, vv);
      const denom = Mathf.sqrt(vv) / bc2sqrt + eps;
      store<f32>(p + o, load<f32>(p + o) + (-stepSize) * (mv / denom));
    }
  }
}

export function sgdUpdate(p: usize, g: usize, n: i32, lr: f32): void {
  if (ASC_FEATURE_SIMD) {
    const k = f32x4.splat(-lr);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      v128.store(p + o, f32x4.add(v128.load(p + o), f32x4.mul(k, v128.load(g + o))));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(p + o, load<f32>(p + o) + (-lr) * load<f32>(g + o));
    }
  }
}

export function rmspropUpdate(p: usize, g: usize, v: usize, n: i32, lr: f32, alpha: f32, eps: f32): void {
  const c: f32 = 1 - alpha;
  if (ASC_FEATURE_SIMD) {
    const av = f32x4.splat(alpha), cv = f32x4.splat(c), ev = f32x4.splat(eps), lv = f32x4.splat(-lr);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      const gv = v128.load(g + o);
      const vv = f32x4.add(f32x4.mul(v128.load(v + o), av), f32x4.mul(f32x4.mul(gv, gv), cv));
      v128.store(v + o, vv);
      v128.store(p + o, f32x4.add(v128.load(p + o), f32x4.mul(lv, f32x4.div(gv, f32x4.add(f32x4.sqrt(vv), ev)))));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      const gv = load<f32>(g + o);
      const vv = load<f32>(v + o) * alpha + (gv * gv) * c;
      store<f32>(v + o, vv);
      store<f32>(p + o, load<f32>(p + o) + (-lr) * (gv / (Mathf.sqrt(vv) + eps)));
    }
  }
}
