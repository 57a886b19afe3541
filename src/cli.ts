#!/usr/bin/env node
/**
 * The nalu-wasm command line: `experiment`, `reproduce`, `identity` and `showcase` (what `npm start` runs).
 * Seeds run in parallel on worker threads, each with its own Wasm instance.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { NaluError } from './errors.js';
import {
  DEFAULTS, IDENTITY_DEFAULTS, identityModels, modelEntry, modelTakesInit, MODELS, parseReport, parseReproduceLines, recordedInit, reportJson, runIdentity, runSeed,
  roundingFloor, thresholdOf, wilson, MAX_SKIPPED_IN_A_ROW, type ExperimentConfig, type IdentityCurve, type LogEntry, type ReproduceLine, type SeedResult,
} from './experiment.js';
import { identityFigure } from './figure.js';
import { init } from './index.js';
import { INIT_SCHEMES, type InitScheme } from './layers.js';
import { IDENTITY_TEST, IDENTITY_TRAIN } from './tasks/identity.js';
import { OPS, type Op } from './tasks/static.js';
import { middle, PAPER_MODELS, paperRate, paperSolvedAt, paperSparsity, rateText } from './paper.js';
import { wasmFile } from './wasm/load-node.js';

class UsageError extends Error {}

const COMMANDS = ['experiment', 'identity', 'showcase', 'reproduce', 'help', 'version'];

const USAGE = `usage: nalu-wasm <command> [options]

commands:
  showcase     the identity figure and every op x model at a reduced budget (npm start)
  experiment   Madsen & Johansen's static arithmetic task for one op and model over seeds
  identity     Trask et al.'s identity task for each activation and a NAC
  reproduce    Madsen & Johansen's static-task table (ops x models), resumable
  help         this text (also COMMAND --help, help COMMAND)
  version      the package's version

experiment options:
  --op <${OPS.join('|')}>         required
  --model <${Object.keys(MODELS).join('|')}>   required
  --seeds A..B | A,B,C   default 0..9
  --iterations N         default 5000000 (Madsen & Johansen's protocol)
  --batch N              default 128
  --lr X                 default 1e-3 (Adam)
  --input-size N         default 100
  --subset X             subset ratio, default 0.25
  --overlap X            overlap ratio, default 0.5
  --interp LO,HI         training and validation range, default 1,2
  --extrap LO,HI         test range, default 2,6
  --log-every N          default 1000
  --init <glorot|seed|madsen>   init of the NAC+, NAC*, NALU and dense layers, default glorot
                         (dense: nn.Linear's); madsen: Madsen & Johansen's code (NAC: fan Var[W] = 2)
  --workers N            worker threads, default: the number of cores
  --curves               keep each seed's errors at every logged iteration in the --json report
                         (its "log": iteration, interpolationMse, extrapolationMse)
  --save DIR             save each seed's model at its best iteration (the weights scored) as
                         DIR/OP-MODEL-seedK.nalu (load() reads it); DIR is made if missing
  --json FILE            write the results as JSON, rewritten after each seed ("partial": true
                         until the last), so that an interrupted run keeps its finished seeds
                         (the same command run again finishes such an unfinished report, or
                         prints a finished one, and a run of more seeds adds to it; an empty
                         file is taken, any other refused, never overwritten); FILE.lock keeps
                         a second run off it

reproduce options:
  --seeds A..B | A,B,C   default 0..9
  --iterations N         default 5000000
  --ops a,b,...          default ${OPS.join(',')}
  --models a,b,...       default ${PAPER_MODELS.join(',')} (the paper's)
  --file FILE            results, one JSON line per seed, default reproduce.jsonl; a rerun skips the
                         (op, model, seed, iterations, init) already in it; FILE.lock as above
  --init <glorot|seed|madsen>   init of the NAC+, NAC*, NALU and dense layers, default madsen
                         (the paper's code); each of their lines records it
  --workers N
  --curves               keep each run's errors at every logged iteration in its line ("log")
  --save DIR             save each run's model at its best iteration as DIR/OP-MODEL-seedK.nalu
                         (both for the runs this command makes: those in FILE are not run again)

identity options:
  --json FILE   --svg FILE   --steps N (default ${IDENTITY_DEFAULTS.steps})   --seeds N (default ${IDENTITY_DEFAULTS.seeds})

showcase options:
  --iterations N (default 30000)   --workers N   --json FILE (every run's result)
`;

// ---- arguments ---------------------------------------------------------------------------

type Args = Map<string, string>;

/** The options in argv: each of `allowed` takes a value, each of `flags` none (it reads as "true"). */
function parseArgs(argv: string[], allowed: string[], flags: string[] = []): Args {
  const args: Args = new Map();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    const eq = a.indexOf('=');
    const key = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    if (flags.includes(key)) {
      if (inline !== undefined) throw new UsageError(`--${key} takes no value`);
      if (args.has(key)) throw new UsageError(`--${key} is given twice`);
      args.set(key, 'true');
      continue;
    }
    if (!allowed.includes(key)) {
      const near = [`${key}s`, key.replace(/s$/, '')].find((k) => k !== key && (allowed.includes(k) || flags.includes(k)));
      throw new UsageError(`unknown option --${key}${near ? ` (did you mean --${near}?)` : ''}`);
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value.trim() === '' || (inline === undefined && value.startsWith('--'))) throw new UsageError(`--${key} needs a value`);
    if (args.has(key)) throw new UsageError(`--${key} is given twice`);
    args.set(key, value);
  }
  return args;
}

