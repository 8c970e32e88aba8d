// Random augmentation: affine (shift, rotation, scale, crop, flip) with bilinear sampling, and
// colour jitter (brightness, contrast, saturation): the per-sample parameters, and the CPU
// implementation (float64 arithmetic; the test reference, the demo's augmentation view, and
// batches({augment})). The GPU version is augment-gpu.ts; both read the same parameters. The
// colour stage itself is colour-jitter.ts.
//
// Matrix convention (one row of 6 per sample, "inverse" map from output to input pixel):
//   sx = m0*x + m1*y + m2,  sy = m3*x + m4*y + m5
// for output pixel column x, row y (pixel centres at integer coordinates). The output is the
// input bilinearly sampled at (sx, sy); taps outside the image read `fill`.
// For a forward transform "scale by s and rotate by θ about the centre c, then shift by t":
//   dst = s·R(θ)·(src − c) + c + t   ⇒   src = R(−θ)/s · (dst − c − t) + c.
// Identity matrices reproduce the input exactly (bilinear weights 1 and 0).
//
// randomAugment rows hold 9 numbers: the matrix, then the brightness delta, the contrast factor
// and the saturation factor. Crop and flip are folded into the matrix: the forward transform
// mirrors the input (x → W−1−x) when flipped, then scales/rotates, then shifts by the random
// shift plus the crop offset (an integer in [−crop, crop] per axis), so a crop alone is an exact
// integer translation with `fill` outside: "pad by crop, take a random window" of CIFAR.

import { checkSeed, createRng, mixSeed, STREAM, uniform, type Rng } from './rng.js';
import { checkOptions, describe, optionKeys } from '../tensor/args.js';
import { checkColourChannels, colourJitter, type ImageDims } from './colour-jitter.js';

/**
 * Random augmentation settings, drawn per sample ({@link randomAugment}, {@link augment},
 * `batches({ augment })`). Every option defaults to no change; unknown keys or out-of-range values
 * throw.
 */
export interface AugmentOptions {
  /** max shift in pixels, uniform in [-shift, shift] along x and y (default 0) */
  shift?: number;
  /** max rotation in degrees, uniform in [-rotate, rotate] (default 0) */
  rotate?: number;
  /** scale range [lo, hi], uniform (default [1, 1]) */
  scale?: readonly [number, number];
  /** value read outside the image (default 0: MNIST background before normalisation) */
  fill?: number;
  /** random crop with padding: an integer translation uniform in [-crop, crop] per axis (default 0) */
  crop?: number;
  /** mirror left-right with probability 0.5 (default false) */
  flip?: boolean;
  /** add delta uniform in [-brightness, brightness] to every value, in [0, 1] (default 0) */
  brightness?: number;
  /** scale around the image's mean grey by a factor uniform in [1-contrast, 1+contrast], in [0, 1] */
  contrast?: number;
  /** blend with the pixel's grey by a factor uniform in [1-s, 1+s], in [0, 1]; no-op on 1 channel */
  saturation?: number;
}

/** Numbers per sample in randomAugment's rows: the 6 of the matrix, then delta, contrast, saturation. */
export const AUGMENT_PARAMS = 9;

const AUGMENT_KEYS = optionKeys<AugmentOptions>({
  shift: true,
  rotate: true,
  scale: true,
  fill: true,
  crop: true,
  flip: true,
  brightness: true,
  contrast: true,
  saturation: true,
});

// ImageDims lives in colour-jitter.ts (which this module imports): one type for both.
export type { ImageDims };

/**
 * One forward transform about the image centre for {@link affineMatrix}: rotate by `angle` degrees and
 * scale by `scale`, then shift by (`tx`, `ty`) pixels.
 */
export interface AffineParams {
  /** degrees */
  angle: number;
  scale: number;
  tx: number;
  ty: number;
}

/** The identity output→input matrix [1, 0, 0, 0, 1, 0] (sx = x, sy = y): reproduces the input exactly. */
export const IDENTITY_AFFINE: readonly number[] = [1, 0, 0, 0, 1, 0];

