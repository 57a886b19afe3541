// What the demo trains: its tasks and its model table. Shared by the page (app.js) and the
// training worker (worker.js); both pass in the package's namespace (`import * as nalu`).
//
// The models follow the experiment table of the package (src/experiment.ts MODELS): two layers,
// `inputs -> hidden -> 1`, an MLP for each activation and one stack per arithmetic unit. When
// the package exports that table as `MODELS`, its unit entries are used as they are; otherwise
// the same table is rebuilt here from the layer factories the package exports, so units added
// later (nau, nmu, inalu, npu, realNpu) appear as soon as the package has them.

export const TASKS = [
  { id: 'identity', label: 'identity: y = a', inputs: 1 },
  { id: 'add', label: 'add: y = a + b', inputs: 2 },
  { id: 'sub', label: 'sub: y = a − b', inputs: 2 },
  { id: 'mul', label: 'mul: y = a × b', inputs: 2 },
  { id: 'div', label: 'div: y = a ÷ b', inputs: 2 },
  { id: 'square', label: 'square: y = a²', inputs: 2 },
  { id: 'sqrt', label: 'sqrt: y = √a', inputs: 2 },
];

/** Default ranges: Trask et al.'s identity figure, Madsen & Johansen's static task. */
export function taskDefaults(task) {
  return task === 'identity'
    ? { train: [-5, 5], test: [-20, 20], hidden: 8 }
    : { train: [1, 2], test: [2, 6], hidden: 2 };
}

/** Whether the target depends on b (the second input): the plot then fixes b. */
export const usesB = (task) => task === 'add' || task === 'sub' || task === 'mul' || task === 'div';

/** The truth in f64. */
export function truth(task, a, b) {
  switch (task) {
    case 'identity': return a;
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return a / b;
    case 'square': return a * a;
    case 'sqrt': return Math.sqrt(a);
    default: throw new Error(`unknown task ${task}`);
  }
}

/** The model the compare view puts beside the MLP: a NALU, or a NAC for add, sub and identity. */
export const compareUnit = (task) => (task === 'add' || task === 'sub' || task === 'identity' ? 'nac' : 'nalu');

const LABELS = {
  nac: 'NAC (NAC+ → NAC+)',
  nacmul: 'NAC* (NAC+ → NAC*)',
  nalu: 'NALU (NALU → NALU)',
  nau: 'NAU (NAU → NAU)',
  nmu: 'NMU (NAU → NMU)',
  inalu: 'iNALU (iNALU → iNALU)',
  npu: 'NPU (NPU → NAU)',
  realnpu: 'RealNPU (RealNPU → NAU)',
};

/** Short names for legends. */
export const SHORT = { mlp: 'MLP', nac: 'NAC', nacmul: 'NAC*', nalu: 'NALU', nau: 'NAU', nmu: 'NMU', inalu: 'iNALU', npu: 'NPU', realnpu: 'RealNPU' };

/**
 * The model table: [{ id, label, layers(inputs, hidden, activation), options }], the MLP first.
 * `options` are extra options of sequential() (an entry of the package's table may carry them).
 */
export function modelTable(nalu) {
  const activations = Array.isArray(nalu.ACTIVATIONS) ? [...nalu.ACTIVATIONS]
    : ['linear', 'relu', 'relu6', 'tanh', 'sigmoid', 'softsign', 'selu', 'elu'];
  const models = [{
    id: 'mlp',
    label: 'MLP (dense → dense)',
    layers: (i, h, activation) => [nalu.dense({ inputs: i, outputs: h, activation }), nalu.dense({ inputs: h, outputs: 1 })],
    options: {},
  }];
  const table = nalu.MODELS && typeof nalu.MODELS === 'object' ? nalu.MODELS : null;
  if (table) {
    for (const [id, entry] of Object.entries(table)) {
      if (activations.includes(id) || typeof entry?.layers !== 'function') continue;
      models.push({
        id,
        label: LABELS[id] ?? `${id} (${entry.description ?? id})`,
        layers: (i, h) => entry.layers(i, h),
        options: entry.options ?? entry.sequentialOptions ?? {},
      });
    }
    return { models, activations };
  }
  const has = (f) => typeof nalu[f] === 'function';
  const add = (id, first, second, options = {}) => {
    if (has(first) && has(second)) {
      models.push({
        id,
        label: LABELS[id],
        layers: (i, h) => [nalu[first]({ inputs: i, outputs: h }), nalu[second]({ inputs: h, outputs: 1 })],
        options,
      });
    }
  };
  add('nac', 'nac', 'nac');
  add('nacmul', 'nac', 'nacMul');
  add('nalu', 'nalu', 'nalu');
  // The regularisers of the experiment table (src/experiment.ts).
  add('nau', 'nau', 'nau', { regularizer: { lambda: 0.01, start: 5e3, end: 5e4 } });
  add('nmu', 'nau', 'nmu', { regularizer: { lambda: 10, start: 1e6, end: 2e6 } });
  add('inalu', 'inalu', 'inalu');
  add('npu', 'npu', 'nau');
  add('realnpu', 'realNpu', 'nau');
  return { models, activations };
}

/** n evenly spaced points from lo to hi. */
export function linspace(lo, hi, n) {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + ((hi - lo) * i) / (n - 1);
  return out;
}

/** The plotted range of a: the union of the training and test ranges. */
export const viewRange = (train, test) => [Math.min(train[0], test[0]), Math.max(train[1], test[1])];

/** Number of points of the prediction sweep. */
export const SWEEP_POINTS = 241;
