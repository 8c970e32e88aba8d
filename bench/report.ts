// Report formatting shared by the CLI (text table) and the page (HTML table): one list of
// columns, so both show the same numbers.

import { describeCheck } from './reference.js';
import type { CaseResult, ImplResult, Report } from './types.js';

export interface Column {
  key: string;
  title: string;
  /** right-align (numbers) */
  num: boolean;
  cell(r: CaseResult): string;
}

function fmt(x: number | undefined, digits = 3): string {
  if (x === undefined || !Number.isFinite(x)) return '';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  return x.toPrecision(digits);
}

function ms(r: ImplResult | undefined): string {
  if (!r) return '';
  if (r.status === 'invalid') return 'INVALID';
  if (r.status === 'error') return 'ERROR';
  return fmt(r.timing?.ms);
}

export function statusText(r: CaseResult): string {
  const side = (name: string, x: ImplResult | undefined) =>
    !x ? '' : x.status === 'error' ? `${name}: ERROR ${x.error}` : x.check ? `${name}: ${describeCheck(x.check)}` : '';
  return [side('ours', r.ours), side('tfjs', r.peer), side('jax-js', r.jax)].filter(Boolean).join('; ');
}

export const COLUMNS: Column[] = [
  { key: 'kernel', title: 'kernel', num: false, cell: (r) => r.kernel },
  { key: 'variant', title: 'variant', num: false, cell: (r) => r.variant },
  { key: 'shape', title: 'shape', num: false, cell: (r) => r.shape },
  { key: 'ms', title: 'ours ms', num: true, cell: (r) => ms(r.ours) },
  { key: 'first', title: 'ours first ms', num: true, cell: (r) => fmt(r.ours.firstMs) },
  { key: 'gflops', title: 'GFLOP/s', num: true, cell: (r) => fmt(r.ours.gflops) },
  { key: 'gbps', title: 'GB/s', num: true, cell: (r) => fmt(r.ours.gbps) },
  { key: 'roof', title: '%roof', num: true, cell: (r) => fmt(r.ours.roofPct, 2) },
  { key: 'tfms', title: 'tfjs ms', num: true, cell: (r) => (r.peer ? ms(r.peer) : '–') },
  { key: 'tffirst', title: 'tfjs first ms', num: true, cell: (r) => fmt(r.peer?.firstMs) },
  { key: 'ratio', title: 'tfjs/ours', num: true, cell: (r) => (r.ratio ? `${fmt(r.ratio)}x` : '') },
  { key: 'jaxms', title: 'jax ms', num: true, cell: (r) => (r.jax ? ms(r.jax) : '–') },
  { key: 'jaxfirst', title: 'jax first ms', num: true, cell: (r) => fmt(r.jax?.firstMs) },
  { key: 'jaxratio', title: 'jax/ours', num: true, cell: (r) => (r.jaxRatio ? `${fmt(r.jaxRatio)}x` : '') },
  { key: 'method', title: 'timing', num: false, cell: (r) => r.ours.timing?.method ?? '' },
  { key: 'valid', title: 'validated', num: false, cell: (r) => validatedText(r) },
];

/** "ok" / "ok 4096/802816" (sampled) / "FAILED" / "ERROR", for ours and the peers (tfjs, jax-js). */
export function validatedText(r: CaseResult): string {
  const one = (x: ImplResult | undefined) => {
    if (!x) return '';
    if (x.status === 'error') return 'ERROR';
    if (!x.check) return '';
    if (!x.check.ok) return 'FAILED';
    return x.check.compared === x.check.size ? 'ok' : `ok(${x.check.compared} sampled)`;
  };
  return [one(r.ours), one(r.peer), one(r.jax)].filter(Boolean).join(' / ');
}

/** The jax-js peer in words: version and device, why it did not start, or off. */
export function jaxText(rep: Report): string {
  const j = rep.jax;
  if (!j) return 'off';
  if ('error' in j) return j.error;
  return `${j.name} ${j.version} (same adapter, its own GPUDevice)`;
}

/** A case where ours or a peer did not validate or failed. */
export function notValidated(r: CaseResult): boolean {
  return [r.ours, r.peer, r.jax].some((x) => x !== undefined && x.status !== 'ok');
}

export function adapterLine(rep: Report): string {
  const a = rep.adapter;
  const name =
    [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || '(adapter gave no info)';
  return `${name} [${rep.runtime}; features: ${a.features.join(', ') || 'none'}]`;
}

export function rooflineLine(rep: Report): string {
  const r = rep.roofline;
  if (!r) return 'roofline: not measured';
  return `roofline: FMA peak ${fmt(r.gflops)} GFLOP/s, copy ${fmt(r.gbps)} GB/s (${r.method})`;
}

/** How cases were timed, with a warning when the adapter's timestamps are coarsely quantized. */
export function timingText(rep: Report): string {
  if (rep.method === 'wall') return 'wall clock: record + submit + onSubmittedWorkDone (median)';
  let q = 0;
  for (const r of rep.results) for (const x of [r.ours, r.peer]) q = Math.max(q, x?.timing?.quantumNs ?? 0);
  const warn = q >= 4096 ? ` [timestamps quantized to ${(q / 1000).toFixed(1)} us: sub-ms kernels are imprecise]` : '';
  return `GPU timestamp queries (median; training steps and jax-js: wall clock, jax/ours against ours by the wall clock)${warn}`;
}

/** Plain-text table with a header (adapter, roofline, timing method), then failures in full. */
export function formatTable(rep: Report): string {
  const rows = rep.results.map((r) => COLUMNS.map((c) => c.cell(r)));
  const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((s, i) => (COLUMNS[i].num ? s.padStart(widths[i]) : s.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [
    `adapter: ${adapterLine(rep)}`,
    rooflineLine(rep),
    `timing: ${timingText(rep)}; ` +
      `peer: ${rep.peer ? `TensorFlow.js ${rep.peer.name} ${rep.peer.version}${rep.peer.sharedDevice ? ', same GPUDevice' : ''}` : 'off'}; ` +
      `jax-js: ${jaxText(rep)}`,
    '',
    line(COLUMNS.map((c) => c.title)),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];
  const bad = rep.results.filter(notValidated);
  if (bad.length) out.push('', 'not timed:', ...bad.map((r) => `  ${r.id}: ${statusText(r)}`));
  return out.join('\n');
}
