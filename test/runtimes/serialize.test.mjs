// Saved models are the same bytes in every runtime. The packed package (npm pack, installed into
// a temporary project, as runtimes.test.mjs does) runs serialize-driver.mjs in Node, then in
// Deno and Bun with Node's saved models at hand:
//   - each runtime saves the same model to the same bytes (and the same JSON) as Node, on both
//     builds, and the simd and scalar builds save the same bytes;
//   - each loads Node's bytes and JSON: the same predictions, the same bytes saved again, and
//     the same next training step (loss and parameters) as Node's original model.
//   node --test test/runtimes/serialize.test.mjs   (after npm run build)
// NALU_RUNTIMES=node,deno limits the runtimes; NALU_KEEP_TMP=1 keeps the temporary project.
import assert from 'node:assert/strict';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findBinary, run } from './lib.mjs';
import { prepare } from './prepare.mjs';

const only = process.env.NALU_RUNTIMES?.split(',').map((s) => s.trim());
const OTHERS = ['deno', 'bun'].filter((id) => !only || only.includes(id));

let ctx;
let node;
const reports = new Map();

function parse(what, { code, stdout, stderr }) {
  const line = stdout.split('\n').find((l) => l.startsWith('NALU-SERIALIZE '));
  if (code !== 0 || !line) throw new Error(`${what} exited with ${code} and no report\n${stdout}\n${stderr}`);
  return JSON.parse(line.slice('NALU-SERIALIZE '.length));
}

const COMMANDS = {
  deno: (bin) => [bin.path, ['run', '--allow-read', '--no-prompt', 'serialize-driver.mjs'],
    { DENO_DIR: join(ctx.base, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' }],
  bun: (bin) => [bin.path, ['run', 'serialize-driver.mjs'], { BUN_INSTALL_CACHE_DIR: join(ctx.base, 'bun-cache'), DO_NOT_TRACK: '1', NO_COLOR: '1' }],
};

before(async () => {
  ctx = await prepare();
  cpSync(new URL('./serialize-driver.mjs', import.meta.url), join(ctx.project, 'serialize-driver.mjs'));
  node = parse('node', await run(process.execPath, ['serialize-driver.mjs'], { cwd: ctx.project }));
  writeFileSync(join(ctx.project, 'from-node.mjs'), `export default ${JSON.stringify(node.builds)};\n`);
  // Node again, now loading its own saved models.
  reports.set('node', parse('node', await run(process.execPath, ['serialize-driver.mjs'], { cwd: ctx.project })));
  await Promise.all(OTHERS.map(async (id) => {
    const bin = findBinary(id);
    if (!bin) return;
    const [cmd, args, env] = COMMANDS[id](bin);
    reports.set(id, parse(id, await run(cmd, args, { cwd: ctx.project, env })));
  }));
});

after(() => {
  if (ctx && process.env.NALU_KEEP_TMP !== '1') rmSync(ctx.base, { recursive: true, force: true });
  else if (ctx) console.log(`# kept ${ctx.base}`);
});

test('Node: the simd and scalar builds save the same bytes and JSON, and train alike', () => {
  assert.equal(node.builds.scalar.bytes, node.builds.simd.bytes);
  assert.equal(node.builds.scalar.json, node.builds.simd.json);
  assert.deepEqual(node.builds.scalar.losses, node.builds.simd.losses);
  assert.match(node.builds.simd.bytes, /^4e414c555741534d0100/, 'magic "NALUWASM", version 1');
});

for (const id of ['node', ...OTHERS]) {
  describe(id, () => {
    test('loads Node\'s bytes and JSON: the same predictions, bytes and next training step', (t) => {
      const r = reports.get(id);
      if (!r) return t.skip(`no ${id} binary in node_modules`);
      for (const b of ['simd', 'scalar']) {
        const mine = node.builds[b];
        const loaded = r.loaded[b];
        assert.ok(loaded, `${b}: the driver loaded Node's models`);
        assert.equal(loaded.y, mine.y, `${b}: predictions`);
        assert.equal(loaded.resaved, mine.bytes, `${b}: saved again`);
        assert.equal(loaded.jsonY, mine.y, `${b}: predictions of the JSON form`);
        assert.equal(loaded.jsonResaved, mine.bytes, `${b}: the JSON form saved as bytes`);
        assert.equal(loaded.next, mine.next, `${b}: the next step's loss`);
        assert.equal(loaded.after, mine.after, `${b}: the model after the next step`);
      }
    });

    if (id !== 'node') {
      test('saves the same model to the same bytes and JSON as Node, on both builds', (t) => {
        const r = reports.get(id);
        if (!r) return t.skip(`no ${id} binary in node_modules`);
        assert.match(r.runtime, id === 'deno' ? /^Deno / : /^Bun /);
        for (const b of ['simd', 'scalar']) {
          assert.deepEqual(r.builds[b].losses, node.builds[b].losses, `${b}: training losses`);
          assert.equal(r.builds[b].bytes, node.builds[b].bytes, `${b}: saved bytes`);
          assert.equal(r.builds[b].json, node.builds[b].json, `${b}: JSON`);
        }
      });
    }
  });
}
