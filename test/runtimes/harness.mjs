// The runtime-neutral part of the runtimes test: runs in Node, Deno, Bun, Chromium, Firefox and
// workerd against the packed package. Takes the package's namespace (`import * as nalu from
// 'nalu-wasm'`, resolved by the runtime through the package's "exports") and the golden cases of
// ../shared/golden/core-torch.json, and returns a JSON-able report:
//   - the golden checks (forward and loss 1e-5, gradients 1e-4 relative to each tensor's largest
//     magnitude, Adam training losses and final parameters 1e-4, as test/golden-core.test.ts),
//   - the bits of every prediction, loss, gradient and trained parameter, per build, for the
//     driver to compare with Node's,
//   - feature detection: the backend init() chooses, and that with WebAssembly.validate made to
//     refuse SIMD the scalar build loads and forcing SIMD throws;
//   - the opt-in builds: init({ relaxed: true }) (golden tolerances where the engine has relaxed
//     SIMD, else the NaluError's message) and init({ threads: 2 }) (the threads it got, and the
//     bits of its golden runs, which must be the SIMD build's; with two threads, poolAtWork).
// Plain JavaScript with no imports, so that every runtime can load it as is.

const TYPES = { nac: 'nac', nac_mul: 'nacMul', nalu: 'nalu' };

function layerOf(nalu, l) {
  const io = { inputs: l.inputs, outputs: l.outputs };
  switch (TYPES[l.type]) {
    case 'nac': return nalu.nac(io);
    case 'nacMul': return nalu.nacMul({ ...io, eps: l.eps ?? 1e-7 });
    case 'nalu': return nalu.nalu({ ...io, eps: l.eps ?? 1e-7, sharedWeights: l.shared ?? true });
    default: return undefined;
  }
}

const f32 = (a) => Float32Array.from(a);

function hex32(a) {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  let s = '';
  for (let i = 0; i < u.length; i++) s += u[i].toString(16).padStart(8, '0');
  return s;
}

function hex64(n) {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, n, true);
  return v.getUint32(4, true).toString(16).padStart(8, '0') + v.getUint32(0, true).toString(16).padStart(8, '0');
}

function maxErrRelToMax(actual, expected) {
  if (actual.length !== expected.length) return Infinity;
  let scale = 0;
  let diff = 0;
  for (let j = 0; j < expected.length; j++) {
    scale = Math.max(scale, Math.abs(expected[j]));
    diff = Math.max(diff, Math.abs(actual[j] - expected[j]));
  }
  if (diff === 0) return 0;
  return scale === 0 ? Infinity : diff / scale;
}

function weightsHex(weights) {
  return weights.map((rec) => Object.keys(rec).sort().map((k) => `${k}:${hex32(rec[k])}`).join(',')).join(';');
}

