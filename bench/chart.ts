// A small SVG bar chart for the page: one row per case, with a bar per peer (tfjs above, jax-js
// below): peer time / our time on a log2 axis centred at 1x (right of centre: we are faster;
// left: the peer is faster). Cases with no ratio (no peer, or not validated) show their status
// instead of bars.

import type { CaseResult } from './types.js';

const NS = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function ratioChart(results: readonly CaseResult[], width = 900): SVGSVGElement {
  const rowH = 24,
    labelW = 330,
    pad = 8,
    top = 24;
  const plotW = width - labelW - 2 * pad - 60;
  const all = results.flatMap((r) => [r.ratio, r.jaxRatio]).filter((x): x is number => !!x);
  const span = Math.max(1, ...all.map((x) => Math.abs(Math.log2(x)))); // log2 units shown each side of 1x
  const axis = 18; // room for the tick labels under the rows
  const height = top + rowH * results.length + axis;
  const svg = el('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': 'peer time / our time per case',
  });
  svg.style.font = '12px system-ui, sans-serif';
  const cx = labelW + pad + plotW / 2;
  const x = (l: number) => cx + (l / span) * (plotW / 2);
  svg.append(
    el(
      'text',
      { x: cx, y: 14, 'text-anchor': 'middle' },
      'peer time / our time (log scale; right of 1x: ours faster): tfjs above, jax-js below',
    ),
  );
  for (const t of [-span, -span / 2, 0, span / 2, span]) {
    svg.append(
      el('line', { x1: x(t), x2: x(t), y1: top - 4, y2: height - axis + 2, stroke: t === 0 ? '#444' : '#ddd' }),
    );
    svg.append(
      el('text', { x: x(t), y: height - 3, 'text-anchor': 'middle', fill: '#666' }, `${(2 ** t).toPrecision(2)}x`),
    );
  }
  const bar = (ratio: number, y: number, h: number, peer: 'tfjs' | 'jax') => {
    const l = Math.log2(ratio);
    const x0 = Math.min(x(0), x(l)),
      w = Math.max(1, Math.abs(x(l) - x(0)));
    const fill = peer === 'tfjs' ? (l >= 0 ? '#2a9d58' : '#d1495b') : l >= 0 ? '#3a6fb0' : '#d1495b';
    svg.append(el('rect', { class: peer, x: x0, y, width: w, height: h, fill }));
    svg.append(
      el(
        'text',
        { x: l >= 0 ? x0 + w + 4 : x0 - 4, y: y + h - 1, 'text-anchor': l >= 0 ? 'start' : 'end', 'font-size': 10 },
        `${peer} ${ratio.toPrecision(3)}x`,
      ),
    );
  };
  results.forEach((r, i) => {
    const y = top + i * rowH;
    svg.append(el('text', { x: labelW, y: y + 15, 'text-anchor': 'end' }, r.id));
    if (!r.ratio && !r.jaxRatio) {
      const why = r.ours.status !== 'ok' ? r.ours.status : r.peer ? r.peer.status : 'no peer';
      svg.append(el('text', { x: cx + 4, y: y + 15, fill: '#999' }, why));
      return;
    }
    const h = (rowH - 6) / 2;
    if (r.ratio) bar(r.ratio, y + 2, h, 'tfjs');
    if (r.jaxRatio) bar(r.jaxRatio, y + 3 + h, h, 'jax');
  });
  return svg;
}
