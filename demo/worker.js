// The training worker: one model per worker (the compare view runs two), so that training never
// blocks the page. A module worker importing the package's browser entry, which fetches
// nalu-simd.wasm (or nalu-scalar.wasm) from beside dist/browser.js.
//
// Messages in:  { type: 'train', runId, config }  starts a run (ending any previous one)
//               { type: 'stop' }                  ends the run after the current slice
//               { type: 'setB', b }               moves the line along which predictions are plotted
// Messages out: { type: 'ready', backend, simd }, { type: 'progress', runId, ... }, { type: 'error', runId, message }
import * as nalu from '../dist/browser.js';
import { linspace, modelTable, SWEEP_POINTS, viewRange } from './models.js';

const SLICE_MS = 40; // train this long between progress messages
const SLOW_STEPS_PER_SECOND = 2000;
const BINS_PER_DECADE = 40; // the loss curve: mean loss over log-spaced bins of steps
const EVAL_SAMPLES = 2000;

let run = null;
let latest = null;
const ready = nalu.init().then((info) => {
  postMessage({ type: 'ready', backend: info.backend, simd: nalu.simdSupported() });
  return info;
}, (err) => {
  postMessage({ type: 'error', runId: null, message: `init failed: ${err?.message ?? err}` });
  throw err;
});

// A yield to the event loop without setTimeout's 4 ms clamp: messages that arrived meanwhile
// (stop, setB, a new run) are handled before this one.
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();
const yieldToEvents = () => new Promise((resolve) => { waiting.push(resolve); channel.port2.postMessage(null); });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

onmessage = async ({ data }) => {
  if (data.type === 'stop') {
    if (run) run.stopped = true;
  } else if (data.type === 'setB') {
    if (run) {
      run.b = data.b;
      // A finished run keeps its model until the next one, so that moving b still redraws.
      if (run.finished) report(run, true);
    }
  } else if (data.type === 'train') {
    latest = data.runId;
    try {
      await ready;
      if (latest !== data.runId) return; // a newer run was asked for meanwhile
      if (run) {
        run.stopped = true;
        if (run.finished) dispose(run);
        else run.disposeWhenDone = true;
      }
      const r = makeRun(data.runId, data.config);
      run = r;
      await train(r);
    } catch (err) {
      if (run?.runId === data.runId && !run.finished) {
        run.finished = true;
        dispose(run);
        run = null;
      }
      postMessage({ type: 'error', runId: data.runId, message: String(err?.message ?? err) });
    }
  }
};

function makeRun(runId, c) {
  const { models } = modelTable(nalu);
  const entry = models.find((m) => m.id === c.model);
  if (!entry) throw new Error(`unknown model ${c.model}`);
  const inputs = c.task === 'identity' ? 1 : 2;
  const model = nalu.sequential(entry.layers(inputs, c.hidden, c.activation), { seed: c.seed, ...entry.options });
  let task, validation, test;
  if (c.task === 'identity') {
    task = nalu.identityTask({ seed: c.seed, train: c.train, test: c.test });
    validation = grid(c.train, EVAL_SAMPLES, () => true);
    test = grid(c.test, EVAL_SAMPLES, (x) => x < c.train[0] || x > c.train[1]);
  } else {
    // The static task with two inputs, a subset of one each: x = (a, b), target op(a, b).
    task = nalu.staticTask({
      op: c.task, seed: c.seed, inputSize: 2, subsetRatio: 0.5, overlapRatio: 0,
      interpolation: c.train, extrapolation: c.test,
    });
    validation = task.validationSet(EVAL_SAMPLES);
    test = task.testSet(EVAL_SAMPLES);
  }
  const optimizer = c.optimizer === 'sgd' ? nalu.sgd({ learningRate: c.learningRate }) : nalu.adam({ learningRate: c.learningRate });
  const [lo, hi] = viewRange(c.train, c.test);
  return {
    runId, c, inputs, model, sampler: task.trainSampler(), optimizer, validation, test,
    sweepA: linspace(lo, hi, SWEEP_POINTS), b: c.b,
    step: 0, skipped: 0, stopped: false, finished: false, disposeWhenDone: false, lastLoss: NaN,
    bins: new Map(), // bin -> [sum of losses, sum of steps, count]
    best: Infinity,
    started: 0, endedAt: 0, lastTick: 0, rate: { steps: 0, ms: 0, value: 0 },
  };
}

