/**
 * load(bytes) and fromJSON(json): a model rebuilt from its saved form (decoded and checked by
 * serialize.ts). What the saved content implies is validated before the model is made; its
 * weights and optimizer state are checked as setWeights and restoreOptimizer check them, and a
 * model they fail is disposed: a failed load leaves nothing behind.
 */
import { checkBool, describe, fail, prefixed } from './errors.js';
import { layerFromSpec, layerKind, type LayerSpec } from './layers.js';
import { checkRegularizer, Model, type WeightsInput } from './model.js';
import { optimizerFromSettings, type Optimizer } from './optim.js';
import { currentEngine } from './wasm/init.js';
import { decodeJSON, decodeModel, unflatten, type ModelJSON, type SavedModel, type SavedOptimizer } from './serialize.js';

/** Recreates the optimizer `o` describes and checks that it has exactly the saved settings. */
function optimizerOf(o: SavedOptimizer): Optimizer {
  const settings: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [key, value] of o.settings) {
    if (key in settings) fail(`the setting ${key} appears twice`);
    settings[key] = value;
  }
  const made = optimizerFromSettings(o.kind, settings);
  if (!Number.isSafeInteger(o.step) || o.step < 0) fail(`step must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${describe(o.step)}`);
  return made;
}

/**
 * Builds the model `saved` describes; validates everything it can before creating the model,
 * and disposes a model that fails afterwards.
 */
function build(what: string, saved: SavedModel): Model {
  const specs: LayerSpec[] = [];
  const weights: Record<string, Float32Array>[] = [];
  let count = 0;
  saved.layers.forEach((l, k) => {
    const options = unflatten(what, `layer ${k} (${l.type})`, l.options);
    for (const key of ['type', 'inputs', 'outputs']) {
      // layerFromSpec would let options override inputs and outputs: refuse them here.
      if (key in options) fail(`${what}: layer ${k} (${l.type}) has an option named ${key}`);
    }
    let spec: LayerSpec;
    try {
      spec = layerFromSpec({ type: l.type, inputs: l.inputs, outputs: l.outputs, options });
    } catch (err) {
      prefixed(`${what}: layer ${k}`, err);
    }
    if (k > 0 && spec.inputs !== specs[k - 1]!.outputs) {
      fail(`${what}: layer ${k} (${spec.type}) has ${spec.inputs} inputs but layer ${k - 1} has ${specs[k - 1]!.outputs} outputs`);
    }
    const expected = layerKind(spec.type).params(spec);
    const rec: Record<string, Float32Array> = {};
    for (const [name, values] of l.params) {
      const p = expected.find((e) => e.name === name);
      if (!p) {
        fail(`${what}: layer ${k} (${spec.type}) has no parameter ${describe(name)} (it has ${expected.map((e) => e.name).join(', ')})`);
      }
      if (rec[name]) fail(`${what}: ${name} of layer ${k} (${spec.type}) appears twice`);
      if (values.length !== p.rows * p.cols) {
        fail(`${what}: ${name} of layer ${k} (${spec.type}) has ${values.length} values, expected ${p.rows} x ${p.cols} = ${p.rows * p.cols}`);
      }
      rec[name] = values;
    }
    for (const p of expected) {
      if (!rec[p.name]) fail(`${what}: ${p.name} of layer ${k} (${spec.type}) is missing`);
    }
    count += expected.length;
    specs.push(spec);
    weights.push(rec);
  });

  let optimizer: Optimizer | undefined;
  let m: WeightsInput | undefined;
  let v: WeightsInput | undefined;
  const o = saved.optimizer;
  if (o) {
    try {
      optimizer = optimizerOf(o);
    } catch (err) {
      prefixed(`${what}: optimizer`, err);
    }
    // The moments follow the order of the saved tensors (checked above to name each once).
    const regroup = (name: string, flat: Float32Array[]): WeightsInput => {
      if (flat.length !== count) fail(`${what}: the optimizer's ${name} holds ${flat.length} tensors, the layers have ${count}`);
      let i = 0;
      return saved.layers.map((l, k) => Object.fromEntries(l.params.map(([n, p]) => {
        const a = flat[i++]!;
        if (a.length !== p.length) fail(`${what}: the optimizer's ${name} of ${n} of layer ${k} (${l.type}) has ${a.length} values, expected ${p.length}`);
        return [n, a];
      })));
    };
    m = regroup('m', o.m);
    v = regroup('v', o.v);
  }

  const modelOptions = unflatten(what, 'the model', saved.options);
  // sequential() takes seed and init too, which a saved model does not hold (its parameters are saved)
  for (const key of Object.keys(modelOptions)) {
    if (key !== 'allowNonFinite' && key !== 'regularizer') {
      fail(`${what}: the model has an option named ${describe(key)}; a saved model's options are allowNonFinite and regularizer`);
    }
  }
  // checked here too, so that the message names the saved option rather than sequential()'s
  checkBool(`${what}: allowNonFinite`, modelOptions.allowNonFinite);
  checkRegularizer(what, modelOptions.regularizer);
  currentEngine(what);
  let model: Model;
  try {
    model = new Model(specs, modelOptions);
  } catch (err) {
    prefixed(what, err);
  }
  try {
    model.restoreWeights(what, weights);
    if (optimizer) model.restoreOptimizerAs(what, { optimizer, step: o!.step, m: m!, v: v! });
  } catch (err) {
    model.dispose();
    prefixed(what, err);
  }
  return model;
}

/**
 * A model from the bytes `model.save()` returned, in a Uint8Array or a whole ArrayBuffer (as
 * fetch's response.arrayBuffer() gives them). With `{ optimizer: true }` at saving, the
 * model's `optimizer` is the saved optimizer, its moments and step count restored: pass
 * `model.optimizer` to trainStep to continue training exactly.
 */
export function load(bytes: Uint8Array | ArrayBuffer): Model {
  return build('load', decodeModel('load', bytes));
}

/**
 * A model from model.toJSON()'s object, its JSON text, or that text parsed elsewhere (an imported
 * .json module, whose inferred type says `format: string`): every field is checked at run time.
 */
export function fromJSON(json: ModelJSON | string | { readonly [key: string]: unknown }): Model {
  return build('fromJSON', decodeJSON('fromJSON', json));
}
