// A Cloudflare Worker that serves predictions of a nalu-wasm model over HTTP.
//
//   POST /predict   {"x": [[3, 4], [10, 2]]}  ->  {"y": [[12, 0.75], [20, 5]], "backend": "simd"}
//   GET  /          what the model is and how to ask it
//
// Workers may not compile WebAssembly from bytes, so the package's "workerd" export imports its
// .wasm files as modules: wrangler (or workerd's config) uploads them compiled. The model is
// built on the first request and kept (init() does no I/O, so it could run at the top level too).
import { init, nac, nacMul, nalu, sequential, NaluError } from 'nalu-wasm';
import spec from './model.json';

const LAYERS = { nac, nacMul, nalu };
const MAX_ROWS = 10_000;

let ready;

function load() {
  return init().then(({ backend }) => {
    const model = sequential(spec.layers.map(({ type, ...options }) => LAYERS[type](options)));
    model.setWeights(spec.weights);
    return { model, backend };
  });
}

function error(status, message) {
  return Response.json({ error: message }, { status });
}

async function predict(request, { model, backend }) {
  let body;
  try {
    body = await request.json();
  } catch {
    return error(400, 'the body must be JSON: {"x": [[a, b], ...]}');
  }
  const rows = body?.x;
  if (!Array.isArray(rows) || rows.length === 0 || rows.length > MAX_ROWS) {
    return error(400, `x must be an array of 1 to ${MAX_ROWS} rows`);
  }
  const x = new Float32Array(rows.length * model.inputs);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!Array.isArray(row) || row.length !== model.inputs || !row.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      return error(400, `row ${i} must hold ${model.inputs} finite numbers`);
    }
    x.set(row, i * model.inputs);
  }
  try {
    const y = model.predict(x, rows.length);
    const out = [];
    for (let i = 0; i < rows.length; i++) out.push(Array.from(y.subarray(i * model.outputs, (i + 1) * model.outputs)));
    return Response.json({ y: out, backend });
  } catch (err) {
    if (err instanceof NaluError) return error(400, err.message);
    throw err;
  }
}

export default {
  async fetch(request) {
    ready ??= load().catch((err) => {
      ready = undefined;
      throw err;
    });
    const loaded = await ready;
    const { pathname } = new URL(request.url);
    if (pathname === '/predict') {
      if (request.method !== 'POST') return error(405, 'POST a JSON body {"x": [[a, b], ...]}');
      return predict(request, loaded);
    }
    if (pathname === '/') {
      return Response.json({
        model: spec.description,
        inputs: loaded.model.inputs,
        outputs: loaded.model.outputs,
        backend: loaded.backend,
        usage: 'POST /predict {"x": [[a, b], ...]}',
      });
    }
    return error(404, 'not found');
  },
};
