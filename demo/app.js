// The page: reads the form, starts one training worker per model (two in the compare view),
// and draws what they report. The page itself never trains: it only draws, at most once a frame.
import * as nalu from '../dist/browser.js';
import { drawChart } from './charts.js';
import {
  compareUnit, linspace, modelTable, SHORT, SWEEP_POINTS, TASKS, taskDefaults, truth, usesB, viewRange,
} from './models.js';

const $ = (id) => document.getElementById(id);
const form = $('controls');
const els = {
  task: $('task'), model: $('model'), unit: $('unit'), activation: $('activation'), lr: $('lr'), steps: $('steps'),
  trainLo: $('train-lo'), trainHi: $('train-hi'), testLo: $('test-lo'), testHi: $('test-hi'),
  optimizer: $('optimizer'), batch: $('batch'), hidden: $('hidden'), seed: $('seed'), speed: $('speed'),
  train: $('train'), stop: $('stop'), formError: $('form-error'), status: $('status'), lanes: $('lanes'),
  b: $('b'), bValue: $('b-value'), bField: $('b-field'), legend: $('legend'), backend: $('backend'),
  lossChart: $('loss-chart'), predChart: $('pred-chart'), lossSummary: $('loss-summary'), predSummary: $('pred-summary'),
};

/**
 * The page's state, also read by the end-to-end test (test/demo/): the lanes' latest reports,
 * the input events the page handled while training and the main thread's long tasks.
 */
const state = {
  status: 'loading',
  backend: null,
  runId: 0,
  config: null,
  lanes: [],
  charts: { lossSegments: 0, predSegments: 0 },
  inputEvents: [],
  longTasks: [],
  frames: 0,
  /** How long the latest renders took, in ms. */
  renderMs: [],
};
window.naluDemo = state;

try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) state.longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
} catch {
  // No long-task timing in this browser: the list stays empty.
}

const { models, activations } = modelTable(nalu);
const modelLabel = (id, activation) => (id === 'mlp' ? `MLP (${activation})` : SHORT[id] ?? id);

// ---- the form ----------------------------------------------------------------------------------

function option(select, value, label, selected = false) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = label;
  o.selected = selected;
  select.appendChild(o);
}

for (const t of TASKS) option(els.task, t.id, t.label, t.id === 'add');
for (const m of models) option(els.model, m.id, m.label, m.id === 'nac');
for (const m of models.filter((m) => m.id !== 'mlp')) option(els.unit, m.id, m.label, m.id === 'nac');
for (const a of activations) option(els.activation, a, a, a === 'tanh');

let previousTask = els.task.value;
let unitTouched = false;
let modelTouched = false;
const mode = () => form.elements.mode.value;

function setRange(d) {
  [els.trainLo.value, els.trainHi.value, els.testLo.value, els.testHi.value] = [...d.train, ...d.test].map(String);
}

function onTaskChange() {
  const before = taskDefaults(previousTask), after = taskDefaults(els.task.value);
  const current = [els.trainLo, els.trainHi, els.testLo, els.testHi].map((e) => Number(e.value));
  // Follow the task's default ranges unless the person changed them.
  if (current.join() === [...before.train, ...before.test].join()) setRange(after);
  if (Number(els.hidden.value) === before.hidden) els.hidden.value = String(after.hidden);
  if (!unitTouched) els.unit.value = compareUnit(els.task.value);
  if (!modelTouched) els.model.value = compareUnit(els.task.value);
  onModeChange();
  previousTask = els.task.value;
  onRangeChange(true);
}

function onModeChange() {
  const compare = mode() === 'compare';
  $('model-field').hidden = compare;
  $('unit-field').hidden = !compare;
  $('activation-field').hidden = !compare && els.model.value !== 'mlp';
  if (compare && !unitTouched) els.unit.value = compareUnit(els.task.value);
}

