// Colour data: per-channel normalisation (normalizeInPlace, batches, datasetNormalization) and
// resizeCenterCrop against float64 references; a 3-channel conv net trained with fit and
// predicting through a model file with per-channel preprocessing; the CIFAR-10 binary format;
// picture folders in Node (PNG grey/RGB/RGBA, JPEG); the browser loaders in Chromium.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { encodePngStored } from '../harness/png-stored.js';
import { tensor } from '../../src/tensor/tensor.js';
import { scope } from '../../src/tensor/scope.js';
import { softmax } from '../../src/ops/loss/index.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Flatten, Linear } from '../../src/nn/linear.js';
import { InitRng } from '../../src/nn/init.js';
import { Adam } from '../../src/optim/optimizers.js';
import { fit } from '../../src/train/fit.js';
import { saveModel } from '../../src/io/model-file.js';
import { loadPredictor, preprocessMetadata } from '../../src/train/predict.js';
import { batches } from '../../src/data/batch.js';
import { datasetNormalization, MNIST_MEAN, MNIST_STD, normalizeInPlace } from '../../src/data/normalize.js';
import { resizeCenterCrop } from '../../src/data/resize.js';
import { imagePixels, imagesToDataset, loadImageFiles } from '../../src/data/images-browser.js';
import { parseCifar10, writeCifar10, readCifar10File, loadCifar10 } from '../../src/io/cifar10.js';
import { decodeImage, loadImageFolder } from '../../src/io/image-folder.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import { colourDataset, nodeTemp, randomBytes, resizeRef, statsRef } from './colour-data.helpers.js';

/** (x - mean[c]) / std[c] in float64. */
const normRef = (x: ArrayLike<number>, mean: number[], std: number[]) =>
  Float64Array.from(x, (v, i) => (v - mean[i % mean.length]) / std[i % std.length]);

