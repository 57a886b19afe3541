// The command line, as built into dist/ by `npm run build` (npm test builds first).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const SIMD_WASM = new URL('../dist/nalu-simd.wasm', import.meta.url);
const SIMD_SHA = existsSync(SIMD_WASM) ? createHash('sha256').update(readFileSync(SIMD_WASM)).digest('hex').slice(0, 12) : '';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.runIf(existsSync(CLI))('nalu-wasm CLI', () => {
  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['version', 'extra'], /version takes no arguments, got "extra"/],
    [['experiment', '--model', 'nac'], /--op is required/],
    [['experiment', '--op', 'pow', '--model', 'nac'], /--op must be one of add, sub/],
    [['experiment', '--op', 'add'], /--model is required/],
    [['experiment', '--op', 'add', '--model', 'lstm'], /--model must be one of/],
    // names an object has from its prototype are no models
    [['experiment', '--op', 'add', '--model', 'toString'], /--model must be one of/],
    [['experiment', '--op', 'add', '--model', 'constructor'], /--model must be one of/],
    [['experiment', '--op', 'add', '--model', 'nac', '--seeds', '9..3'], /--seeds 9\.\.3/],
    [['experiment', '--op', 'add', '--model', 'nac', '--seeds', 'a,b'], /--seeds must be/],
    [['experiment', '--op', 'add', '--model', 'nac', '--iterations', '-5'], /--iterations must be an integer/],
    [['experiment', '--op', 'add', '--model', 'nac', '--iterations', '1.5'], /--iterations must be an integer/],
    [['experiment', '--op', 'add', '--model', 'nac', '--lr', 'fast'], /--lr must be a number/],
    [['experiment', '--op', 'add', '--model', 'nac', '--interp', '2,1'], /--interp must be LO,HI/],
    [['experiment', '--op', 'add', '--model', 'nac', '--workers', '0'], /--workers must be an integer/],
    [['experiment', '--op', 'add', '--model', 'nac', '--colour', 'red'], /unknown option --colour/],
    [['experiment', '--op', 'add', '--model', 'nac', '--batch'], /--batch needs a value/],
    [['experiment', '--op', 'add', '--model', 'nac', '--curves'], /--curves keeps the curves in the report: give --json FILE too/],
    [['experiment', '--op', 'add', '--model', 'nac', '--curves=yes'], /--curves takes no value/],
    [['experiment', '--op', 'add', '--model', 'nac', '--json', '--help'], /--json needs a value/],
    [['experiment', '--op', 'add', '--model', 'nac', '--save', '/proc/nalu-models'], /--save \/proc\/nalu-models cannot be written: ENOENT/],
    [['identity', 'extra'], /unexpected argument "extra"/],
    [['reproduce', '--models', 'lstm'], /--models: unknown "lstm"/],
    [['reproduce', '--ops', 'pow'], /--ops: unknown "pow"/],
    [['experiment', '--op', 'add', '--model', 'nac', '--init', 'he'], /--init must be one of glorot, seed, madsen, got "he"/],
    [['reproduce', '--models', 'nau,nmu', '--init', 'madsen'], /--init: nau, nmu have no layer that takes an init scheme/],
    [['experiment', '--op', 'sub', '--model', 'nau', '--seeds', '0,1,0'], /--seeds: 0 is listed twice/],
    [['reproduce', '--ops', 'sub,sub'], /--ops: sub is listed twice/],
    [['reproduce', '--models', 'nau,nac,nau'], /--models: nau is listed twice/],
    [['experiment', '--op', 'add', '--op', 'mul', '--model', 'nac'], /--op is given twice/],
    [['experiment', '--op', 'add', '--model', 'nac', '--json='], /--json needs a value/],
    [['reproduce', '--file', ' '], /--file needs a value/],
    [['experiment', '--op', 'add', '--model', 'nac', '--interp', ',2'], /--interp must be LO,HI/],
    [['experiment', '--op', 'add', '--model', 'nac', '--overlap', '-0.1'], /--overlap must be a number >= 0 and <= 1, got "-0.1"/],
    [['experiment', '--op', 'add', '--model', 'nac', '--json', '/nonexistent-dir/r.json'], /--json \/nonexistent-dir\/r\.json cannot be written: its directory \/nonexistent-dir does not exist$/m],
    [['reproduce', '--op', 'mul'], /unknown option --op \(did you mean --ops\?\)/],
    [['experiment', '--ops', 'mul'], /unknown option --ops \(did you mean --op\?\)/],
    [['experiment', '--curve'], /unknown option --curve \(did you mean --curves\?\)/],
    [['help', 'frobnicate'], /help takes a command's name \(experiment, identity, showcase, reproduce, help, version\) or nothing, got "frobnicate"/],
    [['experiment', '--op', 'add', '--model', 'nac', '--json', join(fileURLToPath(import.meta.url), 'r.json')], /--json .*cli\.test\.ts\/r\.json cannot be written: .*cli\.test\.ts is not a directory$/m],
    [['experiment', '--op', 'add', '--model', 'nac', '--json', tmpdir()], /--json .* cannot be written: it is a directory/],
    // a directory access() may call writable where no file can be created
    [['experiment', '--op', 'add', '--model', 'nac', '--json', '/proc/r.json'], /--json \/proc\/r\.json cannot be written: E/],
    [['reproduce', '--ops', 'add', '--models', 'nac', '--file', '/proc/r.jsonl'], /--file \/proc\/r\.jsonl cannot be written: E/],
    [['identity', '--svg', '/proc/r.svg'], /--svg \/proc\/r\.svg cannot be written: E/],
    [['identity', '--json', join(tmpdir(), 'same'), '--svg', join(tmpdir(), '.', 'same')], /--json and --svg name the same file/],
    // valid on its face, refused by the library in the worker: still the arguments' fault
    [['experiment', '--op', 'add', '--model', 'nac', '--batch', '1048576', '--input-size', '1000', '--seeds', '0', '--workers', '1'],
      /seed 0 of add\/nac failed: trainStepOn: a batch of 1048576 needs \d+ bytes of work memory/],
  ])('rejects %j with a usage message, exit code 2 and no stack trace', (args, message) => {
    const r = run(...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    // the message ends the output, with a pointer to the help, not pushed up by the whole usage text
    // (before it, at most what the run said it was doing)
    const lines = r.err.trimEnd().split('\n');
    expect(lines.slice(0, -2).every((l) => l.startsWith('experiment: estimating the success threshold'))).toBe(true);
    expect(lines.slice(-2).join('\n')).toMatch(/^nalu-wasm: .*\n\(nalu-wasm help lists the commands and their options\)$/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('prints the usage without a command, the version with version', () => {
    const bare = run();
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/^usage: nalu-wasm <command>/);
    const v = run('--version');
    expect(v.code).toBe(0);
    expect(v.out.trim()).toBe((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version);
  });

  it('runs an experiment on two workers and writes the JSON report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nalu-cli-'));
    const json = join(dir, 'r.json');
    const r = run('experiment', '--op', 'sub', '--model', 'nac', '--seeds', '0..2', '--iterations', '3000',
      '--log-every', '1000', '--workers', '2', '--lr', '1e-2', '--json', json);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/sub with nac: success \d\/3/);
    // progress on stderr (not a terminal here): a line per tenth reached, the last one at 100% with every seed done
    const lines = r.err.trim().split('\n');
    const pcts = lines.map((l) => Number(/^sub\/nac: (\d+)% \(\d+s elapsed(, \d+s left)?\) \(\d of 3 seeds done\)$/.exec(l)?.[1]));
    expect(lines.slice(0, -1).every((l) => / left\) /.test(l))).toBe(true); // the time left, on every line before 100%
    expect(pcts.every(Number.isInteger)).toBe(true);
    expect(pcts.slice(1).every((p, i) => Math.floor(p / 10) > Math.floor(pcts[i]! / 10))).toBe(true);
    expect(lines.at(-1)).toMatch(/^sub\/nac: 100% .*\(3 of 3 seeds done\)$/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.module).toBe(`simd ${SIMD_SHA}`);
    expect(report.seeds.map((s: { seed: number }) => s.seed)).toEqual([0, 1, 2]);
    for (const s of report.seeds) {
      expect(Object.keys(s)).toEqual(expect.arrayContaining(['seed', 'success', 'solvedAt', 'bestIteration',
        'interpolationMse', 'extrapolationMse', 'sparsityError']));
      expect(s.bestIteration % 1000).toBe(0);
    }
    expect(report.aggregate.threshold).toBeGreaterThan(1.3e-8);
    expect(report.aggregate.threshold).toBeLessThan(1.5e-8);
    const k = report.seeds.filter((s: { success: boolean }) => s.success).length;
    expect(report.aggregate.successRate).toBe(k / 3);
    expect(report.aggregate.successInterval[0]).toBeLessThanOrEqual(k / 3);
    expect(report.aggregate.successInterval[1]).toBeGreaterThanOrEqual(k / 3);
    expect(report.aggregate.wallSeconds).toBeGreaterThan(0);
    expect(report.config).toMatchObject({ op: 'sub', model: 'nac', iterations: 3000, batch: 128, learningRate: 0.01,
      inputSize: 100, subsetRatio: 0.25, overlapRatio: 0.5, interpolation: [1, 2], extrapolation: [2, 6], workers: 2 });
  }, 120_000);

  it('experiment --curves keeps each seed\'s errors at every logged iteration in the report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nalu-cli-'));
    const json = join(dir, 'r.json');
    const r = run('experiment', '--op', 'sub', '--model', 'nac', '--seeds', '0..1', '--iterations', '2500', '--log-every', '1000', '--curves', '--json', json);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.config.curves).toBe(true);
    for (const s of report.seeds) {
      expect(s.log.map((e: { iteration: number }) => e.iteration)).toEqual([1000, 2000, 2500]);
      const best = s.log.find((e: { iteration: number }) => e.iteration === s.bestIteration);
      expect([best.interpolationMse, best.extrapolationMse]).toEqual([s.interpolationMse, s.extrapolationMse]);
    }
    // a report with curves is carried on only by runs that keep them
    const without = run('experiment', '--op', 'sub', '--model', 'nac', '--seeds', '0..2', '--iterations', '2500', '--log-every', '1000', '--json', json);
    expect(without.code).toBe(2);
    expect(without.err).toMatch(/of other settings \(curves\)/);
  }, 120_000);

  it('experiment warns when no model can reach the success threshold of its settings', () => {
    for (const [op, subset, overlap] of [['add', '0.5', '0'], ['sub', '1', '1']]) {
      const r = run('experiment', '--op', op!, '--model', 'nau', '--input-size', '4', '--subset', subset!, '--overlap', overlap!, '--iterations', '100', '--seeds', '0', '--workers', '1');
      expect(r.code).toBe(0);
      expect(r.err).toMatch(/experiment: the success threshold \S+ is not above \S+, about the error that rounding the targets to f32 alone makes: no model can succeed/);
    }
    expect(run('experiment', '--op', 'add', '--model', 'nau', '--iterations', '100', '--seeds', '0', '--workers', '1').err).not.toMatch(/no model can succeed/);
  }, 60_000);

  it('experiment --save writes each seed\'s model at its best iteration, which load() reads and scores as the report says', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nalu-cli-'));
    const json = join(dir, 'r.json'), models = join(dir, 'models');
    const args = ['experiment', '--op', 'sub', '--model', 'nac', '--iterations', '3000', '--lr', '1e-2', '--workers', '2', '--save', models, '--json', json];
    expect(run(...args, '--seeds', '0..1').code).toBe(0);
    expect(readdirSync(models).sort()).toEqual(['sub-nac-seed0.nalu', 'sub-nac-seed1.nalu']);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    const { init, load, staticTask } = await import('../src/index');
    const { stagedMse } = await import('../src/experiment');
    await init();
    for (const s of report.seeds) {
      expect(s).not.toHaveProperty('saved');
      const model = load(readFileSync(join(models, `sub-nac-seed${s.seed}.nalu`)));
      expect(stagedMse(model, staticTask({ op: 'sub', seed: s.seed }).validationSet(10000))()).toBe(s.interpolationMse);
      model.dispose();
    }
    // a model there already is not written over: the run is refused before it starts
    const again = run(...args.map((a) => (a === json ? join(dir, 'other.json') : a)), '--seeds', '1..2');
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/--save .*models holds sub-nac-seed1\.nalu already: move it away, or give another directory/);
  }, 120_000);

  it('reproduce --save writes each run\'s model at its best iteration, --curves keeps its errors in its line; a rerun saves only what it runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nalu-cli-'));
    const file = join(dir, 'r.jsonl'), models = join(dir, 'models');
    // (logged every 1,000 iterations, the protocol's)
    const common = ['reproduce', '--iterations', '2500', '--ops', 'sub', '--models', 'nac,nau', '--workers', '2', '--file', file, '--save', models, '--curves'];
    expect(run(...common, '--seeds', '0').code).toBe(0);
    expect(readdirSync(models).sort()).toEqual(['sub-nac-seed0.nalu', 'sub-nau-seed0.nalu']);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const { init, load, staticTask } = await import('../src/index');
    const { stagedMse } = await import('../src/experiment');
    await init();
    for (const { model: name, seed, result } of lines) {
      expect(result).not.toHaveProperty('saved');
      expect(result.log.map((e: { iteration: number }) => e.iteration)).toEqual([1000, 2000, 2500]);
      const model = load(readFileSync(join(models, `sub-${name}-seed${seed}.nalu`)));
      expect(stagedMse(model, staticTask({ op: 'sub', seed }).validationSet(10000))()).toBe(result.interpolationMse);
      model.dispose();
    }
    // the runs in the file are not run again, so not saved again: only seed 1's models are new
    expect(run(...common, '--seeds', '0..1').code).toBe(0);
    expect(readdirSync(models).sort()).toEqual(['sub-nac-seed0.nalu', 'sub-nac-seed1.nalu', 'sub-nau-seed0.nalu', 'sub-nau-seed1.nalu']);
    // a run whose model is there already is refused before it starts
    unlinkSync(file);
    const again = run(...common, '--seeds', '1');
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/--save .*models holds sub-nac-seed1\.nalu, sub-nau-seed1\.nalu already: move them away, or give another directory/);
  }, 120_000);

  it('reproduce appends one line per seed and a rerun skips the finished ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nalu-cli-'));
    const file = join(dir, 'r.jsonl');
    const common = ['reproduce', '--iterations', '1000', '--ops', 'add,sub', '--models', 'nac,nau', '--workers', '2', '--file', file];
    const first = run(...common, '--seeds', '0..1');
    expect(first.code).toBe(0);
    expect(first.err).toMatch(/8 runs to go, 0 already/);
    // a row per model, a cell per op: the rate over the seeds [Wilson 95%] | the paper's rate
    for (const model of ['nac', 'nau']) {
      expect(first.out).toMatch(new RegExp(`^${model}( +\\d+% \\[\\d+%, \\d+%\\] \\| 100% \\[96%, 100%\\]){2}$`, 'm'));
    }
    // then a row per op and model: the successes' solved-at iterations and sparsity errors | the paper's medians
    expect(first.out).toMatch(/^op +model +solved at +\| theirs +sparsity error +\| theirs$/m);
    expect(first.out).toMatch(/^sub +nau +(-|\d+(, \d+)?) +\| +5\.0e3 +(-|\d\.\de-\d+(, \d\.\de-\d+)?) +\| +1\.3e-6$/m);
    // the bars of each of the paper's columns line up
    const bars = (row: RegExp) => new Set(first.out.split('\n').filter((l) => row.test(l)).map((l) => String([...l.matchAll(/\|/g)].map((m) => m.index))));
    expect(bars(/^na[cu] /).size).toBe(1); // the rates' rows
    expect(bars(/^(op|add|sub) /).size).toBe(1); // the second table's header and rows
    const lines = () => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines().length).toBe(8);
    // while another run holds the file's lock, none starts
    writeFileSync(`${file}.lock`, `${process.pid}\n`);
    const locked = run(...common, '--seeds', '0..2');
    expect(locked.code).toBe(2);
    expect(locked.err).toMatch(/--file .*r\.jsonl is being written by another run \(process \d+; its lock is/);
    unlinkSync(`${file}.lock`);
    expect(lines().length).toBe(8);
    const second = run(...common, '--seeds', '0..2');
    expect(second.code).toBe(0);
    expect(second.err).toMatch(/4 runs to go, 8 already/);
    const all = lines();
    expect(all.length).toBe(12);
    expect(new Set(all.map((l) => `${l.op}/${l.model}/${l.seed}`)).size).toBe(12);
    expect(all[0].result).toHaveProperty('extrapolationMse');
    // each line names the module that ran it: the build and its SHA-256's first 12 hex digits
    expect(new Set(all.map((l) => l.module))).toEqual(new Set([`simd ${SIMD_SHA}`]));
    // Another iteration count is another run.
    const third = run(...common.map((a) => (a === '1000' ? '1500' : a)), '--seeds', '0');
    expect(third.err).toMatch(/4 runs to go, 0 already/);
    // NAC+ (and NAC*, NALU) lines record their init, Madsen & Johansen's by default; another
    // init is another run.
    expect(new Set(all.filter((l) => l.model === 'nac').map((l) => l.init))).toEqual(new Set(['madsen']));
    expect(all.filter((l) => l.model === 'nau').every((l) => !('init' in l))).toBe(true);
    const fourth = run('reproduce', '--iterations', '1000', '--ops', 'add', '--models', 'nac,nau', '--init', 'glorot', '--seeds', '0..1', '--workers', '2', '--file', file);
    expect(fourth.err).toMatch(/2 runs to go, 2 already/);
    expect(fourth.out).toMatch(/seeds 0\.\.1, nac from init glorot:/);
    const byInit = (init: string) => lines().find((l) => l.op === 'add' && l.model === 'nac' && l.seed === 0 && l.iterations === 1000 && l.init === init);
    expect(byInit('glorot').result.interpolationMse).not.toBe(byInit('madsen').result.interpolationMse);
  }, 120_000);

  it('help COMMAND prints the options, as COMMAND --help does', () => {
    const r = run('help', 'reproduce');
    expect(r.code).toBe(0);
    expect(r.out).toBe(run('reproduce', '--help').out);
    expect(r.out).toMatch(/^reproduce options:$/m);
  });

  it('experiment stopped before any seed finished says nothing was written to a --json file that did not exist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nalu-cli-'));
    const json = join(dir, 'new.json');
    const child = spawn(process.execPath, [CLI, 'experiment', '--op', 'sub', '--model', 'nau', '--seeds', '0', '--iterations', '5000000',
      '--workers', '1', '--json', json], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // the run has started once it reports progress (its signal handler is in place before)
    const deadline = Date.now() + 60_000;
    while (!stderr.includes('sub/nau') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/\nexperiment: stopped; no seed had finished: nothing was written to .*new\.json\n$/);
    expect(readdirSync(dir)).toEqual([]);
  }, 120_000);

  it('experiment --json: a value holding "=" is kept whole; an interrupted run keeps its finished seeds, marked partial', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nalu-cli-'));
    const json = join(dir, 'a=b.json');
    const child = spawn(process.execPath, [CLI, 'experiment', '--op', 'sub', '--model', 'nau', '--seeds', '0..1', '--iterations', '200000',
      '--workers', '1', `--json=${json}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // the report is written after the first seed; the second takes as long again
    const deadline = Date.now() + 100_000;
    while (!existsSync(json) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/\nexperiment: stopped; seed 0 is in .*a=b\.json: the same command finishes the others\n$/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.partial).toBe(true);
    expect(report.seeds.map((s: { seed: number }) => s.seed)).toEqual([0]);
    expect(report.config.seeds).toEqual([0, 1]);
    expect(report.aggregate.successRate).toBe(report.seeds[0].success ? 1 : 0);
    expect(readdirSync(dir)).toEqual(['a=b.json']); // no temporary file left, nor the run's lock
    // a run of other settings does not overwrite the unfinished report (its seeds would be lost),
    // nor one of fewer seeds (it would leave seed 1 out of the report)
    const text = readFileSync(json, 'utf8');
    const fewer = run('experiment', '--op', 'sub', '--model', 'nau', '--seeds', '0', '--iterations', '200000', '--workers', '1', '--json', json);
    expect(fewer.code).toBe(2);
    expect(fewer.err).toMatch(/holds the unfinished report of a run of seeds 0, 1 \(seed 0 done\), and --seeds leaves out seed 1: list them too/);
    const again = run('experiment', '--op', 'sub', '--model', 'nau', '--seeds', '2', '--iterations', '1000', '--json', json);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/--json .*a=b\.json holds the unfinished report of a run of other settings \(iterations\) \(seed 0 done\): give another file, or move it away first/);
    expect(readFileSync(json, 'utf8')).toBe(text);
    // nor one cut short or damaged (not JSON): its finished seeds would be lost the same way
    const cut = text.slice(0, text.length >> 1);
    writeFileSync(json, cut);
    const damaged = run('experiment', '--op', 'sub', '--model', 'nau', '--seeds', '2', '--iterations', '1000', '--json', json);
    expect(damaged.code).toBe(2);
    expect(damaged.err).toMatch(/--json .*a=b\.json exists and is not JSON \(a report cut short or damaged\?\): give another file, or move it away first/);
    expect(readFileSync(json, 'utf8')).toBe(cut);
    // nor while the copy a run killed between writing and renaming it left lies beside it
    writeFileSync(join(dir, 'a=b.json.4242.tmp'), text);
    const stale = run('experiment', '--op', 'sub', '--model', 'nau', '--seeds', '2', '--iterations', '1000', '--json', json);
    expect(stale.code).toBe(2);
    expect(stale.err).toMatch(/--json .*a=b\.json: a=b\.json\.4242\.tmp beside it is the copy a run stopped while writing left behind, and may hold newer results: look at it, then move it away/);
    expect(readFileSync(join(dir, 'a=b.json.4242.tmp'), 'utf8')).toBe(text);
    unlinkSync(join(dir, 'a=b.json.4242.tmp'));
    // the same command finishes it: seed 0 kept as it was, seed 1 as a run of it alone gives it
    writeFileSync(json, text);
    const finish = run('experiment', '--op', 'sub', '--model', 'nau', '--seeds', '0..1', '--iterations', '200000', '--workers', '1', `--json=${json}`);
    expect(finish.code).toBe(0);
    expect(finish.err).toMatch(/experiment: carrying on .*a=b\.json: seed 0 done, 1 to go/);
    const finished = JSON.parse(readFileSync(json, 'utf8'));
    expect(finished.partial).toBeUndefined();
    expect(finished.seeds.map((s: { seed: number }) => s.seed)).toEqual([0, 1]);
    expect(finished.seeds[0]).toEqual(report.seeds[0]);
    const alone = join(dir, 'alone.json');
    expect(run('experiment', '--op', 'sub', '--model', 'nau', '--seeds', '1', '--iterations', '200000', '--workers', '1', '--json', alone).code).toBe(0);
    const without = ({ wallSeconds: _, ...r }: { wallSeconds: number }) => r;
    expect(without(finished.seeds[1])).toEqual(without(JSON.parse(readFileSync(alone, 'utf8')).seeds[0]));
    expect(finished.aggregate.wallSeconds).toBeGreaterThan(report.aggregate.wallSeconds);
    // an empty file (made for the report) is taken
    writeFileSync(json, '');
    expect(run('experiment', '--op', 'sub', '--model', 'nau', '--seeds', '2', '--iterations', '1000', '--json', json).code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8')).seeds.map((r: { seed: number }) => r.seed)).toEqual([2]);
  }, 120_000);

  it('experiment --json refuses any file but its own report, carries a finished one on to more seeds, and keeps a second run off it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nalu-cli-'));
    const json = join(dir, 'r.json');
    const args = (...more: string[]) => ['experiment', '--op', 'sub', '--model', 'nau', '--iterations', '1000', '--workers', '1', '--json', json, ...more];
    // a JSON file that is no report (a typo in the file name) is left as it was
    const other = '{ "name": "some-package", "version": "1.0.0" }\n';
    writeFileSync(json, other);
    const refused = run(...args('--seeds', '0'));
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--json .*r\.json exists and is not the report of an experiment: give another file, or move it away first/);
    expect(readFileSync(json, 'utf8')).toBe(other);
    unlinkSync(json);
    expect(run(...args('--seeds', '0')).code).toBe(0);
    const one = readFileSync(json, 'utf8');
    // the same command again: nothing to run, the report untouched
    const same = run(...args('--seeds', '0'));
    expect(same.code).toBe(0);
    expect(same.err).toMatch(/experiment: .*r\.json holds this run's finished report: nothing to run/);
    expect(same.out).toMatch(/sub with nau: success \d\/1/);
    expect(readFileSync(json, 'utf8')).toBe(one);
    // refused: other settings (named), seeds it would drop, another module
    const op = run('experiment', '--op', 'add', '--model', 'nau', '--iterations', '1000', '--seeds', '0', '--json', json);
    expect(op.err).toMatch(/holds the finished report of a run of other settings \(op\) \(seed 0 done\): give another file/);
    const dropped = run(...args('--seeds', '1'));
    expect(dropped.err).toMatch(/holds the finished report of a run of seed 0 \(seed 0 done\), and --seeds leaves out seed 0: list them too, give another file/);
    writeFileSync(json, one.replace(`"simd ${SIMD_SHA}"`, '"simd 000000000000"'));
    const module = run(...args('--seeds', '0'));
    expect(module.err).toMatch(/holds the finished report of a run of another module \(simd 000000000000; this run's is simd [0-9a-f]{12}: another build or version of the package\) \(seed 0 done\), whose seeds this module would not give bit for bit/);
    for (const r of [op, dropped, module]) expect(r.code).toBe(2);
    // more seeds: seed 0 kept as it was, seed 1 run
    writeFileSync(json, one);
    const more = run(...args('--seeds', '0..1'));
    expect(more.code).toBe(0);
    expect(more.err).toMatch(/experiment: carrying on .*r\.json: seed 0 done, 1 to go/);
    const both = JSON.parse(readFileSync(json, 'utf8'));
    expect(both.seeds.map((s: { seed: number }) => s.seed)).toEqual([0, 1]);
    expect(both.seeds[0]).toEqual(JSON.parse(one).seeds[0]);
    // seeds that are not a report's: refused, the file left as it was
    for (const [seedsField, message] of [['[null]', /exists and is not the report of an experiment/], ['[{ "seed": 0 }, { "seed": 0 }]', /holds seed 0 twice \(a report edited by hand\?\)/]] as const) {
      const bad = one.replace(/"seeds": \[[\s\S]*?\n  \],/, `"seeds": ${seedsField},`);
      expect(bad).not.toBe(one);
      writeFileSync(json, bad);
      const r = run(...args('--seeds', '0..1'));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(readFileSync(json, 'utf8')).toBe(bad);
    }
    writeFileSync(json, `${JSON.stringify(both, null, 2)}\n`);
    // a lock of a running process (this one) keeps a run off the file; one of a process gone is taken over
    writeFileSync(`${json}.lock`, `${process.pid}\n`);
    const locked = run(...args('--seeds', '0..2'));
    expect(locked.code).toBe(2);
    expect(locked.err).toMatch(new RegExp(`--json .*r\\.json is being written by another run \\(process ${process.pid}; its lock is .*r\\.json\\.lock\\): wait for it to end, or give another file`));
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(`${json}.lock`, `${gone}\n`);
    expect(run(...args('--seeds', '0..2')).code).toBe(0);
    expect(readdirSync(dir)).toEqual(['r.json']);
    expect(JSON.parse(readFileSync(json, 'utf8')).seeds).toHaveLength(3);
    // and one holding the run's own process id (a killed run's, the id reused): the run takes it
    writeFileSync(json, '');
    const self = spawnSync('sh', ['-c', `printf '%s\\n' $$ > "$1.lock"; exec "$2" "$3" experiment --op sub --model nau --iterations 1000 --workers 1 --seeds 0 --json "$1"`,
      'sh', json, process.execPath, CLI], { encoding: 'utf8' });
    expect(self.status).toBe(0);
    expect(readdirSync(dir)).toEqual(['r.json']);
    // identity and showcase do not write over a report either
    const report = readFileSync(json, 'utf8');
    for (const command of [['identity', '--steps', '10', '--seeds', '1'], ['showcase', '--iterations', '10']]) {
      const r = run(...command, '--json', json);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`--json .*r\\.json exists and is not the output of nalu-wasm ${command[0]}: give another file, or move it away first`));
    }
    expect(readFileSync(json, 'utf8')).toBe(report);
    expect(readdirSync(dir)).toEqual(['r.json']);
    // --help after a command is the help
    for (const command of ['experiment', 'help', 'version']) {
      const help = run(command, '--help');
      expect(help.code).toBe(0);
      expect(help.out).toMatch(/^usage: nalu-wasm <command>/);
    }
  }, 120_000);

  it('reproduce puts its next line on a line of its own when the file does not end in a newline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nalu-cli-'));
    const file = join(dir, 'r.jsonl');
    const common = ['reproduce', '--iterations', '1000', '--ops', 'sub', '--models', 'nau', '--workers', '1', '--file', file];
    expect(run(...common, '--seeds', '0').code).toBe(0);
    writeFileSync(file, readFileSync(file, 'utf8').trimEnd());
    const second = run(...common, '--seeds', '3,1');
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/seeds 3,1:/);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.seed)).toEqual([0, 3, 1]);
    // a line that is not JSON is the file's fault, not the arguments': exit 1, no usage text
    writeFileSync(file, 'garbage\n', { flag: 'a' });
    const third = run(...common, '--seeds', '0');
    expect(third.code).toBe(1);
    expect(third.err).toMatch(/r\.jsonl: line 4 is not JSON; fix or remove it/);
    expect(third.err).not.toMatch(/usage:/);
  }, 120_000);

  it('reproduce takes a run recorded twice once, refuses it with two different results, and says which runs another module made', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nalu-cli-'));
    const file = join(dir, 'r.jsonl');
    const common = ['reproduce', '--iterations', '1000', '--ops', 'sub', '--models', 'nau', '--workers', '1', '--seeds', '0,1', '--file', file];
    expect(run(...common).code).toBe(0);
    const [a, b] = readFileSync(file, 'utf8').trim().split('\n') as [string, string];
    writeFileSync(file, `${a}\n${b}\n${a}\n`);
    const same = run(...common);
    expect(same.code).toBe(0);
    expect(same.err).toMatch(/0 runs to go, 2 already in/);
    expect(same.err).not.toMatch(/another module/);
    const flipped = JSON.parse(a);
    flipped.result.success = !flipped.result.success;
    const text = `${a}\n${b}\n${JSON.stringify(flipped)}\n`;
    writeFileSync(file, text);
    const conflict = run(...common);
    expect(conflict.code).toBe(1);
    expect(conflict.err).toMatch(/r\.jsonl holds the run sub nau seed 0 \(1000 iterations\) twice, with different results: keep the line to trust, remove the other/);
    expect(readFileSync(file, 'utf8')).toBe(text);
    writeFileSync(file, [a, b].map((l) => JSON.stringify({ ...JSON.parse(l), module: 'scalar 000000000000' })).join('\n') + '\n');
    const other = run(...common);
    expect(other.code).toBe(0);
    expect(other.err).toMatch(/2 of those were run by another module \(scalar 000000000000\), not this one \(simd [0-9a-f]{12}\): their results are kept/);
  }, 120_000);

  it('reproduce removes a last record cut short (a run stopped while appending it) and does its run again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nalu-cli-'));
    const file = join(dir, 'r.jsonl');
    const common = ['reproduce', '--iterations', '1000', '--ops', 'sub', '--models', 'nau', '--workers', '1', '--file', file];
    expect(run(...common, '--seeds', '0,1').code).toBe(0);
    const whole = readFileSync(file, 'utf8');
    const [first, second] = whole.trim().split('\n');
    writeFileSync(file, `${first}\n${second!.slice(0, 40)}`);
    const again = run(...common, '--seeds', '0,1');
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/the last line of .*r\.jsonl is cut short \(a run stopped while writing it\): removed; its run is done again/);
    expect(again.err).toMatch(/1 runs to go, 1 already/);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.seed)).toEqual([0, 1]);
    expect(lines[1].result.interpolationMse).toBe(JSON.parse(second!).result.interpolationMse); // the same run, done again
    // a whole JSON line that is not a record is the file's fault: refused, not removed
    const other = `${first}\n{"op":"sub","model":"lstm"}`;
    writeFileSync(file, other);
    const third = run(...common, '--seeds', '0,1');
    expect(third.code).toBe(1);
    expect(third.err).toMatch(/r\.jsonl: line 2 is not a reproduce line/);
    expect(readFileSync(file, 'utf8')).toBe(other);
  }, 120_000);

  it('draws the identity figure as SVG', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nalu-cli-'));
    const svg = join(dir, 'identity.svg');
    const out = execFileSync(process.execPath, [CLI, 'identity', '--steps', '300', '--seeds', '1', '--svg', svg], { encoding: 'utf8' });
    expect(out).toMatch(/NAC/);
    const text = readFileSync(svg, 'utf8');
    expect(text).toMatch(/^<svg /);
    expect((text.match(/<path d="M/g) ?? []).length).toBe(8);
  }, 120_000);
});

describe.runIf(existsSync(CLI))('the README quick start (examples/quickstart.mjs, examples/static-task.mjs, examples/fit.mjs)', () => {
  const example = (name: string) => new URL(`../examples/${name}`, import.meta.url).pathname;
  // the README's first three js blocks are the example files, below their first comment line
  const blocks = [...readFileSync(new URL('../README.md', import.meta.url), 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const body = (name: string) => readFileSync(example(name), 'utf8').split('\n').slice(1).join('\n');

  it('learns W = [1, -1] and predicts 1000 - 250 exactly', () => {
    expect(blocks[0]).toBe(body('quickstart.mjs'));
    const out = execFileSync(process.execPath, [example('quickstart.mjs')], { encoding: 'utf8' });
    expect(out).toMatch(/^(simd|scalar) Float32Array\(2\) \[ 1, -1 \] Float32Array\(1\) \[ 750 \]/);
  });

  it('fit: prints the lines the README shows, in their order', () => {
    expect(blocks[2]).toBe(body('fit.mjs'));
    const shown = [...blocks[2]!.matchAll(/^\/\/ (.*)$/gm)].map((m) => m[1]!).filter((line) => line !== '...');
    const out = execFileSync(process.execPath, [example('fit.mjs')], { encoding: 'utf8' }).trim().split('\n');
    expect(shown.length).toBe(3);
    expect(out[0]).toBe(shown[0]);
    expect(out[4]).toBe(shown[1]);
    expect(out.at(-1)).toBe(shown[2]);
  });

  it('the static task: prints the line the README shows', () => {
    expect(blocks[1]).toBe(body('static-task.mjs'));
    const shown = /\n\/\/ (.*)\n$/.exec(blocks[1]!)![1];
    const out = execFileSync(process.execPath, [example('static-task.mjs')], { encoding: 'utf8' });
    expect(out.trim()).toBe(shown);
  }, 120_000);
});
