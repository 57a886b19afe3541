// Packs the built package (npm pack) and installs the tarball into a temporary project, as a
// user would; copies in the harness, its drivers, the golden cases and the examples.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { ROOT, run } from './lib.mjs';

// shared/golden/ beside the repository, or under NALU_SHARED_DIR when it is set (see .ci/run)
const GOLDEN = process.env.NALU_SHARED_DIR
  ? pathToFileURL(join(process.env.NALU_SHARED_DIR, 'golden/core-torch.json'))
  : new URL('../../../shared/golden/core-torch.json', import.meta.url);

export async function prepare() {
  const base = mkdtempSync(join(tmpdir(), 'nalu-runtimes-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', base], { cwd: ROOT, timeout: 120_000 });
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')))[0];
  const tarball = join(base, info.filename);

  const project = join(base, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'nalu-runtimes-consumer', private: true, type: 'module' }, null, 2)}\n`);
  const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: project, timeout: 180_000 });
  if (installed.code !== 0) throw new Error(`npm install of ${info.filename} failed:\n${installed.stderr}`);

  const here = new URL('./', import.meta.url);
  for (const f of ['harness.mjs', 'cli-driver.mjs', 'require-driver.cjs', 'harness.html', 'workerd-harness.mjs', 'examples-node.mjs', 'nested-worker.mjs']) {
    cpSync(new URL(f, here), join(project, f));
  }
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8'));
  writeFileSync(join(project, 'cases.mjs'), `export default ${JSON.stringify({ cases: golden.cases })};\n`);
  cpSync(join(ROOT, 'examples'), join(project, 'examples'), { recursive: true });

  const pkg = JSON.parse(readFileSync(join(project, 'node_modules/nalu-wasm/package.json'), 'utf8'));
  return { base, project, tarball, pack: info, pkg, cases: golden.cases.length };
}