function int(args: Args, key: string, def: number, min: number, max: number): number {
  const v = args.get(key);
  if (v === undefined) return def;
  const n = Number(v.replace(/_/g, ''));
  if (!/^[\d_.e+]+$/i.test(v) || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** A number in (min, max], or [min, max] with closedMin. */
function num(args: Args, key: string, def: number, min: number, max: number, closedMin = false): number {
  const v = args.get(key);
  if (v === undefined) return def;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (closedMin ? n < min : n <= min) || n > max) {
    throw new UsageError(`--${key} must be a number ${closedMin ? '>=' : '>'} ${min} and <= ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function pair(args: Args, key: string, def: [number, number]): [number, number] {
  const v = args.get(key);
  if (v === undefined) return def;
  const parts = v.split(',').map((p) => (p.trim() === '' ? NaN : Number(p)));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0]! < parts[1]!)) {
    throw new UsageError(`--${key} must be LO,HI with LO < HI, got ${JSON.stringify(v)}`);
  }
  return [parts[0]!, parts[1]!];
}

function seedList(v: string | undefined): number[] {
  if (v === undefined) return [...Array(10).keys()];
  const range = /^(\d+)\.\.(\d+)$/.exec(v);
  let seeds: number[];
  if (range) {
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (b < a || b - a >= 100000) throw new UsageError(`--seeds ${v}: the range must be increasing and hold at most 100000 seeds`);
    seeds = Array.from({ length: b - a + 1 }, (_, i) => a + i);
  } else if (/^\d+(,\d+)*$/.test(v)) {
    seeds = v.split(',').map(Number);
  } else {
    throw new UsageError(`--seeds must be A..B or a comma-separated list of integers, got ${JSON.stringify(v)}`);
  }
  if (seeds.some((s) => s > 0xffffffff)) throw new UsageError('--seeds: a seed must be below 2^32');
  noRepeats('seeds', seeds.map(String));
  return seeds;
}

/** Throws if an item is listed twice (it would run, and count, twice). */
function noRepeats(key: string, items: string[]): void {
  const twice = items.find((item, i) => items.indexOf(item) !== i);
  if (twice !== undefined) throw new UsageError(`--${key}: ${twice} is listed twice`);
}

/** "A..B" for consecutive seeds, else the list. */
function seedsText(seeds: number[]): string {
  const run = seeds.every((s, i) => s === seeds[0]! + i);
  return run && seeds.length > 1 ? `${seeds[0]}..${seeds.at(-1)}` : seeds.join(',');
}

/**
 * Fails now, not after hours of training, when the results could not be written to `file`: an
 * existing file must open for writing (a report written whole would replace even a read-only
 * one), a file appended to must be creatable while it does not exist, and a file written whole
 * goes through a temporary file beside it, so one must be creatable there. Tried by doing it:
 * access() says yes where creating fails (a read-only mount, /proc as root).
 */
function checkWritable(key: string, file: string, how: 'append' | 'whole'): void {
  const dir = dirname(resolve(file));
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (err) {
    throw new UsageError(`--${key} ${file} cannot be written: its directory ${dir} ${errno(err) === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`}`);
  }
  if (!isDirectory) throw new UsageError(`--${key} ${file} cannot be written: ${dir} is not a directory`);
  try {
    const exists = existsSync(file);
    if (exists && statSync(file).isDirectory()) throw new Error('it is a directory');
    if (exists) closeSync(openSync(file, 'a'));
    if (!exists || how === 'whole') {
      const probe = `${resolve(file)}.${process.pid}.probe`;
      closeSync(openSync(probe, 'wx'));
      unlinkSync(probe);
    }
  } catch (err) {
    throw new UsageError(`--${key} ${file} cannot be written: ${(err as Error).message}`);
  }
}

/**
 * Refuses to start while a temporary copy of `file` (writeWhole's) lies beside it: a run killed
 * between writing the copy and renaming it left it there, and it may hold newer results.
 */
function noStaleCopy(key: string, file: string): void {
  const base = basename(file);
  const stale = readdirSync(dirname(resolve(file))).find((f) => f.startsWith(`${base}.`) && /^\.\d+\.tmp$/.test(f.slice(base.length)));
  if (stale) {
    throw new UsageError(`--${key} ${file}: ${stale} beside it is the copy a run stopped while writing left behind, and may hold newer results: look at it, then move it away`);
  }
}

/** What an interrupted experiment's report at a --json path has done already. */
interface Finished {
  seeds: ExperimentReport['seeds'];
  wallSeconds: number;
  workers: number;
}

/** "seed 3" or "seeds 0, 1, 4", in order. */
function seedWords(seeds: readonly number[]): string {
  return `seed${seeds.length === 1 ? '' : 's'} ${[...seeds].sort((a, b) => a - b).join(', ')}`;
}

/**
 * The seeds already done in the report at `file`, of an earlier run of the same settings and
 * module (an interrupted one, or one of fewer seeds): the run keeps them and runs the others.
 * None when there is no file (or an empty one). Any other file is refused, as rewriting it would
 * lose it: one that is not JSON (a report cut short?), JSON that is not an experiment's report,
 * the report of other settings or of another module, or one holding seeds this run leaves out.
 */
function finishedIn(file: string | undefined, config: ExperimentConfig, seeds: number[], module: string): Finished {
  const none: Finished = { seeds: [], wallSeconds: 0, workers: 0 };
  const text = file && existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (text.trim() === '') return none; // none yet (or an empty file made for it)
  const away = 'give another file, or move it away first';
  let report: Partial<ExperimentReport> | null;
  try {
    report = parseReport(text) as Partial<ExperimentReport> | null;
  } catch {
    throw new UsageError(`--json ${file} exists and is not JSON (a report cut short or damaged?): ${away}`);
  }
  if (report === null || typeof report !== 'object' || typeof report.module !== 'string' || !Array.isArray(report.seeds)
    || !report.seeds.every((r) => r !== null && typeof r === 'object' && Number.isInteger(r.seed))
    || report.config === null || typeof report.config !== 'object') {
    throw new UsageError(`--json ${file} exists and is not the report of an experiment: ${away}`);
  }
  const done = report.seeds;
  const twice = done.find((r, i) => done.findIndex((o) => o.seed === r.seed) !== i);
  if (twice) throw new UsageError(`--json ${file} holds seed ${twice.seed} twice (a report edited by hand?): ${away}`);
  const which = (of: string) => `the ${report.partial === true ? 'unfinished' : 'finished'} report of a run${of} (${done.length ? seedWords(done.map((r) => r.seed)) : 'no seed'} done)`;
  const { workers: _, seeds: planned, ...settings } = report.config as Partial<ExperimentReport['config']>;
  const differ = [...new Set([...Object.keys(settings), ...Object.keys(config)])]
    .filter((k) => reportJson((settings as Record<string, unknown>)[k]) !== reportJson((config as unknown as Record<string, unknown>)[k]));
  if (differ.length) throw new UsageError(`--json ${file} holds ${which(` of other settings (${differ.join(', ')})`)}: ${away}`);
  // the seeds it ran and, unfinished, the seeds it was to run: a run of fewer would drop them
  const left = [...new Set([...done.map((r) => r.seed), ...(Array.isArray(planned) ? planned : [])])].filter((s) => !seeds.includes(s));
  if (left.length) throw new UsageError(`--json ${file} holds ${which(` of ${seedWords(Array.isArray(planned) ? planned : done.map((r) => r.seed))}`)}, and --seeds leaves out ${seedWords(left)}: list them too, ${away}`);
  if (report.module !== module) {
    throw new UsageError(`--json ${file} holds ${which(` of another module (${report.module}; this run's is ${module}: another build or version of the package)`)}, `
      + `whose seeds this module would not give bit for bit: ${away}`);
  }
  return { seeds: done, wallSeconds: Number(report.aggregate?.wallSeconds) || 0, workers: Number(report.aggregate?.workers) || 0 };
}

/**
 * Takes the lock of an output file written whole (identity's and showcase's) and refuses one
 * there already that is not such output (`own` tells from its text), as rewriting it would lose
 * it: an experiment's report, say. An empty file is taken.
 */
function outputFile(key: string, file: string, command: string, own: (text: string) => boolean): void {
  checkWritable(key, file, 'whole');
  lockFor(key, file);
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (text.trim() !== '' && !own(text)) throw new UsageError(`--${key} ${file} exists and is not the output of nalu-wasm ${command}: give another file, or move it away first`);
}

/** JSON text whose object has all of `keys`. */
function jsonWith(text: string, keys: string[]): boolean {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && keys.every((k) => k in v);
  } catch {
    return false;
  }
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** True while a process of that id runs (one of another user's included). */
function running(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errno(err) === 'EPERM';
  }
}

/**
 * Takes `FILE.lock` (holding this process's id) for the run that writes `file`, until the
 * process ends: a second run on the same file would lose the first one's results. The lock is
 * made whole or not at all (a link to a file written first), so no run reads it half written.
 * A lock whose process no longer runs (a run killed; or this process's own id, reused) is moved
 * aside, which one run alone can do, and taken over.
 */
function lockFor(key: string, file: string): void {
  const lock = `${resolve(file)}.lock`, mine = `${process.pid}\n`, own = `${lock}.${process.pid}.tmp`;
  const refused = (why: string) => new UsageError(`--${key} ${file}: ${why}`);
  const cannot = (err: unknown) => refused(`cannot make its lock ${lock}: ${(err as Error).message}`);
  /** Makes the lock: false when there is one already. */
  const make = (): boolean => {
    try {
      linkSync(own, lock);
      return true;
    } catch (err) {
      if (errno(err) === 'EEXIST') return false;
      try { // a file system without hard links: made in two steps
        writeFileSync(lock, mine, { flag: 'wx' });
        return true;
      } catch (again) {
        if (errno(again) === 'EEXIST') return false;
        throw cannot(again);
      }
    }
  };
  try {
    writeFileSync(own, mine);
  } catch (err) {
    throw cannot(err);
  }
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      if (make()) {
        process.once('exit', () => {
          try {
            if (readFileSync(lock, 'utf8') === mine) unlinkSync(lock);
          } catch {
            // gone already
          }
        });
        return;
      }
      let held: string;
      try {
        held = readFileSync(lock, 'utf8');
      } catch (err) {
        if (errno(err) === 'ENOENT') continue; // its run just ended
        throw cannot(err);
      }
      const pid = Number.parseInt(held, 10);
      if (pid !== process.pid && running(pid)) {
        throw new UsageError(`--${key} ${file} is being written by another run (process ${pid}; its lock is ${lock}): wait for it to end, `
          + 'or give another file (if that process is no such run, remove the lock)');
      }
      const aside = `${lock}.${process.pid}.stale`;
      try {
        renameSync(lock, aside);
      } catch (err) {
        if (errno(err) === 'ENOENT') continue; // another run moved it first
        throw cannot(err);
      }
      // another run's lock, made after the stale one was read, goes back
      if (readFileSync(aside, 'utf8') !== held) {
        try {
          linkSync(aside, lock);
        } catch {
          // taken again meanwhile: that run holds it
        }
      }
      unlinkSync(aside);
    }
    throw refused(`cannot take its lock ${lock}: other runs keep taking it`);
  } finally {
    try {
      unlinkSync(own);
    } catch {
      // never made
    }
  }
}

/**
 * On Ctrl-C (SIGINT) or SIGTERM: `said()`, what the run has kept and how to go on, then the exit
 * a signal gives (128 + its number). The results written so far are whole: files are written
 * synchronously, between the events this handler runs in.
 */
function onStop(said: () => string): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      console.error(`\n${said()}`);
      process.exit(code);
    });
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Writes `text` to `file` through a temporary file and a rename: a reader never sees half of it. */
function writeWhole(file: string, text: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** --init, for models that have a layer taking an init scheme. */
function initOption(args: Args, models: readonly string[]): InitScheme | undefined {
  const v = args.get('init');
  if (v === undefined) return undefined;
  if (!INIT_SCHEMES.includes(v as InitScheme)) throw new UsageError(`--init must be one of ${INIT_SCHEMES.join(', ')}, got ${JSON.stringify(v)}`);
  const without = models.filter((m) => !modelTakesInit(m));
  if (without.length) throw new UsageError(`--init: ${without.join(', ')} ${without.length > 1 ? 'have' : 'has'} no layer that takes an init scheme (${Object.keys(MODELS).filter(modelTakesInit).join(', ')} do)`);
  return v as InitScheme;
}

function experimentConfig(args: Args): ExperimentConfig {
  const op = args.get('op');
  const model = args.get('model');
  if (!op) throw new UsageError('--op is required');
  if (!OPS.includes(op as Op)) throw new UsageError(`--op must be one of ${OPS.join(', ')}, got ${JSON.stringify(op)}`);
  if (!model) throw new UsageError('--model is required');
  if (!modelEntry(model)) throw new UsageError(`--model must be one of ${Object.keys(MODELS).join(', ')}, got ${JSON.stringify(model)}`);
  return {
    op: op as Op,
    model,
    iterations: int(args, 'iterations', DEFAULTS.iterations, 1, 1e10),
    batch: int(args, 'batch', DEFAULTS.batch, 1, 1 << 20),
    learningRate: num(args, 'lr', DEFAULTS.learningRate, 0, 10),
    inputSize: int(args, 'input-size', DEFAULTS.inputSize, 2, 1 << 16),
    subsetRatio: num(args, 'subset', DEFAULTS.subsetRatio, 0, 1),
    overlapRatio: num(args, 'overlap', DEFAULTS.overlapRatio, 0, 1, true),
    interpolation: pair(args, 'interp', DEFAULTS.interpolation),
    extrapolation: pair(args, 'extrap', DEFAULTS.extrapolation),
    logEvery: int(args, 'log-every', DEFAULTS.logEvery, 1, 1e10),
    hidden: DEFAULTS.hidden,
    validationSize: DEFAULTS.validationSize,
    testSize: DEFAULTS.testSize,
    ...(args.has('init') ? { init: initOption(args, [model]) } : {}),
    ...(args.has('curves') ? { curves: true as const } : {}),
  };
}

// ---- progress ----------------------------------------------------------------------------

class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private lastPlain = 0;
  private readonly started = performance.now();
  private count = 0;
  private detail = '';
  constructor(private readonly label: string, private readonly total: number) {}

  /** A redrawn bar on a terminal; otherwise a line at each tenth, the last one from finish(). */
  update(done: number, detail = ''): void {
    this.count = done;
    this.detail = detail;
    const frac = this.fraction();
    const pct = Math.floor(frac * 100);
    if (this.tty) this.draw();
    else if (frac < 1 && pct >= this.lastPlain + 10) {
      this.lastPlain = pct - (pct % 10);
      this.line();
    }
  }

  finish(): void {
    if (this.tty) process.stderr.write('\n');
    else this.line();
  }

  private fraction(): number {
    return this.total > 0 ? Math.min(1, this.count / this.total) : 1;
  }

  /** The time left at the pace so far. */
  private left(): number {
    const frac = this.fraction();
    return frac > 0 ? this.elapsed() * (1 - frac) / frac : 0;
  }

  private draw(): void {
    const frac = this.fraction(), elapsed = this.elapsed(), eta = this.left();
    const bar = '#'.repeat(Math.round(frac * 28)).padEnd(28, '.');
    process.stderr.write(`\r${this.label} [${bar}] ${String(Math.floor(frac * 100)).padStart(3)}% ${fmtTime(elapsed)} elapsed, ${fmtTime(eta)} left ${this.detail}\x1b[K`);
  }

  private line(): void {
    const frac = this.fraction();
    process.stderr.write(`${this.label}: ${Math.floor(frac * 100)}% (${fmtTime(this.elapsed())} elapsed${frac < 1 ? `, ${fmtTime(this.left())} left` : ''}) ${this.detail}\n`);
  }

  private elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }
}

