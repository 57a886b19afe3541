// npm run bench:runtimes: shape S training steps/s, shape E predict latency and shape M training
// on one and two threads, of the packed package in Node, Deno, Bun, workerd, Chromium and Firefox
// ESR, one table (wall clock: CPU time is not visible inside a browser or a Worker). The package
// is packed and installed into a temporary project as in test/runtimes (prepare.mjs); runtimes
// run one after another, each 5 samples of about 0.5 s per operation after a warm-up
// (workload.mjs). Writes bench/results/runtimes.json and runtimes.md (spliced into the README by
// `npm run readme`).
//
//   node bench/runtimes/run.mjs [--runtimes node,deno,bun,workerd,chromium,firefox] [--out bench/results]
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary, freePort, run, serveStatic, start, waitForHttp } from '../../test/runtimes/lib.mjs';
import { prepare } from '../../test/runtimes/prepare.mjs';
import { browserEntry, bundleWorker, capnpWorker, openChromium, openFirefox } from '../../test/runtimes/runners.mjs';
import { OPS } from './workload.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const SELECTED = opt('runtimes', 'node,deno,bun,workerd,chromium,firefox').split(',');
const OUT = opt('out', here('../results'));
const SAMPLES = 5, SECONDS = 0.5;

function parseLine(what, { code, stdout, stderr }) {
  const line = stdout.split('\n').find((l) => l.startsWith('NALU-BENCH '));
  if (code !== 0 || !line) throw new Error(`${what} exited with ${code}\n${stdout}\n${stderr}`);
  return JSON.parse(line.slice('NALU-BENCH '.length));
}

async function runCli(ctx, id) {
  const opts = { cwd: ctx.project, timeout: 300_000 };
  if (id === 'node') return parseLine('node', await run(process.execPath, ['driver.mjs'], opts));
  const bin = findBinary(id);
  if (!bin) throw new Error(`no ${id} binary in node_modules`);
  const argv = id === 'deno' ? ['run', '--allow-read', '--no-prompt', 'driver.mjs'] : ['run', 'driver.mjs'];
  const env = id === 'deno'
    ? { DENO_DIR: join(ctx.base, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' }
    : { BUN_INSTALL_CACHE_DIR: join(ctx.base, 'bun-cache'), DO_NOT_TRACK: '1', NO_COLOR: '1' };
  return parseLine(id, await run(bin.path, argv, { ...opts, env }));
}

async function runBrowser(ctx, open, name) {
  const map = { imports: { 'nalu-wasm': `./${browserEntry(ctx)}` } };
  writeFileSync(join(ctx.project, 'bench-page.html'),
    readFileSync(here('./page.html'), 'utf8').replace('IMPORT_MAP', JSON.stringify(map)));
  const server = await serveStatic(ctx.project);
  const b = await open(ctx);
  try {
    await b.page.goto(new URL('bench-page.html?isolated', server.url).href); // cross-origin isolated: threads may start
    await b.page.waitForFunction(() => window.naluBench !== undefined, undefined, { timeout: 300_000 });
    const r = await b.page.evaluate(() => JSON.parse(JSON.stringify(window.naluBench)));
    if (r.error) throw new Error(`${name}: ${r.error}\n${b.errors.join('\n')}`);
    return { runtime: { name, version: b.version, engine: name === 'Chromium' ? 'V8' : 'SpiderMonkey' }, ...r };
  } finally {
    await b.close();
    await server.close();
  }
}

async function runWorkerd(ctx) {
  const workerd = findBinary('workerd');
  if (!workerd) throw new Error('no workerd binary in node_modules');
  const dir = mkdtempSync(join(ctx.base, 'workerd-bench-'));
  const bundle = await bundleWorker(join(ctx.project, 'worker.mjs'), join(dir, 'bench'));
  const port = await freePort();
  writeFileSync(join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "bench", worker = .bench)],
  sockets = [(name = "bench", address = "127.0.0.1:${port}", http = (), service = "bench")],
);

${capnpWorker('bench', bundle)}`);
  const server = start(workerd.path, ['serve', 'config.capnp'], { cwd: dir });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/ping`, 30_000, () => server.child.exitCode === null);
    const timed = async (op, n) => {
      const t0 = performance.now();
      const res = await fetch(`${base}/run?op=${op}&n=${n}`);
      if (!res.ok) throw new Error(`workerd: HTTP ${res.status} ${await res.text()}\n${server.output()}`);
      await res.json();
      return performance.now() - t0;
    };
    const out = {};
    for (const op of OPS) {
      // Same protocol as workload.mjs's measure, each request's HTTP round trip subtracted.
      const empty = [];
      for (let i = 0; i < 5; i++) empty.push(await timed(op, 0));
      const trip = median(empty);
      let n = 16;
      for (;;) {
        const ms = (await timed(op, n)) - trip;
        if (ms >= 0.5 * SECONDS * 1000) { n = Math.max(1, Math.round((n * SECONDS * 1000) / ms)); break; }
        n *= 4;
      }
      const rates = [];
      for (let s = 0; s < SAMPLES; s++) {
        const ms = (await timed(op, n)) - trip;
        rates.push(op === 'train' ? n / (ms / 1000) : (ms * 1000) / n);
      }
      out[op] = rates;
    }
    return { runtime: { name: 'workerd', version: workerd.version.replace(/^workerd\s*/, ''), engine: 'V8' }, backend: 'simd', ...out };
  } finally {
    await server.stop();
  }
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const fmt = (v) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toFixed(3));
const spread = (v) => `${fmt(median(v))} (${fmt(Math.min(...v))}-${fmt(Math.max(...v))})`;

