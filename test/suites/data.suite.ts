// Data: MNIST loading and split, batching/shuffling determinism, batch upload into existing
// tensors, and augmentation (GPU kernel vs float64 CPU reference, identity, exact cases).
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { empty, tensor } from '../../src/tensor/tensor.js';
import { loadMnist, loadMnistRaw, stratifiedSplit, type MnistSplit } from '../../src/data/mnist.js';
import { classCounts, type ImageDataset } from '../../src/data/dataset.js';
import {
  batches,
  batchCount,
  epochOrder,
  uploadBatch,
  MNIST_MEAN,
  MNIST_STD,
  MNIST_NORMALIZATION,
} from '../../src/data/batch.js';
import {
  affineMatrix,
  augmentCpu,
  augmentRef,
  randomAffines,
  IDENTITY_AFFINE,
  type ImageDims,
} from '../../src/data/augment.js';
import { augment } from '../../src/data/augment-gpu.js';

// Where the files are: in Node the installed data packages (the loader's default); in the
// browser the dev server's static assets (vite.data.ts).
const inBrowser = typeof window !== 'undefined';
const SUBSET = inBrowser ? '/data/mnist-subset/' : undefined;
const STANDARD = inBrowser ? '/data/mnist/' : undefined;
const subset = (o: { seed?: number; testCount?: number }) => loadMnist({ split: 'subset', from: SUBSET, ...o });

let mnist: Promise<MnistSplit> | null = null;
const mnist0 = () => (mnist ??= subset({ seed: 0 }));

function tiny(n: number, h = 4, w = 5, c = 1): ImageDataset {
  return {
    images: Float32Array.from({ length: n * h * w * c }, (_, i) => (i % 251) / 250),
    labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
    count: n,
    height: h,
    width: w,
    channels: c,
  };
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));

