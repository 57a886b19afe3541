// The float64 reference: import from here (or from ./layers, which re-exports the same API).
export * from './types';
export * from './activations';
export * from './layers';
export type { RefAdamState } from './optim';