/** Progress of jobs that report the iteration they reached: their sum against jobs x iterations. */
class JobProgress {
  private readonly at = new Map<string, number>();
  private sum = 0;
  private finished = 0;
  private readonly bar: Progress;
  constructor(label: string, private readonly jobs: number, iterations: number, private readonly unit: string) {
    this.bar = new Progress(label, jobs * iterations);
  }

  reached(key: string, iteration: number): void {
    this.sum += iteration - (this.at.get(key) ?? 0);
    this.at.set(key, iteration);
    this.show();
  }

  ended(): void {
    this.finished++;
    this.show();
  }

  finish(): void {
    this.bar.finish();
  }

  private show(): void {
    this.bar.update(this.sum, `(${this.finished} of ${this.jobs} ${this.unit} done)`);
  }
}

function fmtTime(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

// ---- parallel seeds ------------------------------------------------------------------------

interface Job { config: ExperimentConfig; seed: number; threshold: number; key: string; save?: boolean }
type WorkerMessage =
  | { kind: 'log'; key: string; entry: LogEntry }
  | { kind: 'result'; key: string; result: SeedResult }
  /** bad: a NaluError, so the arguments asked for what cannot be done (a batch beyond memory, say): exit 2 */
  | { kind: 'error'; key: string; message: string; bad: boolean };

/** Runs the jobs on `workers` threads; calls back on every log line and result. */
async function runJobs(jobs: Job[], workers: number, onLog: (job: Job, e: LogEntry) => void,
  onResult: (job: Job, r: SeedResult) => void): Promise<void> {
  const queue = [...jobs];
  const byKey = new Map(jobs.map((j) => [j.key, j]));
  const n = Math.max(1, Math.min(workers, jobs.length));
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { worker: true } });
    const next = () => {
      const job = queue.shift();
      if (job) w.postMessage(job);
      else void w.terminate().then(() => resolve());
    };
    w.on('message', (m: WorkerMessage) => {
      const job = byKey.get(m.key)!;
      if (m.kind === 'log') onLog(job, m.entry);
      else if (m.kind === 'result') {
        onResult(job, m.result);
        next();
      } else {
        void w.terminate();
        const text = `seed ${job.seed} of ${job.config.op}/${job.config.model} failed: ${m.message}`;
        reject(m.bad ? new UsageError(text) : new Error(text));
      }
    });
    w.on('error', reject);
    w.once('online', next);
  })));
}

