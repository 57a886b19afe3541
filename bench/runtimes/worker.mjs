// bench:runtimes in workerd. Inside a Worker the clock only moves on I/O, so the Worker only
// works and the caller times it: GET /run?op=train|predict|predictInto&n=N runs N steps of the workload and
// answers when done; run.mjs times each request and subtracts the time of n=0 requests.
import * as nalu from 'nalu-wasm';
import simd from 'nalu-wasm/nalu-simd.wasm';
import { OPS, workload } from './workload.mjs';

let w;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/ping') return new Response('ok');
    if (url.pathname !== '/run') return new Response('not found', { status: 404 });
    if (!w) {
      await nalu.init({ wasm: simd, simd: true });
      w = workload(nalu);
    }
    const op = url.searchParams.get('op');
    const n = Number(url.searchParams.get('n'));
    if (!OPS.includes(op) || !(n >= 0)) return new Response('bad request', { status: 400 });
    return Response.json({ sink: w[op](n) });
  },
};
