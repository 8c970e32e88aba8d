// The CIFAR-10 binary format ("CIFAR-10 binary version", cifar-10-batches-bin/): each record is
// 1 label byte then 3072 pixel bytes, 1024 red, 1024 green, 1024 blue, each plane 32 rows of
// 32 (row-major). parseCifar10/writeCifar10 work on bytes anywhere; readCifar10File and
// loadCifar10 read files in Node (built-ins imported lazily, as in node-fs.ts). Nothing is
// downloaded here: get the archive from https://www.cs.toronto.edu/~kriz/cifar.html and unpack it.

import { checkDataset, type ImageDataset } from '../data/dataset.js';
import { allocation, FormatError } from './errors.js';
import { CIFAR10_NORMALIZATION } from '../data/normalize.js';

/** CIFAR-10's class names, indexed by label (0 = 'airplane' ... 9 = 'truck'). */
export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;

/**
 * File names of CIFAR-10's five training batches in the binary version (`data_batch_1.bin` ...
 * `data_batch_5.bin`).
 */
export const CIFAR10_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
/** File name of CIFAR-10's test batch in the binary version. */
export const CIFAR10_TEST_FILE = 'test_batch.bin';

/** Records of the CIFAR-10 binary format as an NHWC [N, 32, 32, 3] dataset in [0, 1]. */
export function parseCifar10(bytes: Uint8Array, nameForErrors = 'CIFAR-10 data'): ImageDataset {
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(
      `webgpu-cnn: parseCifar10: 'bytes' must be a Uint8Array, got ${Object.prototype.toString.call(bytes)}`,
    );
  if (bytes.length % RECORD !== 0)
    throw new FormatError(
      'cifar10',
      `${nameForErrors}: ${bytes.length} bytes is not a whole number of ${RECORD}-byte records (1 label + 3x32x32 pixels)`,
    );
  const count = bytes.length / RECORD;
  allocation('cifar10', count * PLANE * 3 * 4, bytes.length, 4); // u8 -> f32
  const images = new Float32Array(count * PLANE * 3);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const r = n * RECORD;
    const label = bytes[r];
    if (label > 9) throw new FormatError('cifar10', `${nameForErrors}: record ${n} has label ${label}, want 0..9`);
    labels[n] = label;
    const o = n * PLANE * 3;
    for (let c = 0; c < 3; c++) {
      const plane = r + 1 + c * PLANE;
      for (let i = 0; i < PLANE; i++) images[o + i * 3 + c] = bytes[plane + i] / 255;
    }
  }
  return { images, labels, count, height: SIDE, width: SIDE, channels: 3 };
}

/** The inverse of parseCifar10: a [N, 32, 32, 3] dataset (labels 0..9) as records, pixels round(v * 255). */
export function writeCifar10(ds: ImageDataset): Uint8Array {
  checkDataset('writeCifar10', ds);
  if (ds.height !== SIDE || ds.width !== SIDE || ds.channels !== 3)
    throw new RangeError(
      `webgpu-cnn: writeCifar10: CIFAR-10 records hold 32x32x3 images, got ${ds.height}x${ds.width}x${ds.channels}`,
    );
  const out = new Uint8Array(ds.count * RECORD);
  for (let n = 0; n < ds.count; n++) {
    const r = n * RECORD;
    if (ds.labels[n] > 9)
      throw new RangeError(`webgpu-cnn: writeCifar10: sample ${n} has label ${ds.labels[n]}, want 0..9`);
    out[r] = ds.labels[n];
    const o = n * PLANE * 3;
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < PLANE; i++)
        out[r + 1 + c * PLANE + i] = Math.round(Math.min(1, Math.max(0, ds.images[o + i * 3 + c])) * 255);
  }
  return out;
}

const NODE_FS = 'node:fs/promises';
const NODE_PATH = 'node:path';

/** One CIFAR-10 .bin file (Node). */
export async function readCifar10File(path: string): Promise<ImageDataset> {
  const fs = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
  const b = await fs.readFile(path);
  return parseCifar10(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), path);
}

/** Concatenate datasets of one image size. */
function concat(parts: ImageDataset[]): ImageDataset {
  const count = parts.reduce((s, p) => s + p.count, 0);
  const images = new Float32Array(count * PLANE * 3);
  const labels = new Uint8Array(count);
  let n = 0;
  for (const p of parts) {
    images.set(p.images, n * PLANE * 3);
    labels.set(p.labels, n);
    n += p.count;
  }
  return { images, labels, count, height: SIDE, width: SIDE, channels: 3 };
}

/**
 * The CIFAR-10 training set (data_batch_1.bin .. data_batch_5.bin, 50,000 images) and test set
 * (test_batch.bin, 10,000) from `dir`, the unpacked cifar-10-batches-bin folder (Node).
 */
export async function loadCifar10(dir: string): Promise<{ train: ImageDataset; test: ImageDataset }> {
  const fs = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
  const path = (await import(/* @vite-ignore */ NODE_PATH)) as typeof import('node:path');
  const names = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  const missing: string[] = [];
  for (const f of names)
    try {
      await fs.access(path.join(dir, f));
    } catch {
      missing.push(f);
    }
  if (missing.length)
    throw new Error(
      `webgpu-cnn: loadCifar10: ${dir} lacks ${missing.join(', ')} (want the unpacked cifar-10-batches-bin folder of the ` +
        'binary version, https://www.cs.toronto.edu/~kriz/cifar.html)',
    );
  const train = concat(await Promise.all(CIFAR10_TRAIN_FILES.map((f) => readCifar10File(path.join(dir, f)))));
  const test = await readCifar10File(path.join(dir, CIFAR10_TEST_FILE));
  // the dataset's normalisation: what batches(), fit() and Evaluator use by default
  return {
    train: { ...train, normalization: CIFAR10_NORMALIZATION },
    test: { ...test, normalization: CIFAR10_NORMALIZATION },
  };
}
