// Seeded randomness for data loading: a small PRNG (mulberry32), seed mixing for independent
// streams (split, per-epoch shuffles, augmentation), and Fisher–Yates permutations.
//
// Not cryptographic; chosen because it is tiny, fast, and gives the same sequence in every JS
// engine (only 32-bit integer arithmetic), so splits and epochs reproduce across Node/browsers.

/** A seeded generator of uniform numbers in [0, 1). */
export type Rng = () => number;

/** mulberry32: 32-bit state, period 2^32. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mix a seed with stream identifiers (e.g. a purpose tag and an epoch number) into a new
 * 32-bit seed, so streams derived from one user seed do not overlap (murmur3 finaliser).
 */
export function mixSeed(seed: number, ...stream: number[]): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (const s of stream) {
    h = Math.imul(h ^ (s >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Stream tags for mixSeed: one per use, so e.g. the split never correlates with epoch 0's shuffle. */
export const STREAM = { split: 1, shuffle: 2, augment: 3, augmentExtra: 4 } as const;

/** A uniformly random permutation of 0..n-1 (Fisher–Yates, driven by `rng`). */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  shuffleInPlace(p, rng);
  return p;
}

/** Fisher–Yates shuffle of an index array, in place. */
export function shuffleInPlace(a: Uint32Array | number[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/** n values uniform in [lo, hi) from createRng(seed): the seeded data of tests and benchmarks. */
export function uniformArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = uniform(r, lo, hi);
  return out;
}

/** Uniform number in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

export function checkSeed(where: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new TypeError(`webgpu-cnn: ${where}: 'seed' must be an integer in [0, 2^32), got ${String(seed)}`);
  return seed;
}
