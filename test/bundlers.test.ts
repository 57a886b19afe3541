// The package bundled by a tool that does not copy its .wasm files (esbuild, as Bun's and
// rollup's bundlers, by default): init() must fail with a NaluError that says what the bundle
// lacks, and work once the files are beside it or passed as init({ wasm }). Needs dist/ (npm test
// builds it first).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const DIST = new URL('../dist/', import.meta.url).pathname;

const APP = `
const { init, nau, sequential, adam, NaluError } = NALU;
(async () => {
  try {
    await init(WASM);
  } catch (err) {
    console.log(err instanceof NaluError ? 'NaluError' : 'other', err.message);
    return;
  }
  const model = sequential([nau({ inputs: 2, outputs: 1 })], { seed: 1 });
  model.setWeights([{ W: [1, -1] }]);
  console.log('ok', model.predict([1000, 250])[0]);
})();
`;

/** Bundles APP (its NALU the package, WASM init's argument) as `format` into a new directory; runs it. */
async function bundleAndRun(format: 'esm' | 'cjs', wasm = 'undefined', copyWasm = false): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'nalu-bundle-'));
  const header = format === 'esm' ? "import * as NALU from 'nalu-wasm';\n" : "const NALU = require('nalu-wasm');\n";
  writeFileSync(join(dir, 'app.js'), `${header}const WASM = ${wasm};\n${APP}`);
  const out = join(dir, 'out', format === 'esm' ? 'app.mjs' : 'app.cjs');
  await build({ entryPoints: [join(dir, 'app.js')], bundle: true, platform: 'node', format, outfile: out, logLevel: 'silent',
    alias: { 'nalu-wasm': join(DIST, 'index.js') } });
  if (copyWasm) for (const f of readdirSync(DIST).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(DIST, f), join(dir, 'out', f));
  return execFileSync(process.execPath, [out], { encoding: 'utf8', cwd: dir }).trim();
}

describe.runIf(existsSync(join(DIST, 'index.js')))('bundled without its .wasm files (esbuild)', () => {
  it('an ES module bundle: a NaluError naming the missing file and the two ways out', async () => {
    expect(await bundleAndRun('esm')).toMatch(/^NaluError init: cannot load file:\/\/\/.*\/out\/nalu-simd\.wasm \(ENOENT[^)]*\): a bundle needs ESM output and nalu-wasm\/dist\/\*\.wasm beside it, or init\(\{ wasm \}\)$/);
  });

  it('an ES module bundle with the files copied beside it runs', async () => {
    expect(await bundleAndRun('esm', 'undefined', true)).toBe('ok 750');
  });

  it('a CommonJS bundle (no import.meta.url): a NaluError, even with the files beside it', async () => {
    expect(await bundleAndRun('cjs', 'undefined', true)).toMatch(/^NaluError init: cannot load the \.wasm file \([^)]*\): a bundle needs ESM output/);
  });

  it('a CommonJS bundle runs with init({ wasm }) given the file', async () => {
    const wasm = `{ wasm: require('node:url').pathToFileURL(require('node:path').join(${JSON.stringify(DIST)}, 'nalu-simd.wasm')) }`;
    expect(await bundleAndRun('cjs', wasm)).toBe('ok 750');
  });
});
