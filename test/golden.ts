// Loader of the golden cases in ../shared/golden/ (PyTorch autograd; see its README.md), mapped to
// the API's names. Every test that checks numbers against PyTorch goes through here.
//
// Mapping from the files' names:
//   layer type 'nac_mul'         -> 'nacMul' (the other types keep their names)
//   option 'shared'              -> sharedWeights; for nalu absent means true (the paper's tied
//                                   weights); left undefined for the other layer types
//   option 'eps'                 -> eps; for nacMul and nalu absent means 1e-7; left undefined for
//                                   layers without a log path
//   option 'activation'          -> activation; for dense absent means 'linear' (the last layer of
//                                   the MLP case has none)
//   expected.grads               -> expected.grads, one Record per layer, by parameter name
//   train.{lr, steps, losses, final_params}
//                                -> train.{lr, steps, losses, finalParams}; losses[s] is the loss
//                                   before Adam step s (so losses[0] is the float32 twin of
//                                   expected.loss), finalParams the parameters after the last step.
//                                   The training ran in float32 with torch.optim.Adam defaults.
// Each layer's params keep the file's order, which is ../shared/DESIGN.md section 1's order.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Activation, LayerType } from './reference/types';

export type { Activation, LayerType } from './reference/types';

export interface GoldenLayer {
  type: LayerType;
  inputs: number;
  outputs: number;
  eps?: number;
  sharedWeights?: boolean;
  activation?: Activation;
  params: Record<string, number[]>;
}

export interface GoldenCase {
  file: string;
  name: string;
  layers: GoldenLayer[];
  batch: number;
  x: number[];
  target: number[];
  expected: { y: number[]; loss: number; grads: Record<string, number[]>[] };
  train?: { lr: number; steps: number; losses: number[]; finalParams: Record<string, number[]>[] };
}

export type GoldenFile = 'core' | 'dense' | 'units';

/** shared/golden/ beside the repository, or under NALU_SHARED_DIR when it is set (see .ci/run). */
export const GOLDEN_DIR = process.env.NALU_SHARED_DIR
  ? pathToFileURL(join(process.env.NALU_SHARED_DIR, 'golden/'))
  : new URL('../../shared/golden/', import.meta.url);

const TYPES: Record<string, LayerType> = {
  nac: 'nac',
  nac_mul: 'nacMul',
  nalu: 'nalu',
  dense: 'dense',
  nau: 'nau',
  nmu: 'nmu',
};

const ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'relu6', 'tanh', 'sigmoid', 'softsign', 'selu', 'elu'];

const cache = new Map<GoldenFile, GoldenCase[]>();

/** The cases of `<file>-torch.json`. Returns fresh copies, so a test may mutate what it gets. */
export function loadGolden(file: GoldenFile): GoldenCase[] {
  let cases = cache.get(file);
  if (!cases) {
    cases = parseFile(file);
    cache.set(file, cases);
  }
  return structuredClone(cases);
}

function parseFile(file: GoldenFile): GoldenCase[] {
  const fileName = `${file}-torch.json`;
  const url = new URL(fileName, GOLDEN_DIR);
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch (e) {
    throw new Error(
      `golden file ${fileURLToPath(url)} not found: the repository is expected next to a shared/ folder ` +
        `holding golden/, or NALU_SHARED_DIR naming that folder (${(e as Error).message})`,
    );
  }
  const json = JSON.parse(text) as { cases?: unknown[] };
  if (!Array.isArray(json.cases)) throw new Error(`${fileName}: no "cases" array`);
  return json.cases.map((c, i) => parseCase(fileName, c as RawCase, i));
}

interface RawLayer {
  type: string;
  inputs: number;
  outputs: number;
  eps?: number;
  shared?: boolean;
  activation?: string;
  params: Record<string, number[]>;
}

interface RawCase {
  name: string;
  layers: RawLayer[];
  batch: number;
  x: number[];
  target: number[];
  expected: { y: number[]; loss: number; grads: Record<string, number[]>[] };
  train?: { lr: number; steps: number; optimizer?: string; losses: number[]; final_params: Record<string, number[]>[] };
}

