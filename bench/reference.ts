// Validation against float64: seeded inputs, and a checker that compares a GPU output with a
// per-element float64 reference. Per-element references (rather than whole-output ones) let big
// outputs be checked on a seeded random sample at a bounded CPU cost, the same way everywhere
// (llm.c dev/cuda validates every kernel before timing it; so do we).
//
// Tolerance, per element i:  |got - want| <= ATOL + 2^-24 * (8*sqrt(K) + 8) * scale_i
//   K       terms accumulated in f32 (a dot product of length K: rounding error grows like
//           sqrt(K) ulps for random data, K ulps in the worst case),
//   scale_i the sum of |terms| of that element (the magnitude rounding is relative to).
// A wrong kernel (missing term, wrong index) is off by about one term, which is far above this
// bound for the random inputs in [-1, 1] used here.

import type { Check } from './types.js';

export const ATOL = 1e-6;
/** float64 multiply-adds spent on one check (all elements below this, a sample above) */
export const CHECK_BUDGET = 2e7;

// Seeded inputs (the library's mulberry32), so ours and the peer see the same data every run.
import { createRng as rng, uniformArray as randomData } from '../src/data/rng.js';
export { rng, randomData };

/** The float64 value of output element i, and the sum of |terms| that produced it. */
export type ElementRef = (i: number) => readonly [value: number, scale: number];

/** Indices to compare: all of them when affordable, else a seeded sample (plus the first and last). */
export function sampleIndices(size: number, costPerElement: number, budget = CHECK_BUDGET): Int32Array | null {
  if (size * Math.max(1, costPerElement) <= budget) return null;
  const m = Math.min(size, Math.max(1024, Math.floor(budget / Math.max(1, costPerElement))));
  const r = rng(size ^ 0x5eed);
  const idx = new Int32Array(m);
  idx[0] = 0;
  idx[1] = size - 1;
  for (let k = 2; k < m; k++) idx[k] = Math.floor(r() * size);
  return idx;
}

/** The relative part of the tolerance for `terms` f32 roundings: 2^-24 (8 sqrt(terms) + 8) (above). */
export const relTolerance = (terms: number): number => 2 ** -24 * (8 * Math.sqrt(terms) + 8);

/**
 * Compare `out` with `ref` on every element (or a sample, see sampleIndices).
 * `terms` is K in the tolerance above (use 1 for exact elementwise results).
 */
export function checkOutput(
  out: Float32Array,
  size: number,
  ref: ElementRef,
  terms: number,
  against = 'float64 reference',
): Check {
  const check: Check = { ok: true, against, compared: 0, size, maxAbs: 0, maxRel: 0 };
  if (out.length !== size) {
    check.ok = false;
    check.worst = { index: -1, got: out.length, want: size, tol: 0 };
    return check;
  }
  const rel = relTolerance(terms);
  const idx = sampleIndices(size, terms);
  const n = idx ? idx.length : size;
  let worstExcess = -Infinity;
  for (let k = 0; k < n; k++) {
    const i = idx ? idx[k] : k;
    const [want, scale] = ref(i);
    const got = out[i];
    const d = Math.abs(got - want);
    const tol = ATOL + rel * scale;
    if (!(d <= tol)) {
      const excess = Number.isNaN(d) ? Infinity : d - tol;
      if (excess > worstExcess) (worstExcess = excess), (check.worst = { index: i, got, want, tol });
      check.ok = false;
    }
    if (Number.isNaN(d)) check.maxAbs = check.maxRel = NaN;
    else {
      if (d > check.maxAbs) check.maxAbs = d;
      if (Math.abs(want) > ATOL && d / Math.abs(want) > check.maxRel) check.maxRel = d / Math.abs(want);
    }
  }
  check.compared = n;
  return check;
}

/** One line: "ok 1024/1024 max_abs=1.2e-7" or "FAILED at 17: got 1, want 2 (tol 1e-6)". */
export function describeCheck(c: Check): string {
  const seen = c.compared === c.size ? `${c.size}` : `${c.compared}/${c.size} sampled`;
  if (c.ok) return `ok (${seen}, max_abs=${c.maxAbs.toExponential(1)}, max_rel=${c.maxRel.toExponential(1)})`;
  const w = c.worst;
  if (w && w.index < 0) return `FAILED: output has ${w.got} elements, want ${w.want}`;
  return `FAILED vs ${c.against} (${seen}): element ${w?.index} is ${w?.got}, want ${w?.want} (tol ${w?.tol.toExponential(1)}; max_abs=${c.maxAbs.toExponential(1)})`;
}

