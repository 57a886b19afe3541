// The codes the host writes into the module's records without reading them from its exports
// (src/wasm/layout.ts reads the descriptor layout; these are written by hand on both sides):
// layer types, NALU flags, dense activations, task kinds and ops, the thread limit. Each is
// compared with the `export const NAME: i32 = value` that declares it in assembly/.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, layerKind, nalu, type LayerType } from '../src/layers';
import { OPS, staticTask } from '../src/tasks/static';
import { identityTask } from '../src/tasks/identity';
import { MAX_THREADS } from '../src/wasm/init';

const constants = new Map<string, number>();
for (const file of ['memory', 'activations', 'tasks', 'pool']) {
  const text = readFileSync(new URL(`../assembly/${file}.ts`, import.meta.url), 'utf8');
  for (const m of text.matchAll(/^export const (\w+): i32 = (-?\d+);/gm)) constants.set(m[1]!, Number(m[2]));
}
const constant = (name: string): number => {
  const v = constants.get(name);
  if (v === undefined) throw new Error(`assembly/ declares no constant ${name}`);
  return v;
};

describe('codes shared with the module by hand', () => {
  it('layer types: src/layers.ts codes are assembly/memory.ts T_*', () => {
    const types: LayerType[] = ['nac', 'nacMul', 'nalu', 'dense', 'nau', 'nmu', 'inalu', 'npu', 'realNpu'];
    for (const t of types) expect([t, layerKind(t).code]).toEqual([t, constant(`T_${t.toUpperCase()}`)]);
    expect([...constants.keys()].filter((k) => k.startsWith('T_')).length).toBe(types.length);
  });

  it('NALU flags: separate weights and the gate bias are F_SEPARATE and F_GATE_BIAS', () => {
    const flags = (o: object) => { const s = nalu({ inputs: 2, outputs: 1, ...o }); return layerKind('nalu').flags(s); };
    expect(flags({})).toBe(0);
    expect(flags({ sharedWeights: false })).toBe(constant('F_SEPARATE'));
    expect(flags({ gateBias: true })).toBe(constant('F_GATE_BIAS'));
    expect(constant('F_LOG_READY') & (constant('F_SEPARATE') | constant('F_GATE_BIAS'))).toBe(0);
  });

  it('dense activations: ACTIVATIONS[i] is ACT_* = i', () => {
    ACTIVATIONS.forEach((a, i) => expect([a, i]).toEqual([a, constant(`ACT_${a.toUpperCase()}`)]));
  });

  it('tasks: OPS[i] is OP_* = i; the static and identity records carry TASK_STATIC and TASK_IDENTITY', () => {
    OPS.forEach((op, i) => expect([op, i]).toEqual([op, constant(`OP_${op.toUpperCase()}`)]));
    const task = staticTask({ op: 'sqrt', seed: 0 });
    expect(task.config.op).toBe(constant('OP_SQRT'));
    expect(task.config.kind).toBe(constant('TASK_STATIC'));
    expect(identityTask().config.kind).toBe(constant('TASK_IDENTITY'));
  });

  it('threads: init accepts at most POOL_MAX', () => {
    expect(MAX_THREADS).toBe(constant('POOL_MAX'));
  });
});
