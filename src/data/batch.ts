// Mini-batches: a seeded per-epoch order, batches of NHWC f32 images [B,H,W,C] with u32 labels,
// normalisation, and the upload of a batch into tensors that already exist (so a captured
// training step keeps reading the same input buffers).
//
// Normalisation (normalize.ts): x' = (x - mean[c]) / std[c] per channel, by default with the
// dataset's own `normalization` (loadMnist: MNIST's 0.1307 / 0.3081; loadFashionMnist,
// loadCifar10: theirs), none when the dataset has none. Own pictures: datasetNormalization(train).
// The order of epoch e is a Fisher–Yates permutation from mixSeed(seed, shuffle, e): the same
// (seed, epoch) always gives the same batches; different epochs give independent orders.

import { writeHost, type Tensor } from '../tensor/tensor.js';
import { checkHostData, checkOptions, optionKeys } from '../tensor/args.js';
import { checkTensor } from '../ops/check.js';
import { checkDataset, type ImageDataset } from './dataset.js';
import { checkSeed, createRng, mixSeed, permutation, STREAM } from './rng.js';
import { augmentBatchCpu, checkAugmentOptions, type AugmentOptions } from './augment.js';
import { channelStats, normalizeInPlace, type Normalization } from './normalize.js';

export {
  MNIST_MEAN,
  MNIST_STD,
  MNIST_NORMALIZATION,
  normalizeInPlace,
  datasetNormalization,
  type Normalization,
} from './normalize.js';

/**
 * Options of {@link batches}: batch size, shuffling (seeded, one permutation per epoch),
 * normalisation, CPU augmentation and resumption. Unknown keys throw a TypeError.
 */
export interface BatchOptions {
  batchSize: number;
  /** integer in [0, 2^32); default 0 */
  seed?: number;
  /** epoch number: selects the permutation; default 0 */
  epoch?: number;
  /** shuffle (default true); false keeps dataset order */
  shuffle?: boolean;
  /** drop the last batch if it is smaller than batchSize (default false: keep it) */
  dropLast?: boolean;
  /** default: the dataset's `normalization` (none if absent); per channel: arrays of ds.channels entries; false leaves pixels in [0, 1] */
  normalize?: Normalization | false;
  /** random augmentation on the CPU (before normalisation): affine, crop, flip, colour; default none */
  augment?: AugmentOptions;
  /**
   * First batch to yield (default 0): resuming an epoch from a checkpoint. Earlier batches are
   * skipped without being built; the rest are identical to a full pass (same order, same
   * per-batch augmentation seeds).
   */
  startBatch?: number;
  /**
   * Reuse one pair of arrays for every full batch (the previous batch's arrays are overwritten
   * when the iterator advances). Saves allocation when each batch is uploaded right away.
   */
  reuse?: boolean;
}

/**
 * One mini-batch on the host, as {@link batches} yields it: NHWC images (normalised and augmented as
 * asked) and their labels.
 */
export interface Batch {
  /** [size * H * W * C] NHWC */
  images: Float32Array;
  /** [size] */
  labels: Uint32Array;
  /** samples in this batch (batchSize, or fewer for a kept last batch) */
  size: number;
  /** batch number within the epoch */
  index: number;
  /** dataset indices of the samples */
  indices: Uint32Array;
}

/** Sample order of one epoch. */
export function epochOrder(n: number, seed: number, epoch: number, shuffle = true): Uint32Array {
  if (!shuffle) return Uint32Array.from({ length: n }, (_, i) => i);
  return permutation(n, createRng(mixSeed(seed, STREAM.shuffle, epoch)));
}