async function workerMain(): Promise<void> {
  await init();
  parentPort!.on('message', (job: Job) => {
    try {
      const result = runSeed(job.config, job.seed, job.threshold, (entry) => parentPort!.postMessage({ kind: 'log', key: job.key, entry }), job.config.curves === true, job.save === true);
      parentPort!.postMessage({ kind: 'result', key: job.key, result }, result.saved ? [result.saved.buffer as ArrayBuffer] : []);
    } catch (err) {
      parentPort!.postMessage({ kind: 'error', key: job.key, message: (err as Error).message, bad: err instanceof NaluError });
    }
  });
}

// ---- commands ------------------------------------------------------------------------------

/**
 * The module the workers run: its build and the first 12 hex digits of its SHA-256. Runs of the
 * same module give the same bits; another module (a change to the kernels) may move them.
 */
async function moduleId(): Promise<string> {
  const { backend } = await init();
  return `${backend} ${createHash('sha256').update(readFileSync(wasmFile(backend))).digest('hex').slice(0, 12)}`;
}

export interface ExperimentReport {
  module: string;
  /** Written while seeds are still running (the file is rewritten after each one). */
  partial?: true;
  seeds: SeedResult[];
  aggregate: { threshold: number; successRate: number; successInterval: [number, number]; wallSeconds: number; workers: number };
  config: ExperimentConfig & { seeds: number[]; workers: number };
}