/** The output→input matrix (6 numbers) of one forward transform about the image centre. */
export function affineMatrix(p: AffineParams, height: number, width: number): number[] {
  const th = (p.angle * Math.PI) / 180;
  const cos = Math.cos(th) / p.scale,
    sin = Math.sin(th) / p.scale;
  const cx = (width - 1) / 2,
    cy = (height - 1) / 2;
  const a = cos,
    b = sin,
    c = -sin,
    d = cos;
  const ux = cx + p.tx,
    uy = cy + p.ty;
  return [a, b, cx - (a * ux + b * uy), c, d, cy - (c * ux + d * uy)];
}

/** Whether the options ask for colour jitter (then the colour stage runs, clamping to [0, 1]). */
export function hasColourJitter(o: AugmentOptions): boolean {
  return (o.brightness ?? 0) > 0 || (o.contrast ?? 0) > 0 || (o.saturation ?? 0) > 0;
}

/** Check augmentation options; with `channels`, also that colour jitter suits the images. */
export function checkAugmentOptions(where: string, o: AugmentOptions, channels?: number): void {
  if (o === null || typeof o !== 'object' || Array.isArray(o))
    throw new TypeError(`webgpu-cnn: ${where}: 'augment' must be an options object, got ${describe(o)}`);
  checkOptions(where, 'augment', o, AUGMENT_KEYS);
  const shift = o.shift ?? 0,
    rotate = o.rotate ?? 0,
    [lo, hi] = o.scale ?? [1, 1],
    fill = o.fill ?? 0,
    crop = o.crop ?? 0;
  if (!(Number.isFinite(shift) && shift >= 0))
    throw new RangeError(`webgpu-cnn: ${where}: 'shift' must be a number >= 0, got ${shift}`);
  if (!(Number.isFinite(rotate) && rotate >= 0 && rotate <= 180))
    throw new RangeError(`webgpu-cnn: ${where}: 'rotate' must be in [0, 180] degrees, got ${rotate}`);
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo > 0 && lo <= hi))
    throw new RangeError(`webgpu-cnn: ${where}: 'scale' must be [lo, hi] with 0 < lo <= hi, got [${lo}, ${hi}]`);
  if (!Number.isFinite(fill)) throw new TypeError(`webgpu-cnn: ${where}: 'fill' must be a finite number, got ${fill}`);
  if (!(Number.isInteger(crop) && crop >= 0))
    throw new RangeError(`webgpu-cnn: ${where}: 'crop' must be an integer >= 0 (pixels), got ${describe(o.crop)}`);
  if (o.flip !== undefined && typeof o.flip !== 'boolean')
    throw new TypeError(`webgpu-cnn: ${where}: 'flip' must be a boolean, got ${describe(o.flip)}`);
  for (const k of ['brightness', 'contrast', 'saturation'] as const) {
    const v = o[k] ?? 0;
    if (!(typeof v === 'number' && v >= 0 && v <= 1))
      throw new RangeError(`webgpu-cnn: ${where}: '${k}' must be a number in [0, 1], got ${describe(o[k])}`);
  }
  if (channels !== undefined && hasColourJitter(o)) checkColourChannels(where, channels);
}

/** Random per-sample matrices [n*6] (f32, ready to upload), seeded. */
export function randomAffines(
  n: number,
  height: number,
  width: number,
  opts: AugmentOptions,
  seed: number | Rng,
): Float32Array {
  checkAugmentOptions('randomAffines', opts);
  if (opts.crop || opts.flip || hasColourJitter(opts))
    throw new RangeError(
      "webgpu-cnn: randomAffines: 'crop', 'flip', 'brightness', 'contrast' and 'saturation' need randomAugment (rows of 9)",
    );
  const rng = typeof seed === 'function' ? seed : createRng(checkSeed('randomAffines', seed));
  const shift = opts.shift ?? 0,
    rot = opts.rotate ?? 0,
    [lo, hi] = opts.scale ?? [1, 1];
  const out = new Float32Array(n * 6);
  for (let i = 0; i < n; i++) {
    // Always draw four numbers, so sample i's transform does not depend on which options are on.
    const angle = uniform(rng, -rot, rot),
      scale = uniform(rng, lo, hi);
    const tx = uniform(rng, -shift, shift),
      ty = uniform(rng, -shift, shift);
    out.set(affineMatrix({ angle, scale, tx, ty }, height, width), i * 6);
  }
  return out;
}

