// Madsen & Johansen 2020 ("Neural Arithmetic Units", ICLR), static arithmetic task with
// extrapolation on U[2, 6]: the success rates this project's reproductions are set against, as the
// CLI's reproduce table and the README's (scripts/readme.mjs) print them.

/** Success rate over the paper's 100 seeds and, where the paper gives one, its 95% interval. */
export type PaperRate = readonly [rate: number, lo?: number, hi?: number];

export const PAPER_SUCCESS: Readonly<Record<string, PaperRate>> = {
  'add/linear': [1], 'add/nac': [1], 'add/nau': [1], 'add/nalu': [0.14, 0.09, 0.22],
  'sub/nac': [1], 'sub/nau': [1],
  'mul/nmu': [0.98, 0.93, 0.99], 'mul/nacmul': [0.31, 0.23, 0.41], 'mul/nalu': [0, 0, 0.04],
  'div/linear': [0], 'div/nac': [0], 'div/nacmul': [0], 'div/nalu': [0], 'div/nau': [0], 'div/nmu': [0],
};

const percent = (v: number): string => `${Math.round(100 * v)}%`;

/** "14% [9%, 22%]"; the rate alone without an interval. */
export function rateText(rate: number, lo?: number, hi?: number): string {
  return lo === undefined || hi === undefined ? percent(rate) : `${percent(rate)} [${percent(lo)}, ${percent(hi)}]`;
}

/** The paper's rate for `op`/`model` as rateText writes it, "-" for a cell the paper does not report. */
export function paperRate(op: string, model: string): string {
  const r = PAPER_SUCCESS[`${op}/${model}`];
  return r ? rateText(...r) : '-';
}