/**
 * Check a training step's output [loss, every parameter after one SGD step from zero velocity]
 * against a float64 step. From zero velocity p1 = p0 - lr*g, so the gradient the implementation
 * used is recovered as (p0 - p1)/lr and compared per tensor, element by element:
 *   |g - g_ref| <= rtol * max|g_ref| (over the tensor) + rtol * |g_ref| + 2^-23 * |p0| / lr
 * (the last term: rounding of p1 itself). Gradients reduce many terms in f32, so they are compared
 * relative to the tensor's scale; a wrong kernel is off by O(max|g|). Loss: rtol 1e-4.
 * With `normRtol`, each tensor must also satisfy ||g - g_ref||_2 <= normRtol * ||g_ref||_2, and
 * the worst such ratio is reported in `against`.
 */
export function checkSgdStep(
  out: Float32Array,
  against: string,
  ref: { loss: number; tensors: { p0: ArrayLike<number>; grad: ArrayLike<number> }[] },
  lr: number,
  rtol: number,
  normRtol?: number,
): Check {
  const size = 1 + ref.tensors.reduce((s, t) => s + t.grad.length, 0);
  const c: Check = { ok: true, against, compared: 0, size, maxAbs: 0, maxRel: 0 };
  if (out.length !== size) {
    c.ok = false;
    c.worst = { index: -1, got: out.length, want: size, tol: 0 };
    return c;
  }
  const note = (i: number, got: number, want: number, tol: number) => {
    const d = Math.abs(got - want);
    c.compared++;
    if (d > c.maxAbs || Number.isNaN(d)) c.maxAbs = d;
    if (Math.abs(want) > 1e-6 && d / Math.abs(want) > c.maxRel) c.maxRel = d / Math.abs(want);
    if (!(d <= tol) && (c.ok || !c.worst)) (c.ok = false), (c.worst = { index: i, got, want, tol });
  };
  note(0, out[0], ref.loss, 1e-4 * Math.abs(ref.loss) + 1e-6);
  let off = 1,
    worstNorm = 0,
    worstAt = -1;
  for (const { p0, grad: g } of ref.tensors) {
    let gmax = 0,
      dd = 0,
      gg = 0;
    for (let i = 0; i < g.length; i++) gmax = Math.max(gmax, Math.abs(g[i]));
    for (let i = 0; i < g.length; i++) {
      const used = (p0[i] - out[off + i]) / lr;
      note(off + i, used, g[i], rtol * gmax + rtol * Math.abs(g[i]) + (2 ** -23 * Math.abs(p0[i])) / lr);
      (dd += (used - g[i]) ** 2), (gg += g[i] ** 2);
    }
    const r = Math.sqrt(dd / Math.max(gg, 1e-300));
    if (!(r <= worstNorm)) (worstNorm = r), (worstAt = off);
    off += g.length;
  }
  if (normRtol !== undefined) {
    c.against += ` (worst tensor |g - g_ref| / |g_ref| = ${(100 * worstNorm).toPrecision(2)}%)`;
    if (!(worstNorm <= normRtol) && c.ok)
      (c.ok = false), (c.worst = { index: worstAt, got: worstNorm, want: 0, tol: normRtol });
  }
  return c;
}

/** Mean softmax cross-entropy of [B, classes] logits in float64, and its gradient dL/dlogits. */
export function softmaxCeRef(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
): { loss: number; dlogits: Float64Array } {
  const B = labels.length;
  let loss = 0;
  const dlogits = new Float64Array(B * classes);
  for (let i = 0; i < B; i++) {
    let mx = -Infinity;
    for (let k = 0; k < classes; k++) mx = Math.max(mx, logits[i * classes + k]);
    let s = 0;
    for (let k = 0; k < classes; k++) s += Math.exp(logits[i * classes + k] - mx);
    loss += (mx + Math.log(s) - logits[i * classes + labels[i]]) / B;
    for (let k = 0; k < classes; k++)
      dlogits[i * classes + k] = (Math.exp(logits[i * classes + k] - mx) / s - (k === labels[i] ? 1 : 0)) / B;
  }
  return { loss, dlogits };
}
