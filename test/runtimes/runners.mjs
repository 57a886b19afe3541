// One runner per runtime. Each runs the harness (harness.mjs) inside the temporary project
// where the packed package is installed, and resolves its report.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { findBinary, freePort, resolveExport, run, serveStatic, start, waitForHttp } from './lib.mjs';

function parseReport(what, { code, stdout, stderr }) {
  const line = stdout.split('\n').find((l) => l.startsWith('NALU-REPORT '));
  if (code !== 0 || !line) throw new Error(`${what} exited with ${code} and no report\n${stdout}\n${stderr}`);
  return JSON.parse(line.slice('NALU-REPORT '.length));
}

// ---- Node, Deno, Bun -------------------------------------------------------------------------

export async function runNode(ctx) {
  const report = parseReport('node', await run(process.execPath, ['cli-driver.mjs'], { cwd: ctx.project }));
  report.runtime.binary = process.execPath;
  const req = await run(process.execPath, ['require-driver.cjs'], { cwd: ctx.project });
  const line = req.stdout.split('\n').find((l) => l.startsWith('NALU-REQUIRE '));
  report.require = line ? JSON.parse(line.slice('NALU-REQUIRE '.length)) : { error: `${req.stdout}\n${req.stderr}` };
  return report;
}

export async function runDeno(ctx) {
  const deno = findBinary('deno');
  if (!deno) throw new Error('no Deno binary in node_modules (devDependency "deno" with @deno/linux-x64-glibc)');
  // --allow-read only: the deno entry fetches the .wasm file from its file: URL.
  const r = await run(deno.path, ['run', '--allow-read', '--no-prompt', 'cli-driver.mjs'], {
    cwd: ctx.project,
    env: { DENO_DIR: join(ctx.base, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  });
  const report = parseReport('deno', r);
  report.runtime.binary = deno.path;
  return report;
}

/** init() in Deno without --allow-read: the error it throws, as { name, message }. */
export async function denoWithoutRead(ctx) {
  const deno = findBinary('deno');
  const script = "import { init } from 'nalu-wasm';\ntry { await init(); console.log('NALU-DENIED null'); }\n" +
    "catch (e) { console.log('NALU-DENIED ' + JSON.stringify({ name: e.name, message: e.message })); }\n";
  writeFileSync(join(ctx.project, 'no-read-driver.mjs'), script);
  const r = await run(deno.path, ['run', '--no-prompt', 'no-read-driver.mjs'], {
    cwd: ctx.project,
    env: { DENO_DIR: join(ctx.base, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('NALU-DENIED '));
  if (!line) throw new Error(`deno exited with ${r.code} and no result\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line.slice('NALU-DENIED '.length));
}

export async function runBun(ctx) {
  const bun = findBinary('bun');
  if (!bun) throw new Error('no Bun binary in node_modules (devDependency "bun" with @oven/bun-linux-x64)');
  const r = await run(bun.path, ['run', 'cli-driver.mjs'], {
    cwd: ctx.project,
    env: { BUN_INSTALL_CACHE_DIR: join(ctx.base, 'bun-cache'), DO_NOT_TRACK: '1', NO_COLOR: '1' },
  });
  const report = parseReport('bun', r);
  report.runtime.binary = bun.path;
  return report;
}

// ---- workerd ---------------------------------------------------------------------------------

/**
 * Bundles a Worker as wrangler does: esbuild with the conditions workerd, worker, browser; every
 * imported .wasm file becomes a separate module (copied beside the bundle, compiled by workerd).
 */
export async function bundleWorker(entry, outdir) {
  const esbuild = await import('esbuild');
  mkdirSync(outdir, { recursive: true });
  const wasm = new Set();
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile: join(outdir, 'worker.js'),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    metafile: true,
    logLevel: 'silent',
    plugins: [{
      name: 'wasm-modules',
      setup(build) {
        build.onResolve({ filter: /\.bytes$/ }, (args) => ({ path: args.path, external: true }));
        build.onResolve({ filter: /\.wasm$/ }, async (args) => {
          if (args.pluginData?.inner) return undefined;
          const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
          if (r.errors.length) return { errors: r.errors };
          const name = basename(r.path);
          copyFileSync(r.path, join(outdir, name));
          wasm.add(name);
          return { path: `./${name}`, external: true };
        });
      },
    }],
  });
  const inputs = Object.keys(result.metafile.inputs);
  const entryFile = inputs.find((f) => /node_modules\/nalu-wasm\/dist\/(workerd|deno|bun|browser|index)\.js$/.test(f));
  return { dir: outdir, wasm: [...wasm], entry: entryFile?.slice(entryFile.indexOf('nalu-wasm/') + 'nalu-wasm/'.length) };
}

export function capnpWorker(name, bundle, extra = []) {
  const modules = [
    `(name = "worker.js", esModule = embed "${name}/worker.js")`,
    ...bundle.wasm.map((w) => `(name = "${w}", wasm = embed "${name}/${w}")`),
    ...extra,
  ];
  return `const ${name} :Workerd.Worker = (\n  modules = [\n    ${modules.join(',\n    ')}\n  ],\n  compatibilityDate = "2025-09-01",\n);\n`;
}

export async function startWorkerd(ctx) {
  const workerd = findBinary('workerd');
  if (!workerd) throw new Error('no workerd binary in node_modules (devDependency "workerd" with @cloudflare/workerd-linux-64)');
  const dir = mkdtempSync(join(ctx.base, 'workerd-'));
  const harness = await bundleWorker(join(ctx.project, 'workerd-harness.mjs'), join(dir, 'harness'));
  const example = await bundleWorker(join(ctx.project, 'examples/worker/src/index.js'), join(dir, 'example'));
  copyFileSync(join(ctx.project, 'node_modules/nalu-wasm/dist/nalu-simd.wasm'), join(dir, 'harness/nalu-simd.bytes'));
  const [harnessPort, examplePort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "harness", worker = .harness),
    (name = "example", worker = .example),
  ],
  sockets = [
    (name = "harness", address = "127.0.0.1:${harnessPort}", http = (), service = "harness"),
    (name = "example", address = "127.0.0.1:${examplePort}", http = (), service = "example"),
  ],
);

${capnpWorker('harness', harness, ['(name = "nalu-simd.bytes", data = embed "harness/nalu-simd.bytes")'])}
${capnpWorker('example', example)}`);
  const server = start(workerd.path, ['serve', 'config.capnp'], { cwd: dir });
  const alive = () => server.child.exitCode === null;
  try {
    await waitForHttp(`http://127.0.0.1:${harnessPort}/ping`, 30_000, alive);
    await waitForHttp(`http://127.0.0.1:${examplePort}/ping`, 30_000, alive);
  } catch (err) {
    await server.stop();
    throw new Error(`${err.message}\n${server.output()}`);
  }
  return {
    version: workerd.version,
    binary: workerd.path,
    harnessEntry: harness.entry,
    exampleEntry: example.entry,
    harnessUrl: `http://127.0.0.1:${harnessPort}/`,
    exampleUrl: `http://127.0.0.1:${examplePort}/`,
    output: server.output,
    stop: () => server.stop(),
  };
}

export async function runWorkerd(ctx, w) {
  const res = await fetch(new URL('harness', w.harnessUrl), { signal: AbortSignal.timeout(120_000) });
  if (!res.ok) throw new Error(`workerd harness: HTTP ${res.status}\n${await res.text()}\n${w.output()}`);
  const report = await res.json();
  report.runtime.version = w.version.replace(/^workerd\s*/, '');
  report.runtime.entry = w.harnessEntry;
  report.runtime.binary = w.binary;
  return report;
}

// ---- browsers --------------------------------------------------------------------------------

/** Where the browser condition resolves "nalu-wasm" in the test project. */
export function browserEntry(ctx) {
  return `node_modules/nalu-wasm/${resolveExport(ctx.pkg, ['browser', 'import']).replace(/^\.\//, '')}`;
}

/** The harness page with an import map that points "nalu-wasm" where the browser condition says. */
function writeHarnessPage(ctx) {
  const map = { imports: { 'nalu-wasm': `./${browserEntry(ctx)}` } };
  const html = readFileSync(join(ctx.project, 'harness.html'), 'utf8').replace('IMPORT_MAP', JSON.stringify(map));
  writeFileSync(join(ctx.project, 'harness-page.html'), html);
}

let server;
async function staticServer(ctx) {
  if (!server) {
    writeHarnessPage(ctx);
    server = serveStatic(ctx.project);
  }
  return server;
}

export async function closeStaticServer() {
  if (server) await (await server).close();
  server = undefined;
}

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Opens the harness page (cross-origin isolated, so that init({ threads: 2 }) may start workers),
 * where nested-worker.mjs also runs in a Worker of the page's own, and the browser example (not
 * isolated) in `page`; on the example's page, init({ threads: 2 }) is asked once more, and again
 * on that page served isolated with a Content-Security-Policy that refuses blob: workers. Returns
 * { report, example, nested, notIsolated, noBlobWorkers }.
 */
async function runPages(page, base, errors, entry) {
  const src = new URL(entry, base).href;
  await page.goto(new URL('harness-page.html?isolated', base).href);
  await page.waitForFunction(() => window.naluReport !== undefined, undefined, { timeout: 120_000 });
  const report = await page.evaluate(() => JSON.parse(JSON.stringify(window.naluReport)));
  // (a worker's script needs the page's headers too, or a cross-origin isolated page may not start it)
  const nested = await page.evaluate(([script, src]) => new Promise((resolve) => {
    const worker = new Worker(script, { type: 'module' });
    worker.onmessage = ({ data }) => { resolve(data); worker.terminate(); };
    worker.onerror = (event) => resolve({ error: event.message || 'the worker did not start' });
    worker.postMessage(src);
  }), [new URL('nested-worker.mjs?isolated', base).href, src]);
  await page.goto(new URL('examples/browser/index.html', base).href);
  await page.waitForFunction(() => document.body.dataset.status === 'done' || document.body.dataset.status === 'error', undefined, { timeout: 120_000 });
  const example = await page.evaluate(() => ({ status: document.body.dataset.status, result: window.naluDemo ?? null, text: document.getElementById('result')?.textContent ?? '' }));
  example.pageErrors = [...errors];
  const askThreads = (src) => import(src).then(async (nalu) =>
    ({ crossOriginIsolated: globalThis.crossOriginIsolated, ...await nalu.init({ threads: 2 }) }));
  const notIsolated = await page.evaluate(askThreads, src);
  await page.goto(new URL('examples/browser/index.html?isolated&no-blob-workers', base).href);
  const noBlobWorkers = await page.evaluate(askThreads, src).catch((err) => ({ error: String(err) }));
  return { report, example, nested, notIsolated, noBlobWorkers };
}

/** Headless Chromium with a fresh profile; resolves { page, version, binary, errors, close }. */
export async function openChromium(ctx) {
  const chromium = findBinary('chromium');
  if (!chromium) throw new Error('no /usr/bin/chromium (Debian package chromium)');
  const { chromium: pw } = await import('playwright-core');
  const userDataDir = mkdtempSync(join(ctx.base, 'chromium-profile-'));
  // launchPersistentContext: a fresh --user-data-dir of our own, as the machine notes ask.
  const context = await pw.launchPersistentContext(userDataDir, {
    executablePath: chromium.path,
    headless: true,
    args: CHROMIUM_FLAGS,
    timeout: 60_000,
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    return { page, version: context.browser()?.version(), binary: chromium.path, errors: watchErrors(page), close: () => context.close() };
  } catch (err) {
    await context.close();
    throw err;
  }
}

/** Headless Firefox ESR with a fresh profile; resolves { page, version, binary, errors, close }. */
export async function openFirefox(ctx) {
  const firefox = findBinary('firefox');
  if (!firefox) throw new Error('no /usr/bin/firefox-esr (Debian package firefox-esr)');
  const puppeteer = (await import('puppeteer-core')).default;
  const userDataDir = mkdtempSync(join(ctx.base, 'firefox-profile-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: firefox.path,
    headless: true,
    userDataDir,
    protocolTimeout: 120_000,
    timeout: 60_000,
    extraPrefsFirefox: {
      // No calls home from a machine without a network.
      'app.update.enabled': false,
      'browser.shell.checkDefaultBrowser': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
      'extensions.update.enabled': false,
      'browser.safebrowsing.update.enabled': false,
    },
  });
  try {
    const page = await browser.newPage();
    const version = (await browser.version()).replace(/^firefox\//i, '');
    return { page, version, binary: firefox.path, errors: watchErrors(page), close: () => browser.close() };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  return errors;
}

async function runBrowser(ctx, open) {
  const base = (await staticServer(ctx)).url;
  const b = await open(ctx);
  try {
    const { report, ...pages } = await runPages(b.page, base, b.errors, browserEntry(ctx));
    report.runtime.binary = b.binary;
    report.runtime.version = b.version ?? report.runtime.version;
    return Object.assign(report, pages);
  } finally {
    await b.close();
  }
}

export const runChromium = (ctx) => runBrowser(ctx, openChromium);
export const runFirefox = (ctx) => runBrowser(ctx, openFirefox);