suite('data', (test) => {
  test('MNIST standard split: 60,000 / 10,000 IDX digits with the published class counts, timed', async () => {
    const t0 = performance.now();
    const { train, test } = await loadMnist({ from: STANDARD });
    console.log(`  MNIST standard: read, decompressed and converted in ${(performance.now() - t0).toFixed(0)} ms`);
    assertEqual([train.count, test.count], [60000, 10000], 'split sizes');
    assertEqual([train.height, train.width, train.channels], [28, 28, 1], 'image shape');
    assertEqual([train.normalization, test.normalization], [MNIST_NORMALIZATION, MNIST_NORMALIZATION], 'normalization');
    // the class counts of the original files (LeCun et al.): any other file set fails here
    assertEqual(
      classCounts(train.labels),
      [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
      'train class counts',
    );
    assertEqual(classCounts(test.labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009], 'test class counts');
    assertEqual([train.labels[0], train.labels[1], test.labels[0], test.labels[1]], [5, 0, 7, 2], "the files' order");
    let lo = Infinity,
      hi = -Infinity;
    for (const v of test.images) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    assertEqual([lo, hi], [0, 1], 'pixels in [0, 1]');
    await assertThrows(() => loadMnist({ from: STANDARD, seed: 1 }), /'seed' and 'testCount' apply to split 'subset'/);
    await assertThrows(() => loadMnist({ spilt: 'subset' } as never), /loadMnist: unknown option 'spilt'/);
    await assertThrows(
      () => loadMnist({ split: 'full' as never }),
      /'split' must be 'standard' or 'subset', got "full"/,
    );
    await assertThrows(
      () => loadMnist({ from: inBrowser ? '/data/nowhere/' : '/nonexistent-dir' }),
      inBrowser
        ? /could not fetch train-images-idx3-ubyte|bad magic/
        : /neither train-images-idx3-ubyte.gz nor train-images-idx3-ubyte is in \/nonexistent-dir/,
    );
  });

  test('MNIST subset: 10,000 package digits split 8000/2000, labels 0..9, pixels b/255, timed', async () => {
    const t0 = performance.now();
    const raw = await loadMnistRaw(SUBSET);
    const t1 = performance.now();
    const { train, test } = await mnist0();
    const t2 = performance.now();
    console.log(
      `  MNIST: raw bytes in ${(t1 - t0).toFixed(0)} ms (or cached), split + f32 in ${(t2 - t1).toFixed(0)} ms`,
    );
    assertEqual(raw.count, 10000, 'raw digits');
    assertEqual([train.count, test.count], [8000, 2000], 'split sizes');
    assertEqual([train.images.length, test.images.length], [8000 * 784, 2000 * 784], 'image array sizes');
    assertEqual([train.height, train.width, train.channels], [28, 28, 1], 'image shape');
    for (const ds of [train, test]) {
      assert(
        ds.labels.every((l) => l <= 9),
        'labels in 0..9',
      );
      let lo = Infinity,
        hi = -Infinity,
        offGrid = 0;
      for (const v of ds.images) {
        (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
        if (Math.fround(Math.round(v * 255) / 255) !== v) offGrid++;
      }
      assertEqual([lo, hi, offGrid], [0, 1, 0], 'pixels in [0,1], all exactly b/255');
    }
    // Package class counts (0: 1001 ... 9: 978) and the stratified split: 20% +-1 per class.
    const all = classCounts(raw.labels);
    assertEqual(all, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978], 'package class counts');
    const tc = classCounts(test.labels),
      rc = classCounts(train.labels);
    for (let k = 0; k < 10; k++) {
      assert(Math.abs(tc[k] - all[k] * 0.2) <= 1, `class ${k}: ${tc[k]} test samples, want ~${all[k] * 0.2}`);
      assertEqual(tc[k] + rc[k], all[k], `class ${k} train + test`);
    }
    // The sets are shuffled (not grouped by class): the first 100 labels hold every class.
    assertEqual(new Set(train.labels.subarray(0, 100)).size, 10, 'train order is mixed');
  });

  test('MNIST split is seed-deterministic, disjoint and covers all 10,000 samples', async () => {
    const raw = await loadMnistRaw(SUBSET);
    const a = stratifiedSplit(raw.labels, 2000, 7),
      b = stratifiedSplit(raw.labels, 2000, 7),
      c = stratifiedSplit(raw.labels, 2000, 8);
    assert(same(a.train, b.train) && same(a.test, b.test), 'same seed, same split');
    assert(!same(a.test, c.test), 'another seed, another split');
    const seen = new Uint8Array(10000);
    for (const i of [...a.train, ...a.test]) seen[i]++;
    assert(
      seen.every((s) => s === 1),
      'every sample exactly once',
    );
    const x = await subset({ seed: 7 }),
      y = await mnist0();
    assert(
      same(
        x.test.labels,
        Uint8Array.from(a.test, (i) => raw.labels[i]),
      ),
      'loadMnist uses stratifiedSplit',
    );
    assert(!same(x.test.images.subarray(0, 7840), y.test.images.subarray(0, 7840)), 'seed 7 differs from seed 0');
    await assertThrows(() => subset({ seed: -1 }), /loadMnist: 'seed' must be an integer/);
    await assertThrows(() => subset({ testCount: 10001 }), /'testCount' must be an integer in \[0, 10000\]/);
  });

  test('batches: per-epoch seeded order, each sample once, drop/keep last, normalisation', async () => {
    const ds = tiny(23);
    const run = (o: Partial<Parameters<typeof batches>[1]>) => [
      ...batches(ds, { batchSize: 5, normalize: false, ...o }),
    ];
    const e0 = run({ seed: 3, epoch: 0 }),
      e0b = run({ seed: 3, epoch: 0 }),
      e1 = run({ seed: 3, epoch: 1 });
    assertEqual(
      e0.map((b) => b.size),
      [5, 5, 5, 5, 3],
      'kept last partial batch',
    );
    assertEqual(
      run({ seed: 3, dropLast: true }).map((b) => b.size),
      [5, 5, 5, 5],
      'dropLast',
    );
    assertEqual([batchCount(23, 5), batchCount(23, 5, true)], [5, 4], 'batchCount');
    assert(
      e0.every((b, i) => same(b.images, e0b[i].images) && same(b.labels, e0b[i].labels)),
      'same (seed, epoch): same batches',
    );
    const order0 = e0.flatMap((b) => [...b.indices]),
      order1 = e1.flatMap((b) => [...b.indices]);
    assertEqual(
      [...order0].sort((a, b) => a - b),
      Array.from({ length: 23 }, (_, i) => i),
      'epoch covers every sample once',
    );
    assert(order0.join() !== order1.join(), 'epochs differ');
    assertEqual([...epochOrder(23, 3, 0)], order0, 'epochOrder gives the batch order');
    assertEqual(
      run({ shuffle: false }).flatMap((b) => [...b.indices]),
      Array.from({ length: 23 }, (_, i) => i),
      'shuffle: false',
    );
    // Content: sample i of a batch is dataset sample indices[i] (NHWC, 20 values), labels u32.
    const b = e0[1];
    assert(b.labels instanceof Uint32Array && b.images.length === 5 * 20, 'batch arrays');
    for (let i = 0; i < 5; i++) {
      const j = b.indices[i];
      assert(
        same(b.images.subarray(i * 20, (i + 1) * 20), ds.images.subarray(j * 20, (j + 1) * 20)),
        `sample ${i} pixels`,
      );
      assertEqual(b.labels[i], ds.labels[j], `sample ${i} label`);
    }
    // Default normalisation is the dataset's own (here MNIST's (x - 0.1307) / 0.3081), applied
    // after gathering; a dataset without one is fed as it is; an explicit option wins.
    const nb = [...batches({ ...ds, normalization: MNIST_NORMALIZATION }, { batchSize: 5, seed: 3 })][1];
    assertClose(
      'normalised',
      nb.images,
      Float64Array.from(b.images, (v) => (v - MNIST_MEAN) / MNIST_STD),
      { atol: 1e-6, rtol: 1e-6 },
    );
    assert(same([...batches(ds, { batchSize: 5, seed: 3 })][1].images, b.images), 'no normalization: raw pixels');
    const half = { mean: 0.5, std: 0.5 };
    const ob = [
      ...batches({ ...ds, normalization: MNIST_NORMALIZATION }, { batchSize: 5, seed: 3, normalize: half }),
    ][1];
    assertClose(
      'option wins',
      ob.images,
      Float64Array.from(b.images, (v) => (v - 0.5) / 0.5),
      { atol: 1e-6, rtol: 1e-6 },
    );
    // reuse: full batches share one pair of arrays.
    const r = [...batches(ds, { batchSize: 5, reuse: true, normalize: false })];
    assert(r[0].images === r[1].images && r[3].images !== r[4].images, 'reuse shares full-batch arrays only');
    for (const bad of [0, 2.5])
      await assertThrows(() => batches(ds, { batchSize: bad }), /'batchSize' must be an integer >= 1/);
    await assertThrows(
      () => batches(ds, { batchSize: 2, augment: { rotate: 400 } }),
      /batches: 'rotate' must be in \[0, 180\] degrees/,
    );
  });

  test('batches with CPU augmentation are seeded per (seed, epoch, batch)', () => {
    const ds = tiny(12, 9, 9, 1);
    const aug = { shift: 2, rotate: 15, scale: [0.9, 1.1] as [number, number] };
    const a = [...batches(ds, { batchSize: 4, seed: 1, augment: aug })],
      b = [...batches(ds, { batchSize: 4, seed: 1, augment: aug })];
    const plain = [...batches(ds, { batchSize: 4, seed: 1 })];
    assert(
      a.every((x, i) => same(x.images, b[i].images)),
      'reproducible',
    );
    assert(!same(a[0].images, plain[0].images), 'augmentation changed the images');
    assert(same(a[0].labels, plain[0].labels), 'labels untouched');
  });

  test('uploadBatch writes into existing tensors (same buffers), rejects a short batch', async () => {
    const ds = tiny(7, 3, 3, 1);
    const x = empty([3, 3, 3, 1]),
      y = empty([3], 'u32');
    const bufX = x.buffer.id,
      bufY = y.buffer.id;
    const bs = [...batches(ds, { batchSize: 3, seed: 2 })];
    for (const b of bs.slice(0, 2)) {
      uploadBatch(b, x, y);
      assertClose('images', await x.read(), b.images, { atol: 0, rtol: 0, log: false });
      assertEqual([...(await y.read())], [...b.labels], 'labels');
    }
    assertEqual([x.buffer.id, y.buffer.id], [bufX, bufY], 'same buffers');
    await assertThrows(
      () => uploadBatch(bs[2], x, y),
      /uploadBatch: 'images' \[3,3,3,1\] holds 27 values, the batch has 9 .*dropLast/,
    );
    const yf = empty([3]);
    await assertThrows(() => uploadBatch(bs[0], x, yf), /uploadBatch: argument 'labels' must be u32/);
    for (const t of [x, y, yf]) t.dispose();
  });

  test('augment CPU reference: identity, integer shift, 90° rotation, scale about the centre', async () => {
    const dims: ImageDims = { n: 1, height: 5, width: 5, channels: 2 };
    const img = randomArray(50, 11, 0, 1);
    assertClose('identity', augmentRef(img, dims, IDENTITY_AFFINE), img, { atol: 0, rtol: 0 });
    const at = (a: ArrayLike<number>, y: number, x: number, c: number) =>
      x < 0 || y < 0 || x >= 5 || y >= 5 ? 0 : a[(y * 5 + x) * 2 + c];
    const expect = (f: (y: number, x: number, c: number) => number) =>
      Float64Array.from({ length: 50 }, (_, i) => f(Math.floor(i / 10), Math.floor(i / 2) % 5, i % 2));
    const shifted = augmentRef(img, dims, affineMatrix({ angle: 0, scale: 1, tx: 2, ty: -1 }, 5, 5));
    assertClose(
      'shift (+2, -1)',
      shifted,
      expect((y, x, c) => at(img, y + 1, x - 2, c)),
      { atol: 1e-12, rtol: 0 },
    );
    // 90° about the centre (2,2): dst = R(90)(src - c) + c; with y down this maps src (x,y) to (c - (y - c), ...).
    const rot = augmentRef(img, dims, affineMatrix({ angle: 90, scale: 1, tx: 0, ty: 0 }, 5, 5));
    assertClose(
      'rotate 90',
      rot,
      expect((y, x, c) => at(img, 4 - x, y, c)),
      { atol: 1e-12, rtol: 0 },
    );
    // Scale 2 about the centre: output (x, y) samples input (2 + (x-2)/2, 2 + (y-2)/2) bilinearly.
    const big = augmentRef(img, dims, affineMatrix({ angle: 0, scale: 2, tx: 0, ty: 0 }, 5, 5));
    const bil = (y: number, x: number, c: number) => {
      const x0 = Math.floor(x),
        y0 = Math.floor(y),
        ax = x - x0,
        ay = y - y0;
      return (
        (1 - ay) * ((1 - ax) * at(img, y0, x0, c) + ax * at(img, y0, x0 + 1, c)) +
        ay * ((1 - ax) * at(img, y0 + 1, x0, c) + ax * at(img, y0 + 1, x0 + 1, c))
      );
    };
    assertClose(
      'scale 2',
      big,
      expect((y, x, c) => bil(2 + (y - 2) / 2, 2 + (x - 2) / 2, c)),
      { atol: 1e-12, rtol: 0 },
    );
    const m1 = randomAffines(4, 28, 28, { shift: 3, rotate: 10, scale: [0.9, 1.1] }, 5),
      m2 = randomAffines(4, 28, 28, { shift: 3, rotate: 10, scale: [0.9, 1.1] }, 5);
    assert(same(m1, m2), 'randomAffines is seeded');
    await assertThrows(
      () => randomAffines(1, 28, 28, { scale: [0, 1] }, 1),
      /'scale' must be \[lo, hi\] with 0 < lo <= hi/,
    );
  });

  test('augment GPU matches the float64 reference (MNIST digits and odd shapes), identity exact', async () => {
    // Error budget: the kernel computes sx, sy in f32 (|terms| <= ~40 px: a few ulp of 32, ~4e-6 px)
    // and bilinear weights in f32; pixel values move at most 1 per pixel for data in [0,1], so
    // |GPU - ref| <= ~1e-5. Bilinear sampling is continuous, so f32/f64 floor() disagreements
    // near integer coordinates do not add error. atol 2e-5.
    const { train } = await mnist0();
    const cases: { dims: ImageDims; data: Float32Array }[] = [
      { dims: { n: 17, height: 28, width: 28, channels: 1 }, data: train.images.slice(0, 17 * 784) },
      { dims: { n: 1, height: 28, width: 28, channels: 1 }, data: train.images.slice(784, 2 * 784) },
      { dims: { n: 3, height: 17, width: 9, channels: 3 }, data: randomArray(3 * 17 * 9 * 3, 4, 0, 1) },
    ];
    for (const [k, { dims, data }] of cases.entries()) {
      const { n, height: h, width: w, channels: c } = dims;
      const m = randomAffines(n, h, w, { shift: 3, rotate: 20, scale: [0.8, 1.2] }, 100 + k);
      const x = tensor(data, [n, h, w, c]),
        tm = tensor(m, [n, 6]);
      for (const fill of [0, -0.4242]) {
        const y = augment(x, tm, { fill });
        assertClose(`augment [${n},${h},${w},${c}] fill=${fill}`, await y.read(), augmentRef(data, dims, m, fill), {
          atol: 2e-5,
          rtol: 0,
        });
        y.dispose();
      }
      const ident = tensor(
        Float32Array.from({ length: n * 6 }, (_, i) => IDENTITY_AFFINE[i % 6]),
        [n, 6],
      );
      const yi = augment(x, ident);
      assertClose(`identity [${n},${h},${w},${c}]`, await yi.read(), data, { atol: 0, rtol: 0 });
      assertClose(
        'CPU f32 version = reference rounded',
        augmentCpu(data, dims, m),
        Float32Array.from(augmentRef(data, dims, m)),
        { atol: 0, rtol: 0, log: false },
      );
      for (const t of [x, tm, ident, yi]) t.dispose();
    }
    const x = empty([2, 4, 4, 1]),
      bad = empty([3, 6]);
    await assertThrows(() => augment(x, bad), /augment: 'matrices' must have shape \[2,6\], got \[3,6\]/);
    x.dispose(), bad.dispose();
  });
});
