// Helpers of the runtimes test: child processes with time limits, the runtime binaries that
// npm installed, free loopback ports and a static file server.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The runtime binaries ship inside npm packages (devDependencies). Their wrappers' postinstall
 * scripts, where npm runs them, hard-link the binary into the wrapper package; where npm does
 * not run them, the binary stays in the platform package. Either place is fine.
 */
const BINARIES = {
  deno: ['node_modules/@deno/linux-x64-glibc/deno', 'node_modules/deno/deno'],
  bun: ['node_modules/@oven/bun-linux-x64/bin/bun', 'node_modules/bun/bin/bun.exe'],
  workerd: ['node_modules/@cloudflare/workerd-linux-64/bin/workerd', 'node_modules/workerd/bin/workerd'],
  chromium: ['/usr/bin/chromium'],
  firefox: ['/usr/bin/firefox-esr'],
};

/** The first candidate path that runs (`--version` exits 0), with its version line; else null. */
export function findBinary(name) {
  for (const candidate of BINARIES[name]) {
    const path = candidate.startsWith('/') ? candidate : join(ROOT, candidate);
    if (!existsSync(path)) continue;
    const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    if (r.status === 0) return { path, version: (r.stdout || r.stderr).trim().split('\n')[0] };
  }
  return null;
}

/** Runs a command; resolves { code, stdout, stderr }; kills it (and rejects) after `timeout` ms. */
export function run(cmd, args, { cwd, env, timeout = 120_000, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out after ${timeout} ms\n${stdout}\n${stderr}`));
    }, timeout);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.end(input ?? '');
  });
}

/** Starts a long-running process; returns it with `output()` and `stop()`. */
export function start(cmd, args, { cwd, env } = {}) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('close', resolve));
  return {
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers (any status) or `timeout` ms pass. */
export async function waitForHttp(url, timeout = 30_000, alive = () => true) {
  const until = Date.now() + timeout;
  let last;
  while (Date.now() < until) {
    if (!alive()) throw new Error(`the server for ${url} exited`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeout} ms (${last?.message})`);
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.map': 'application/json',
};

/**
 * A static file server for `root` on 127.0.0.1, the way a plain web server serves a project's
 * folder (application/wasm for .wasm). Resolves { url, close, requests }.
 */
export function serveStatic(root) {
  const requests = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(path);
    let file = normalize(join(root, path));
    if (!file.startsWith(normalize(root + sep)) && file !== normalize(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      statSync(file);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    // ?content-type=... overrides the type, to test servers that send the wrong one; ?isolated
    // serves a page cross-origin isolated (what shared memory between workers needs); ?no-blob-workers
    // adds a Content-Security-Policy that allows workers from the page's origin only.
    const query = new URL(req.url, 'http://x').searchParams;
    const forced = query.get('content-type');
    const headers = { 'Content-Type': forced ?? TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' };
    if (query.has('isolated')) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    if (query.has('no-blob-workers')) headers['Content-Security-Policy'] = "worker-src 'self'";
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}/`,
        requests,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

/**
 * Resolves `exports["."]` of a package.json for a list of conditions, as a runtime or a bundler
 * would (the first matching key in object order wins).
 */
export function resolveExport(pkg, conditions, subpath = '.') {
  let target = pkg.exports?.[subpath];
  while (target && typeof target === 'object') {
    const key = Object.keys(target).find((k) => k === 'default' || conditions.includes(k));
    if (!key) return null;
    target = target[key];
  }
  return target ?? null;
}
