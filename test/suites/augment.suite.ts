// Augmentation for colour images (issue #17): randomAugment's rows (seeded, crop and flip folded
// into the matrix, randomAffines' matrices unchanged), the float64 colour-jitter reference
// against hand-computed values, the GPU kernel (rows of 9) against the reference on odd shapes,
// exact crops and flips on the GPU, reproducibility, and batches({augment}) with the new options.
// The affine-only kernel (rows of 6) is tested in data.suite.ts.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { empty, tensor } from '../../src/tensor/tensor.js';
import {
  AUGMENT_PARAMS,
  augmentCpu,
  augmentRef,
  randomAffines,
  randomAugment,
  type AugmentOptions,
  type ImageDims,
} from '../../src/data/augment.js';
import { colourJitter } from '../../src/data/colour-jitter.js';
import { augment } from '../../src/data/augment-gpu.js';
import { batches } from '../../src/data/batch.js';
import { mixSeed, STREAM } from '../../src/data/rng.js';

const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));

/** Pixel (y, x, ch) of image s, `fill` outside. */
const at = (img: ArrayLike<number>, d: ImageDims, s: number, y: number, x: number, ch: number, fill = 0) =>
  x < 0 || y < 0 || x >= d.width || y >= d.height ? fill : img[((s * d.height + y) * d.width + x) * d.channels + ch];

/** An image built from f(s, y, x, ch). */
const build = (d: ImageDims, f: (s: number, y: number, x: number, ch: number) => number) =>
  Float32Array.from({ length: d.n * d.height * d.width * d.channels }, (_, i) => {
    const ch = i % d.channels,
      p = Math.floor(i / d.channels);
    const x = p % d.width,
      y = Math.floor(p / d.width) % d.height,
      s = Math.floor(p / (d.width * d.height));
    return f(s, y, x, ch);
  });

const FULL: AugmentOptions = {
  shift: 1.5,
  rotate: 15,
  scale: [0.9, 1.1],
  crop: 2,
  flip: true,
  brightness: 0.2,
  contrast: 0.4,
  saturation: 0.5,
};