/** Runs one golden case on the current engine; returns [bits, failures]. */
function runCase(nalu, c) {
  const fails = [];
  const check = (what, err, tol) => {
    if (!(err < tol)) fails.push(`${c.name}: ${what} error ${err} >= ${tol}`);
  };
  const layers = c.layers.map((l) => layerOf(nalu, l));
  if (layers.some((l) => !l)) return [undefined, [], true];
  const model = nalu.sequential(layers);
  try {
    model.setWeights(c.layers.map((l) => Object.fromEntries(Object.entries(l.params).map(([k, v]) => [k, f32(v)]))));
    const x = f32(c.x);
    const t = f32(c.target);
    const y = model.predict(x, c.batch);
    check('y', maxErrRelToMax(y, c.expected.y), 1e-5);
    const { loss, grads } = model.gradients(x, t, c.batch);
    check('loss', Math.abs(loss - c.expected.loss) / c.expected.loss, 1e-5);
    const evaluated = model.evaluate(x, t, c.batch);
    if (evaluated !== loss) fails.push(`${c.name}: evaluate ${evaluated} !== gradients' loss ${loss}`);
    c.expected.grads.forEach((g, k) => {
      for (const [name, want] of Object.entries(g)) {
        if (!grads[k] || !grads[k][name]) fails.push(`${c.name}: no gradient ${name} of layer ${k}`);
        else check(`grad ${name} of layer ${k}`, maxErrRelToMax(grads[k][name], want), 1e-4);
      }
    });
    const bits = [`y=${hex32(y)}`, `loss=${hex64(loss)}`, `grads=${weightsHex(grads)}`];
    // Training: the golden Adam run where the case has one, else three steps at lr 0.01.
    const lr = c.train ? c.train.lr : 0.01;
    const steps = c.train ? c.train.steps : 3;
    const opt = nalu.adam({ learningRate: lr });
    const losses = [];
    for (let s = 0; s < steps; s++) {
      const l = model.trainStep(x, t, opt, c.batch);
      losses.push(l);
      if (c.train) check(`loss before Adam step ${s}`, Math.abs(l - c.train.losses[s]) / c.train.losses[s], 1e-4);
    }
    const after = model.getWeights();
    if (c.train) {
      after.forEach((rec, k) => {
        for (const [name, want] of Object.entries(c.train.final_params[k])) {
          check(`trained ${name} of layer ${k}`, maxErrRelToMax(rec[name], want), 1e-4);
        }
      });
    }
    bits.push(`train=${losses.map(hex64).join(',')}`, `after=${weightsHex(after)}`);
    return [bits.join('|'), fails, false];
  } finally {
    model.dispose();
  }
}

/**
 * init({ wasm }) with each kind of source the driver can offer: a URL string, a URL, a
 * Response promise, bytes, a compiled module, a file served with the wrong MIME type (the bytes
 * fallback), and an HTML page where the module should be (a clear NaluError). Each must give the
 * same prediction, to the bit, as the package's own loader.
 */
async function loadingPaths(nalu, c, { wasmUrl, wrongMimeUrl, htmlUrl }) {
  const out = {};
  const predictBits = () => {
    const m = nalu.sequential(c.layers.map((l) => layerOf(nalu, l)));
    try {
      m.setWeights(c.layers.map((l) => Object.fromEntries(Object.entries(l.params).map(([k, v]) => [k, f32(v)]))));
      return hex32(m.predict(f32(c.x), c.batch));
    } finally {
      m.dispose();
    }
  };
  await nalu.init({ simd: true });
  const want = predictBits();
  const sources = {
    'URL string': () => wasmUrl,
    URL: () => new URL(wasmUrl),
    'Promise<Response>': () => fetch(wasmUrl),
    Response: async () => await fetch(wasmUrl),
    ArrayBuffer: async () => (await fetch(wasmUrl)).arrayBuffer(),
    Uint8Array: async () => new Uint8Array(await (await fetch(wasmUrl)).arrayBuffer()),
    'WebAssembly.Module': async () => WebAssembly.compile(await (await fetch(wasmUrl)).arrayBuffer()),
  };
  if (wrongMimeUrl) sources['URL served as application/octet-stream'] = () => wrongMimeUrl;
  for (const [name, make] of Object.entries(sources)) {
    try {
      const info = await nalu.init({ wasm: await make(), simd: true });
      out[name] = info.backend === 'simd' && predictBits() === want ? 'ok' : `different result (${info.backend})`;
    } catch (err) {
      out[name] = `threw ${err && err.message}`;
    }
  }
  if (htmlUrl) {
    try {
      await nalu.init({ wasm: htmlUrl, simd: true });
      out['HTML page instead of the module'] = 'accepted';
    } catch (err) {
      out['HTML page instead of the module'] = err instanceof nalu.NaluError && /is not a WebAssembly module/.test(err.message)
        ? 'ok' : `threw ${err && err.message}`;
    }
  }
  await nalu.init({ simd: true });
  return out;
}

