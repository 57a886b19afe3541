#!/usr/bin/env node
// npm run demo [-- --port 8080] [--host 127.0.0.1] [--no-build]
//
// Builds the package (npm run build) and serves the demo page (demo/) with the package's browser
// entry (dist/browser.js and the .wasm files beside it) on a loopback address. Only demo/ and
// dist/ are served; the page loads nothing from anywhere else (the Content-Security-Policy
// header says so to the browser too). Without --port it takes port 8137, or any free port when
// that one is busy.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DEFAULT_PORT = 8137;
const SERVED = { demo: join(ROOT, 'demo'), dist: join(ROOT, 'dist') };

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

// 'wasm-unsafe-eval' lets the page compile WebAssembly; everything else comes from this server.
const CSP = ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "worker-src 'self'", "style-src 'self'",
  "img-src 'self' data:", "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"].join('; ');

const USAGE = `usage: node scripts/demo.mjs [--port N] [--host ADDRESS] [--no-build]
  --port N     port to listen on (default ${DEFAULT_PORT}, or a free one when it is busy; 0: any free port)
  --host A     address to listen on (default 127.0.0.1)
  --no-build   serve dist/ as it is, without running npm run build first`;

function parseArgs(argv) {
  const o = { port: undefined, host: '127.0.0.1', build: true };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--port' || flag === '-p') {
      const p = Number(value());
      if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error('--port must be an integer from 0 to 65535');
      o.port = p;
    } else if (flag === '--host') {
      o.host = value();
    } else if (flag === '--no-build') {
      o.build = false;
    } else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      throw new Error(`unknown option ${argv[i]}\n${USAGE}`);
    }
  }
  return o;
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Security-Policy': CSP, ...headers });
  res.end(body);
}

/** The file a URL path maps to, or null: /demo/... from demo/, /dist/... from dist/. */
function resolveFile(pathname) {
  const m = /^\/(demo|dist)(\/.*)?$/.exec(pathname);
  if (!m) return null;
  const base = SERVED[m[1]];
  const file = normalize(join(base, m[2] ?? '/'));
  if (file !== base && !file.startsWith(base + sep)) return null;
  if (!existsSync(file)) return null;
  const st = statSync(file);
  if (st.isDirectory()) {
    const index = join(file, 'index.html');
    return existsSync(index) ? index : null;
  }
  return file;
}

export function createDemoServer() {
  return createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      return send(res, 400, 'bad request\n');
    }
    if (pathname === '/' || pathname === '/demo') return send(res, 302, 'see /demo/\n', { Location: '/demo/' });
    const file = resolveFile(pathname);
    if (!file) {
      const hint = pathname.startsWith('/dist/') ? ' (run npm run build)' : '';
      return send(res, 404, `not found: ${pathname}${hint}\n`);
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': CSP,
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    const onError = (err) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server.address().port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
  if (opts.build) {
    console.log('building the package (npm run build)...');
    const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`npm run build failed (exit ${r.status ?? r.signal}); the demo needs dist/`);
      process.exit(r.status || 1);
    }
  }
  for (const f of ['dist/browser.js', 'dist/nalu-simd.wasm', 'dist/nalu-scalar.wasm']) {
    if (!existsSync(join(ROOT, f))) {
      console.error(`${f} is missing: run npm run build (or npm run demo without --no-build)`);
      process.exit(1);
    }
  }
  const server = createDemoServer();
  let port;
  try {
    port = await listen(server, opts.port ?? DEFAULT_PORT, opts.host);
  } catch (err) {
    if (err.code === 'EADDRINUSE' && opts.port === undefined) {
      port = await listen(server, 0, opts.host);
    } else {
      console.error(`cannot listen on ${opts.host}:${opts.port ?? DEFAULT_PORT}: ${err.message}`);
      process.exit(1);
    }
  }
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  // The test reads this line: keep its form.
  console.log(`nalu-wasm demo: http://${host}:${port}/demo/`);
  console.log('press Ctrl+C to stop');
  const close = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGINT', close);
  process.on('SIGTERM', close);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) main();