suite('augment', (test) => {
  test('randomAugment: seeded, randomAffines matrices kept, crop integer, flip mirror, option errors', async () => {
    const dims: ImageDims = { n: 200, height: 7, width: 9, channels: 3 };
    const r1 = randomAugment(dims, FULL, 7),
      r2 = randomAugment(dims, FULL, 7);
    assertEqual(r1.length, 200 * AUGMENT_PARAMS, 'rows of 9');
    assert(same(r1, r2), 'same seed, same rows');
    assert(!same(r1, randomAugment(dims, FULL, 8)), 'another seed, other rows');
    // With only the affine options, the matrices are randomAffines' for the same seed, and the
    // colour columns are exactly (0, 1, 1).
    const affine: AugmentOptions = { shift: 3, rotate: 10, scale: [0.9, 1.1] };
    const rows = randomAugment(dims, affine, 5),
      old = randomAffines(200, 7, 9, affine, 5);
    for (let i = 0; i < 200; i++) {
      assert(same(rows.subarray(i * 9, i * 9 + 6), old.subarray(i * 6, i * 6 + 6)), `row ${i}: randomAffines' matrix`);
      assert(same(rows.subarray(i * 9 + 6, i * 9 + 9), [0, 1, 1]), `row ${i}: identity colour`);
    }
    // crop 2 alone: [1, 0, -cx, 0, 1, -cy] with integers cx, cy in [-2, 2], all 25 pairs seen.
    const crops = randomAugment(dims, { crop: 2 }, 3),
      pairs = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const m = crops.subarray(i * 9, i * 9 + 6);
      assert(m[0] === 1 && m[1] === 0 && m[3] === 0 && m[4] === 1, `crop row ${i} is a translation`);
      assert(Number.isInteger(m[2]) && Number.isInteger(m[5]) && Math.abs(m[2]) <= 2 && Math.abs(m[5]) <= 2, 'integer');
      pairs.add(`${m[2]},${m[5]}`);
    }
    assertEqual(pairs.size, 25, 'every crop offset drawn');
    // flip alone: [-1, 0, W-1, 0, 1, 0] or the identity, about half each.
    const flips = randomAugment(dims, { flip: true }, 3);
    let flipped = 0;
    for (let i = 0; i < 200; i++) {
      const m = [...flips.subarray(i * 9, i * 9 + 6)].map((v) => v + 0); // -0 -> 0
      if (m[0] === -1) (flipped += 1), assertEqual(m, [-1, 0, 8, 0, 1, 0], 'mirror matrix');
      else assertEqual(m, [1, 0, 0, 0, 1, 0], 'identity matrix');
    }
    assert(flipped > 70 && flipped < 130, `about half flipped, got ${flipped}/200`);
    // colour factors within their ranges, and spread over them
    const lo = [Infinity, Infinity, Infinity],
      hi = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < 200; i++)
      for (let j = 0; j < 3; j++)
        (lo[j] = Math.min(lo[j], r1[i * 9 + 6 + j])), (hi[j] = Math.max(hi[j], r1[i * 9 + 6 + j]));
    const want = [
      [-0.2, 0.2],
      [0.6, 1.4],
      [0.5, 1.5],
    ];
    for (let j = 0; j < 3; j++)
      assert(
        lo[j] >= want[j][0] && hi[j] <= want[j][1] && hi[j] - lo[j] > 0.8 * (want[j][1] - want[j][0]),
        `range ${j}`,
      );
    const d1 = { ...dims, n: 1 };
    await assertThrows(() => randomAugment(d1, { crop: 1.5 }, 1), /randomAugment: 'crop' must be an integer >= 0/);
    await assertThrows(
      () => randomAugment(d1, { contrast: 1.2 }, 1),
      /'contrast' must be a number in \[0, 1\], got number 1.2/,
    );
    await assertThrows(() => randomAugment(d1, { flip: 1 as unknown as boolean }, 1), /'flip' must be a boolean/);
    await assertThrows(
      () => randomAugment(d1, { flp: true } as AugmentOptions, 1),
      /unknown option 'flp' in 'augment'/,
    );
    await assertThrows(
      () => randomAugment({ ...d1, channels: 2 }, { saturation: 0.1 }, 1),
      /randomAugment: colour jitter needs 1 \(grey\) or 3 \(RGB\) channels, the images have 2/,
    );
    await assertThrows(() => randomAffines(1, 7, 9, { flip: true }, 1), /randomAffines: .*need randomAugment/);
  });

  test('colourJitter reference: hand-computed RGB values, saturation a no-op on 1 channel', async () => {
    // brightness +0.1, contrast 1.5 about the mean grey 0.4739, saturation 0.5; computed by hand
    // (Python, float64) from the formulas in colour-jitter.ts, one pixel clamped at 1.
    const img = [0.2, 0.4, 0.6, 0.9, 0.1, 0.5];
    const dims: ImageDims = { n: 1, height: 1, width: 2, channels: 3 };
    const got = colourJitter(img, dims, [0.1, 1.5, 0.5], new Float64Array(6));
    const want = [0.3353, 0.4853, 0.6353, 0.705799025, 0.237324025, 0.537324025];
    assertClose('RGB jitter', got, want, { atol: 1e-12, rtol: 0 });
    const grey = randomArray(12, 3, 0, 1),
      gd: ImageDims = { n: 2, height: 2, width: 3, channels: 1 };
    const a = colourJitter(grey, gd, [0.05, 0.7, 0.5, -0.1, 1.3, 1.4], new Float64Array(12)),
      b = colourJitter(grey, gd, [0.05, 0.7, 1, -0.1, 1.3, 1], new Float64Array(12));
    assertClose('1 channel: saturation changes nothing', a, b, { atol: 0, rtol: 0, log: false });
    assert(
      a.some((v, i) => Math.abs(v - grey[i]) > 0.01),
      'brightness and contrast do act on 1 channel',
    );
    const id = colourJitter(grey, gd, [0, 1, 1, 0, 1, 1], new Float32Array(12));
    assertClose('identity factors copy', id, grey, { atol: 0, rtol: 0, log: false });
  });

  test('augment GPU rows of 9 match the float64 reference (3x7x9x3, 3x5x5x1, 1x4x3x3, 2x11x13x3)', async () => {
    // Error budget: the warp is within 1e-5 of float64 (data.suite.ts); contrast (factor <= 1.4)
    // and saturation (<= 1.5) scale an error by at most 2 each, the f32 mean grey adds ~1e-7,
    // clamps never add error. atol 5e-5.
    const shapes: ImageDims[] = [
      { n: 3, height: 7, width: 9, channels: 3 },
      { n: 3, height: 5, width: 5, channels: 1 },
      { n: 1, height: 4, width: 3, channels: 3 },
      // 143 pixels: more than the workgroup's 64 threads, so threads loop over several pixels
      { n: 2, height: 11, width: 13, channels: 3 },
    ];
    for (const [k, dims] of shapes.entries()) {
      const { n, height: h, width: w, channels: c } = dims;
      const data = randomArray(n * h * w * c, 40 + k, 0, 1);
      const rows = randomAugment(dims, FULL, 60 + k);
      const x = tensor(data, [n, h, w, c]),
        tp = tensor(rows, [n, AUGMENT_PARAMS]);
      for (const fill of [0, 0.25]) {
        const y = augment(x, tp, { fill });
        const want = augmentRef(data, dims, rows, fill);
        assertClose(`augment [${n},${h},${w},${c}] rows of 9, fill=${fill}`, await y.read(), want, {
          atol: 5e-5,
          rtol: 0,
        });
        y.dispose();
      }
      assertClose(
        'CPU f32 version = reference rounded',
        augmentCpu(data, dims, rows),
        Float32Array.from(augmentRef(data, dims, rows)),
        {
          atol: 0,
          rtol: 0,
          log: false,
        },
      );
      x.dispose(), tp.dispose();
    }
    const x2 = empty([2, 4, 4, 2]),
      p9 = empty([2, 9]),
      p7 = empty([2, 7]);
    await assertThrows(
      () => augment(x2, p9),
      /augment \(x \[2,4,4,2\], matrices \[2,9\]\): colour jitter needs 1 \(grey\) or 3 \(RGB\) channels, the images have 2/,
    );
    await assertThrows(() => augment(x2, p7), /augment: 'matrices' must have shape \[2,6\], got \[2,7\] \(or \[2,9\]/);
    for (const t of [x2, p9, p7]) t.dispose();
  });

  test('augment GPU: crop is an exact integer shift, flip an exact mirror, same seed same output', async () => {
    const dims: ImageDims = { n: 3, height: 7, width: 9, channels: 3 };
    const data = randomArray(3 * 7 * 9 * 3, 9, 0, 1);
    const x = tensor(data, [3, 7, 9, 3]);
    const run = async (rows: Float32Array) => {
      const tp = tensor(rows, [3, AUGMENT_PARAMS]),
        y = augment(x, tp);
      const out = await y.read();
      tp.dispose(), y.dispose();
      return out;
    };
    // crop: output (y, x) = input (y + cy, x + cx) for the matrix [1,0,cx, 0,1,cy], zero outside
    const crops = randomAugment(dims, { crop: 3 }, 11);
    const want = build(dims, (s, y, xx, ch) => at(data, dims, s, y + crops[s * 9 + 5], xx + crops[s * 9 + 2], ch));
    assert(
      [0, 1, 2].some((s) => crops[s * 9 + 2] !== 0 || crops[s * 9 + 5] !== 0),
      'at least one crop moves the image',
    );
    assertClose('crop 3 (integer shift, zero fill)', await run(crops), want, { atol: 0, rtol: 0 });
    // flip every sample: rows built by hand, the mirror matrix
    const mirror = Float32Array.from({ length: 27 }, (_, i) => [-1, 0, 8, 0, 1, 0, 0, 1, 1][i % 9]);
    const mirrored = build(dims, (s, y, xx, ch) => at(data, dims, s, y, 8 - xx, ch));
    assertClose('flip (mirror)', await run(mirror), mirrored, { atol: 0, rtol: 0 });
    const flips = randomAugment(dims, { flip: true }, 2);
    assertClose(
      'randomAugment flip rows mirror or copy',
      await run(flips),
      build(dims, (s, y, xx, ch) => (flips[s * 9] === -1 ? mirrored : data)[((s * 7 + y) * 9 + xx) * 3 + ch]),
      { atol: 0, rtol: 0, log: false },
    );
    // reproducible: the same seed twice gives bit-identical GPU outputs; another seed does not
    const a = await run(randomAugment(dims, FULL, 21)),
      b = await run(randomAugment(dims, FULL, 21)),
      c = await run(randomAugment(dims, FULL, 22));
    assert(same(a, b), 'same seed, same output');
    assert(!same(a, c), 'another seed, another output');
    x.dispose();
  });

  test('batches({augment}) with crop, flip and colour: the reference, per batch seeded', async () => {
    const h = 5,
      w = 6,
      c = 3,
      count = 6;
    const ds = {
      images: randomArray(count * h * w * c, 5, 0, 1),
      labels: Uint8Array.from({ length: count }, (_, i) => i % 3),
      count,
      height: h,
      width: w,
      channels: c,
    };
    const opts = { batchSize: 4, seed: 3, shuffle: false, normalize: false as const };
    const plain = [...batches(ds, opts)],
      aug = [...batches(ds, { ...opts, augment: FULL })],
      again = [...batches(ds, { ...opts, augment: FULL })];
    assert(
      aug.every((b, i) => same(b.images, again[i].images)),
      'reproducible',
    );
    assert(
      aug.every((b, i) => !same(b.images, plain[i].images)),
      'augmented',
    );
    // batch b of epoch 0 uses the seed mixSeed(seed, STREAM.augment, 0, b) (batch.ts)
    const bseed = (b: number) => mixSeed(3, STREAM.augment, 0, b);
    for (const [b, batch] of aug.entries()) {
      const dims: ImageDims = { n: batch.size, height: h, width: w, channels: c };
      assertClose(
        `batch ${b} = augmentCpu(randomAugment rows)`,
        batch.images,
        augmentCpu(plain[b].images, dims, randomAugment(dims, FULL, bseed(b))),
        { atol: 0, rtol: 0, log: false },
      );
    }
    // affine options alone: the same images as before colour jitter existed (randomAffines, no clamp)
    const affine: AugmentOptions = { shift: 2, rotate: 10, scale: [0.9, 1.1], fill: -0.5 };
    for (const [b, batch] of [...batches(ds, { ...opts, augment: affine })].entries()) {
      const dims: ImageDims = { n: batch.size, height: h, width: w, channels: c };
      const m = randomAffines(batch.size, h, w, affine, bseed(b));
      assertClose(`affine-only batch ${b} unchanged`, batch.images, augmentCpu(plain[b].images, dims, m, -0.5), {
        atol: 0,
        rtol: 0,
        log: false,
      });
    }
    let lo = Infinity,
      hi = -Infinity;
    for (const b of aug) for (const v of b.images) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    assert(lo >= 0 && hi <= 1, `colour jitter clamps to [0, 1], got [${lo}, ${hi}]`);
    await assertThrows(
      () => batches({ ...ds, channels: 2, width: 9 }, { ...opts, augment: { contrast: 0.2 } }),
      /batches: colour jitter needs 1 \(grey\) or 3 \(RGB\) channels, the images have 2/,
    );
  });
});