/** Keeps the b slider inside the plotted range; `reset` puts b in the middle of the training range. */
function onRangeChange(reset = false) {
  const r = readRanges();
  els.bField.hidden = !usesB(els.task.value);
  if (!r) return;
  const [lo, hi] = viewRange(r.train, r.test);
  els.b.min = String(lo);
  els.b.max = String(hi);
  els.b.step = String(niceStep((hi - lo) / 200));
  if (reset || Number(els.b.value) < lo || Number(els.b.value) > hi) els.b.value = String((r.train[0] + r.train[1]) / 2);
  showB();
  scheduleRender();
}

const niceStep = (raw) => {
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
};

function showB() {
  els.bValue.textContent = Number(els.b.value).toFixed(2);
}

function readRanges() {
  const v = [els.trainLo, els.trainHi, els.testLo, els.testHi].map((e) => Number(e.value));
  if (!v.every(Number.isFinite) || !(v[0] < v[1]) || !(v[2] < v[3])) return null;
  return { train: [v[0], v[1]], test: [v[2], v[3]] };
}

/** The run's configuration from the form, or a message saying what is wrong. */
function readConfig() {
  const num = (e) => Number(e.value);
  const int = (e, lo, hi, what) => {
    const v = num(e);
    if (e.value.trim() === '' || !Number.isInteger(v) || v < lo || v > hi) throw new Error(`${what} must be a whole number from ${lo} to ${hi}`);
    return v;
  };
  const ranges = readRanges();
  if (!ranges) throw new Error('each range needs two numbers, the first smaller than the second');
  const learningRate = num(els.lr);
  if (els.lr.value.trim() === '' || !(learningRate > 0) || !(learningRate <= 1e6)) throw new Error('the learning rate must be a number above 0');
  return {
    task: els.task.value,
    activation: els.activation.value,
    learningRate,
    steps: int(els.steps, 1, 1e8, 'Steps'),
    batch: int(els.batch, 1, 4096, 'Batch size'),
    hidden: int(els.hidden, 1, 256, 'Hidden units'),
    seed: int(els.seed, 0, 4294967295, 'Seed'),
    optimizer: els.optimizer.value,
    speed: els.speed.value,
    ...ranges,
    b: Number(els.b.value),
  };
}

els.task.addEventListener('change', onTaskChange);
els.model.addEventListener('change', () => { modelTouched = true; onModeChange(); });
els.unit.addEventListener('change', () => { unitTouched = true; });
for (const r of form.elements.mode) r.addEventListener('change', onModeChange);
for (const e of [els.trainLo, els.trainHi, els.testLo, els.testHi]) e.addEventListener('input', () => onRangeChange(false));

els.b.addEventListener('input', (event) => {
  // Handled on the main thread while the workers train: the test measures this latency.
  state.inputEvents.push({ value: Number(els.b.value), latencyMs: performance.now() - event.timeStamp, at: performance.now() });
  showB();
  for (const w of workers) w?.worker.postMessage({ type: 'setB', b: Number(els.b.value) });
  scheduleRender();
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  let config;
  try {
    config = readConfig();
  } catch (err) {
    els.formError.textContent = err.message;
    els.formError.hidden = false;
    return;
  }
  els.formError.hidden = true;
  start(config);
});

els.stop.addEventListener('click', stop);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && state.status === 'training') stop();
});

// ---- the workers -------------------------------------------------------------------------------

const workers = [];

function worker(i) {
  if (!workers[i]) {
    const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    const entry = { worker: w, ready: false };
    w.onmessage = ({ data }) => onMessage(i, data);
    w.onerror = (e) => setError(`the training worker failed: ${e.message || 'could not load worker.js or the package'}`);
    workers[i] = entry;
  }
  return workers[i];
}

function onMessage(i, msg) {
  if (msg.type === 'ready') {
    workers[i].ready = true;
    if (state.status === 'loading') {
      state.backend = msg.backend;
      els.backend.textContent = `Backend: ${msg.backend === 'simd' ? 'WebAssembly SIMD' : 'scalar WebAssembly (this browser has no WebAssembly SIMD)'}; ${models.length} models (${models.map((m) => SHORT[m.id] ?? m.id).join(', ')}).`;
      setStatus('ready', 'Ready. Pick a task and a model, then press Train.');
      els.train.disabled = false;
    }
  } else if (msg.type === 'progress') {
    if (msg.runId !== state.runId || !state.lanes[i]) return;
    Object.assign(state.lanes[i], msg);
    if (state.lanes.every((l) => l.done)) finish();
    scheduleRender();
  } else if (msg.type === 'error') {
    if (msg.runId === null || msg.runId === state.runId) setError(msg.message);
  }
}

