// The package in every runtime, as users get it: the built package is packed (npm pack) and the
// tarball installed into a temporary project; each runtime imports 'nalu-wasm' through the
// package's "exports" with its own conditions and runs harness.mjs:
//   - the golden cases of ../shared/golden/core-torch.json (forward and loss 1e-5, gradients 1e-4
//     relative to each tensor's largest magnitude, Adam runs 1e-4), SIMD and scalar builds;
//   - predictions, losses, gradients and trained weights bit-identical to Node's, per build;
//   - feature detection (scalar build without SIMD, forcing SIMD refused).
// Plus: require() in Node, workerd refusing bytes and taking modules, the Worker example over
// HTTP under `workerd serve`, the browser example in Chromium and Firefox. Writes compat.md.
//
// Runtimes: Node (this process's node), Deno, Bun and workerd from npm packages (devDependencies),
// Chromium and Firefox ESR from Debian (/usr/bin/chromium, /usr/bin/firefox-esr; .ci/run
// installs them). NALU_RUNTIMES=node,deno limits the run; NALU_KEEP_TMP=1 keeps the temporary
// project.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { findBinary, run } from './lib.mjs';
import { prepare } from './prepare.mjs';
import { closeStaticServer, denoWithoutRead, runBun, runChromium, runDeno, runFirefox, runNode, runWorkerd, startWorkerd } from './runners.mjs';

const RUNTIMES = [
  { id: 'node', name: 'Node.js', entry: 'dist/index.js', condition: 'node', runner: runNode },
  { id: 'deno', name: 'Deno', entry: 'dist/deno.js', condition: 'deno', runner: runDeno },
  { id: 'bun', name: 'Bun', entry: 'dist/bun.js', condition: 'bun', runner: runBun },
  { id: 'workerd', name: 'workerd', entry: 'dist/workerd.js', condition: 'workerd', runner: (ctx) => runWorkerd(ctx, workerd) },
  { id: 'chromium', name: 'Chromium', entry: 'dist/browser.js', condition: 'browser', runner: runChromium },
  { id: 'firefox', name: 'Firefox ESR', entry: 'dist/browser.js', condition: 'browser', runner: runFirefox },
];
const only = process.env.NALU_RUNTIMES?.split(',').map((s) => s.trim());
const selected = only ? RUNTIMES.filter((r) => only.includes(r.id)) : RUNTIMES;

const WORKER_X = [[3, 4], [2.5, 0.5], [10, 7], [0.125, 64]];

let ctx;
let workerd;
let examplesNode;
const reports = new Map(); // id -> Promise<report>
const timings = new Map();

/** Runs `fn` for each item, at most `limit` at a time. */
function limited(limit) {
  let active = 0;
  const queue = [];
  const next = () => {
    if (active >= limit || queue.length === 0) return;
    active++;
    const { fn, resolve, reject } = queue.shift();
    fn().then(resolve, reject).finally(() => { active--; next(); });
  };
  return (fn) => new Promise((resolve, reject) => { queue.push({ fn, resolve, reject }); next(); });
}

before(async () => {
  const t0 = Date.now();
  ctx = await prepare();
  timings.set('pack and install', Date.now() - t0);
  const slot = limited(3);
  const examples = run(process.execPath, ['examples-node.mjs', JSON.stringify(WORKER_X)], { cwd: ctx.project });
  examplesNode = examples.then((r) => {
    const line = r.stdout.split('\n').find((l) => l.startsWith('NALU-EXAMPLES '));
    if (!line) throw new Error(`examples-node.mjs failed:\n${r.stdout}\n${r.stderr}`);
    return JSON.parse(line.slice('NALU-EXAMPLES '.length));
  });
  examplesNode.catch(() => {});
  if (selected.some((r) => r.id === 'workerd')) {
    workerd = startWorkerd(ctx);
    workerd.catch(() => {});
  }
  for (const r of selected) {
    const p = slot(async () => {
      const t = Date.now();
      if (r.id === 'workerd') workerd = await workerd;
      try {
        return await r.runner(ctx);
      } finally {
        timings.set(r.name, Date.now() - t);
      }
    });
    p.catch(() => {});
    reports.set(r.id, p);
  }
});

after(async () => {
  const settled = await Promise.allSettled([...reports.values()]);
  if (workerd && typeof workerd.stop === 'function') await workerd.stop();
  await closeStaticServer();
  if (settled.length === RUNTIMES.length) writeCompat(settled);
  if (ctx && process.env.NALU_KEEP_TMP !== '1') rmSync(ctx.base, { recursive: true, force: true });
  else if (ctx) console.log(`# kept ${ctx.base}`);
  console.log(`# timings (ms): ${JSON.stringify(Object.fromEntries(timings))}`);
});

