// A small SVG bar chart for the page: one row per case, the bar is tfjs time / our time on a
// log2 axis centred at 1x (right of centre: we are faster; left: tfjs is faster). Cases with no
// ratio (no peer, or not validated) show their status instead of a bar.

import type { CaseResult } from './types.js';

const NS = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function ratioChart(results: readonly CaseResult[], width = 900): SVGSVGElement {
  const rowH = 18, labelW = 330, pad = 8, top = 24;
  const plotW = width - labelW - 2 * pad - 60;
  const ratios = results.map((r) => (r.ratio ? Math.log2(r.ratio) : 0));
  const span = Math.max(1, ...ratios.map(Math.abs)); // log2 units shown each side of 1x
  const height = top + rowH * results.length + pad;
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'tfjs time / our time per case' });
  svg.style.font = '12px system-ui, sans-serif';
  const cx = labelW + pad + plotW / 2;
  const x = (l: number) => cx + (l / span) * (plotW / 2);
  svg.append(el('text', { x: cx, y: 14, 'text-anchor': 'middle' }, 'tfjs time / our time (log scale; right of 1x: ours faster)'));
  for (const t of [-span, -span / 2, 0, span / 2, span]) {
    svg.append(el('line', { x1: x(t), x2: x(t), y1: top - 4, y2: height - pad, stroke: t === 0 ? '#444' : '#ddd' }));
    svg.append(el('text', { x: x(t), y: height - 1, 'text-anchor': 'middle', fill: '#666' }, `${(2 ** t).toPrecision(2)}x`));
  }
  results.forEach((r, i) => {
    const y = top + i * rowH;
    svg.append(el('text', { x: labelW, y: y + 13, 'text-anchor': 'end' }, r.id));
    if (!r.ratio) {
      const why = r.ours.status !== 'ok' ? r.ours.status : r.peer ? r.peer.status : 'no peer';
      svg.append(el('text', { x: cx + 4, y: y + 13, fill: '#999' }, why));
      return;
    }
    const l = Math.log2(r.ratio);
    const x0 = Math.min(x(0), x(l)), w = Math.max(1, Math.abs(x(l) - x(0)));
    svg.append(el('rect', { x: x0, y: y + 3, width: w, height: rowH - 6, fill: l >= 0 ? '#2a9d58' : '#d1495b' }));
    svg.append(el('text', { x: l >= 0 ? x0 + w + 4 : x0 - 4, y: y + 13, 'text-anchor': l >= 0 ? 'start' : 'end' }, `${r.ratio.toPrecision(3)}x`));
  });
  return svg;
}
