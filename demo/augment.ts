// Random affine augmentation of 28x28 digits on the CPU (rotation, scale, shift), used by the
// training worker to make batches and by the augmentation panel to show what the network sees.
// Sampling is inverse-mapped and bilinear, with zeros outside the image (MNIST's background).

import { mulberry32 } from './net-spec.js';

export interface AugmentOptions {
  /** max rotation in degrees (uniform in [-r, r]) */
  rotate: number;
  /** max relative scale change (uniform in [1 - s, 1 + s]) */
  scale: number;
  /** max shift in pixels (uniform in [-t, t] per axis) */
  shift: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = { rotate: 15, scale: 0.15, shift: 3 };

export interface Affine {
  angle: number; // radians
  scale: number;
  dx: number;
  dy: number;
}

export function randomAffine(rand: () => number, o: AugmentOptions): Affine {
  const u = () => rand() * 2 - 1;
  return { angle: (u() * o.rotate * Math.PI) / 180, scale: 1 + u() * o.scale, dx: u() * o.shift, dy: u() * o.shift };
}

/** Warp one size x size image (row-major) into `out` at `outOffset`. */
export function warp(src: ArrayLike<number>, srcOffset: number, size: number, a: Affine, out: Float32Array, outOffset: number): void {
  const c = size / 2;
  const cos = Math.cos(a.angle) / a.scale, sin = Math.sin(a.angle) / a.scale;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      // output pixel centre -> source coordinates (inverse rotation and scale about the centre)
      const px = x + 0.5 - c - a.dx, py = y + 0.5 - c - a.dy;
      const sx = cos * px + sin * py + c - 0.5, sy = -sin * px + cos * py + c - 0.5;
      const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
      const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= size || yy >= size ? 0 : src[srcOffset + yy * size + xx]);
      out[outOffset + y * size + x] =
        (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
    }
}

/** Augment a batch in place into `out` (n images of size x size), one random affine each. */
export function augmentBatch(src: Float32Array, n: number, size: number, rand: () => number, o: AugmentOptions, out: Float32Array): void {
  const px = size * size;
  for (let i = 0; i < n; i++) warp(src, i * px, size, randomAffine(rand, o), out, i * px);
}

/** `count` augmented copies of one image from a fixed seed (the augmentation panel). */
export function augmentVariants(img: ArrayLike<number>, size: number, count: number, seed: number, o: AugmentOptions = DEFAULT_AUGMENT): { images: Float32Array; params: Affine[] } {
  const rand = mulberry32(seed);
  const images = new Float32Array(count * size * size);
  const params: Affine[] = [];
  for (let i = 0; i < count; i++) {
    const a = randomAffine(rand, o);
    params.push(a);
    warp(img, 0, size, a, images, i * size * size);
  }
  return { images, params };
}
