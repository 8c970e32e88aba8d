// The parts every kernel-fuzz family shares: the family contract, seeded draws, test data,
// the tolerance rule and the element-by-element comparison, and disposal of a case's tensors.
// Families live beside this file (conv.ts, pool.ts, matmul.ts, softmax.ts, pointwise.ts);
// run.ts drives them. Not part of the library: nothing in src/ imports this.

import { createRng, permutation, type Rng } from '../../src/data/rng.js';
import { ATOL, relTolerance } from '../../bench/reference.js';
import { tensor, type Shape, type Tensor } from '../../src/tensor/tensor.js';
import { valueAndGrad } from '../../src/autograd/grad.js';

/** One op family: draws JSON parameters from a seeded generator, then runs them on the GPU. */
export interface Family<P = Record<string, unknown>> {
  name: string;
  /** Deterministic in `r`: the same seed always draws the same case. */
  draw(r: Rng): P;
  /** Runs the case; returns the first mismatch, or null. Every tensor goes into `bag`. */
  run(p: P, bag: Bag): Promise<Mismatch | null>;
}

/** The first element out of tolerance in one compared output. */
export interface Mismatch {
  /** which output (e.g. 'y', 'dx', 'argmax') */
  what: string;
  firstBadIndex: number;
  got: number;
  want: number;
  tol: number;
  /** elements compared and how many were out of tolerance */
  size: number;
  bad: number;
}

// ---- seeded draws ----

export const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
export const pick = <T>(r: Rng, a: readonly T[]): T => a[Math.floor(r() * a.length)];
export const chance = (r: Rng, p: number): boolean => r() < p;
/** An integer in [lo, hi], log-uniform (small sizes as likely as large ones). */
export const logInt = (r: Rng, lo: number, hi: number): number =>
  Math.min(hi, Math.floor(Math.exp(Math.log(lo) + r() * (Math.log(hi + 1) - Math.log(lo)))));
/** Sizes near the boundaries kernels care about (tiles, vec4, quads) or a plain random one. */
export function edgy(
  r: Rng,
  lo: number,
  hi: number,
  edges: readonly number[] = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65],
): number {
  const e = edges.filter((v) => v >= lo && v <= hi);
  return e.length && chance(r, 0.5) ? pick(r, e) : int(r, lo, hi);
}

// ---- test data (uniform data: uniformArray of src/data/rng.ts) ----

/**
 * n distinct values (a shuffled ramp with spacing 2^-10 around 0, exact in f32): a max has one
 * winner, so argmax and max pooling are unambiguous.
 */
export function distinctData(n: number, seed: number): Float32Array {
  return Float32Array.from(permutation(n, createRng(seed)), (i) => (i - Math.floor(n / 2)) / 1024);
}

export const abs = (a: ArrayLike<number>): Float64Array => Float64Array.from(a, Math.abs);

// ---- tolerance ----

export const U = 2 ** -24;
export { ATOL };

/**
 * Tolerance of a sum of `terms` f32 roundings whose magnitudes add up to `scale` (sum |term|):
 * the benchmark's rule (bench/reference.ts, which says why it holds). Relative to sum |term|
 * rather than |result|, so cancellation does not make the check flaky, while a dropped, doubled
 * or misplaced term stands far out.
 */
export function sumTol(terms: number, scale: number, atol = ATOL): number {
  return atol + relTolerance(Math.max(terms, 1)) * scale;
}

/** The largest |error| / tolerance of every element compared since the last call (headroom). */
let worstRatio = 0;
export function takeWorstRatio(): number {
  const w = worstRatio;
  worstRatio = 0;
  return w;
}

/** Compare `got` with `want` element by element; `tol(i)` is element i's allowed |error|. */
export function compare(
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: (i: number) => number,
): Mismatch | null {
  if (got.length !== want.length)
    return {
      what: `${what} (length)`,
      firstBadIndex: -1,
      got: got.length,
      want: want.length,
      tol: 0,
      size: want.length,
      bad: 1,
    };
  let first: Mismatch | null = null;
  let bad = 0;
  for (let i = 0; i < want.length; i++) {
    const t = tol(i);
    // a non-finite reference (the mean of nothing is NaN) must be matched exactly
    const d = Number.isFinite(want[i]) ? Math.abs(got[i] - want[i]) : Object.is(got[i], want[i]) ? 0 : Infinity;
    if (t > 0 && d / t > worstRatio) worstRatio = d / t;
    if (d === 0 || d <= t) continue; // (an exact match passes even where t is NaN)
    bad++;
    first ??= { what, firstBadIndex: i, got: got[i], want: want[i], tol: t, size: want.length, bad: 0 };
  }
  if (first) first.bad = bad;
  return first;
}

/** A result's shape against the expected one. */
export const shapeCheck = (got: readonly unknown[], want: readonly unknown[]): Mismatch | null =>
  JSON.stringify(got) === JSON.stringify(want)
    ? null
    : {
        what: `shape ${JSON.stringify(got)}, want ${JSON.stringify(want)}`,
        firstBadIndex: -1,
        got: got.length,
        want: want.length,
        tol: 0,
        size: 0,
        bad: 1,
      };

/** Exact equality (indices, max values). */
export const compareExact = (what: string, got: ArrayLike<number>, want: ArrayLike<number>) =>
  compare(what, got, want, () => 0);

/** The first mismatch of several comparisons (evaluated lazily, in order). */
export function firstOf(...checks: (Mismatch | null)[]): Mismatch | null {
  return checks.find((c) => c !== null) ?? null;
}

// ---- tensors of one case ----

/** Everything a case allocates, disposed together when the case ends. */
export class Bag {
  private items: Tensor[] = [];
  add<T extends Tensor | null | undefined>(t: T): T {
    if (t) this.items.push(t);
    return t;
  }
  f32(data: ArrayLike<number>, shape: Shape): Tensor {
    return this.add(tensor(data, shape));
  }
  u32(data: ArrayLike<number>, shape: Shape): Tensor {
    return this.add(tensor(data, shape, 'u32'));
  }
  dispose(): void {
    for (const t of this.items) t.dispose();
    this.items = [];
  }
}

/** valueAndGrad whose value and gradients go into `bag`. */
export function gradIn(bag: Bag, fn: () => Tensor, params: readonly Tensor[]): { value: Tensor; grads: Tensor[] } {
  const r = valueAndGrad(fn, params);
  bag.add(r.value);
  r.grads.forEach((t) => bag.add(t));
  return r;
}
