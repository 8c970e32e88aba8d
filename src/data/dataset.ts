// The in-memory image dataset type shared by the MNIST loader, the IDX loader, batching and
// augmentation. Images are NHWC f32 in [0, 1] (not normalised: batching normalises), labels u8.
//
// Normalisation is a property of the dataset: `normalization` says how its pixels are meant to
// be fed to a network. The standard loaders set it (MNIST, Fashion-MNIST, CIFAR-10: their
// training statistics); batches(), fit() and Evaluator use it when not given `normalize`, and
// a dataset without it is fed as it is, [0, 1]. So training and evaluation on the same data
// cannot disagree, and a model trained by hand on raw pixels is evaluated on raw pixels.

/** x' = (x - mean[c]) / std[c] per channel c (normalize.ts) */
export interface Normalization {
  /** one value for every channel, or one per channel */
  mean: number | readonly number[];
  /** one value (> 0) for every channel, or one per channel */
  std: number | readonly number[];
}

/** Images and labels on the host: NHWC pixels in [0, 1] and one class index per image, with their sizes. */
export interface ImageDataset {
  /** [count * height * width * channels], NHWC, values in [0, 1] */
  images: Float32Array;
  /** [count], class indices */
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** how these pixels are meant to be normalised (absent: used as they are, in [0, 1]) */
  normalization?: Normalization;
}

/** Check that the arrays and the declared sizes agree (clear error otherwise). */
export function checkDataset(where: string, ds: ImageDataset, name = 'dataset'): void {
  const { count, height, width, channels } = ds;
  for (const [k, v] of Object.entries({ count, height, width, channels }))
    if (!Number.isInteger(v) || v < 0)
      throw new TypeError(`webgpu-cnn: ${where}: ${name}.${k} must be an integer >= 0, got ${v}`);
  if (!(ds.images instanceof Float32Array) || ds.images.length !== count * height * width * channels)
    throw new RangeError(
      `webgpu-cnn: ${where}: ${name}.images must be a Float32Array of ${count}*${height}*${width}*${channels} values, got ${ds.images?.length}`,
    );
  if (!(ds.labels instanceof Uint8Array) || ds.labels.length !== count)
    throw new RangeError(
      `webgpu-cnn: ${where}: ${name}.labels must be a Uint8Array of ${count} values, got ${ds.labels?.length}`,
    );
}

/** A dataset holding the samples `idx` of `ds`, in that order. */
export function subset(ds: ImageDataset, idx: ArrayLike<number>): ImageDataset {
  const px = ds.height * ds.width * ds.channels;
  const images = new Float32Array(idx.length * px);
  const labels = new Uint8Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i];
    images.set(ds.images.subarray(j * px, (j + 1) * px), i * px);
    labels[i] = ds.labels[j];
  }
  return {
    images,
    labels,
    count: idx.length,
    height: ds.height,
    width: ds.width,
    channels: ds.channels,
    ...(ds.normalization && { normalization: ds.normalization }),
  };
}

/** Number of samples of each class 0..numClasses-1. */
export function classCounts(labels: ArrayLike<number>, numClasses = 10): number[] {
  const c = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) c[labels[i]]++;
  return c;
}