async function main() {
  const machine = `${cpus()[0]?.model?.trim() ?? 'unknown CPU'}, ${cpus().length} cores`;
  const load = loadavg()[0];
  const ctx = await prepare();
  for (const f of ['workload.mjs', 'driver.mjs', 'worker.mjs']) copyFileSync(here(`./${f}`), join(ctx.project, f));
  const runners = {
    node: () => runCli(ctx, 'node'),
    deno: () => runCli(ctx, 'deno'),
    bun: () => runCli(ctx, 'bun'),
    workerd: () => runWorkerd(ctx),
    chromium: () => runBrowser(ctx, openChromium, 'Chromium'),
    firefox: () => runBrowser(ctx, openFirefox, 'Firefox ESR'),
  };
  const results = [];
  for (const id of SELECTED) {
    if (!runners[id]) throw new Error(`unknown runtime ${id}; known: ${Object.keys(runners).join(', ')}`);
    process.stderr.write(`bench:runtimes: ${id}\n`);
    try {
      results.push({ id, ...(await runners[id]()) });
    } catch (err) {
      results.push({ id, error: err instanceof Error ? err.message.split('\n')[0] : String(err) });
    }
  }
  const node = results.find((r) => r.id === 'node' && !r.error);
  const rows = results.map((r) => {
    if (r.error) return `| ${r.id} | - | - | - | - | - | - | - | - | - | - | ${r.error} |`;
    const vsNode = (a, b) => (node ? (a / b).toFixed(2) : '-');
    const m = r.m1 ? [spread(r.m1), r.threads === 2 ? spread(r.m2) : `${r.threads} thread`, r.threads === 2 ? `${(median(r.m2) / median(r.m1)).toFixed(2)}x` : '-'] : ['-', '-', '-'];
    return `| ${r.runtime.name} ${r.runtime.version} | ${r.runtime.engine} | ${r.backend} | ${spread(r.train)} | ${vsNode(median(r.train), median(node?.train ?? [1]))} | ${spread(r.predict)} | ${vsNode(median(node?.predict ?? [1]), median(r.predict))} | ${spread(r.predictInto)} | ${m.join(' | ')} |`;
  });
  const md = [
    '### Runtimes (`npm run bench:runtimes`)',
    '',
    `Machine: ${machine}, ${new Date().toISOString().slice(0, 10)}, load average ${load.toFixed(1)} at the start. The packed package`,
    `in each runtime, one after another; wall clock (${SAMPLES} samples of about ${SECONDS} s after a warm-up; median (min-max)).`,
    'S: NALU 100-2-1, batch 128, Adam training step; E: the same stack, predict of one sample, returning a new',
    'Float32Array or written into one buffer (`predict(x, 1, out)`).',
    'workerd is timed from outside (its clock stands still while a request computes), one HTTP round trip subtracted.',
    'M: one NALU 64-64, batch 1024, Adam training step from arrays, on one thread and on `init({ threads: 2 })`',
    '(worker threads in Node, Deno and Bun; Web Workers on the browsers\' cross-origin isolated page; workerd has none).',
    '',
    '| runtime | engine | build | S train steps/s | vs Node | E predict us/call | vs Node | E predict into out, us/call | M train steps/s, 1 thread | 2 threads | speed-up |',
    '|:--|:--|:--|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows,
    '',
  ].join('\n');
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'runtimes.json'), `${JSON.stringify({ machine, load, date: new Date().toISOString(), results }, null, 2)}\n`);
  writeFileSync(join(OUT, 'runtimes.md'), md);
  console.log(md);
  console.log(`wrote ${join(OUT, 'runtimes.json')} and runtimes.md`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
