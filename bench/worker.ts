// One benchmark configuration (implementation x shape) in its own process, driven by run.ts.
//
//   node --import tsx bench/worker.ts --impl simd|scalar|relaxed|threads|relaxed-threads|naive|tfjs-wasm|tfjs-cpu --shape S|E|M|L
//   (relaxed: with --experimental-wasm-relaxed-simd on Node 20)
//
// On start it builds the model from the shared initial weights, checks y, loss and gradients
// against the float64 reference (test/reference) on a random case of the shape's layers (and
// Adam against refAdam), warms every operation up, and reports. Then it answers commands, one
// JSON object per line on stdin; replies are lines on stdout that start with "@@" (anything
// else on stdout, such as a library's banner, is ignored by run.ts):
//   {"cmd":"measure","op":"train"|"forward","seconds":1,"clock":"cpu"|"wall"}
//     -> {"rate":{"wall":calls/s,"cpu":calls/s,"share":cpu/wall}}
//   {"cmd":"quit"}
// The Python twin for PyTorch, bench/torch_worker.py, speaks the same protocol.

import { createInterface } from 'node:readline';
import type { RefLayer } from '../test/reference/index';
import { checkRunner, randomCase } from './lib/check';
import { naiveRunner, wasmRunner, type Runner } from './lib/runners';
import { initialWeights, RESET_EVERY, SHAPES, type OpKey, type ShapeKey } from './lib/shapes';
import { measure, warmUp } from './lib/stats';
import { makePool, TaskStream } from './lib/tasks';
import { loadTf, tfRunner } from './lib/tfjs';
import { opt } from './lib/args';

const IMPL = opt('impl');
const SHAPE = SHAPES[opt('shape') as ShapeKey];
if (!SHAPE) throw new Error(`unknown shape ${opt('shape')}`);
const TOL = 1e-4;

const reply = (o: object) => process.stdout.write(`@@${JSON.stringify(o)}\n`);

async function makeRunner(): Promise<{ runner: Runner; info: Record<string, unknown> } | string> {
  const initial = initialWeights(SHAPE);
  const stack = { layers: SHAPE.layers, seed: 1, learningRate: SHAPE.learningRate };
  switch (IMPL) {
    case 'simd':
    case 'scalar':
    case 'relaxed':
    case 'threads':
    case 'relaxed-threads': {
      const runner = await wasmRunner(stack, IMPL);
      runner.setWeights(initial);
      return { runner, info: runner.info ?? {} };
    }
    case 'naive':
      return { runner: naiveRunner(stack, initial), info: {} };
    case 'tfjs-wasm':
    case 'tfjs-cpu': {
      const backend = IMPL === 'tfjs-wasm' ? 'wasm' : 'cpu';
      const loaded = await loadTf(backend);
      if (!loaded) return 'skipped: @tensorflow/tfjs (and @tensorflow/tfjs-backend-wasm) not installed';
      return { runner: tfRunner(loaded.tf, backend, SHAPE, initial), info: loaded.info };
    }
    default:
      throw new Error(`unknown implementation ${IMPL}`);
  }
}

async function main(): Promise<void> {
  const made = await makeRunner();
  if (typeof made === 'string') {
    reply({ skipped: made });
    return;
  }
  const { runner, info } = made;
  const initial = initialWeights(SHAPE);

  // correctness gate
  const refLayers = SHAPE.layers.map((l) => ({ type: 'nalu', ...l }) as RefLayer);
  const c = randomCase(`${SHAPE.key} layers, batch ${SHAPE.checkBatch}`, refLayers, SHAPE.checkBatch, 101);
  const { worst, where, adam: adamErr } = checkRunner(runner, c, SHAPE.learningRate, 2);
  const check = { worst, where, adam: adamErr, ok: worst <= TOL && adamErr <= TOL };
  if (!check.ok) {
    reply({ error: `${runner.label} differs from the float64 reference beyond ${TOL}: worst ${worst} (${where}), Adam ${adamErr}`, check });
    return;
  }

  // data and operations
  const inputs = SHAPE.layers[0]!.inputs;
  const outputs = SHAPE.layers.at(-1)!.outputs;
  const count = SHAPE.batch * inputs > 1 << 19 ? 4 : 8;
  const pool = makePool(inputs, outputs, SHAPE.batch, count, 42);
  const B = SHAPE.batch;
  const stream = SHAPE.ops.includes('task') ? new TaskStream(B) : null;
  const residentStep = !SHAPE.ops.includes('resident') ? null
    : runner.resident?.(pool.x, pool.t, B) ?? ((k: number) => runner.train(pool.x[k]!, pool.t[k]!, B));
  const residentPredict = !SHAPE.ops.includes('residentForward') ? null
    : runner.residentPredict?.(pool.x, pool.t, B) ?? ((k: number) => runner.predict(pool.x[k]!, B));
  const make = (op: OpKey): (() => unknown) => {
    runner.reset(initial);
    let i = 0;
    if (op === 'task') {
      return () => {
        if (i++ === RESET_EVERY) { runner.reset(initial); i = 1; }
        if (runner.trainTask) return runner.trainTask(B);
        stream!.next();
        return runner.train(stream!.x, stream!.t, B);
      };
    }
    if (op === 'train' || op === 'resident') {
      return () => {
        if (i === RESET_EVERY) { runner.reset(initial); i = 0; }
        const k = i++ % count;
        return op === 'train' ? runner.train(pool.x[k]!, pool.t[k]!, B) : residentStep!(k);
      };
    }
    if (op === 'residentForward') return () => residentPredict!(i++ % count);
    return () => runner.predict(pool.x[i++ % count]!, B);
  };
  const chunks: Partial<Record<OpKey, number>> = {};
  for (const op of SHAPE.ops) chunks[op] = warmUp(make(op), 0.5);
  reply({ ready: true, label: runner.label, info, check, chunks });

  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line) as { cmd: string; op: OpKey; seconds: number; clock: 'cpu' | 'wall' };
    if (cmd.cmd === 'quit') break;
    if (cmd.cmd === 'measure') {
      const rate = measure(make(cmd.op), chunks[cmd.op]!, cmd.seconds, cmd.clock);
      reply({ rate });
    }
  }
  runner.dispose();
  rl.close();
}

main().then(() => process.exit(0), (err) => {
  reply({ error: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) });
  process.exit(1);
});
