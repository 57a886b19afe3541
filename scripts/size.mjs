#!/usr/bin/env node
// Prints the gzipped size of what each entry of dist/ loads (its JS and the chunks it imports,
// plus the .wasm build it fetches by default) and fails above the budget.
// Usage: node scripts/size.mjs [--budget KB]   (default 42 KB = 42 * 1024 bytes)
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const args = process.argv.slice(2);
const at = args.indexOf('--budget');
const budgetKB = at >= 0 ? Number(args[at + 1]) : Number(process.env.NALU_SIZE_BUDGET_KB ?? 42);
const dist = new URL('../dist/', import.meta.url);
const read = (name) => readFileSync(new URL(name, dist));
const gz = (name) => gzipSync(read(name), { level: 9 }).length;

const entries = ['index.js', 'deno.js', 'bun.js', 'workerd.js', 'browser.js'];
const wasm = ['nalu-simd.wasm', 'nalu-scalar.wasm'];
const files = new Set(readdirSync(dist));

/** The entry and every chunk it imports statically, transitively. */
function closure(entry, seen = new Set()) {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const code = read(entry).toString('utf8');
  // statements start a line or follow a semicolon
  for (const m of code.matchAll(/(?:^|[\n;])\s*(?:import|export)\b[^'";]*?from\s*['"]\.\/([^'"]+\.js)['"]/g)) closure(m[1], seen);
  for (const m of code.matchAll(/(?:^|[\n;])\s*import\s*['"]\.\/([^'"]+\.js)['"]/g)) closure(m[1], seen);
  return seen;
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const wasmSizes = Object.fromEntries(wasm.map((w) => [w, gz(w)]));
const largestWasm = Math.max(...Object.values(wasmSizes));
let worst = 0;
const rows = [];
for (const entry of entries) {
  if (!files.has(entry)) throw new Error(`dist/${entry} is missing: run the build first`);
  const js = [...closure(entry)].reduce((sum, f) => sum + gz(f), 0);
  const total = js + largestWasm;
  worst = Math.max(worst, total);
  rows.push(`  ${entry.padEnd(12)} JS ${kb(js).padStart(9)}  + wasm ${kb(largestWasm).padStart(9)}  = ${kb(total).padStart(9)}`);
}
console.log(`gzipped size per entry (each file gzipped on its own; wasm: ${wasm.map((w) => `${w} ${kb(wasmSizes[w])}`).join(', ')}):`);
console.log(rows.join('\n'));
if (worst > budgetKB * 1024) {
  console.error(`size budget exceeded: ${kb(worst)} > ${budgetKB} KB`);
  process.exit(1);
}
console.log(`largest: ${kb(worst)} of the ${budgetKB} KB budget`);