test('the packed package: dist files, export conditions in order, no sources', () => {
  const files = ctx.pack.files.map((f) => f.path).sort();
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/deno.js', 'dist/bun.js', 'dist/workerd.js', 'dist/browser.js',
    'dist/nalu-simd.wasm', 'dist/nalu-scalar.wasm', 'package.json']) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  assert.deepEqual(files.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts')), [], 'no TypeScript sources');
  assert.deepEqual(Object.keys(ctx.pkg.exports['.']), ['types', 'workerd', 'deno', 'bun', 'node', 'browser', 'default']);
  assert.equal(ctx.pkg.type, 'module');
  assert.equal(ctx.pkg.sideEffects, false);
});

for (const r of selected) {
  describe(r.name, () => {
    test(`imports ${r.entry} (the "${r.condition}" condition) and passes the golden cases, SIMD and scalar builds`, async () => {
      const report = await reports.get(r.id);
      assert.deepEqual(report.failures, [], report.failures.join('\n'));
      assert.equal(report.runtime.entry, r.entry);
      assert.equal(report.cases, ctx.cases);
      for (const b of ['simd', 'scalar']) {
        if (b === 'simd' && !report.simdSupported) continue;
        assert.equal(report.builds[b].checked, ctx.cases, `${b}: every case checked`);
        assert.equal(report.builds[b].failures, 0);
      }
      assert.equal(report.defaultBackend, report.simdSupported ? 'simd' : 'scalar');
    });

    test('the opt-in builds: relaxed SIMD passes the golden cases where it loads; threads: 2 gives the SIMD build\'s bits', async () => {
      const { builds, simdSupported } = await reports.get(r.id);
      if (!simdSupported) return;
      const { relaxed, threads } = builds;
      if (relaxed.unavailable) assert.match(relaxed.unavailable, /needs WebAssembly relaxed SIMD|does not bundle the relaxed build/);
      else assert.deepEqual([relaxed.backend, relaxed.checked, relaxed.failures], ['relaxed', ctx.cases, 0]);
      // Node, Deno and Bun have worker threads (node:worker_threads), the browsers Web Workers on
      // the harness's cross-origin isolated page; workerd runs one thread
      const pooled = r.id !== 'workerd';
      assert.deepEqual([threads.backend, threads.threads, threads.checked, threads.failures], ['simd', pooled ? 2 : 1, ctx.cases, 0]);
      assert.deepEqual(threads.bits, builds.simd.bits);
      if (pooled) {
        assert.ok(threads.pool, 'the pool was put to work');
        assert.equal(threads.pool.same, true, 'a product shared by two threads gives one thread\'s bits');
        assert.match(threads.pool.failed, /^trainStep: worker thread 1 of the module failed during the call \(.+\); its results were dropped/);
        assert.equal(threads.pool.unchanged, true, 'the model is unchanged after the failed step');
      }
    });

    if (['deno', 'bun', 'chromium', 'firefox'].includes(r.id)) {
      test('init({ wasm }) takes a URL string, a URL, a Response, bytes or a Module, with the same results', async () => {
        const { loading } = await reports.get(r.id);
        assert.ok(loading, 'the loading paths ran');
        const names = ['URL string', 'URL', 'Promise<Response>', 'Response', 'ArrayBuffer', 'Uint8Array', 'WebAssembly.Module'];
        if (r.id === 'chromium' || r.id === 'firefox') names.push('URL served as application/octet-stream', 'HTML page instead of the module');
        assert.deepEqual(loading, Object.fromEntries(names.map((n) => [n, 'ok'])));
      });
    }

    test('without SIMD, init() loads the scalar build and forcing SIMD throws a NaluError', async () => {
      const { detection } = await reports.get(r.id);
      assert.deepEqual(detection, { probeWithoutSimd: false, backendWithoutSimd: 'scalar', forcedSimdWithoutSimd: 'NaluError' });
    });

    if (r.id !== 'node') {
      test('the same exports as Node\'s entry; predictions, losses, gradients and trained weights bit-identical to Node\'s', async () => {
        const [report, node] = await Promise.all([reports.get(r.id), reports.get('node')]);
        assert.ok(node, 'the Node run is the reference (NALU_RUNTIMES must include node)');
        assert.deepEqual(report.exports, node.exports, 'the same exports as the node entry');
        for (const b of ['simd', 'scalar']) {
          if (!report.builds[b]?.checked) continue;
          assert.equal(Object.keys(node.builds[b].bits).length, ctx.cases, `Node's ${b} run has every case`);
          for (const [name, bits] of Object.entries(node.builds[b].bits)) {
            assert.equal(report.builds[b].bits[name], bits, `${b} build, case ${name}`);
          }
        }
      });
    }

    if (r.id === 'deno') {
      test('without --allow-read, init() throws a NaluError that passes on Deno\'s advice alone', async () => {
        await reports.get('deno');
        const denied = await denoWithoutRead(ctx);
        assert.equal(denied?.name, 'NaluError');
        assert.match(denied.message, /^init: cannot load file:\/\/\/.*\/nalu-simd\.wasm \(Requires read access to .*--allow-read flag\)$/);
      });
    }

    if (r.id === 'node') {
      test('require() of the ESM-only package works (Node >= 20.19)', async () => {
        const { require: req } = await reports.get('node');
        assert.equal(req.error, undefined, req.error);
        assert.match(req.resolved, /node_modules\/nalu-wasm\/dist\/index\.js$/);
        assert.equal(req.backend, 'simd');
        assert.equal(req.y.length, 1);
      });
    }

    if (r.id === 'workerd') {
      test('compiling bytes is refused ("Wasm code generation disallowed by embedder"); imported modules work', async () => {
        await reports.get('workerd');
        const res = await fetch(new URL('loading', workerd.harnessUrl));
        const out = await res.json();
        assert.equal(out.bytesIsArrayBuffer, true);
        assert.equal(out.moduleIsModule, true);
        assert.match(out.compileBytes, /Wasm code generation disallowed by embedder/);
        assert.match(out.initBytes, /Wasm code generation disallowed by embedder/);
        assert.equal(out.initBytesIsNaluError, true, 'init({ wasm: bytes }) explains with a NaluError');
        assert.deepEqual(out.initModule, { backend: 'simd', y: [1.5 + 2.25] });
      });

      test('the Worker example (examples/worker) answers predictions over HTTP', async () => {
        await reports.get('workerd');
        assert.equal(workerd.exampleEntry, 'dist/workerd.js');
        const info = await (await fetch(workerd.exampleUrl)).json();
        assert.equal(info.backend, 'simd');
        assert.equal(info.inputs, 2);
        const res = await fetch(new URL('predict', workerd.exampleUrl), { method: 'POST', body: JSON.stringify({ x: WORKER_X }) });
        assert.equal(res.status, 200);
        const { y, backend } = await res.json();
        assert.equal(backend, 'simd');
        WORKER_X.forEach(([a, b], i) => {
          assert.ok(Math.abs(y[i][0] - a * b) <= 1e-5 * a * b, `${a} * ${b} = ${y[i][0]}`);
          assert.ok(Math.abs(y[i][1] - a / b) <= 1e-5 * (a / b), `${a} / ${b} = ${y[i][1]}`);
        });
        assert.deepEqual(y, (await examplesNode).worker, 'bit-identical to Node\'s predictions');
        const bad = await fetch(new URL('predict', workerd.exampleUrl), { method: 'POST', body: '{"x": [[1]]}' });
        assert.equal(bad.status, 400);
        assert.match((await bad.json()).error, /row 0 must hold 2 finite numbers/);
      });
    }

    if (r.id === 'chromium' || r.id === 'firefox') {
      test('the browser example (examples/browser, no bundler) trains and matches Node to the bit', async () => {
        const { example } = await reports.get(r.id);
        assert.equal(example.status, 'done', example.text);
        assert.deepEqual(example.pageErrors, []);
        const { ms, ...result } = example.result;
        assert.ok(ms >= 0);
        assert.deepEqual(result, (await examplesNode).demo);
        assert.ok(Math.abs(result.probe[0] - 5555.5) < 1, `1234.5 + 4321 = ${result.probe[0]}`);
      });

      test('in a Worker of the page\'s own, init({ threads: 2 }) starts nested workers and gives one thread\'s bits', async () => {
        const { nested } = await reports.get(r.id);
        assert.deepEqual(nested, { crossOriginIsolated: true, threads: 2, same: true });
      });

      test('a page that is not cross-origin isolated gets one thread from init({ threads: 2 })', async () => {
        const { notIsolated } = await reports.get(r.id);
        const { threadsUnavailable, ...info } = notIsolated;
        assert.deepEqual(info, { crossOriginIsolated: false, backend: 'simd', threads: 1 });
        assert.match(threadsUnavailable, /^SharedArrayBuffer is not available: browsers share memory with workers only on a cross-origin isolated page \(served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp or credentialless\)$/);
      });

      test('an isolated page whose Content-Security-Policy refuses blob: workers gets one thread, no error', async () => {
        const { noBlobWorkers } = await reports.get(r.id);
        const { threadsUnavailable, ...info } = noBlobWorkers;
        assert.deepEqual(info, { crossOriginIsolated: true, backend: 'simd', threads: 1 });
        // (the worker's error event carries no message in either browser)
        assert.equal(threadsUnavailable, 'a worker could not start (a Content-Security-Policy that refuses blob: workers?)');
      });
    }
  });
}

