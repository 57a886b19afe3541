// The workload of `npm run bench:runtimes`, plain JavaScript with no imports so that every runtime
// loads it as is: shape S of bench/ (the NALU stack 100 -> 2 -> 1, Adam lr 1e-3, batch 128),
// shape E (the same stack predicting one sample) and shape M on one thread and on two (see
// measureThreads). S's data: a pool of 8 seeded batches, x U[-1, 1),
// the target the sum of two slices of x (bench/lib/tasks.ts); the model returns to its starting
// weights with a fresh Adam every 1000 steps, as in bench/run.ts.

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INPUTS = 100, BATCH = 128, POOL = 8;

function pool(batch) {
  const rand = mulberry32(42);
  const xs = [], ts = [];
  for (let k = 0; k < POOL; k++) {
    const x = new Float32Array(batch * INPUTS);
    for (let i = 0; i < x.length; i++) x[i] = rand() * 2 - 1;
    const t = new Float32Array(batch);
    for (let b = 0; b < batch; b++) {
      let s = 0;
      for (let i = 0; i < 2 * 50; i++) s += x[b * INPUTS + i];
      t[b] = s / 2;
    }
    xs.push(x);
    ts.push(t);
  }
  return { xs, ts };
}

export const OPS = ['train', 'predict', 'predictInto'];

/** The timed operations over `nalu` (the package's namespace, already initialised). */
export function workload(nalu) {
  const model = nalu.sequential([nalu.nalu({ inputs: INPUTS, outputs: 2 }), nalu.nalu({ inputs: 2, outputs: 1 })], { seed: 1 });
  const start = model.getWeights();
  const train = pool(BATCH), single = pool(1);
  let optim = nalu.adam({ learningRate: 1e-3 });
  const out = new Float32Array(1);
  let steps = 0, calls = 0, sink = 0;
  return {
    /** n Adam steps of S. */
    train(n) {
      for (let i = 0; i < n; i++) {
        const k = steps++ & (POOL - 1);
        sink += model.trainStep(train.xs[k], train.ts[k], optim, BATCH);
        if (steps % 1000 === 0) {
          model.setWeights(start);
          optim = nalu.adam({ learningRate: 1e-3 });
        }
      }
      return sink;
    },
    /** n batch-1 predictions (E), each returning a new array. */
    predict(n) {
      for (let i = 0; i < n; i++) sink += model.predict(single.xs[calls++ & (POOL - 1)], 1)[0];
      return sink;
    },
    /** n batch-1 predictions (E) into one buffer (predict's out): no allocation per call. */
    predictInto(n) {
      for (let i = 0; i < n; i++) sink += model.predict(single.xs[calls++ & (POOL - 1)], 1, out)[0];
      return sink;
    },
  };
}

/**
 * Times `run(n)` with `now` (milliseconds): a warm-up that sizes n so that one sample lasts about
 * `seconds`, then `samples` samples, each as `rate(n, ms)`.
 */
function sample(run, now, rate, { seconds = 0.5, samples = 5 } = {}) {
  let n = 16;
  for (;;) {
    const t0 = now();
    run(n);
    const ms = now() - t0;
    if (ms >= 0.5 * seconds * 1000) {
      n = Math.max(1, Math.round((n * seconds * 1000) / ms));
      break;
    }
    n *= 4;
  }
  const rates = [];
  for (let s = 0; s < samples; s++) {
    const t0 = now();
    run(n);
    rates.push(rate(n, now() - t0));
  }
  return rates;
}

const perSecond = (n, ms) => n / (ms / 1000);

/**
 * Times the operations of workload() with `now` (milliseconds). Returns { train: steps/s[],
 * predict: us/call[], predictInto: us/call[] }.
 */
export function measure(w, now, options) {
  const out = {};
  for (const op of OPS) out[op] = sample((n) => w[op](n), now, op === 'train' ? perSecond : (n, ms) => (ms * 1000) / n, options);
  return out;
}

/**
 * Shape M (one NALU 64 -> 64, batch 1024, Adam lr 1e-3, a pool of 8 batches from arrays) on one
 * thread and on init({ threads: 2 }), whose threads the runtime may not give (the result says).
 * Returns { m1: steps/s[], m2: steps/s[], threads }.
 */
export async function measureThreads(nalu, now, options) {
  const rand = mulberry32(7), M = 64, B = 1024;
  const xs = [], ts = [];
  for (let k = 0; k < POOL; k++) {
    xs.push(Float32Array.from({ length: B * M }, () => rand() * 2 - 1));
    ts.push(Float32Array.from({ length: B * M }, () => rand() - 0.5));
  }
  const out = {};
  for (const asked of [1, 2]) {
    const { threads } = await nalu.init({ threads: asked });
    if (asked === 2) out.threads = threads;
    const model = nalu.sequential([nalu.nalu({ inputs: M, outputs: M })], { seed: 1 });
    const start = model.getWeights();
    let optim = nalu.adam({ learningRate: 1e-3 }), steps = 0;
    out[`m${asked}`] = sample((n) => {
      for (let i = 0; i < n; i++) {
        const k = steps++ & (POOL - 1);
        model.trainStep(xs[k], ts[k], optim, B);
        if (steps % 200 === 0) {
          model.setWeights(start);
          optim = nalu.adam({ learningRate: 1e-3 });
        }
      }
    }, now, perSecond, options);
    model.dispose();
  }
  await nalu.init();
  return out;
}