/**
 * The arrays predict returns for one sample are the caller's alone: 300 kept results each still
 * equal a prediction written into an array of its own, each one's buffer holds its values and
 * nothing else (sending `y.buffer` sends no other prediction), and after the last one's buffer
 * is transferred away (detached) predictions go on. Returns the failures.
 */
function smallResults(nalu) {
  const fails = [];
  const model = nalu.sequential([nalu.nalu({ inputs: 3, outputs: 5 })], { seed: 1 });
  try {
    const xs = Array.from({ length: 300 }, (_, i) => f32([(i % 7) + 1, (i % 5) * 0.5 + 1, (i % 11) + 0.25]));
    const kept = xs.map((x) => model.predict(x));
    const own = (x) => hex32(model.predict(x, 1, new Float32Array(5)));
    kept.forEach((y, i) => {
      if (hex32(y) !== own(xs[i])) fails.push(`small results: prediction ${i} changed after later calls`);
    });
    for (const [i, y] of kept.entries()) {
      if (y.byteOffset !== 0 || y.buffer.byteLength !== y.byteLength) {
        fails.push(`small results: result ${i}'s buffer holds ${y.buffer.byteLength} bytes, more than its own ${y.byteLength}`);
        break;
      }
    }
    const last = kept[kept.length - 1];
    if (typeof structuredClone === 'function') {
      structuredClone(last.buffer, { transfer: [last.buffer] });
      if (last.length !== 0) fails.push('small results: transferring a result\'s buffer did not detach it');
      if (hex32(model.predict(xs[0])) !== own(xs[0])) fails.push('small results: predict after a result\'s buffer was transferred');
    }
  } catch (err) {
    fails.push(`small results threw ${err && err.stack ? err.stack : err}`);
  } finally {
    model.dispose();
  }
  return fails;
}

/**
 * The pool at work, where init({ threads: 2 }) got two threads: a NALU 64 -> 64 at batch 512 (its
 * products large enough to be shared) trains two Adam steps and predicts with the same bits on one
 * thread and on two; then worker 1 is made to fail (its scratch table pointed past the end of
 * memory, as test/threads.test.ts does) and the next step must throw the error that names it and
 * leave the model as it was. Returns { same, failed, unchanged }.
 */
async function poolAtWork(nalu) {
  const x = f32(Array.from({ length: 64 * 512 }, (_, i) => Math.sin(i)));
  const t = f32(Array.from({ length: 64 * 512 }, (_, i) => Math.cos(i)));
  const run = async (threads) => {
    await nalu.init({ threads });
    const model = nalu.sequential([nalu.nalu({ inputs: 64, outputs: 64 })], { seed: 3 }), opt = nalu.adam();
    const losses = [model.trainStep(x, t, opt), model.trainStep(x, t, opt)];
    return { model, opt, bits: losses.map(hex64).join('') + hex32(model.predict(x)) };
  };
  const one = await run(1);
  one.model.dispose();
  const two = await run(2);
  const { ex, i32, poolBlock } = two.model.engine;
  const table = (poolBlock + 64 + 64 * ex.POOL_MAX.value + 32) >> 2;
  for (let slot = 0; slot < 4; slot++) { i32[table + 2 * slot] = 0xfffff000 | 0; i32[table + 2 * slot + 1] = 0x7fffffff; }
  const state = () => two.model.save({ optimizer: true }).join(',');
  const saved = state();
  let failed = '';
  try {
    two.model.trainStep(x, t, two.opt);
  } catch (err) {
    failed = String(err && err.message);
  }
  const unchanged = state() === saved;
  two.model.dispose();
  return { same: two.bits === one.bits, failed, unchanged };
}

