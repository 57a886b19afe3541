import type { IdentityCurve } from './experiment.js';
import { IDENTITY_TRAIN } from './tasks/identity.js';

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#17becf', '#bcbd22'];

const escape = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The identity figure as a standalone SVG: the mean absolute error of each model over the
 * test range on a log scale, with the training range shaded (Trask et al.'s figure 1).
 */
export function identityFigure(curves: IdentityCurve[], title = `Identity f(x) = x: mean absolute error, trained on [${IDENTITY_TRAIN.join(', ')}]`): string {
  const [t0, t1] = IDENTITY_TRAIN;
  const W = 720, H = 420, left = 64, right = 150, top = 40, bottom = 48;
  const pw = W - left - right, ph = H - top - bottom;
  const xs = curves[0]?.x ?? [];
  const [x0, x1] = [xs[0] ?? -20, xs[xs.length - 1] ?? 20];
  const floor = 1e-4;
  const all = curves.flatMap((c) => c.absError).filter((v) => Number.isFinite(v));
  const ymax = Math.max(1, ...all);
  const [l0, l1] = [Math.log10(floor), Math.ceil(Math.log10(ymax))];
  const sx = (x: number) => left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => top + ph - ((Math.log10(Math.max(floor, Math.min(y, 10 ** l1))) - l0) / (l1 - l0)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<title>${escape(title)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<rect x="${sx(t0).toFixed(1)}" y="${top}" width="${(sx(t1) - sx(t0)).toFixed(1)}" height="${ph}" fill="#eee"/>`);
  out.push(`<text x="${sx(0).toFixed(1)}" y="${top + 14}" text-anchor="middle" fill="#666">training range</text>`);
  for (let e = l0; e <= l1; e++) {
    const y = sy(10 ** e).toFixed(1);
    out.push(`<line x1="${left}" x2="${left + pw}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">1e${e}</text>`);
  }
  for (let x = Math.ceil(x0 / 5) * 5; x <= x1; x += 5) {
    out.push(`<text x="${sx(x).toFixed(1)}" y="${top + ph + 16}" text-anchor="middle">${x}</text>`);
  }
  out.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${left + pw / 2}" y="${H - 10}" text-anchor="middle">x</text>`);
  out.push(`<text transform="translate(16 ${top + ph / 2}) rotate(-90)" text-anchor="middle">mean |f(x) - x|</text>`);
  out.push(`<text x="${left}" y="${top - 14}" font-size="14">${escape(title)}</text>`);
  curves.forEach((c, i) => {
    const color = COLORS[i % COLORS.length]!;
    const d = c.x.map((x, j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)} ${sy(c.absError[j]!).toFixed(1)}`).join('');
    const name = c.model === 'nac' ? 'NAC' : c.model;
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${c.model === 'nac' ? 3 : 1.5}"><title>${escape(name)}</title></path>`);
    const ly = top + 10 + i * 18;
    out.push(`<line x1="${left + pw + 12}" x2="${left + pw + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${left + pw + 38}" y="${ly}" dominant-baseline="middle">${escape(name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