function checkDims(where: string, d: ImageDims): void {
  if (d === null || typeof d !== 'object')
    throw new TypeError(`webgpu-cnn: ${where}: 'dims' must be {n, height, width, channels}, got ${describe(d)}`);
  for (const k of ['n', 'height', 'width', 'channels'] as const)
    if (!(Number.isInteger(d[k]) && d[k] >= (k === 'n' ? 0 : 1)))
      throw new RangeError(
        `webgpu-cnn: ${where}: 'dims.${k}' must be an integer >= ${k === 'n' ? 0 : 1}, got ${describe(d[k])}`,
      );
}

/**
 * Random per-sample parameters [n*9] (f32, ready to upload as an [n,9] tensor), seeded: the
 * matrix (shift, rotation, scale, crop, flip), then the brightness delta, the contrast factor
 * and the saturation factor (exactly 0, 1, 1 when off). The matrix draws come from
 * createRng(seed) in the order of randomAffines, and crop, flip and colour from a second stream
 * (mixSeed(seed, STREAM.augmentExtra)), 6 draws per sample whatever is on: with only shift,
 * rotate and scale the matrices equal randomAffines' for the same seed.
 */
export function randomAugment(dims: ImageDims, opts: AugmentOptions, seed: number): Float32Array {
  checkDims('randomAugment', dims);
  checkAugmentOptions('randomAugment', opts, dims.channels);
  checkSeed('randomAugment', seed);
  const { n, height: H, width: W } = dims;
  const rng = createRng(seed),
    extra = createRng(mixSeed(seed, STREAM.augmentExtra));
  const shift = opts.shift ?? 0,
    rot = opts.rotate ?? 0,
    [lo, hi] = opts.scale ?? [1, 1],
    crop = opts.crop ?? 0,
    b = opts.brightness ?? 0,
    c = opts.contrast ?? 0,
    s = opts.saturation ?? 0;
  const out = new Float32Array(n * AUGMENT_PARAMS);
  for (let i = 0; i < n; i++) {
    const angle = uniform(rng, -rot, rot),
      scale = uniform(rng, lo, hi);
    const tx = uniform(rng, -shift, shift),
      ty = uniform(rng, -shift, shift);
    const cx = Math.floor(extra() * (2 * crop + 1)) - crop,
      cy = Math.floor(extra() * (2 * crop + 1)) - crop,
      flip = extra() < 0.5 && opts.flip === true;
    const delta = uniform(extra, -b, b),
      cf = uniform(extra, 1 - c, 1 + c),
      sf = uniform(extra, 1 - s, 1 + s);
    const m = affineMatrix({ angle, scale, tx: tx + cx, ty: ty + cy }, H, W);
    // Mirror the input first: sx' = (W-1) - sx.
    if (flip) m.splice(0, 3, -m[0], -m[1], W - 1 - m[2]);
    m.push(delta, cf, sf);
    out.set(m, i * AUGMENT_PARAMS);
  }
  return out;
}

/** The 6 matrix numbers of each row of 9 (or the rows themselves when they hold 6). */
export function affineColumns(params: ArrayLike<number>, n: number): ArrayLike<number> {
  if (params.length !== n * AUGMENT_PARAMS) return params;
  const m = new Float64Array(n * 6);
  for (let i = 0; i < n; i++) for (let j = 0; j < 6; j++) m[i * 6 + j] = params[i * AUGMENT_PARAMS + j];
  return m;
}

/**
 * Warp every image by its matrix, bilinear, `fill` outside. Arithmetic in float64; the result
 * is stored in `out` (Float64Array for the reference, Float32Array for use).
 */