export async function runHarness(nalu, golden, runtime = {}, options = {}) {
  const report = {
    runtime,
    simdSupported: nalu.simdSupported(),
    exports: Object.keys(nalu).sort(),
    defaultBackend: undefined,
    cases: golden.cases.length,
    builds: {},
    detection: {},
    failures: [],
  };
  try {
    report.defaultBackend = (await nalu.init()).backend;
  } catch (err) {
    report.failures.push(`init() failed: ${err && err.stack ? err.stack : err}`);
  }
  const runBuild = (name) => {
    const build = { checked: 0, skipped: 0, failures: 0, bits: {} };
    for (const c of golden.cases) {
      try {
        const [bits, fails, skipped] = runCase(nalu, c);
        if (skipped) { build.skipped++; continue; }
        build.checked++;
        build.bits[c.name] = bits;
        if (fails.length) build.failures++;
        for (const f of fails) report.failures.push(`${name}: ${f}`);
      } catch (err) {
        build.failures++;
        report.failures.push(`${name}: ${c.name} threw ${err && err.stack ? err.stack : err}`);
      }
    }
    return build;
  };
  for (const backend of ['simd', 'scalar']) {
    if (backend === 'simd' && !report.simdSupported) {
      report.builds[backend] = { checked: 0, unavailable: 'this engine does not validate SIMD' };
      continue;
    }
    try {
      const info = await nalu.init({ simd: backend === 'simd' });
      if (info.backend !== backend) report.failures.push(`init({ simd: ${backend === 'simd'} }) chose ${info.backend}`);
    } catch (err) {
      report.failures.push(`init({ simd: ${backend === 'simd'} }) failed: ${err && err.stack ? err.stack : err}`);
      continue;
    }
    report.builds[backend] = runBuild(backend);
  }
  // The opt-in builds: a NaluError where the host cannot run one is an answer, not a failure.
  for (const [name, options] of [['relaxed', { relaxed: true }], ['threads', { threads: 2 }]]) {
    if (!report.simdSupported) continue;
    try {
      const info = await nalu.init(options);
      report.builds[name] = { ...runBuild(name), threads: info.threads, backend: info.backend };
      if (name === 'threads' && info.threads === 2) report.builds[name].pool = await poolAtWork(nalu);
    } catch (err) {
      if (!(err instanceof nalu.NaluError)) report.failures.push(`init(${JSON.stringify(options)}) failed: ${err && err.stack ? err.stack : err}`);
      report.builds[name] = { checked: 0, unavailable: String(err && err.message ? err.message : err) };
    }
  }
  if (options.wasmUrl && report.simdSupported) {
    try {
      report.loading = await loadingPaths(nalu, golden.cases[0], options);
      for (const [name, result] of Object.entries(report.loading)) {
        if (result !== 'ok') report.failures.push(`init({ wasm: ${name} }): ${result}`);
      }
    } catch (err) {
      report.failures.push(`loading paths: ${err && err.stack ? err.stack : err}`);
    }
  }
  if (report.defaultBackend) {
    await nalu.init();
    report.failures.push(...smallResults(nalu));
  }
  // Without SIMD (WebAssembly.validate refusing everything, as an engine without SIMD refuses
  // the probe), init() loads the scalar build and forcing SIMD is a clear error.
  const validate = WebAssembly.validate;
  try {
    WebAssembly.validate = () => false;
    report.detection.probeWithoutSimd = nalu.simdSupported();
    report.detection.backendWithoutSimd = (await nalu.init()).backend;
    try {
      await nalu.init({ simd: true });
      report.detection.forcedSimdWithoutSimd = 'accepted';
    } catch (err) {
      report.detection.forcedSimdWithoutSimd = err instanceof nalu.NaluError ? 'NaluError' : String(err);
    }
  } catch (err) {
    report.failures.push(`detection check failed: ${err && err.stack ? err.stack : err}`);
  } finally {
    WebAssembly.validate = validate;
  }
  const d = report.detection;
  if (d.probeWithoutSimd !== false || d.backendWithoutSimd !== 'scalar' || d.forcedSimdWithoutSimd !== 'NaluError') {
    report.failures.push(`feature detection without SIMD: ${JSON.stringify(d)}`);
  }
  return report;
}