function start(config) {
  state.runId++;
  state.config = config;
  const ids = mode() === 'compare' ? ['mlp', els.unit.value] : [els.model.value];
  state.lanes = ids.map((model) => ({ model, label: modelLabel(model, config.activation), done: false, step: 0 }));
  state.inputEvents = [];
  // A worker left over from the compare view stops.
  for (let i = ids.length; i < workers.length; i++) workers[i]?.worker.postMessage({ type: 'stop' });
  ids.forEach((model, i) => worker(i).worker.postMessage({ type: 'train', runId: state.runId, config: { ...config, model } }));
  buildLaneCards();
  buildLegend();
  els.stop.disabled = false;
  const task = TASKS.find((t) => t.id === config.task).label;
  setStatus('training', `Training ${state.lanes.map((l) => l.label).join(' and ')} on ${task}…`);
  scheduleRender();
}

function stop() {
  for (const w of workers) w?.worker.postMessage({ type: 'stop' });
}

function finish() {
  els.stop.disabled = true;
  const steps = Math.max(...state.lanes.map((l) => l.step));
  const stopped = state.lanes.some((l) => l.stopped);
  setStatus('done', `${stopped ? 'Stopped' : 'Done'} after ${fmtInt(steps)} steps. Move b, change a setting or press Train again.`);
}

function setStatus(status, text) {
  state.status = status;
  document.body.dataset.status = status;
  els.status.textContent = text;
}

function setError(message) {
  setStatus('error', `Error: ${message}`);
  els.stop.disabled = true;
  els.train.disabled = !workers[0]?.ready;
}

// ---- drawing -----------------------------------------------------------------------------------

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });
const fmtInt = (n) => Math.round(n).toLocaleString('en');
const fmtSci = (v) => (v === undefined || Number.isNaN(v) ? '—' : Number.isFinite(v) ? v.toExponential(2) : '∞');

const FIELDS = [
  ['step', 'Steps', (l) => fmtInt(l.step ?? 0)],
  ['rate', 'Steps/s', (l) => (l.stepsPerSecond ? compact.format(l.stepsPerSecond) : '—')],
  ['loss', 'Loss (last batch)', (l) => fmtSci(l.lastLoss)],
  ['interp', 'MSE, training range', (l) => fmtSci(l.interpolationMse)],
  ['extrap', 'MSE, test range', (l) => fmtSci(l.extrapolationMse)],
  ['best', 'Best test-range MSE', (l) => fmtSci(l.bestExtrapolationMse)],
];

function buildLaneCards() {
  els.lanes.replaceChildren(...state.lanes.map((lane, i) => {
    const card = document.createElement('article');
    card.className = `lane lane-${i}`;
    card.setAttribute('aria-labelledby', `lane-${i}-title`);
    const h = document.createElement('h3');
    h.id = `lane-${i}-title`;
    const sw = document.createElement('span');
    sw.className = `swatch series-${i}`;
    sw.setAttribute('aria-hidden', 'true');
    h.append(sw, lane.label);
    const dl = document.createElement('dl');
    for (const [key, label] of FIELDS) {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.id = `lane-${i}-${key}`;
      dd.textContent = '—';
      dl.append(dt, dd);
    }
    card.append(h, dl);
    return card;
  }));
}

function buildLegend() {
  const item = (cls, text) => {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = `swatch ${cls}`;
    sw.setAttribute('aria-hidden', 'true');
    li.append(sw, text);
    return li;
  };
  els.legend.replaceChildren(item('truth', 'truth'), ...state.lanes.map((l, i) => item(`series-${i}`, l.label)), item('shade', 'training range'));
}

