// Input normalisation, x' = (x - mean[c]) / std[c] per channel c of NHWC (or HWC) values in
// [0, 1], and the per-channel statistics of a dataset to normalise it with.
//
// A Normalization holds numbers (one mean/std for every channel: MNIST's 0.1307 / 0.3081) or
// arrays with one entry per channel (e.g. CIFAR-10's RGB statistics); both forms may mix
// ({ mean: [..3], std: 0.25 }). Not here: batching (batch.ts) and the stored preprocessing of
// a model file (src/train/predict.ts), which both use these functions.

import type { ImageDataset, Normalization } from './dataset.js';
import { checkDataset } from './dataset.js';

/** Mean of MNIST's training pixels on the [0, 1] scale: 0.1307. */
export const MNIST_MEAN = 0.1307;
/** Standard deviation of MNIST's training pixels on the [0, 1] scale: 0.3081. */
export const MNIST_STD = 0.3081;

export type { Normalization };

/** MNIST's normalisation, (x - {@link MNIST_MEAN}) / {@link MNIST_STD}. */
export const MNIST_NORMALIZATION: Normalization = { mean: MNIST_MEAN, std: MNIST_STD };
/** Fashion-MNIST's training pixels (measured here on the 60,000 training pictures) */
export const FASHION_MNIST_NORMALIZATION: Normalization = { mean: 0.2861, std: 0.3528 };
/** CIFAR-10's training pixels, per RGB channel (the values torchvision recipes use) */
export const CIFAR10_NORMALIZATION: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };

/** The channel count a normalisation implies: the length of its arrays, or undefined for numbers only. */
export function normalizationChannels(n: Normalization): number | undefined {
  if (Array.isArray(n.mean)) return n.mean.length;
  if (Array.isArray(n.std)) return n.std.length;
  return undefined;
}

/**
 * Per-channel mean and 1/std (length `channels`) of `n`, checked: finite means, stds > 0, and
 * arrays of exactly `channels` entries (the error names the count).
 */
export function channelStats(
  where: string,
  n: Normalization,
  channels: number,
): { mean: Float64Array; invStd: Float64Array } {
  if (n === null || typeof n !== 'object')
    throw new TypeError(`webgpu-cnn: ${where}: 'normalize' must be { mean, std } or false, got ${String(n)}`);
  const expand = (key: 'mean' | 'std'): Float64Array => {
    const v = n[key];
    if (Array.isArray(v)) {
      if (v.length !== channels)
        throw new RangeError(
          `webgpu-cnn: ${where}: normalize '${key}' has ${v.length} entries, the images have ${channels} channel${channels === 1 ? '' : 's'} (give one number, or one per channel)`,
        );
      return Float64Array.from(v as number[]);
    }
    if (typeof v !== 'number')
      throw new TypeError(
        `webgpu-cnn: ${where}: normalize '${key}' must be a number or an array of numbers, got ${JSON.stringify(v)}`,
      );
    return new Float64Array(channels).fill(v);
  };
  const mean = expand('mean');
  const std = expand('std');
  for (let c = 0; c < channels; c++) {
    if (!Number.isFinite(mean[c]))
      throw new TypeError(`webgpu-cnn: ${where}: normalize 'mean' must be finite, got ${mean[c]} (channel ${c})`);
    if (!(Number.isFinite(std[c]) && std[c] > 0))
      throw new RangeError(`webgpu-cnn: ${where}: normalize 'std' must be > 0, got ${std[c]} (channel ${c})`);
  }
  return { mean, invStd: std.map((s) => 1 / s) };
}

/**
 * x = (x - mean[c]) / std[c] in place, c = i % channels; returns x. `channels` defaults to the
 * length of `n`'s arrays (1 for numbers only); x.length must be a multiple of it.
 */
export function normalizeInPlace(
  x: Float32Array,
  n: Normalization = MNIST_NORMALIZATION,
  channels = normalizationChannels(n) ?? 1,
): Float32Array {
  if (!Number.isInteger(channels) || channels < 1)
    throw new RangeError(`webgpu-cnn: normalizeInPlace: 'channels' must be an integer >= 1, got ${channels}`);
  if (x.length % channels !== 0)
    throw new RangeError(
      `webgpu-cnn: normalizeInPlace: ${x.length} values are not a whole number of ${channels}-channel pixels`,
    );
  const { mean, invStd } = channelStats('normalizeInPlace', n, channels);
  for (let c = 0; c < channels; c++) {
    const m = mean[c],
      s = invStd[c];
    for (let i = c; i < x.length; i += channels) x[i] = (x[i] - m) * s;
  }
  return x;
}

/**
 * The mean and (population) standard deviation of each channel over every pixel of `ds`
 * (float64 sums), as arrays of `ds.channels` entries. A constant channel gets std 1 (nothing to
 * scale). Use the training set's statistics for the test set and for prediction as well.
 */
export function datasetNormalization(ds: ImageDataset): { mean: number[]; std: number[] } {
  checkDataset('datasetNormalization', ds);
  const C = ds.channels;
  const n = ds.images.length / C;
  if (!(n > 0)) throw new RangeError('webgpu-cnn: datasetNormalization: the dataset has no pixels');
  const x = ds.images;
  const mean: number[] = [],
    std: number[] = [];
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let i = c; i < x.length; i += C) s += x[i];
    const m = s / n;
    let q = 0;
    for (let i = c; i < x.length; i += C) q += (x[i] - m) * (x[i] - m);
    const sd = Math.sqrt(q / n);
    mean.push(m);
    std.push(sd > 1e-12 ? sd : 1);
  }
  return { mean, std };
}