function fmt(v: number | null): string {
  if (v === null) return '-';
  if (!Number.isFinite(v)) return String(v);
  return v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(3) : v.toExponential(2);
}

/** A column's values after a bar, right-aligned together so that the bars line up in a table: "| value". */
function barred(values: string[]): string[] {
  const width = Math.max(...values.map((v) => v.length));
  return values.map((v) => `| ${v.padStart(width)}`);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

/** Makes the --save directory if missing (not its parents) and checks that files can be made in it. */
function checkSaveDir(dir: string): void {
  const probe = join(dir, `.nalu-wasm.${process.pid}.probe`);
  try {
    // (not recursive: Node 20's recursive mkdir spins on some paths, /proc/x for one)
    if (!existsSync(dir)) mkdirSync(dir);
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (err) {
    throw new UsageError(`--save ${dir} cannot be written: ${(err as Error).message}`);
  }
}

/** Where --save DIR keeps the model of a job: DIR/OP-MODEL-seedK.nalu. */
function savedFile(dir: string, { config, seed }: Job): string {
  return join(dir, `${config.op}-${config.model}-seed${seed}.nalu`);
}

/** Refuses a run whose models would be written over files already in the --save directory. */
function checkNotSaved(dir: string, jobs: Job[]): void {
  const there = jobs.map((j) => savedFile(dir, j)).filter((f) => existsSync(f));
  if (there.length) throw new UsageError(`--save ${dir} holds ${there.map((f) => basename(f)).join(', ')} already: move ${there.length > 1 ? 'them' : 'it'} away, or give another directory`);
}

async function experiment(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['op', 'model', 'seeds', 'iterations', 'batch', 'lr', 'input-size', 'subset', 'overlap',
    'interp', 'extrap', 'log-every', 'init', 'workers', 'json', 'save'], ['curves']);
  const config = experimentConfig(args);
  const seeds = seedList(args.get('seeds'));
  const workers = int(args, 'workers', availableParallelism(), 1, 256);
  const json = args.get('json');
  if (config.curves && !json) throw new UsageError('--curves keeps the curves in the report: give --json FILE too');
  const existed = json !== undefined && existsSync(json);
  if (json) {
    checkWritable('json', json, 'whole');
    lockFor('json', json);
    noStaleCopy('json', json);
  }
  const saveDir = args.get('save');
  if (saveDir) checkSaveDir(saveDir);
  const results: ExperimentReport['seeds'] = [];
  onStop(() => `experiment: stopped; ${!json ? 'no --json file was given: nothing was kept'
    : results.length ? `${seedWords(results.map((r) => r.seed))} ${results.length === 1 ? 'is' : 'are'} in ${json}: the same command finishes the others`
    : `no seed had finished: ${existed ? `${json} is as it was` : `nothing was written to ${json}`}`}`);
  const module = await moduleId();
  // a report of the same settings is carried on: its seeds are kept, the others run
  const earlier = finishedIn(json, config, seeds, module);
  results.push(...earlier.seeds);
  const started = performance.now() - earlier.wallSeconds * 1000;
  // about 1.4 s per 100 inputs (1,000,000 draws of every input): said first where it takes long
  if (config.inputSize > 200) console.error(`experiment: estimating the success threshold (1,000,000 draws of ${config.inputSize} inputs)...`);
  const threshold = thresholdOf(config);
  const floor = roundingFloor(config);
  if (threshold <= floor) { // (0 and 0 where every target is 0)
    console.error(`experiment: the success threshold ${fmt(threshold)} is not above ${fmt(floor)}, about the error that rounding the targets to f32 `
      + 'alone makes: no model can succeed on these settings (for addition, two disjoint subsets that cover every input make the perturbation the threshold measures cancel)');
  }
  const jobs = seeds.filter((seed) => !results.some((r) => r.seed === seed)).map((seed) => ({ config, seed, threshold, key: String(seed), save: saveDir !== undefined }));
  if (saveDir) checkNotSaved(saveDir, jobs);
  if (results.length) {
    console.error(jobs.length ? `experiment: carrying on ${json}: ${seedWords(results.map((r) => r.seed))} done, ${jobs.length} to go`
      : `experiment: ${json} holds this run's finished report: nothing to run`);
  }
  const progress = new JobProgress(`${config.op}/${config.model}`, jobs.length, config.iterations, 'seeds');
  const reportOf = (): ExperimentReport => {
    const k = results.filter((r) => r.success).length;
    return {
      module,
      ...(results.length < seeds.length ? { partial: true } : {}),
      seeds: [...results].sort((a, b) => a.seed - b.seed),
      aggregate: {
        threshold, successRate: k / results.length, successInterval: wilson(k, results.length),
        wallSeconds: (performance.now() - started) / 1000, workers,
      },
      config: { ...config, seeds, workers },
    };
  };
  await runJobs(jobs, workers, (job, e) => progress.reached(job.key, e.iteration), (job, { saved, ...r }) => {
    if (saved) writeWhole(savedFile(saveDir!, job), saved);
    results.push(r);
    if (json) writeWhole(json, reportJson(reportOf(), 2) + '\n');
    progress.ended();
  });
  if (jobs.length) progress.finish();
  const report = reportOf();
  if (!jobs.length) Object.assign(report.aggregate, { wallSeconds: earlier.wallSeconds, workers: earlier.workers || workers });
  const { wallSeconds: wall, workers: ran } = report.aggregate;
  const k = results.filter((r) => r.success).length;
  console.log(table([
    ['seed', 'success', 'solved at', 'best it', 'interp MSE', 'extrap MSE', 'sparsity'],
    ...report.seeds.map((r) => [String(r.seed), r.success ? 'yes' : 'no', r.solvedAt === null ? '-' : String(r.solvedAt),
      String(r.bestIteration), fmt(r.interpolationMse), fmt(r.extrapolationMse), fmt(r.sparsityError)]),
  ]));
  printStopped(report.seeds.map((r) => [`seed ${r.seed}`, r]));
  const [lo, hi] = report.aggregate.successInterval;
  console.log(`\n${config.op} with ${config.model}: success ${k}/${results.length} = ${rateText(k / results.length, lo, hi)} ` +
    `(Wilson 95%), threshold ${fmt(threshold)}, ` +
    `${config.iterations} iterations, ${fmtTime(wall)} on ${ran} worker${ran > 1 ? 's' : ''}`);
  if (json && jobs.length) writeWhole(json, reportJson(report, 2) + '\n');
}

/** A line for each run that stopped early, MAX_SKIPPED_IN_A_ROW training steps in a row refused. */
function printStopped(runs: Array<[string, Pick<SeedResult, 'stoppedAt'>]>): void {
  for (const [name, r] of runs) {
    if (r.stoppedAt) console.log(`${name} stopped at iteration ${r.stoppedAt}: its last ${MAX_SKIPPED_IN_A_ROW} training steps were all refused (not finite)`);
  }
}

async function identity(argv: string[]): Promise<IdentityCurve[]> {
  const args = parseArgs(argv, ['json', 'svg', 'steps', 'seeds']);
  const json = args.get('json'), svg = args.get('svg');
  if (json && svg && resolve(json) === resolve(svg)) throw new UsageError(`--json and --svg name the same file, ${json}`);
  if (json) outputFile('json', json, 'identity', (text) => jsonWith(text, ['config', 'curves']));
  if (svg) outputFile('svg', svg, 'identity', (text) => text.startsWith('<svg') && text.includes('Identity f(x) = x'));
  await init();
  const config = { ...IDENTITY_DEFAULTS, steps: int(args, 'steps', IDENTITY_DEFAULTS.steps, 1, 1e9), seeds: int(args, 'seeds', IDENTITY_DEFAULTS.seeds, 1, 1000) };
  const models = Object.entries(identityModels());
  const progress = new Progress('identity', models.length);
  const curves: IdentityCurve[] = [];
  for (const [name, layers] of models) {
    curves.push(runIdentity(name, layers, config));
    progress.update(curves.length);
  }
  progress.finish();
  printIdentity(curves, config.steps, config.seeds);
  if (json) writeWhole(json, reportJson({ config, curves }, 2) + '\n');
  if (svg) writeWhole(svg, identityFigure(curves));
  return curves;
}

function printIdentity(curves: IdentityCurve[], steps: number, seeds: number): void {
  const [train, test] = [IDENTITY_TRAIN, IDENTITY_TEST].map((r) => `[${r.join(', ')}]`);
  console.log(`Identity f(x) = x: 1-8-8-8-1 networks trained on ${train} (${steps} Adam steps, ${seeds} seed${seeds === 1 ? '' : 's'}), tested on ${test}\n`);
  console.log(table([
    ['model', `mean |error| on ${train}`, `mean |error| on ${test}`],
    ...curves.map((c) => [c.model === 'nac' ? 'NAC' : `MLP ${c.model}`, fmt(c.trainRangeMeanAbsError), fmt(c.meanAbsError)]),
  ]));
}

function list<T extends string>(args: Args, key: string, def: readonly T[], known: readonly string[]): T[] {
  const v = args.get(key);
  if (v === undefined) return [...def];
  const items = v.split(',');
  for (const item of items) {
    if (!known.includes(item)) throw new UsageError(`--${key}: unknown ${JSON.stringify(item)} (known: ${known.join(', ')})`);
  }
  noRepeats(key, items);
  return items as T[];
}

async function reproduce(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['seeds', 'iterations', 'ops', 'models', 'file', 'init', 'workers', 'save'], ['curves']);
  const seeds = seedList(args.get('seeds'));
  const iterations = int(args, 'iterations', DEFAULTS.iterations, 1, 1e10);
  const ops = list(args, 'ops', OPS, OPS);
  const models = list(args, 'models', PAPER_MODELS, Object.keys(MODELS));
  const workers = int(args, 'workers', availableParallelism(), 1, 256);
  const withInit = models.filter(modelTakesInit);
  const init = initOption(args, withInit.length ? withInit : models) ?? 'madsen';
  const file = args.get('file') ?? 'reproduce.jsonl';
  const saveDir = args.get('save');
  const curves = args.has('curves') ? { curves: true as const } : {};
  const lineKey = (op: string, model: string, seed: number, its: number, scheme: InitScheme | undefined) =>
    `${op}/${model}/${seed}/${its}/${recordedInit(model, scheme) ?? ''}`;
  const key = (op: string, model: string, seed: number) => lineKey(op, model, seed, iterations, init);
  const done = new Map<string, ReproduceLine>();
  checkWritable('file', file, 'append'); // now, not after hours
  lockFor('file', file);
  if (saveDir) checkSaveDir(saveDir);
  let appended = 0;
  onStop(() => `reproduce: stopped; ${appended} run${appended === 1 ? '' : 's'} of this one added to ${file}: the same command does the others`);
  if (existsSync(file)) {
    let text = readFileSync(file, 'utf8');
    let lines: ReproduceLine[];
    try {
      // A run stopped while appending its line (killed, disk full) leaves a record cut short, no
      // longer JSON and without its newline: it is removed (once the lines before it have been
      // read), and that run is done again. Any other last line without its newline is read.
      const end = text.lastIndexOf('\n') + 1;
      const cut = end < text.length && text[end] === '{' && !isJson(text.slice(end));
      lines = parseReproduceLines(cut ? text.slice(0, end) : text, file);
      if (cut) {
        console.error(`reproduce: the last line of ${file} is cut short (a run stopped while writing it): removed; its run is done again`);
        truncateSync(file, Buffer.byteLength(text.slice(0, end)));
        text = text.slice(0, end);
      }
    } catch (err) {
      throw new Error((err as Error).message); // the file's content, not the arguments, is wrong
    }
    for (const r of lines) {
      const k = lineKey(r.op, r.model, r.seed, r.iterations, r.init);
      // the same run twice: taken once if it says the same, refused if not (which one to trust?)
      if (done.has(k) && JSON.stringify(done.get(k)!.result) !== JSON.stringify(r.result)) {
        throw new Error(`${file} holds the run ${r.op} ${r.model} seed ${r.seed} (${r.iterations} iterations${r.init ? `, init ${r.init}` : ''}) twice, with different results: keep the line to trust, remove the other`);
      }
      done.set(k, r);
    }
    // a last line without its newline (an editor, a copy) must not have the next line glued to it
    if (text.length && !text.endsWith('\n')) appendFileSync(file, '\n');
  }
  const module = await moduleId();
  const thresholds = new Map<Op, number>();
  const jobs: Job[] = [];
  const foreign = new Set<string>(); // the modules, other than this one, of the runs taken from the file
  let fromOthers = 0;
  for (const op of ops) {
    const config: ExperimentConfig = { ...DEFAULTS, op, model: '', iterations, ...curves };
    thresholds.set(op, thresholdOf(config));
    for (const model of models) {
      const modelConfig = { ...config, model, ...(modelTakesInit(model) ? { init } : {}) };
      for (const seed of seeds) {
        const k = key(op, model, seed);
        const line = done.get(k);
        if (!line) jobs.push({ config: modelConfig, seed, threshold: thresholds.get(op)!, key: k, save: saveDir !== undefined });
        else if (line.module !== module) {
          fromOthers++;
          foreign.add(line.module ?? 'unrecorded');
        }
      }
    }
  }
  if (saveDir) checkNotSaved(saveDir, jobs);
  console.error(`reproduce: ${jobs.length} runs to go, ${ops.length * models.length * seeds.length - jobs.length} already in ${file}`);
  if (fromOthers) {
    console.error(`reproduce: ${fromOthers} of those were run by another module (${[...foreign].join(', ')}), not this one (${module}): `
      + 'their results are kept; remove their lines to run them again with this one');
  }
  const progress = new JobProgress('reproduce', jobs.length, iterations, 'runs');
  await runJobs(jobs, workers, (job, e) => progress.reached(job.key, e.iteration), (job, { saved, ...result }) => {
    if (saved) writeWhole(savedFile(saveDir!, job), saved);
    const line: ReproduceLine = { op: job.config.op, model: job.config.model, seed: job.seed, iterations, ...(job.config.init ? { init: job.config.init } : {}), module, result };
    appendFileSync(file, reportJson(line) + '\n');
    appended++;
    done.set(job.key, line);
    progress.ended();
  });
  progress.finish();
  console.log(`Static task, ${iterations} iterations, seed${seeds.length === 1 ? '' : 's'} ${seedsText(seeds)}${withInit.length ? `, ${withInit.join(', ')} from init ${init}` : ''}: success [Wilson 95%] | Madsen & Johansen 2020 (100 seeds)\n`);
  const papers = ops.map((op) => barred(models.map((model) => paperRate(op, model))));
  console.log(table([
    ['model', ...ops],
    ...models.map((model, i) => [model, ...ops.map((op, j) => {
      const rs = seeds.map((seed) => done.get(key(op, model, seed))!.result);
      const k = rs.filter((r) => r.success).length;
      const [lo, hi] = wilson(k, rs.length);
      return `${rateText(k / rs.length, lo, hi)} ${papers[j]![i]}`;
    })]),
  ]));
  console.log('\nThe successes: the iteration each was solved at, and its sparsity error (median; each if <= 3) | the paper\'s (median)\n');
  const cells = ops.flatMap((op) => models.map((model) => {
    const won = seeds.map((seed) => done.get(key(op, model, seed))!.result).filter((r) => r.success);
    return [op, model, middle(won.map((r) => r.solvedAt!)), paperSolvedAt(op, model),
      middle(won.map((r) => r.sparsityError ?? NaN), (x) => x.toExponential(1)), paperSparsity(op, model)];
  }));
  const [solvedTheirs, sparsityTheirs] = [3, 5].map((c) => barred(['theirs', ...cells.map((row) => row[c]!)]));
  console.log(table([
    ['op', 'model', 'solved at', solvedTheirs![0]!, 'sparsity error', sparsityTheirs![0]!],
    ...cells.map((row, i) => [row[0]!, row[1]!, row[2]!, solvedTheirs![i + 1]!, row[4]!, sparsityTheirs![i + 1]!]),
  ]));
  printStopped(models.flatMap((model) => ops.flatMap((op) => seeds.map((seed): [string, SeedResult] => [`${op} ${model} seed ${seed}`, done.get(key(op, model, seed))!.result]))));
}

