// Shared types of the float64 reference (test/reference/) and the golden loader (test/golden.ts).
// They mirror the API's names (../shared/DESIGN.md section 1); the reference does not import src/ so
// that it stays an independent check of it.

export type LayerType = 'nac' | 'nacMul' | 'nalu' | 'dense' | 'nau' | 'nmu';

export type Activation =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'tanh'
  | 'sigmoid'
  | 'softsign'
  | 'selu'
  | 'elu';

/** Parameters of one layer by name, each row-major: weights [inputs, outputs], dense `b` [outputs]. */
export type Params = Record<string, Float64Array>;

export interface RefLayer {
  type: LayerType;
  inputs: number;
  outputs: number;
  /** eps of the log path (nacMul, nalu); default 1e-7. */
  eps?: number;
  /** nalu only: true (default, the paper) ties the additive and multiplicative weights. */
  sharedWeights?: boolean;
  /** dense only; default 'linear'. */
  activation?: Activation;
}

export const DEFAULT_EPS = 1e-7;
