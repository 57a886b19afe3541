// Type-level checks of the published declarations (dist/index.d.ts), compiled by `npm run
// typecheck` after the build with a consumer's strictest settings, once with the DOM lib
// (tsconfig.types.json) and once with Node's types only (tsconfig.types-node.json): every line
// below a @ts-expect-error must be a type error, every other line must compile.
import {
  adam, fromJSON, identityTask, init, MODELS, nac, NaluError, nau, NonFiniteStepError, Sampler, sequential, StagedBatch, staticTask, type Backend,
  type FitEpoch, type FitOptions, type FitOptionsWithValidation, type FitResult, type IdentityTaskOptions, type ModelEntry, type Numbers, type UnitOptions, type WeightsInput,
} from '../dist/index.js';

await init({ threads: undefined, wasm: undefined });
const model = sequential([nac({ inputs: 2, outputs: 1, init: undefined })], { seed: undefined });
const backend: Backend = model.backend;

// the inputs the run time accepts, and no others
const inputs: Numbers[] = [[1, 2], [1, 2] as const, new Float32Array(2), new Float64Array(2)];
for (const x of inputs) model.predict(x);
// @ts-expect-error: an Int32Array is refused at run time ("must be a Float32Array (or Float64Array or number[])")
model.predict(new Int32Array(2));
// @ts-expect-error: so is any other array-like object
model.predict({ length: 2, 0: 1, 1: 2 });

// what predict and getWeights return lives on a plain ArrayBuffer (a Blob part, a digest's input,
// transferable); predict into `out` returns out's own type
const predicted: Float32Array<ArrayBuffer> = model.predict([1, 2]);
const weightsOut: Float32Array<ArrayBuffer> | undefined = model.getWeights()[0]?.W_hat;
const shared = new Float32Array(new SharedArrayBuffer(4));
const into: Float32Array<SharedArrayBuffer> = model.predict([1, 2], 1, shared);
const testX: Float32Array<ArrayBuffer> = staticTask({ op: 'add' }).testSet(4).x;
// an optional out goes through as it is
const maybeInto = (out?: Float32Array): Float32Array => model.predict([1, 2], undefined, out);
void [predicted, weightsOut, into, testX, maybeInto];

// setWeights takes what predict takes, per parameter; getWeights' result goes back in
const weights: WeightsInput = [{ W_hat: [1, -1], M_hat: new Float64Array([5, 5]) }];
model.setWeights(weights);
model.setWeights(model.getWeights());

// fit: its options and what it returns and reports
const fitted: FitResult = model.fit([1, 2, 3, 4], [3, 7], {
  epochs: 2, batchSize: undefined, validation: { x: [1, 2], target: [3] }, patience: 1,
  onEpoch: (e: FitEpoch) => e.validationLoss === undefined || e.validationLoss > 0,
});
const bestEpoch: number | undefined = fitted.bestEpoch;
// with a validation set, onEpoch is told its error (a number); without one it may be undefined
model.fit([1, 2], [3], { validation: { x: [1, 2], target: [3] }, onEpoch: ({ validationLoss }) => validationLoss > 0 });
// @ts-expect-error: validationLoss is possibly undefined without a validation set
model.fit([1, 2], [3], { onEpoch: ({ validationLoss }) => validationLoss > 0 });
// options of either kind, as a union, are taken too
const either = (options: FitOptions | FitOptionsWithValidation): FitResult => model.fit([1, 2], [3], options);
void either;
// @ts-expect-error: onEpoch is told, it is not a number
model.fit([1, 2], [3], { onEpoch: 3 });

// a refused training step is a NaluError a loop can single out
try {
  model.trainStep([1, 2], [3], adam());
} catch (err) {
  if (!(err instanceof NonFiniteStepError)) throw err;
  const asNalu: NaluError = err;
  void asNalu;
}

// the package's internal members are not declared
const staged = model.stageBatch([1, 2], [3]);
// @ts-expect-error: internal
staged.ptr;
// @ts-expect-error: internal
model.releaseBatch(staged, 0);
// @ts-expect-error: internal
model.restoreWeights('load', weights);
const sampler = staticTask({ op: 'add', seed: undefined, interpolation: [1, 2] as const }).trainSampler();
// @ts-expect-error: internal
sampler.engine;
// @ts-expect-error: internal
sampler.ptr;

// samplers and staged batches come from tasks and models; their constructors are not public
// @ts-expect-error: private constructor
void new Sampler();
// @ts-expect-error: private constructor
void new StagedBatch();

// an optimizer state through JSON (moments as arrays) goes back in; toJSON's argument is options
const state = model.optimizerState();
if (state) model.restoreOptimizer({ ...state, m: [{ W_hat: [0, 0], M_hat: [0, 0] }], v: [{ W_hat: [0, 0], M_hat: [0, 0] }] });
fromJSON({ ...model.toJSON({ optimizer: false }), optimizer: undefined });
// a model imported as a JSON module: TypeScript infers format: string, number[] tensors
const imported = { format: 'nalu-wasm' as string, version: 1, options: {}, layers: [{ type: 'nau', inputs: 2, outputs: 1, options: {}, params: { W: [1, 1] } }] };
fromJSON(imported);
// @ts-expect-error: neither an object nor text
fromJSON(42);
// @ts-expect-error: the binary form is load's
fromJSON(model.save());
// @ts-expect-error: the string form is JSON.stringify's key, not an option
model.toJSON('optimizer');

// saved bytes go to the platform's binary sinks as they are (their buffer is an ArrayBuffer)
const saved: Uint8Array<ArrayBuffer> = model.save();
void new Blob([saved]);
void new Response(saved);
void crypto.subtle.digest('SHA-256', saved);

// the experiment models by name, each name known to the types
const nmuModel: ModelEntry = MODELS.nmu;
sequential(nmuModel.layers(100, 2), nmuModel.options);
// @ts-expect-error: no such model
void MODELS.lstm;

// options: readonly ranges, undefined for "the default"; an op is required
const identity: IdentityTaskOptions = { train: [1, 3] as const, test: undefined };
identityTask(identity);
// @ts-expect-error: op is required
staticTask({ seed: 1 });
staticTask({ op: 'add' }).threshold({ eps: undefined, samples: undefined, paperSubsets: undefined });
adam({ learningRate: undefined, clipValue: undefined });
const sizes: UnitOptions = { inputs: 2, outputs: 1 };
sequential([nau(sizes)], { regularizer: { lambda: 1, start: undefined } });

export { backend };
