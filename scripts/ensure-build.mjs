#!/usr/bin/env node
// Runs `npm run build` unless dist/ is newer than everything it is built from, so that a test
// command run right after a build (npm test, then test:runtimes) does not build twice.
// NALU_FORCE_BUILD=1 always builds.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const INPUTS = ['src', 'assembly', 'asconfig.json', 'rollup.config.mjs', 'tsconfig.json', 'scripts/size.mjs'];
const OUTPUTS = ['dist/index.js', 'dist/index.d.ts', 'dist/deno.js', 'dist/bun.js', 'dist/workerd.js', 'dist/browser.js',
  'dist/nalu-simd.wasm', 'dist/nalu-scalar.wasm'];

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return readdirSync(path).reduce((m, f) => Math.max(m, newest(join(path, f))), s.mtimeMs);
}

const paths = (list) => list.map((p) => join(root, p));
const missing = paths(OUTPUTS).filter((p) => !existsSync(p));
const stale = missing.length === 0 &&
  Math.max(...paths(INPUTS).filter(existsSync).map(newest)) > Math.min(...paths(OUTPUTS).map((p) => statSync(p).mtimeMs));

if (process.env.NALU_FORCE_BUILD === '1' || missing.length > 0 || stale) {
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  process.exit(r.status ?? 1);
} else {
  console.log('dist/ is up to date with src/, assembly/ and the build configuration');
}