/** A labelled set of identity samples on an even grid of a range, keeping points where keep(x). */
function grid([lo, hi], n, keep) {
  const xs = Array.from(linspace(lo, hi, n)).filter(keep);
  return { x: Float32Array.from(xs), target: Float64Array.from(xs, (v) => Math.fround(v)), n: xs.length };
}

function mse(model, d) {
  if (d.n === 0) return NaN;
  const y = model.predict(d.x);
  let s = 0;
  for (let i = 0; i < d.n; i++) {
    const e = y[i] - d.target[i];
    s += e * e;
  }
  const m = s / d.n;
  return Number.isNaN(m) ? Infinity : m;
}

function record(r, step, loss) {
  if (!Number.isFinite(loss)) return;
  const bin = Math.floor(BINS_PER_DECADE * Math.log10(step));
  const b = r.bins.get(bin);
  if (b) {
    b[0] += loss;
    b[1] += step;
    b[2]++;
  } else {
    r.bins.set(bin, [loss, step, 1]);
  }
}

async function train(r) {
  const c = r.c;
  const slow = c.speed === 'slow';
  r.started = r.lastTick = performance.now();
  report(r, false);
  while (!r.stopped && r.step < c.steps) {
    const t0 = performance.now();
    const budget = slow ? Math.max(1, Math.round((SLOW_STEPS_PER_SECOND * SLICE_MS) / 1000)) : Infinity;
    let done = 0;
    // Steps in blocks of 32 between clock reads; a slice ends after SLICE_MS.
    while (done < budget && r.step < c.steps) {
      const block = Math.min(32, budget - done, c.steps - r.step);
      for (let k = 0; k < block; k++) {
        r.step++;
        try {
          const loss = r.model.trainStepOn(r.sampler, r.optimizer, c.batch);
          r.lastLoss = loss;
          record(r, r.step, loss);
        } catch (err) {
          if (!(err instanceof nalu.NaluError) || !/not finite/.test(err.message)) throw err;
          r.skipped++;
        }
      }
      done += block;
      if (performance.now() - t0 >= SLICE_MS) break;
    }
    const ms = performance.now() - t0;
    if (slow) await sleep(Math.max(0, SLICE_MS - ms));
    else await yieldToEvents();
    // steps/s in wall-clock time (reports, pauses and all) over roughly the last second: an
    // exponentially weighted window.
    const now = performance.now();
    const wall = now - r.lastTick;
    r.lastTick = now;
    const decay = Math.exp(-wall / 1000);
    r.rate.steps = r.rate.steps * decay + done;
    r.rate.ms = r.rate.ms * decay + wall;
    r.rate.value = r.rate.ms > 0 ? (1000 * r.rate.steps) / r.rate.ms : 0;
    report(r, false);
  }
  r.finished = true;
  r.endedAt = performance.now();
  report(r, true);
  if (r.disposeWhenDone) dispose(r);
}

function dispose(r) {
  r.model.dispose();
  r.sampler.dispose();
}

function report(r, done) {
  const elapsedMs = (r.finished ? r.endedAt : performance.now()) - r.started;
  const x = new Float32Array(SWEEP_POINTS * r.inputs);
  for (let i = 0; i < SWEEP_POINTS; i++) {
    x[i * r.inputs] = r.sweepA[i];
    if (r.inputs === 2) x[i * 2 + 1] = r.b;
  }
  const prediction = r.model.predict(x);
  const extrapolationMse = mse(r.model, r.test);
  const interpolationMse = mse(r.model, r.validation);
  if (extrapolationMse < r.best) r.best = extrapolationMse;
  const loss = [...r.bins.entries()].sort((p, q) => p[0] - q[0]).map(([, [sum, steps, n]]) => [steps / n, sum / n]);
  postMessage({
    type: 'progress',
    runId: r.runId,
    done,
    stopped: r.stopped,
    step: r.step,
    skipped: r.skipped,
    stepsPerSecond: r.rate.value,
    elapsedMs,
    averageStepsPerSecond: (1000 * r.step) / Math.max(1, elapsedMs),
    lastLoss: r.lastLoss,
    interpolationMse,
    extrapolationMse,
    bestExtrapolationMse: r.best,
    loss,
    sweep: { a: r.sweepA, b: r.b, prediction },
  });
}