export function warpAffine<T extends Float32Array | Float64Array>(
  src: ArrayLike<number>,
  dims: ImageDims,
  matrices: ArrayLike<number>,
  out: T,
  fill = 0,
): T {
  const { n, height: H, width: W, channels: C } = dims;
  if (src.length !== n * H * W * C)
    throw new RangeError(`webgpu-cnn: warpAffine: images hold ${src.length} values, want ${n}*${H}*${W}*${C}`);
  if (matrices.length !== n * 6)
    throw new RangeError(`webgpu-cnn: warpAffine: matrices hold ${matrices.length} values, want ${n}*6`);
  if (out.length !== src.length)
    throw new RangeError(`webgpu-cnn: warpAffine: output holds ${out.length} values, want ${src.length}`);
  const tap = (base: number, x: number, y: number, ch: number) =>
    x < 0 || y < 0 || x >= W || y >= H ? fill : src[base + (y * W + x) * C + ch];
  for (let s = 0; s < n; s++) {
    const k = s * 6,
      base = s * H * W * C;
    for (let oy = 0; oy < H; oy++)
      for (let ox = 0; ox < W; ox++) {
        const sx = matrices[k] * ox + matrices[k + 1] * oy + matrices[k + 2];
        const sy = matrices[k + 3] * ox + matrices[k + 4] * oy + matrices[k + 5];
        const o = base + (oy * W + ox) * C;
        if (!(sx > -1 && sx < W && sy > -1 && sy < H)) {
          for (let ch = 0; ch < C; ch++) out[o + ch] = fill;
          continue;
        }
        const x0 = Math.floor(sx),
          y0 = Math.floor(sy),
          ax = sx - x0,
          ay = sy - y0;
        for (let ch = 0; ch < C; ch++) {
          const top = (1 - ax) * tap(base, x0, y0, ch) + ax * tap(base, x0 + 1, y0, ch);
          const bot = (1 - ax) * tap(base, x0, y0 + 1, ch) + ax * tap(base, x0 + 1, y0 + 1, ch);
          out[o + ch] = (1 - ay) * top + ay * bot;
        }
      }
  }
  return out;
}

/**
 * Float64 reference of the GPU kernel (same parameters, same sampling): rows of 6 warp only;
 * rows of 9 warp, then apply the colour jitter (colour-jitter.ts, clamped to [0, 1]).
 */
export function augmentRef(src: ArrayLike<number>, dims: ImageDims, params: ArrayLike<number>, fill = 0): Float64Array {
  const warped = warpAffine(src, dims, affineColumns(params, dims.n), new Float64Array(src.length), fill);
  return params.length === dims.n * AUGMENT_PARAMS && dims.n > 0 ? colourJitter(warped, dims, params, warped) : warped;
}

/** CPU augmentation into a new Float32Array (e.g. for showing augmented digits in the demo). */
export function augmentCpu(src: ArrayLike<number>, dims: ImageDims, params: ArrayLike<number>, fill = 0): Float32Array {
  if (params.length !== dims.n * AUGMENT_PARAMS || dims.n === 0)
    return warpAffine(src, dims, params, new Float32Array(src.length), fill);
  const warped = warpAffine(src, dims, affineColumns(params, dims.n), new Float64Array(src.length), fill);
  return colourJitter(warped, dims, params, new Float32Array(src.length));
}

/**
 * Augment a batch in place with random parameters from `seed` (used by batches({augment})).
 * The colour stage (and its clamp to [0, 1]) runs only when a colour option is on, so affine
 * options alone give the same images as before colour jitter existed.
 */
export function augmentBatchCpu(images: Float32Array, dims: ImageDims, opts: AugmentOptions, seed: number): void {
  const rows = randomAugment(dims, opts, seed);
  const params = hasColourJitter(opts) ? rows : affineColumns(rows, dims.n);
  images.set(augmentCpu(images, dims, params, opts.fill ?? 0));
}
