/**
 * The public surface shared by every entry point; each runtime's entry adds `init`, which
 * obtains the compiled module the way that runtime allows.
 */
export type { InitInfo, InitOptions, WasmSource } from './wasm/init.js';
export type { Backend } from './wasm/exports.js';
export { nac, nacMul, nalu, dense, nau, nmu, inalu, npu, realNpu, type LayerSpec, type LayerType, type InitScheme, type Activation, type UnitOptions } from './layers.js';
export { sequential, Model, StagedBatch, type SequentialOptions, type Regularizer, type ResolvedRegularizer, type Weights, type WeightsInput, type Numbers, type OptimizerState, type OptimizerStateInput } from './model.js';
export { adam, sgd, rmsprop, type Optimizer, type AdamOptions, type RmspropOptions } from './optim.js';
export type { FitOptions, FitOptionsWithValidation, FitEpoch, FitResult } from './fit.js';
export { NaluError, NonFiniteStepError } from './errors.js';
export { simdSupported } from './wasm/probe.js';
export { staticTask, StaticTask, OPS, type Op, type StaticTaskOptions, type ThresholdOptions } from './tasks/static.js';
export { identityTask, IdentityTask, type IdentityTaskOptions } from './tasks/identity.js';
export { Sampler, type Dataset } from './tasks/sampler.js';
export { type SaveOptions, type ModelJSON, type JsonTensor, type JsonOptions, type OptionValue } from './serialize.js';
export { load, fromJSON } from './restore.js';
export { MODELS, type ModelEntry, type ModelName } from './experiment.js';
export { ACTIVATIONS } from './layers.js';