/** The showcase's budget against the full protocol. */
const SHOWCASE = { iterations: 30000, seeds: [0], validationSize: 2000, testSize: 2000, logEvery: 1000 };

async function showcase(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['workers', 'iterations', 'json']);
  const workers = int(args, 'workers', availableParallelism(), 1, 256);
  const iterations = int(args, 'iterations', SHOWCASE.iterations, 1, 1e10);
  const json = args.get('json');
  if (json) outputFile('json', json, 'showcase', (text) => jsonWith(text, ['iterations', 'results']));
  const started = performance.now();
  console.log('nalu-wasm showcase: arithmetic units extrapolate where MLPs fail.\n');
  await identity(['--steps', String(IDENTITY_DEFAULTS.steps)]);
  console.log('');
  const models = Object.keys(MODELS);
  const jobs: Job[] = [];
  for (const op of OPS) {
    const config: ExperimentConfig = { ...DEFAULTS, op, model: '', iterations, validationSize: SHOWCASE.validationSize, testSize: SHOWCASE.testSize, logEvery: SHOWCASE.logEvery };
    const threshold = thresholdOf(config, 200_000);
    for (const model of models) jobs.push({ config: { ...config, model }, seed: 0, threshold, key: `${op}/${model}` });
  }
  const progress = new JobProgress('static task', jobs.length, iterations, 'runs');
  const results = new Map<string, SeedResult>();
  await runJobs(jobs, workers, (job, e) => progress.reached(job.key, e.iteration), (job, r) => {
    results.set(job.key, r);
    progress.ended();
  });
  progress.finish();
  console.log(`Static arithmetic task (Madsen & Johansen 2020): 100 inputs, a and b sums of two overlapping subsets of 25,`);
  console.log(`trained on U[1, 2], tested on U[2, 6]. Each cell: extrapolation MSE, with * where it is below the success threshold.\n`);
  const thresholds = OPS.map((op) => jobs.find((j) => j.config.op === op)!.threshold);
  console.log(table([
    ['model', ...OPS],
    ...models.map((model) => [model, ...OPS.map((op) => {
      const r = results.get(`${op}/${model}`)!;
      return `${fmt(r.extrapolationMse)}${r.success ? '*' : ' '}`;
    })]),
    ['threshold', ...thresholds.map((t) => `${fmt(t)} `)],
  ]));
  const wall = (performance.now() - started) / 1000;
  console.log(`\nReduced budget, against the full protocol: ${iterations} iterations instead of 5,000,000; seed 0 only instead of`);
  console.log(`10 to 100 seeds; validation and test sets of ${SHOWCASE.validationSize} instead of 10,000; thresholds from 200,000`);
  console.log(`simulated samples instead of 1,000,000. Wall time ${fmtTime(wall)} on ${workers} worker${workers > 1 ? 's' : ''}.`);
  console.log('Run the full protocol with: nalu-wasm experiment --op add --model nac --seeds 0..9');
  if (json) writeWhole(json, reportJson({ iterations, results: Object.fromEntries(results) }, 2) + '\n');
}

