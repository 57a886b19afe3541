// Linear memory exhausted in the middle of a call (test/fixtures/out-of-memory.ts, in a process
// of its own: it grows the module's memory to its 4 GiB limit), in Node and, where the Bun of the
// devDependencies is installed, in JavaScriptCore (whose trap message differs).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bun = fileURLToPath(new URL('../node_modules/.bin/bun', import.meta.url));
const OOM = /^NaluError: (\w+): the Wasm module stopped during the call \((unreachable|Unreachable code should not be executed).*\) with 4096 MiB of linear memory in use: most likely out of memory; the model is as it was/;

const runtimes: Array<[string, string[], boolean]> = [
  ['Node', [process.execPath, '--import', 'tsx'], true],
  ['Bun', [bun, 'run'], existsSync(bun)],
];

describe.each(runtimes)('a call that runs out of linear memory (%s)', (_name, command, available) => {
  it.runIf(available)('throws a NaluError, keeps its model as it was, and leaves no freed scratch block in use', () => {
    const r = spawnSync(command[0]!, [...command.slice(1), 'test/fixtures/out-of-memory.ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`the script ended with ${r.signal ? `signal ${r.signal}` : `exit code ${r.status}`}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    // a model that does not fit says so and what to do
    expect(o.modelRefused).toMatch(/^sequential: out of linear memory allocating \d+ bytes \(.+\): dispose of the models, samplers and staged batches you no longer need$/);
    // the staged step meets the exhausted memory in its backward pass, growing a product's
    // scratch; a prediction, whose products have theirs, then works and gives the same values
    expect(o.trainStepOn).toMatch(OOM);
    expect(String(o.trainStepOn)).toMatch(/^NaluError: trainStepOn: /);
    expect(o.predictAfter).toBe('same');
    expect(o.weightsKept).toBe(true);
    expect(o.stepKept).toBe(true);
    // the blocks the failed calls freed went to staged batches; another model's product then
    // allocates anew (and fails: memory is full) instead of writing into them
    expect(o.stagedBatches).toBeGreaterThan(10);
    expect(o.smallStep).toMatch(OOM);
    expect(o.pIntactFull).toBe(o.stagedBatches);
    // with memory freed: all works, and the staged model matches its twin loaded from the bytes
    // saved before the failure (it holds its own buffers again, not the staged batch's)
    expect(o.smallStepAfter).toBe('no error');
    expect(o.pIntactAfter).toBe(o.stagedBatches);
    expect(o.sameLoss).toBe(true);
    expect(o.sameWeights).toBe(true);
    expect(o.samePrediction).toBe(true);
  }, 120_000);
});
