// Runs the harness in Node, Deno or Bun, inside the temporary project where the packed package
// is installed: `import * as nalu from 'nalu-wasm'` resolves through the package's "exports"
// with the runtime's own conditions. Prints the report as one JSON line.
import * as nalu from 'nalu-wasm';
import golden from './cases.mjs';
import { runHarness } from './harness.mjs';

function runtimeInfo() {
  if (typeof Deno !== 'undefined') return { name: 'Deno', version: Deno.version.deno, engine: `V8 ${Deno.version.v8}` };
  if (typeof Bun !== 'undefined') return { name: 'Bun', version: Bun.version, engine: 'JavaScriptCore' };
  return { name: 'Node.js', version: process.versions.node, engine: `V8 ${process.versions.v8}` };
}

const runtime = runtimeInfo();
const resolved = String(import.meta.resolve('nalu-wasm'));
runtime.entry = resolved.slice(resolved.lastIndexOf('/nalu-wasm/') + '/nalu-wasm/'.length);
// Deno's and Bun's fetch read file: URLs (Node's does not), so init({ wasm }) can take every
// kind of source there too.
const options = runtime.name === 'Deno' || runtime.name === 'Bun' ? { wasmUrl: resolved.replace(/[^/]*$/, 'nalu-simd.wasm') } : {};
const report = await runHarness(nalu, golden, runtime, options);
console.log(`NALU-REPORT ${JSON.stringify(report)}`);
