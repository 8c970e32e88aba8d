// The worker's view of the MNIST digits: the standard split (60,000 train / 10,000 test, loaded
// by the engine's loader through engine-adapter.ts), pixels kept as bytes, and an epoch-wise
// shuffled mini-batch iterator.

import { mulberry32 } from './net-spec.js';

export const PIXELS = 784;

export interface Split {
  /** n x 784 bytes, ink 0..255 (imageOf gives [0, 1] floats) */
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

export interface Mnist {
  train: Split;
  test: Split;
}

export function shuffled(n: number, seed: number): Uint32Array {
  const rand = mulberry32(seed);
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** Image `i` of a split as [0, 1] floats (a new array, or written into `out` at `offset`). */
export function imageOf(s: Split, i: number, out: Float32Array = new Float32Array(PIXELS), offset = 0): Float32Array {
  const src = s.images.subarray(i * PIXELS, (i + 1) * PIXELS);
  for (let p = 0; p < PIXELS; p++) out[offset + p] = src[p] / 255;
  return out;
}

/** Epoch-wise shuffled mini-batches (seeded), as floats and labels. */
export class Batcher {
  private order: Uint32Array;
  private pos = 0;
  epoch = 0;
  constructor(
    readonly split: Split,
    private seed: number,
  ) {
    this.order = shuffled(split.n, seed);
  }

  next(batch: number, x: Float32Array, y: Uint32Array): void {
    for (let b = 0; b < batch; b++) {
      if (this.pos >= this.split.n) {
        this.epoch++;
        this.pos = 0;
        this.order = shuffled(this.split.n, this.seed + this.epoch);
      }
      const i = this.order[this.pos++];
      imageOf(this.split, i, x, b * PIXELS);
      y[b] = this.split.labels[i];
    }
  }

  /** fraction of the current epoch done */
  get progress(): number {
    return this.pos / this.split.n;
  }
}
