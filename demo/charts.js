// Plain SVG line charts, drawn at the element's own pixel size (so text stays readable on a
// phone), with linear or log axes, an optional shaded band and lines that break on values that
// are not finite. No dependencies.

const SVG = 'http://www.w3.org/2000/svg';
let clipIds = 0;

function el(name, attrs = {}, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

/** About `count` round tick values covering [lo, hi]. */
export function linearTicks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** Powers of ten in [lo, hi] (values, not logs), thinned to at most `max`. */
export function logTicks(lo, hi, max = 6) {
  const a = Math.ceil(Math.log10(lo) - 1e-9), b = Math.floor(Math.log10(hi) + 1e-9);
  const every = Math.max(1, Math.ceil((b - a + 1) / max));
  const out = [];
  for (let e = a; e <= b; e++) if ((e - a) % every === 0) out.push(10 ** e);
  return out;
}

export function formatTick(v, log) {
  if (v === 0) return '0';
  if (log) {
    const e = Math.round(Math.log10(v));
    if (e >= 0 && e <= 5) return String(10 ** e >= 1000 ? `${10 ** e / 1000}k` : 10 ** e);
    return `1e${e}`;
  }
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

/**
 * Draws a chart into `svg` (replacing its content).
 * spec: { x: { domain, log, label }, y: { domain, log, label }, shade?: { range, label },
 *         series: [{ xs, ys, className }] } where xs, ys are arrays of numbers.
 * Returns the number of path segments drawn (a test reads it).
 */
export function drawChart(svg, spec) {
  const width = Math.max(200, Math.round(svg.clientWidth || svg.parentElement?.clientWidth || 600));
  const height = Math.max(160, Math.round(svg.clientHeight || width * 0.55));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const m = { left: 60, right: 12, top: 10, bottom: 40 };
  const pw = width - m.left - m.right, ph = height - m.top - m.bottom;
  const tx = scale(spec.x, m.left, m.left + pw);
  const ty = scale(spec.y, m.top + ph, m.top);

  const id = `clip-${++clipIds}`;
  el('rect', { x: m.left, y: m.top, width: pw, height: ph }, el('clipPath', { id }, el('defs', {}, svg)));
  el('rect', { x: m.left, y: m.top, width: pw, height: ph, class: 'plot-bg' }, svg);

  if (spec.shade) {
    const x0 = Math.max(m.left, Math.min(m.left + pw, tx(spec.shade.range[0])));
    const x1 = Math.max(m.left, Math.min(m.left + pw, tx(spec.shade.range[1])));
    el('rect', { x: x0, y: m.top, width: Math.max(0, x1 - x0), height: ph, class: 'shade' }, svg);
    if (spec.shade.label) {
      const t = el('text', { x: (x0 + x1) / 2, y: m.top + 14, class: 'shade-label', 'text-anchor': 'middle' }, svg);
      t.textContent = spec.shade.label;
    }
  }

  // Grid and ticks.
  const grid = el('g', { class: 'grid' }, svg);
  const axes = el('g', { class: 'axis' }, svg);
  const xt = spec.x.log ? logTicks(...spec.x.domain, Math.max(2, Math.floor(pw / 70))) : linearTicks(...spec.x.domain, Math.max(2, Math.floor(pw / 80)));
  const yt = spec.y.log ? logTicks(...spec.y.domain, Math.max(2, Math.floor(ph / 35))) : linearTicks(...spec.y.domain, Math.max(2, Math.floor(ph / 45)));
  for (const v of xt) {
    const x = tx(v);
    el('line', { x1: x, x2: x, y1: m.top, y2: m.top + ph }, grid);
    const t = el('text', { x, y: m.top + ph + 16, 'text-anchor': 'middle' }, axes);
    t.textContent = formatTick(v, spec.x.log);
  }
  for (const v of yt) {
    const y = ty(v);
    el('line', { x1: m.left, x2: m.left + pw, y1: y, y2: y }, grid);
    const t = el('text', { x: m.left - 6, y: y + 4, 'text-anchor': 'end' }, axes);
    t.textContent = formatTick(v, spec.y.log);
  }
  el('rect', { x: m.left, y: m.top, width: pw, height: ph, class: 'frame' }, svg);
  const xl = el('text', { x: m.left + pw / 2, y: height - 6, 'text-anchor': 'middle', class: 'axis-label' }, svg);
  xl.textContent = spec.x.label;
  const yl = el('text', { x: 12, y: m.top + ph / 2, 'text-anchor': 'middle', class: 'axis-label', transform: `rotate(-90 12 ${m.top + ph / 2})` }, svg);
  yl.textContent = spec.y.label;

  // Lines, clipped to the plot; values far outside are clamped so that coordinates stay finite.
  const g = el('g', { 'clip-path': `url(#${id})` }, svg);
  let segments = 0;
  for (const s of spec.series) {
    let d = '';
    let pen = false;
    for (let i = 0; i < s.xs.length; i++) {
      const xv = s.xs[i], yv = s.ys[i];
      const ok = Number.isFinite(xv) && Number.isFinite(yv) && (!spec.x.log || xv > 0) && (!spec.y.log || yv > 0);
      if (!ok) {
        pen = false;
        continue;
      }
      const x = tx(xv);
      const y = Math.max(m.top - ph, Math.min(m.top + 2 * ph, ty(yv)));
      d += `${pen ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`;
      if (pen) segments++;
      pen = true;
    }
    if (d) el('path', { d, class: `line ${s.className ?? ''}` }, g);
  }
  return segments;
}

function scale(axis, r0, r1) {
  const [lo, hi] = axis.domain;
  if (axis.log) {
    const a = Math.log10(lo), b = Math.log10(hi);
    return (v) => r0 + ((Math.log10(v) - a) / (b - a || 1)) * (r1 - r0);
  }
  return (v) => r0 + ((v - lo) / (hi - lo || 1)) * (r1 - r0);
}
