// Madsen & Johansen 2020 ("Neural Arithmetic Units", ICLR), the static arithmetic task with
// extrapolation on U[2, 6]: the figures this project's reproductions are set against, from their
// Table 1 and its appendix extension to every op and model (100 seeds per cell), and from the
// per-seed results their repository keeps (paper/results/sft-last.csv in AndreasMadsen/stable-nalu).
// The CLI's reproduce table and the README's (scripts/readme.mjs) print them.
//
// Sparsity: the per-seed measure is this package's (sparsityError), but the paper's table does not
// report its mean. It reports the mu of a Beta(2 mu v, (1 - 2 mu) v) fitted by maximum likelihood
// to the successes' values (export/_compute_summary.r), a distribution whose mean is 2 mu: about
// half the seeds' mean (NAC+ on addition: 0.227 in the table, 0.454 the mean of its 100 seeds), and
// neither half nor the mean for a two-peaked sample (NAU on subtraction: 0.066; 60 seeds near 1e-6,
// 39 near 0.5). So `sparsity` below is the median of the per-seed values, which compares with ours.

export interface PaperCell {
  /** success rate and its 95% interval */
  rate: number;
  lo: number;
  hi: number;
  /** median iteration at which the successful seeds were solved */
  solvedAt?: number;
  /** median sparsity error of the successful seeds */
  sparsity?: number;
}

/** The models of their table, in this project's names (nac: NAC+, nacmul: NAC*). */
export const PAPER_MODELS: readonly string[] = Object.freeze(['linear', 'relu', 'relu6', 'nac', 'nacmul', 'nalu', 'nau', 'nmu']);

/** No seed of 100 solved the cell: 0% [0%, 4%]. */
const NONE: PaperCell = { rate: 0, lo: 0, hi: 0.04 };
const ALL = (solvedAt: number, sparsity: number): PaperCell => ({ rate: 1, lo: 0.96, hi: 1, solvedAt, sparsity });

/** By `op/model`, for every op and every model of PAPER_MODELS. */
export const PAPER: Readonly<Record<string, PaperCell>> = {
  'mul/nacmul': { rate: 0.31, lo: 0.23, hi: 0.41, solvedAt: 2.8e6, sparsity: 1.40e-4 }, 'mul/nmu': { rate: 0.98, lo: 0.93, hi: 0.99, solvedAt: 1.4e6, sparsity: 4.03e-7 },
  'mul/nac': NONE, 'mul/linear': NONE, 'mul/nalu': NONE, 'mul/nau': NONE, 'mul/relu': NONE, 'mul/relu6': NONE,
  'div/nacmul': NONE, 'div/nmu': NONE, 'div/nac': NONE, 'div/linear': NONE, 'div/nalu': NONE, 'div/nau': NONE, 'div/relu': NONE, 'div/relu6': NONE,
  'add/nac': ALL(2.5e5, 0.490), 'add/linear': ALL(6.1e4, 0.499), 'add/nau': ALL(1.8e4, 5.94e-7), 'add/nalu': { rate: 0.14, lo: 0.09, hi: 0.22, solvedAt: 1.5e6, sparsity: 0.349 },
  'add/relu': { rate: 0.62, lo: 0.52, hi: 0.71, solvedAt: 6.2e4, sparsity: 0.577 }, 'add/nacmul': NONE, 'add/nmu': NONE, 'add/relu6': NONE,
  'sub/nac': ALL(9.0e3, 0.493), 'sub/nau': ALL(5.0e3, 1.28e-6), 'sub/linear': { rate: 0.07, lo: 0.03, hi: 0.14, solvedAt: 3.3e6, sparsity: 0.386 },
  'sub/nalu': { rate: 0.14, lo: 0.09, hi: 0.22, solvedAt: 1.9e6, sparsity: 0.451 }, 'sub/nmu': { rate: 0.56, lo: 0.46, hi: 0.65, solvedAt: 1.0e6, sparsity: 6.32e-4 },
  'sub/nacmul': NONE, 'sub/relu': NONE, 'sub/relu6': NONE,
  'sqrt/nacmul': { rate: 0.07, lo: 0.03, hi: 0.14, solvedAt: 4.0e5, sparsity: 0.499 }, 'sqrt/nalu': { rate: 0.02, lo: 0.01, hi: 0.07, solvedAt: 2.6e6, sparsity: 0.500 },
  'sqrt/nac': NONE, 'sqrt/linear': NONE, 'sqrt/nau': NONE, 'sqrt/nmu': NONE, 'sqrt/relu': NONE, 'sqrt/relu6': NONE,
  'square/nmu': ALL(1.2e6, 4.14e-7), 'square/nacmul': { rate: 0.77, lo: 0.68, hi: 0.84, solvedAt: 3.3e6, sparsity: 3.58e-2 },
  'square/nac': NONE, 'square/linear': NONE, 'square/nalu': NONE, 'square/nau': NONE, 'square/relu': NONE, 'square/relu6': NONE,
};

const percent = (v: number): string => `${Math.round(100 * v)}%`;

/**
 * The median of `values` (the mean of the middle two for an even count), or each value when there
 * are 3 or fewer; "-" for none. As the tables of the paper's figures show them.
 */
export function middle(values: readonly number[], show: (v: number) => string = String): string {
  if (!values.length) return '-';
  const v = [...values].sort((a, b) => a - b);
  if (v.length <= 3) return v.map(show).join(', ');
  const h = v.length >> 1;
  return show(v.length % 2 ? v[h]! : (v[h - 1]! + v[h]!) / 2);
}

/** "14% [9%, 22%]". */
export function rateText(rate: number, lo: number, hi: number): string {
  return `${percent(rate)} [${percent(lo)}, ${percent(hi)}]`;
}

/** The paper's success rate for `op`/`model` as rateText writes it, "-" for a cell it does not report. */
export function paperRate(op: string, model: string): string {
  const c = PAPER[`${op}/${model}`];
  return c ? rateText(c.rate, c.lo, c.hi) : '-';
}

/** The paper's median "solved at" iteration for `op`/`model`, such as "1.5e6"; "-" when none. */
export function paperSolvedAt(op: string, model: string): string {
  const at = PAPER[`${op}/${model}`]?.solvedAt;
  return at === undefined ? '-' : at.toExponential(1).replace('e+', 'e');
}

/** The paper's median sparsity error of the successes of `op`/`model`, such as "4.9e-1"; "-" when none. */
export function paperSparsity(op: string, model: string): string {
  const v = PAPER[`${op}/${model}`]?.sparsity;
  return v === undefined ? '-' : v.toExponential(1);
}
