// Random affine augmentation (shift, rotation, scale) with bilinear sampling: the per-sample
// matrices, and the CPU implementation (float64 arithmetic; the test reference, the demo's
// augmentation view, and batches({augment})). The GPU version is augment-gpu.ts; both read the
// same matrices.
//
// Matrix convention (one row of 6 per sample, "inverse" map from output to input pixel):
//   sx = m0*x + m1*y + m2,  sy = m3*x + m4*y + m5
// for output pixel column x, row y (pixel centres at integer coordinates). The output is the
// input bilinearly sampled at (sx, sy); taps outside the image read `fill`.
// For a forward transform "scale by s and rotate by θ about the centre c, then shift by t":
//   dst = s·R(θ)·(src − c) + c + t   ⇒   src = R(−θ)/s · (dst − c − t) + c.
// Identity matrices reproduce the input exactly (bilinear weights 1 and 0).

import { checkSeed, createRng, uniform, type Rng } from './rng.js';

export interface AugmentOptions {
  /** max shift in pixels, uniform in [-shift, shift] along x and y (default 0) */
  shift?: number;
  /** max rotation in degrees, uniform in [-rotate, rotate] (default 0) */
  rotate?: number;
  /** scale range [lo, hi], uniform (default [1, 1]) */
  scale?: readonly [number, number];
  /** value read outside the image (default 0: MNIST background before normalisation) */
  fill?: number;
}

export interface ImageDims {
  n: number;
  height: number;
  width: number;
  channels: number;
}

export interface AffineParams {
  /** degrees */
  angle: number;
  scale: number;
  tx: number;
  ty: number;
}

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

export function checkAugmentOptions(where: string, o: AugmentOptions): void {
  const shift = o.shift ?? 0,
    rotate = o.rotate ?? 0,
    [lo, hi] = o.scale ?? [1, 1],
    fill = o.fill ?? 0;
  if (!(Number.isFinite(shift) && shift >= 0))
    throw new RangeError(`webgpu-cnn: ${where}: 'shift' must be a number >= 0, got ${shift}`);
  if (!(Number.isFinite(rotate) && rotate >= 0 && rotate <= 180))
    throw new RangeError(`webgpu-cnn: ${where}: 'rotate' must be in [0, 180] degrees, got ${rotate}`);
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo > 0 && lo <= hi))
    throw new RangeError(`webgpu-cnn: ${where}: 'scale' must be [lo, hi] with 0 < lo <= hi, got [${lo}, ${hi}]`);
  if (!Number.isFinite(fill)) throw new TypeError(`webgpu-cnn: ${where}: 'fill' must be a finite number, got ${fill}`);
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

/** Float64 reference of the GPU kernel (same matrices, same sampling). */
export function augmentRef(
  src: ArrayLike<number>,
  dims: ImageDims,
  matrices: ArrayLike<number>,
  fill = 0,
): Float64Array {
  return warpAffine(src, dims, matrices, new Float64Array(src.length), fill);
}

/** CPU augmentation into a new Float32Array (e.g. for showing augmented digits in the demo). */
export function augmentCpu(
  src: ArrayLike<number>,
  dims: ImageDims,
  matrices: ArrayLike<number>,
  fill = 0,
): Float32Array {
  return warpAffine(src, dims, matrices, new Float32Array(src.length), fill);
}

/** Augment a batch in place with random matrices from `seed` (used by batches({augment})). */
export function augmentBatchCpu(images: Float32Array, dims: ImageDims, opts: AugmentOptions, seed: number): void {
  const m = randomAffines(dims.n, dims.height, dims.width, opts, seed);
  images.set(warpAffine(images, dims, m, new Float32Array(images.length), opts.fill ?? 0));
}