/** Number of batches in an epoch of `n` samples: ceil(n / batchSize), or floor with `dropLast`. */
export function batchCount(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

const BATCH_KEYS = optionKeys<BatchOptions>({
  batchSize: true,
  seed: true,
  epoch: true,
  shuffle: true,
  dropLast: true,
  normalize: true,
  augment: true,
  startBatch: true,
  reuse: true,
});

/** Iterate over one epoch of `ds` in mini-batches (arguments are checked at the call, not at the first next()). */
export function batches(ds: ImageDataset, opts: BatchOptions): Generator<Batch> {
  checkDataset('batches', ds);
  if (opts === null || typeof opts !== 'object')
    throw new TypeError(`webgpu-cnn: batches: 'opts' must be an options object with 'batchSize', got ${String(opts)}`);
  checkOptions('batches', 'opts', opts, BATCH_KEYS);
  const B = opts.batchSize;
  if (!Number.isInteger(B) || B < 1)
    throw new RangeError(`webgpu-cnn: batches: 'batchSize' must be an integer >= 1, got ${B}`);
  const seed = checkSeed('batches', opts.seed ?? 0);
  const epoch = opts.epoch ?? 0;
  if (!Number.isInteger(epoch) || epoch < 0)
    throw new RangeError(`webgpu-cnn: batches: 'epoch' must be an integer >= 0, got ${epoch}`);
  const start = opts.startBatch ?? 0;
  if (!Number.isInteger(start) || start < 0)
    throw new RangeError(`webgpu-cnn: batches: 'startBatch' must be an integer >= 0, got ${start}`);
  const norm = opts.normalize === undefined ? (ds.normalization ?? false) : opts.normalize;
  if (norm) channelStats('batches', norm, ds.channels);
  if (opts.augment) checkAugmentOptions('batches', opts.augment, ds.channels);
  return generate(ds, opts, B, seed, epoch, norm);
}

function* generate(
  ds: ImageDataset,
  opts: BatchOptions,
  B: number,
  seed: number,
  epoch: number,
  norm: Normalization | false,
): Generator<Batch> {
  const px = ds.height * ds.width * ds.channels;
  const order = epochOrder(ds.count, seed, epoch, opts.shuffle ?? true);
  const nb = batchCount(ds.count, B, opts.dropLast ?? false);
  let shared: { images: Float32Array; labels: Uint32Array } | null = null;
  for (let b = opts.startBatch ?? 0; b < nb; b++) {
    const start = b * B;
    const size = Math.min(B, ds.count - start);
    let images: Float32Array, labels: Uint32Array;
    if (opts.reuse && size === B) {
      shared ??= { images: new Float32Array(B * px), labels: new Uint32Array(B) };
      ({ images, labels } = shared);
    } else {
      images = new Float32Array(size * px);
      labels = new Uint32Array(size);
    }
    const indices = order.subarray(start, start + size);
    for (let i = 0; i < size; i++) {
      const j = indices[i];
      images.set(ds.images.subarray(j * px, (j + 1) * px), i * px);
      labels[i] = ds.labels[j];
    }
    if (opts.augment)
      augmentBatchCpu(
        images,
        { n: size, height: ds.height, width: ds.width, channels: ds.channels },
        opts.augment,
        mixSeed(seed, STREAM.augment, epoch, b),
      );
    if (norm) normalizeInPlace(images, norm, ds.channels);
    yield { images, labels, size, index: b, indices };
  }
}

/**
 * Write a batch into existing tensors: `images` f32 with batch.size*H*W*C elements (e.g.
 * [B,28,28,1]) and `labels` u32 [B]. Uses tensor.write(), which flushes recorded work that may
 * read them; the tensors keep their buffers, so captured command lists stay valid.
 */
export function uploadBatch(batch: Batch, images: Tensor, labels: Tensor): void {
  checkTensor('uploadBatch', 'images', images, 'f32');
  checkTensor('uploadBatch', 'labels', labels, 'u32');
  if (images.size !== batch.images.length)
    throw new RangeError(
      `webgpu-cnn: uploadBatch: 'images' [${images.shape}] holds ${images.size} values, the batch has ${batch.images.length} ` +
        `(${batch.size} samples${batch.size < images.shape[0] ? '; a smaller last batch needs dropLast: true or its own tensors' : ''})`,
    );
  if (labels.size !== batch.labels.length)
    throw new RangeError(
      `webgpu-cnn: uploadBatch: 'labels' [${labels.shape}] holds ${labels.size} values, the batch has ${batch.labels.length}`,
    );
  // both checked before either is written (numbers; labels integers in u32 range)
  checkHostData('uploadBatch', 'batch.images', batch.images, 'f32');
  checkHostData('uploadBatch', 'batch.labels', batch.labels, 'u32');
  writeHost(images, batch.images, 'uploadBatch', 'batch.images');
  writeHost(labels, batch.labels, 'uploadBatch', 'batch.labels');
}