let pending = false;
function scheduleRender() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    render();
  });
}

function render() {
  const t0 = performance.now();
  state.frames++;
  state.lanes.forEach((lane, i) => {
    for (const [key, , fmt] of FIELDS) {
      const dd = $(`lane-${i}-${key}`);
      if (dd) dd.textContent = fmt(lane);
    }
  });
  renderLoss();
  renderPrediction();
  state.renderMs.push(performance.now() - t0);
  if (state.renderMs.length > 600) state.renderMs.splice(0, 300);
}

function renderLoss() {
  const series = state.lanes.map((l, i) => ({ xs: (l.loss ?? []).map((p) => p[0]), ys: (l.loss ?? []).map((p) => p[1]), className: `series-${i}` }));
  let lo = Infinity, hi = -Infinity;
  for (const s of series) for (const v of s.ys) if (v > 0 && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (!(lo <= hi)) [lo, hi] = [1e-4, 1];
  lo = 10 ** Math.floor(Math.log10(Math.max(lo, 1e-30)));
  hi = 10 ** Math.ceil(Math.log10(hi));
  if (hi <= lo) hi = lo * 10;
  const maxStep = Math.max(10, ...state.lanes.map((l) => l.step ?? 0));
  state.charts.lossSegments = drawChart(els.lossChart, {
    x: { domain: [1, 10 ** Math.ceil(Math.log10(maxStep))], log: true, label: 'training step (log scale)' },
    y: { domain: [lo, hi], log: true, label: 'loss (log scale)' },
    series,
  });
  els.lossSummary.textContent = state.lanes.length
    ? state.lanes.map((l) => `${l.label}: loss ${fmtSci(l.lastLoss)} after ${fmtInt(l.step ?? 0)} steps`).join('; ') + '.'
    : 'No training yet.';
}

function renderPrediction() {
  const c = state.config ?? { task: els.task.value, ...(readRanges() ?? taskDefaults(els.task.value)) };
  const [lo, hi] = viewRange(c.train, c.test);
  const task = c.task;
  const b = Number(els.b.value);
  const a = linspace(lo, hi, SWEEP_POINTS);
  const t = Array.from(a, (v) => truth(task, v, b));
  const series = [];
  state.lanes.forEach((l, i) => {
    if (l.sweep) series.push({ xs: l.sweep.a, ys: l.sweep.prediction, className: `series-${i}` });
  });
  series.push({ xs: a, ys: t, className: 'truth' }); // last: the dashed truth stays visible on top
  // The y range follows the truth, widened to show predictions up to one span beyond it.
  const finite = t.filter(Number.isFinite);
  let ylo = Math.min(...finite), yhi = Math.max(...finite);
  const span = yhi - ylo || 1;
  for (const s of series.slice(0, -1)) {
    for (const v of s.ys) {
      if (!Number.isFinite(v)) continue;
      ylo = Math.min(ylo, Math.max(v, ylo - span));
      yhi = Math.max(yhi, Math.min(v, yhi + span));
    }
  }
  const pad = 0.06 * (yhi - ylo || 1);
  const bText = usesB(task) ? `, b = ${b.toFixed(2)}` : '';
  state.charts.predSegments = drawChart(els.predChart, {
    x: { domain: [lo, hi], label: `a${bText}` },
    y: { domain: [ylo - pad, yhi + pad], label: 'y' },
    shade: { range: c.train, label: 'training range' },
    series,
  });
  els.predSummary.textContent = state.lanes.length
    ? `Test-range MSE: ${state.lanes.map((l) => `${l.label} ${fmtSci(l.extrapolationMse)}`).join(', ')}. Plotted for a from ${lo} to ${hi}${bText}; trained on ${c.train[0]} to ${c.train[1]}.`
    : `Truth for a from ${lo} to ${hi}${bText}; the training range, ${c.train[0]} to ${c.train[1]}, is shaded.`;
}

new ResizeObserver(() => scheduleRender()).observe(document.querySelector('.charts'));

onModeChange();
onRangeChange(true);
worker(0);
