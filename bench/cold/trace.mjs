// Preloaded (node --import) in an untimed run of a cold-start script: records every file the
// process loads as code (ES modules through a loader hook, CommonJS through the loader's
// extension table) or reads as .wasm, one path per line, into the file named by
// $NALU_BENCH_TRACE. The timed runs do not load this file.
import { appendFileSync } from 'node:fs';
import fs from 'node:fs';
import Module, { register, syncBuiltinESMExports } from 'node:module';
import { fileURLToPath } from 'node:url';

const out = process.env.NALU_BENCH_TRACE;
const add = (p) => {
  try {
    const s = p instanceof URL ? fileURLToPath(p) : String(p).startsWith('file:') ? fileURLToPath(String(p)) : String(p);
    appendFileSync(out, s + '\n');
  } catch {}
};

// ES modules: the hook runs on the loader's thread and appends there.
register('data:text/javascript,' + encodeURIComponent(
  'import { appendFileSync } from "node:fs"; import { fileURLToPath } from "node:url"; let out;' +
  'export function initialize(d) { out = d.out; }' +
  'export async function load(url, context, next) { if (url.startsWith("file:")) appendFileSync(out, fileURLToPath(url) + "\\n"); return next(url, context); }'),
  { data: { out } });

// CommonJS
for (const ext of ['.js', '.cjs', '.json']) {
  const orig = Module._extensions[ext];
  Module._extensions[ext] = function (module, filename) { add(filename); return orig.call(this, module, filename); };
}

// .wasm files read through fs
const wrap = (obj, name) => {
  const orig = obj[name];
  obj[name] = function (p, ...rest) {
    try { const s = p instanceof URL ? fileURLToPath(p) : String(p); if (s.endsWith('.wasm')) add(s); } catch {}
    return orig.call(this, p, ...rest);
  };
};
wrap(fs, 'readFileSync');
wrap(fs, 'readFile');
wrap(fs.promises, 'readFile');
syncBuiltinESMExports(); // so that `import { readFile } from 'node:fs/promises'` sees the wrapper
