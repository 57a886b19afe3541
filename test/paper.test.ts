import { describe, expect, it } from 'vitest';
import { MODELS } from '../src/experiment';
import { PAPER, PAPER_MODELS, paperRate, paperSolvedAt, paperSparsity, rateText } from '../src/paper';
import { OPS } from '../src/tasks/static';

describe("Madsen & Johansen's figures (src/paper.ts)", () => {
  it('name only ops and models this package runs, with the rate inside its interval', () => {
    for (const [key, c] of Object.entries(PAPER)) {
      const [op, model] = key.split('/');
      expect(OPS, key).toContain(op);
      expect(Object.keys(MODELS), key).toContain(model);
      expect(c.lo, key).toBeLessThanOrEqual(c.rate);
      expect(c.rate, key).toBeLessThanOrEqual(c.hi);
      // a median "solved at" and sparsity error exist exactly when some seed succeeded
      expect(c.solvedAt !== undefined, key).toBe(c.rate > 0);
      expect(c.sparsity !== undefined, key).toBe(c.rate > 0);
    }
  });

  it('cover every op for the models of their table, and only those', () => {
    expect(Object.keys(PAPER).length).toBe(OPS.length * PAPER_MODELS.length);
    for (const op of OPS) {
      for (const model of PAPER_MODELS) expect(PAPER, `${op}/${model}`).toHaveProperty([`${op}/${model}`]);
    }
  });

  it('print as the tables show them', () => {
    expect(paperRate('add', 'nalu')).toBe('14% [9%, 22%]');
    expect(paperRate('div', 'nau')).toBe('0% [0%, 4%]');
    expect(paperRate('add', 'inalu')).toBe('-');
    expect(paperSolvedAt('sub', 'nau')).toBe('5.0e3');
    expect(paperSolvedAt('mul', 'nalu')).toBe('-');
    expect(paperSparsity('sub', 'nmu')).toBe('6.3e-4');
    expect(paperSparsity('div', 'nmu')).toBe('-');
    expect(rateText(0.2, 0.0567, 0.5098)).toBe('20% [6%, 51%]');
  });
});