suite('colour-data', (test) => {
  test('per-channel normalisation: normalizeInPlace, batches and datasetNormalization vs float64', async () => {
    const x = randomArray(2 * 3 * 5 * 3, 1, 0, 1);
    const n = { mean: [0.1, 0.5, 0.9], std: [0.2, 0.3, 0.05] };
    assertClose('arrays', normalizeInPlace(Float32Array.from(x), n), normRef(x, n.mean, n.std));
    const mixed = { mean: [0.1, 0.5, 0.9], std: 0.25 };
    assertClose('array mean, number std', normalizeInPlace(Float32Array.from(x), mixed, 3), normRef(x, n.mean, [0.25]));
    assertClose(
      'default: MNIST numbers',
      normalizeInPlace(Float32Array.from(x)),
      normRef(x, [MNIST_MEAN], [MNIST_STD]),
    );
    await assertThrows(
      () => normalizeInPlace(Float32Array.from(x), { mean: [0.1, 0.2], std: 1 }, 3),
      /normalize 'mean' has 2 entries, the images have 3 channels/,
    );
    await assertThrows(
      () => normalizeInPlace(new Float32Array(7), n),
      /7 values are not a whole number of 3-channel pixels/,
    );
    await assertThrows(
      () => normalizeInPlace(new Float32Array(3), { mean: 0, std: [1, 0, 1] }),
      /'std' must be > 0, got 0 \(channel 1\)/,
    );

    const ds = colourDataset(5, 3, 3, 4);
    const stats = datasetNormalization(ds);
    const want = statsRef(ds.images, 3);
    assertClose('datasetNormalization mean', stats.mean, want.mean, { atol: 1e-9, rtol: 1e-9 });
    assertClose('datasetNormalization std', stats.std, want.std, { atol: 1e-9, rtol: 1e-7 });
    assert(
      Math.abs(stats.mean[0] - stats.mean[2]) > 0.05 && stats.std[1] > 0.05,
      `the channels differ as built: ${JSON.stringify(stats)}`,
    );
    const normed = statsRef(normalizeInPlace(Float32Array.from(ds.images), stats), 3);
    assertClose('normalised: mean 0 per channel', normed.mean, [0, 0, 0], { atol: 1e-6, rtol: 0 });
    assertClose('normalised: std 1 per channel', normed.std, [1, 1, 1], { atol: 1e-6, rtol: 0 });
    const flat = { ...ds, images: new Float32Array(ds.images.length).fill(0.5) };
    assertEqual(datasetNormalization(flat).std, [1, 1, 1], 'a constant channel gets std 1');

    const [b] = batches(ds, { batchSize: 5, shuffle: false, normalize: stats });
    assertClose('batches: per-channel', b.images, normRef(ds.images, stats.mean, stats.std));
    await assertThrows(
      () => batches(ds, { batchSize: 2, normalize: { mean: [0.5], std: [0.2] } }),
      /batches: normalize 'mean' has 1 entries, the images have 3 channels/,
    );
  });

  test('resizeCenterCrop vs a float64 2-D reference: shrink, enlarge, crop, grey, RGBA, floats; hand-checked values', async () => {
    const cases: [number, number, number, number, number][] = [
      [7, 5, 3, 3, 2], // shrink, s = 3/7 (width), rows cropped
      [3, 2, 4, 5, 5], // enlarge 2.5x, RGBA
      [6, 9, 1, 4, 4], // grey, shrink, rows cropped
      [9, 4, 2, 4, 3], // grey + alpha, s = 3/4
      [5, 4, 3, 5, 4], // same size: identity
      [5, 4, 3, 4, 4], // s = 1 with a half-pixel crop offset
      [1, 1, 3, 3, 2], // one pixel
    ];
    for (const [sw, sh, ch, dw, dh] of cases) {
      const px = randomBytes(sw * sh * ch, sw * 100 + sh * 10 + ch);
      const got = resizeCenterCrop(px, sw, sh, ch, dw, dh);
      assertClose(`${sw}x${sh}x${ch} -> ${dw}x${dh}`, got, resizeRef(px, sw, sh, ch, dw, dh), { atol: 1e-6, rtol: 0 });
    }
    const f = randomArray(4 * 6 * 3, 9, 0, 1);
    assertClose('Float32Array input', resizeCenterCrop(f, 4, 6, 3, 3, 3), resizeRef(f, 4, 6, 3, 3, 3, 1), {
      atol: 1e-6,
      rtol: 0,
    });
    const id = randomBytes(5 * 4 * 3, 7);
    assertClose(
      'identity is exact',
      resizeCenterCrop(id, 5, 4, 3, 5, 4),
      Float64Array.from(id, (v) => v / 255),
      {
        atol: 1e-7,
        rtol: 0,
      },
    );
    // 3x3 grey -> 2x2: output (0,0) covers source [0, 1.5)^2: weights 1, 0.5 per axis, / 2.25
    const g = Uint8Array.of(90, 180, 0, 45, 255, 0, 0, 0, 0);
    const o = resizeCenterCrop(g, 3, 3, 1, 2, 2);
    const want00 = (90 + 0.5 * 180 + 0.5 * 45 + 0.25 * 255) / 2.25 / 255;
    assertClose('hand-checked area average', [o[0], o[1], o[2]], [want00, want00, want00], { atol: 1e-6, rtol: 0 });
    // 4x1 RGB -> 2x1 at s = 1/2 ... as 4x2 -> 2x2: columns 1 and 2 are kept at s = 1
    const wide = Uint8Array.from({ length: 4 * 2 * 3 }, (_, i) => (Math.floor(i / 3) % 4) * 60);
    assertEqual(
      Array.from(resizeCenterCrop(wide, 4, 2, 3, 2, 2), (v) => Math.round(v * 255)),
      [60, 60, 60, 120, 120, 120, 60, 60, 60, 120, 120, 120],
      'centre crop keeps the middle columns',
    );
    await assertThrows(() => resizeCenterCrop(g, 3, 3, 5, 2, 2), /'srcChannels' must be 1, 2, 3 or 4, got 5/);
    await assertThrows(() => resizeCenterCrop(g, 3, 4, 1, 2, 2), /'pixels' must hold 3x4x1 = 12 values, got 9/);
  });

  test('3-channel conv net: fit with per-channel normalisation (loss falls), evaluation, Predictor with per-channel preprocessing', async () => {
    const H = 6;
    const train = colourDataset(24, 11, H, H),
      testSet = colourDataset(10, 12, H, H);
    const stats = datasetNormalization(train);
    const rng = new InitRng(3);
    const model = new Sequential([
      new Conv2d(3, 4, 3, { stride: 2, padding: 'same', relu: true, rng }),
      new Flatten(),
      new Linear(3 * 3 * 4, 2, { rng }),
    ]);
    model.inputShape = [H, H, 3];
    const optimizer = new Adam(model.parameters(), { lr: 0.02 });
    const t0 = performance.now();
    const history = await fit({
      model,
      optimizer,
      train,
      test: testSet,
      epochs: 4,
      batchSize: 6,
      normalize: stats,
      lossEvery: 1,
    });
    console.log(`  fit: ${(performance.now() - t0).toFixed(0)} ms`);
    const losses = history.map((h) => h.trainLoss);
    console.log(`  train loss per epoch: ${losses.map((l) => l.toFixed(4))}; test ${JSON.stringify(history[3].test)}`);
    assert(losses[3] < 0.5 * losses[0], `training loss falls (${losses.map((l) => l.toFixed(3))})`);
    assert(history[3].test!.accuracy >= 0.9, `colour is learnt: test accuracy ${history[3].test!.accuracy}`);
    await assertThrows(
      () => fit({ model, optimizer, train, epochs: 1, batchSize: 6, normalize: { mean: [0.5, 0.5], std: 0.2 } }),
      /fit: normalize 'mean' has 2 entries, the images have 3 channels/,
    );

    model.eval();
    const direct = async (v: ArrayLike<number>) => {
      const x = tensor(Float32Array.from(v), [1, H, H, 3]);
      const p = scope(() => softmax(model.forward(x)));
      const out = (await p.read()) as Float32Array;
      x.dispose(), p.dispose();
      return out;
    };
    const img = testSet.images.subarray(0, H * H * 3);
    const bytes = await saveModel(model.toSpec(), model.stateDict(), preprocessMetadata({ normalize: stats }));
    const pred = await loadPredictor(bytes);
    assertEqual(pred.inputShape, [H, H, 3], 'input shape');
    assertEqual(pred.preprocess.normalize, stats, 'per-channel values stored');
    const a = await pred.predict(Float32Array.from(img));
    assertClose('predict(Float32Array)', a.probabilities, await direct(normRef(img, stats.mean, stats.std)), {
      atol: 1e-6,
      rtol: 1e-5,
    });
    // RGBA bytes: R, G, B / 255 go to channels 0, 1, 2
    const rgba = new Uint8ClampedArray(H * H * 4);
    for (let i = 0; i < H * H; i++)
      for (let c = 0; c < 4; c++) rgba[4 * i + c] = c < 3 ? Math.round(img[3 * i + c] * 255) : 255;
    const fromBytes = Float64Array.from({ length: H * H * 3 }, (_, i) => rgba[4 * Math.floor(i / 3) + (i % 3)] / 255);
    const b = await pred.predict({ data: rgba, width: H, height: H });
    assertClose('predict(RGBA bytes)', b.probabilities, await direct(normRef(fromBytes, stats.mean, stats.std)), {
      atol: 1e-6,
      rtol: 1e-5,
    });
    pred.dispose();
    // a file of before per-channel values: numbers apply to every channel
    const old = await loadPredictor(
      await saveModel(model.toSpec(), model.stateDict(), {
        'webgpu-cnn.preprocess': JSON.stringify({ normalize: { mean: 0.4, std: 0.2 } }),
      }),
    );
    const c = await old.predict(Float32Array.from(img));
    assertClose('scalar mean/std file', c.probabilities, await direct(normRef(img, [0.4], [0.2])), {
      atol: 1e-6,
      rtol: 1e-5,
    });
    old.dispose();
    const wrong = await saveModel(model.toSpec(), model.stateDict(), {
      'webgpu-cnn.preprocess': JSON.stringify({ normalize: { mean: [0.4, 0.5], std: 0.2 } }),
    });
    await assertThrows(
      () => loadPredictor(wrong),
      /loadPredictor: normalize 'mean' has 2 entries, the images have 3 channels/,
    );
    optimizer.dispose();
    model.dispose();
  });

  test('CIFAR-10 binary: writeCifar10/parseCifar10 round trip, hand-placed bytes, errors', async () => {
    const N = 3;
    const images = new Float32Array(N * 32 * 32 * 3);
    for (let n = 0; n < N; n++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++)
          for (let c = 0; c < 3; c++)
            images[((n * 32 + y) * 32 + x) * 3 + c] = ((n * 7 + y * 3 + x * 5 + c * 11) % 256) / 255;
    const ds: ImageDataset = { images, labels: Uint8Array.of(3, 0, 9), count: N, height: 32, width: 32, channels: 3 };
    const bytes = writeCifar10(ds);
    assertEqual(bytes.length, N * 3073, 'records of 1 + 3072 bytes');
    assertEqual([bytes[0], bytes[3073], bytes[2 * 3073]], [3, 0, 9], 'label bytes');
    // record 1, green plane, row 2, column 5
    assertEqual(bytes[3073 + 1 + 1024 + 2 * 32 + 5], 7 + 6 + 25 + 11, 'plane-major pixel byte');
    const back = parseCifar10(bytes);
    assertEqual([back.count, back.height, back.width, back.channels], [N, 32, 32, 3], 'shape');
    assertEqual(Array.from(back.labels), [3, 0, 9], 'labels');
    assert(
      back.images.every((v, i) => v === images[i]),
      'round trip: every pixel',
    );
    // one record by hand: red plane 255, green 0, blue 128 at row 0, column 1
    const rec = new Uint8Array(3073);
    rec[0] = 7;
    rec.fill(255, 1, 1025);
    rec[1 + 2048 + 1] = 128;
    const one = parseCifar10(rec);
    assertEqual(
      Array.from(one.images.subarray(0, 6), (v) => Math.round(v * 255)),
      [255, 0, 0, 255, 0, 128],
      'NHWC from planes',
    );
    assertEqual(one.labels[0], 7, 'label');
    await assertThrows(
      () => parseCifar10(new Uint8Array(3074)),
      /cifar10: .*3074 bytes is not a whole number of 3073-byte records/,
    );
    rec[0] = 10;
    await assertThrows(() => parseCifar10(rec), /record 0 has label 10, want 0..9/);
    await assertThrows(() => writeCifar10(colourDataset(1, 1)), /CIFAR-10 records hold 32x32x3 images, got 6x6x3/);
  });

  test(
    'CIFAR-10 files (Node): loadCifar10 reads 5 training batches and the test batch in order; missing files listed',
    async () => {
      const { fs, path, dir } = await nodeTemp('cifar-');
      try {
        const rec = (label: number, v: number) => {
          const r = new Uint8Array(3073).fill(v);
          r[0] = label;
          return r;
        };
        for (let i = 1; i <= 5; i++) {
          const b = new Uint8Array(2 * 3073);
          b.set(rec(i, 10 * i), 0);
          b.set(rec((i + 5) % 10, 10 * i + 1), 3073);
          await fs.writeFile(path.join(dir, `data_batch_${i}.bin`), b);
        }
        await fs.writeFile(path.join(dir, 'test_batch.bin'), rec(0, 200));
        const one = await readCifar10File(path.join(dir, 'data_batch_2.bin'));
        assertEqual([one.count, ...one.labels], [2, 2, 7], 'one file');
        const { train, test } = await loadCifar10(dir);
        assertEqual(Array.from(train.labels), [1, 6, 2, 7, 3, 8, 4, 9, 5, 0], 'batches 1..5 in order');
        assertEqual(
          Array.from({ length: 10 }, (_, n) => Math.round(train.images[n * 3072 + 3071] * 255)),
          [10, 11, 20, 21, 30, 31, 40, 41, 50, 51],
          'pixels follow their labels',
        );
        assertEqual([test.count, test.labels[0], Math.round(test.images[5] * 255)], [1, 0, 200], 'test batch');
        await fs.rm(path.join(dir, 'data_batch_3.bin'));
        await fs.rm(path.join(dir, 'test_batch.bin'));
        await assertThrows(() => loadCifar10(dir), /loadCifar10: .* lacks data_batch_3.bin, test_batch.bin/);
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    },
    { envs: ['node'] },
  );

  test(
    'picture folder (Node): PNG RGB/grey/RGBA and JPEG decoded, resized, labelled by sorted class folders; errors name the path',
    async () => {
      const { encodePng } = await import('../harness/png.js');
      const jpeg = (await import(/* @vite-ignore */ ['jpeg', 'js'].join('-'))) as {
        default: { encode(i: { data: Uint8Array; width: number; height: number }, q: number): { data: Uint8Array } };
      };
      const { fs, path, dir } = await nodeTemp('pictures-');
      try {
        const S = { width: 3, height: 3 };
        const rgb = randomBytes(4 * 6 * 3, 21); // 4 wide, 6 high
        const grey = randomBytes(3 * 3, 22);
        const rgba = randomBytes(5 * 3 * 4, 23);
        const flat = new Uint8Array(8 * 8 * 4);
        for (let i = 0; i < 64; i++) flat.set([200, 100, 50, 255], 4 * i);
        for (const c of ['dog', 'bird', 'cat', 'empty-later']) await fs.mkdir(path.join(dir, c));
        await fs.writeFile(path.join(dir, 'bird', 'a.png'), encodePng(4, 6, rgb));
        await fs.writeFile(path.join(dir, 'bird', 'notes.txt'), 'not a picture');
        await fs.writeFile(path.join(dir, 'cat', 'g.png'), encodePngStored(3, 3, 1, grey));
        await fs.writeFile(path.join(dir, 'cat', 'h.png'), encodePngStored(5, 3, 4, rgba));
        await fs.writeFile(
          path.join(dir, 'dog', 'J.JPG'),
          jpeg.default.encode({ data: flat, width: 8, height: 8 }, 95).data,
        );
        await fs.writeFile(path.join(dir, 'empty-later', 'x.png'), encodePngStored(3, 3, 1, grey));
        await fs.writeFile(path.join(dir, 'README'), 'top-level files are not classes');
        await fs.mkdir(path.join(dir, '.git'));
        await fs.writeFile(path.join(dir, '.git', 'a.png'), encodePngStored(3, 3, 1, grey));
        await fs.writeFile(path.join(dir, 'bird', '._a.png'), 'a macOS resource fork, not a PNG');

        const d = await decodeImage(new Uint8Array(await fs.readFile(path.join(dir, 'cat', 'h.png'))), 'h.png');
        assertEqual([d.width, d.height, d.channels], [5, 3, 4], 'RGBA PNG decoded as 4 channels');
        assert(
          d.data.every((v, i) => v === rgba[i]),
          'RGBA bytes exact',
        );

        const { dataset: ds, classes } = await loadImageFolder(dir, { size: S });
        assertEqual(classes, ['bird', 'cat', 'dog', 'empty-later'], 'sorted class folders');
        assertEqual([ds.count, ds.height, ds.width, ds.channels], [5, 3, 3, 3], 'five pictures, RGB');
        assertEqual(Array.from(ds.labels), [0, 1, 1, 2, 3], 'labels by class, files by name');
        const px = 27;
        const at = (n: number) => ds.images.subarray(n * px, (n + 1) * px);
        assertClose('RGB PNG (shrunk, cropped)', at(0), resizeRef(rgb, 4, 6, 3, 3, 3), { atol: 1e-6, rtol: 0 });
        assertClose('grey PNG replicated to RGB', at(1), resizeRef(grey, 3, 3, 1, 3, 3), { atol: 1e-6, rtol: 0 });
        assertClose('RGBA PNG, alpha dropped', at(2), resizeRef(rgba, 5, 3, 4, 3, 3), { atol: 1e-6, rtol: 0 });
        assertClose(
          'JPEG (lossy: within 3/255)',
          at(3),
          Array.from({ length: px }, (_, i) => [200, 100, 50][i % 3] / 255),
          {
            atol: 3 / 255,
            rtol: 0,
          },
        );
        const picked = await loadImageFolder(dir, { size: S, classes: ['dog', 'cat'] });
        assertEqual([picked.dataset.count, ...picked.dataset.labels], [3, 0, 1, 1], 'given classes, in their order');

        // Node: ImageData-like input works without a browser; a Blob says what to use instead
        const inNode = await imagePixels({ data: new Uint8ClampedArray(rgba), width: 5, height: 3 }, S);
        assertClose('imagePixels(ImageData-like) in Node', inNode, resizeRef(rgba, 5, 3, 4, 3, 3), {
          atol: 1e-6,
          rtol: 0,
        });
        await assertThrows(
          () => imagePixels(new Blob([]), S),
          /needs createImageBitmap and OffscreenCanvas .*loadImageFolder/,
        );

        await fs.rm(path.join(dir, 'empty-later', 'x.png'));
        await assertThrows(
          () => loadImageFolder(dir, { size: S }),
          /class folder .*empty-later has no .png\/.jpg\/.jpeg files/,
        );
        await assertThrows(
          () => loadImageFolder(dir, { size: S, classes: ['cat', 'cow'] }),
          /class folder .*cow does not exist/,
        );
        await fs.writeFile(
          path.join(dir, 'cat', 'i.png'),
          Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0, 0, 0, 1),
        );
        await assertThrows(
          () => loadImageFolder(dir, { size: S, classes: ['cat'] }),
          /cat\/i.png: cannot decode the PNG/,
        );
        await fs.writeFile(path.join(dir, 'cat', 'i.png'), 'GIF89a, really');
        await assertThrows(
          () => loadImageFolder(dir, { size: S, classes: ['cat'] }),
          /cat\/i.png is neither a PNG nor a JPEG/,
        );
        const empty = path.join(dir, 'empty-later');
        await assertThrows(() => loadImageFolder(empty, { size: S }), /empty-later has no class sub-folders/);
        await assertThrows(
          () => loadImageFolder(dir, { size: S, clases: ['cat'] } as never),
          /unknown option 'clases'/,
        );
        await assertThrows(
          () => loadImageFolder(dir, { size: S, classes: ['cat', 'cat'] }),
          /'classes' must be an array of distinct folder names/,
        );
        await assertThrows(
          () => loadImageFolder(dir, { size: { width: 0, height: 3 } }),
          /'size' must be \{ width, height \}/,
        );
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    },
    { envs: ['node'] },
  );

  test(
    'browser loaders: PNG Blob, File, ImageData, canvases, ImageBitmap and <img> give resizeCenterCrop of the pixels',
    async () => {
      const W = 6,
        H = 4,
        S = { width: 3, height: 2 };
      const rgb = randomBytes(W * H * 3, 31);
      const rgba = new Uint8ClampedArray(W * H * 4);
      for (let i = 0; i < W * H; i++) rgba.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
      const want = resizeRef(rgb, W, H, 3, S.width, S.height);
      const png = encodePngStored(W, H, 3, rgb);
      const blob = new Blob([png as BlobPart], { type: 'image/png' });
      const close = (label: string, got: Float32Array) => assertClose(label, got, want, { atol: 1e-6, rtol: 0 });
      close('PNG Blob', await imagePixels(blob, S));
      const imageData = new ImageData(rgba, W, H);
      close('ImageData', await imagePixels(imageData, S));
      const off = new OffscreenCanvas(W, H);
      off.getContext('2d')!.putImageData(imageData, 0, 0);
      close('OffscreenCanvas', await imagePixels(off, S));
      const canvas = document.createElement('canvas');
      canvas.width = W;
      canvas.height = H;
      canvas.getContext('2d')!.putImageData(imageData, 0, 0);
      close('HTMLCanvasElement', await imagePixels(canvas, S));
      const bitmap = await createImageBitmap(imageData);
      close('ImageBitmap', await imagePixels(bitmap, S));
      assertEqual(bitmap.width, W, 'a caller-owned ImageBitmap is not closed');
      const url = URL.createObjectURL(blob);
      try {
        const img = new Image();
        img.src = url;
        await img.decode();
        close('HTMLImageElement', await imagePixels(img, S));
      } finally {
        URL.revokeObjectURL(url);
      }
      const grey = randomBytes(5 * 5, 32);
      const greyFile = new File([encodePngStored(5, 5, 1, grey) as BlobPart], 'grey.png', { type: 'image/png' });
      const files = [new File([png as BlobPart], 'a.png', { type: 'image/png' }), greyFile];
      const ds = await loadImageFiles(files, 4, S);
      assertEqual([ds.count, ds.height, ds.width, ds.channels, ...ds.labels], [2, 2, 3, 3, 4, 4], 'loadImageFiles');
      close('loadImageFiles [0]', ds.images.subarray(0, 18));
      assertClose('grey PNG file as RGB', ds.images.subarray(18), resizeRef(grey, 5, 5, 1, 3, 2), {
        atol: 1e-6,
        rtol: 0,
      });
      const mixed = await imagesToDataset(
        [
          { source: imageData, label: 2 },
          { source: blob, label: 0 },
        ],
        S,
      );
      assertEqual(Array.from(mixed.labels), [2, 0], 'imagesToDataset labels');
      close('imagesToDataset [1]', mixed.images.subarray(18));
      await assertThrows(
        () => loadImageFiles([new File(['not a picture'], 'notes.txt')], 0, S),
        /imagePixels: cannot decode 'notes.txt' as a picture/,
      );
      await assertThrows(
        () => imagesToDataset([{ source: blob, label: 300 }], S),
        /item 0: 'label' must be an integer in 0..255, got 300/,
      );
    },
    { envs: ['browser'] },
  );
});
