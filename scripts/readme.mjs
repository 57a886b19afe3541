// Splices generated material into README.md between <!-- name --> and <!-- /name --> markers:
//   compat     test/runtimes/compat.md        (written by npm run test:runtimes)
//   bench      bench/results/bench.md         (written by npm run bench)
//   runtimes   bench/results/runtimes.md      (written by npm run bench:runtimes)
//   showcase   docs/showcase.md               (npm start's output, captured by this script's --showcase)
//   full-runs  docs/results/*.json            (nalu-wasm experiment --json, summarised here)
//   reproduce  docs/results/reproduce.jsonl   (nalu-wasm reproduce --file, summarised here)
//   workers    docs/results/workers.md        (1 against 2 worker threads)
//   math-accuracy docs/math-accuracy.md
//   serialization docs/serialization.md
//   demo       docs/demo.md
// Usage: node --import tsx scripts/readme.mjs [--showcase]   (--showcase reruns the showcase first)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseReproduceLines, recordedInit, wilson } from '../src/experiment.ts';
import { middle, paperRate, paperSolvedAt, paperSparsity, rateText } from '../src/paper.ts';

const root = new URL('../', import.meta.url);
const path = (p) => new URL(p, root);
/** A generated Markdown file, without a leading level-2 heading (the README has its own). */
const read = (p) => (existsSync(path(p)) ? readFileSync(path(p), 'utf8').trim().replace(/^## [^\n]*\n+/, '') : undefined);

function machine() {
  return `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}`;
}

if (process.argv.includes('--showcase')) {
  const started = Date.now();
  const out = execFileSync(process.execPath, [new URL('dist/cli.js', root).pathname, 'showcase'], { encoding: 'utf8' });
  const wall = ((Date.now() - started) / 1000).toFixed(0);
  writeFileSync(path('docs/showcase.md'), `Output of \`npm start\` (${machine()}, ${wall} s wall):\n\n\`\`\`\n${out.trim()}\n\`\`\`\n`);
}

/**
 * The columns both result tables start with: op, model (and init), seeds, iterations, success, the paper's, solved at
 * (of the successes, as the paper's median), theirs.
 */
function cellColumns(op, model, init, iterations, k, n, lo, hi, solved) {
  return `| ${op} | ${model}${init ? ` (init ${init})` : ''} | ${n} | ${iterations.toExponential(0).replace('+', '')} | ${k}/${n} = ${rateText(k / n, lo, hi)} | ${paperRate(op, model)} | ${middle(solved)} | ${paperSolvedAt(op, model)} |`;
}

function fullRuns() {
  const dir = path('docs/results/');
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'identity.json').sort();
  if (!files.length) return undefined;
  const reports = files.map((f) => [f, JSON.parse(readFileSync(new URL(f, dir), 'utf8'))]).filter(([f, r]) => {
    if (r.partial) console.warn(`docs/results/${f}: a partial report (its run did not finish), left out of the table`);
    return !r.partial;
  });
  const rows = reports.map(([, r]) => {
    const c = r.config;
    const k = r.seeds.filter((s) => s.success).length;
    const [lo, hi] = r.aggregate.successInterval;
    const solved = r.seeds.filter((s) => s.success).map((s) => s.solvedAt);
    const init = recordedInit(c.model, c.init);
    return `${cellColumns(c.op, c.model, init, c.iterations, k, r.seeds.length, lo, hi, solved)} ${r.aggregate.threshold.toExponential(2)} | ${Math.round(r.aggregate.wallSeconds)} s, ${r.aggregate.workers} workers |`;
  });
  return ['| op | model | seeds | iterations | success [Wilson 95%] | Madsen & Johansen (100 seeds) | solved at, successes (median; each if <= 3) | theirs (median) | threshold | wall |',
    '|---|---|---:|---:|---|---|---:|---:|---:|---|', ...rows].join('\n');
}

function reproduceTable() {
  const file = path('docs/results/reproduce.jsonl');
  if (!existsSync(file)) return undefined;
  const cells = new Map();
  for (const r of parseReproduceLines(readFileSync(file, 'utf8'), 'docs/results/reproduce.jsonl')) {
    const init = recordedInit(r.model, r.init);
    const key = `${r.op}/${r.model}/${r.iterations}/${init ?? ''}`;
    if (!cells.has(key)) cells.set(key, { op: r.op, model: r.model, init, iterations: r.iterations, results: [] });
    cells.get(key).results.push(r.result);
  }
  const order = ['mul', 'add', 'sub', 'div', 'square', 'sqrt'];
  const rows = [...cells.values()].sort((a, b) => order.indexOf(a.op) - order.indexOf(b.op) || a.model.localeCompare(b.model) || (a.init ?? '').localeCompare(b.init ?? '')).map((c) => {
    const n = c.results.length, k = c.results.filter((r) => r.success).length;
    const [lo, hi] = wilson(k, n);
    const solved = c.results.filter((r) => r.success).map((r) => r.solvedAt);
    const sparsity = c.results.filter((r) => r.success && r.sparsityError !== null).map((r) => r.sparsityError);
    return `${cellColumns(c.op, c.model, c.init, c.iterations, k, n, lo, hi, solved)} ${middle(sparsity, (x) => x.toExponential(1))} | ${paperSparsity(c.op, c.model)} |`;
  });
  return ['| op | model | seeds | iterations | success [Wilson 95%] | Madsen & Johansen (100 seeds) | solved at, successes (median; each if <= 3) | theirs (median) | sparsity error of the successes (same) | theirs (median) |',
    '|---|---|---:|---:|---|---|---:|---:|---:|---:|', ...rows].join('\n');
}

const parts = {
  reproduce: reproduceTable(),
  compat: read('test/runtimes/compat.md'),
  bench: read('bench/results/bench.md'),
  runtimes: read('bench/results/runtimes.md'),
  showcase: read('docs/showcase.md'),
  'full-runs': fullRuns(),
  'math-accuracy': read('docs/math-accuracy.md'),
  workers: read('docs/results/workers.md'),
  serialization: read('docs/serialization.md')?.replace(/^# [^\n]*\n+/, '').replace(/^## /gm, '### '),
  demo: read('docs/demo.md'),
};

let readme = readFileSync(path('README.md'), 'utf8');
for (const [name, text] of Object.entries(parts)) {
  const open = `<!-- ${name} -->`, close = `<!-- /${name} -->`;
  const start = readme.indexOf(open);
  if (start < 0) continue;
  const end = readme.indexOf(close, start);
  const body = text ?? `_Not generated yet: see scripts/readme.mjs._`;
  readme = readme.slice(0, start) + `${open}\n${body}\n${close}` + (end < 0 ? readme.slice(start + open.length) : readme.slice(end + close.length));
}
writeFileSync(path('README.md'), readme);
console.log('README.md updated:', Object.entries(parts).map(([k, v]) => `${k}${v ? '' : ' (missing)'}`).join(', '));