function noArguments(command: string, rest: string[]): void {
  if (rest.length) throw new UsageError(`${command} takes no arguments, got ${rest.map((a) => JSON.stringify(a)).join(' ')}`);
}

/** The version in the package's package.json (beside src/ and dist/ alike). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // COMMAND --help (not the value of an option before it, as in --json --help)
    const asksHelp = rest.some((a, i) => (a === '--help' || a === '-h') && !(i > 0 && /^--[^=]+$/.test(rest[i - 1]!) && rest[i - 1] !== '--curves'));
    if (COMMANDS.includes(command!) && asksHelp) {
      console.log(USAGE);
      return 0;
    }
    switch (command) {
      case 'experiment': await experiment(rest); return 0;
      case 'identity': await identity(rest); return 0;
      case 'showcase': await showcase(rest); return 0;
      case 'reproduce': await reproduce(rest); return 0;
      case 'help': case '--help': case '-h':
        // (help COMMAND: the one text says every command's options)
        if (rest.length > 1 || (rest.length === 1 && !COMMANDS.includes(rest[0]!))) {
          throw new UsageError(`help takes a command's name (${COMMANDS.join(', ')}) or nothing, got ${rest.map((a) => JSON.stringify(a)).join(' ')}`);
        }
        console.log(USAGE);
        return 0;
      case 'version': case '--version': case '-v': noArguments(command, rest); console.log(packageVersion()); return 0;
      case undefined: console.error(USAGE); return 2;
      default: throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof NaluError) {
      console.error(`nalu-wasm: ${err.message}\n(nalu-wasm help lists the commands and their options)`);
      return 2;
    }
    console.error(`nalu-wasm: ${(err as Error).message}`);
    return 1;
  }
}

if (!isMainThread && (workerData as { worker?: boolean } | null)?.worker) {
  void workerMain();
} else if (isMainThread) {
  void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