/** compat.md: what the run found, per runtime (the README's compatibility table). */
function writeCompat(settled) {
  const node = settled[0].status === 'fulfilled' ? settled[0].value : undefined;
  const rows = RUNTIMES.map((r, i) => {
    const s = settled[i];
    if (s.status !== 'fulfilled') return `| ${r.name} | | | | | | failed: ${String(s.reason?.message ?? s.reason).split('\n')[0]} | | | | |`;
    const rep = s.value;
    const builds = ['simd', 'scalar'].map((b) => {
      const x = rep.builds[b];
      if (!x?.checked) return 'n/a';
      return x.failures === 0 ? `${x.checked}/${rep.cases} pass` : `${x.failures} of ${x.checked} FAIL`;
    }).join(' / ');
    const same = ['simd', 'scalar'].map((b) => {
      if (r.id === 'node') return 'reference';
      if (!node || !rep.builds[b]?.checked) return 'n/a';
      return Object.entries(node.builds[b].bits).every(([k, v]) => rep.builds[b].bits[k] === v) ? 'yes' : 'NO';
    }).join(' / ');
    const relaxed = rep.builds.relaxed;
    const optIn = !relaxed ? 'n/a'
      : relaxed.unavailable ? (/does not bundle/.test(relaxed.unavailable) ? 'not bundled (pass { wasm })' : 'engine lacks relaxed SIMD')
        : relaxed.failures === 0 ? `${relaxed.checked}/${rep.cases} pass` : `${relaxed.failures} of ${relaxed.checked} FAIL`;
    const th = rep.builds.threads;
    const threads = !th || th.unavailable ? 'n/a' : `${th.threads}${Object.entries(rep.builds.simd.bits).every(([k, v]) => th.bits[k] === v) ? ', bits = SIMD' : ', bits DIFFER'}`;
    const notes = {
      node: rep.require && !rep.require.error ? 'require() works too' : 'require() FAILED',
      deno: 'deno run --allow-read',
      bun: '',
      workerd: 'bytes refused, module imports work; examples/worker served over HTTP',
      chromium: 'examples/browser page, no bundler',
      firefox: 'examples/browser page, no bundler',
    }[r.id];
    return `| ${r.name} | ${rep.runtime.engine} | ${rep.runtime.version} | \`${r.condition}\` → \`${rep.runtime.entry}\` | ` +
      `${rep.simdSupported ? 'yes' : 'no'} | ${rep.defaultBackend} | ${builds} | ${same} | ${optIn} | ${threads} | ${notes} |`;
  });
  const text = [
    '<!-- Written by test/runtimes/runtimes.test.mjs (npm run test:runtimes); do not edit by hand. -->',
    '',
    `Tested against the packed package (\`npm pack\`, installed into a fresh project) on linux-x64, with the ${ctx.cases} golden`,
    'cases of `core-torch.json` (PyTorch autograd) on each build. "Bits = Node": predictions, losses, gradients and trained',
    'weights are the same to the bit as in Node, per build.',
    '',
    '| Runtime | Engine | Version tested | Export condition → file | WebAssembly SIMD | `init()` chose | Golden cases (SIMD / scalar) | Bits = Node (SIMD / scalar) | `{ relaxed: true }` golden cases | `{ threads: 2 }` runs | Notes |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Where an engine lacks WebAssembly SIMD (probed with `WebAssembly.validate`), `init()` loads the scalar build; every runtime above',
    'was also checked that way, with the probe made to fail. `init({ simd: true | false })` forces a build. The opt-in relaxed-SIMD',
    'build rounds its own way (no bit comparison); Node 20 has relaxed SIMD only behind `--experimental-wasm-relaxed-simd`.',
    '`{ threads: 2 }` starts worker threads in Node, Deno and Bun (node:worker_threads) and Web Workers in the browsers (the harness page is cross-origin isolated; a page that is not gets one thread); workerd runs one thread.',
    '',
  ].join('\n');
  writeFileSync(new URL('./compat.md', import.meta.url), text);
}
