// bench:runtimes in Node, Deno or Bun: `import * as nalu from 'nalu-wasm'` resolves through the
// installed package's "exports" with the runtime's own conditions. Prints one JSON line.
import * as nalu from 'nalu-wasm';
import { measure, measureThreads, workload } from './workload.mjs';

function runtimeInfo() {
  if (typeof Deno !== 'undefined') return { name: 'Deno', version: Deno.version.deno, engine: `V8 ${Deno.version.v8}` };
  if (typeof Bun !== 'undefined') return { name: 'Bun', version: Bun.version, engine: 'JavaScriptCore' };
  return { name: 'Node.js', version: process.versions.node, engine: `V8 ${process.versions.v8}` };
}

const info = await nalu.init();
const result = { ...measure(workload(nalu), () => performance.now()), ...await measureThreads(nalu, () => performance.now()) };
console.log(`NALU-BENCH ${JSON.stringify({ runtime: runtimeInfo(), backend: info.backend, ...result })}`);
