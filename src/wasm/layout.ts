import { fail } from '../errors.js';
import type { NaluExports } from './exports.js';

/**
 * The descriptor layout of assembly/memory.ts, read from the module's exported constants so
 * that the two sides cannot drift apart.
 */
const NAMES = [
  'H_NLAYERS', 'H_NPARAM', 'H_PARAMS', 'H_GRADS', 'H_MOM1', 'H_MOM2', 'H_XROW', 'H_TROW', 'H_YROW',
  'H_X', 'H_T', 'H_DY', 'H_WVALID', 'H_STATUS', 'H_STATUS_ARG', 'H_OPTIONS', 'H_LAMBDA', 'H_CLIP', 'H_WORDS',
  'L_TYPE', 'L_IN', 'L_OUT', 'L_FLAGS', 'L_EPS', 'L_ACT', 'L_OMEGA', 'L_X', 'L_Y', 'L_DX', 'L_DY', 'L_E', 'L_EM',
  'L_LOG', 'L_A', 'L_M', 'L_T', 'L_T2', 'L_T3', 'L_DE', 'L_DEM', 'L_TMP', 'L_WC', 'L_WCM', 'L_P', 'L_G', 'L_WORDS',
  'S_OK', 'S_X_NONFINITE', 'S_T_NONFINITE', 'S_LOSS_NONFINITE', 'S_GRAD_NONFINITE', 'S_THREAD_FAILED', 'S_UPDATE_NONFINITE',
  'O_ALLOW_NONFINITE', 'OPT_SGD', 'OPT_ADAM', 'OPT_RMSPROP', 'POOL_BYTES', 'FEATURES',
] as const;

export type Layout = Record<(typeof NAMES)[number], number>;

/**
 * n rounded up to a multiple of 4 (assembly/memory.ts round4): a region's length in floats, and ld
 * for a batch. In f64: a region sized for a huge batch may exceed 2^31 floats before it is refused.
 */
export const round4 = (n: number): number => Math.ceil(n / 4) * 4;

export function readLayout(ex: NaluExports): Layout {
  const out = {} as Layout;
  const globals = ex as unknown as Record<string, WebAssembly.Global | undefined>;
  for (const name of NAMES) {
    const g = globals[name];
    if (!g || typeof g.value !== 'number') fail(`init: the module is not a build of nalu-wasm: it does not export ${name}`);
    out[name] = g.value;
  }
  return Object.freeze(out);
}