function parseCase(file: string, c: RawCase, index: number): GoldenCase {
  const where = `${file} case ${index} (${c.name})`;
  const fail = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  const layers = c.layers.map((l, k) => parseLayer(l, `${where} layer ${k}`));
  const batch = c.batch;
  const first = layers[0];
  const last = layers[layers.length - 1];
  if (!first) fail('no layers');
  for (let k = 1; k < layers.length; k++) {
    if (layers[k].inputs !== layers[k - 1].outputs) fail(`layer ${k} inputs != layer ${k - 1} outputs`);
  }
  if (c.x.length !== batch * first.inputs) fail(`x has ${c.x.length} values, expected ${batch * first.inputs}`);
  if (c.target.length !== batch * last.outputs) fail(`target has ${c.target.length} values`);
  if (c.expected.y.length !== batch * last.outputs) fail(`expected.y has ${c.expected.y.length} values`);
  if (c.expected.grads.length !== layers.length) fail('expected.grads is not one entry per layer');
  c.expected.grads.forEach((g, k) => checkNamesAndSizes(g, layers[k], `${where} expected.grads[${k}]`));

  const out: GoldenCase = {
    file,
    name: c.name,
    layers,
    batch,
    x: c.x,
    target: c.target,
    expected: { y: c.expected.y, loss: c.expected.loss, grads: c.expected.grads },
  };
  if (c.train) {
    const t = c.train;
    if (t.optimizer !== undefined && t.optimizer !== 'adam') fail(`optimizer ${t.optimizer} not supported`);
    if (t.losses.length !== t.steps) fail(`train.losses has ${t.losses.length} values for ${t.steps} steps`);
    if (t.final_params.length !== layers.length) fail('train.final_params is not one entry per layer');
    t.final_params.forEach((g, k) => checkNamesAndSizes(g, layers[k], `${where} train.final_params[${k}]`));
    out.train = { lr: t.lr, steps: t.steps, losses: t.losses, finalParams: t.final_params };
  }
  return out;
}

function parseLayer(l: RawLayer, where: string): GoldenLayer {
  const type = TYPES[l.type];
  if (!type) throw new Error(`${where}: unknown layer type ${l.type}`);
  const layer: GoldenLayer = { type, inputs: l.inputs, outputs: l.outputs, params: l.params };
  if (type === 'nacMul' || type === 'nalu') layer.eps = l.eps ?? 1e-7;
  else if (l.eps !== undefined) layer.eps = l.eps;
  if (type === 'nalu') layer.sharedWeights = l.shared ?? true;
  else if (l.shared !== undefined) layer.sharedWeights = l.shared;
  if (type === 'dense') {
    const act = (l.activation ?? 'linear') as Activation;
    if (!ACTIVATIONS.includes(act)) throw new Error(`${where}: unknown activation ${l.activation}`);
    layer.activation = act;
  } else if (l.activation !== undefined) {
    throw new Error(`${where}: activation on a ${l.type} layer`);
  }
  checkNamesAndSizes(l.params, layer, `${where} params`);
  return layer;
}

function expectedNames(layer: GoldenLayer): string[] {
  switch (layer.type) {
    case 'nac':
    case 'nacMul':
      return ['W_hat', 'M_hat'];
    case 'nalu':
      return layer.sharedWeights === false ? ['W_hat', 'M_hat', 'W_hat_mul', 'M_hat_mul', 'G'] : ['W_hat', 'M_hat', 'G'];
    case 'nau':
    case 'nmu':
      return ['W'];
    case 'dense':
      return ['W', 'b'];
  }
}

function checkNamesAndSizes(p: Record<string, number[]>, layer: GoldenLayer, where: string): void {
  const want = expectedNames(layer);
  const got = Object.keys(p);
  if (got.length !== want.length || !want.every((n) => n in p)) {
    throw new Error(`${where}: parameters ${got.join(',')}, expected ${want.join(',')}`);
  }
  for (const n of want) {
    const size = layer.type === 'dense' && n === 'b' ? layer.outputs : layer.inputs * layer.outputs;
    if (p[n].length !== size) throw new Error(`${where}: ${n} has ${p[n].length} values, expected ${size}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers the tests share
// ---------------------------------------------------------------------------------------------

/** Parameters of each layer as Float64Array (or Float32Array with `Float32Array`), by name. */
export function goldenParams<T extends Float64Array | Float32Array = Float64Array>(
  sets: Record<string, number[]>[],
  ctor: { from(a: ArrayLike<number>): T } = Float64Array as unknown as { from(a: ArrayLike<number>): T },
): Record<string, T>[] {
  return sets.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, ctor.from(v)])));
}

/** max_j |a_j - e_j| / |e_j| (elementwise relative; an expected 0 needs an exact 0). */
export function maxRelErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let worst = 0;
  for (let j = 0; j < expected.length; j++) {
    const d = Math.abs(actual[j] - expected[j]);
    if (d === 0) continue;
    worst = Math.max(worst, d / Math.abs(expected[j]));
  }
  return worst;
}

/** max_j |a_j - e_j| / max_j |e_j| (relative to the tensor's largest magnitude; all-zero needs exact). */
export function maxErrRelToMax(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let scale = 0;
  let diff = 0;
  for (let j = 0; j < expected.length; j++) {
    scale = Math.max(scale, Math.abs(expected[j]));
    diff = Math.max(diff, Math.abs(actual[j] - expected[j]));
  }
  if (diff === 0) return 0;
  return scale === 0 ? Infinity : diff / scale;
}
