// Random affine augmentation of 28x28 digits (rotation, scale, shift). The parameters are drawn
// here from a seeded generator, so the page can caption each copy ("+12°, ×1.08, (2, -1)"); the
// matrices and the warping are the engine's (through engine-adapter.ts): the GPU kernel when a
// WebGPU model trains, its CPU twin (the kernel's test reference) for the CPU model and for the
// augmentation panel. Both use the same matrices, so the panel shows what the network sees.

import { affineMatrices, warpCpu } from './engine-adapter.js';
import { mulberry32 } from './net-spec.js';
import { DEFAULT_AUGMENT, type AugmentOptions } from './augment-options.js';

export { DEFAULT_AUGMENT, type AugmentOptions };

/** One forward transform about the image centre: rotate (degrees), scale, then shift (pixels). */
export interface Affine {
  angle: number;
  scale: number;
  dx: number;
  dy: number;
}

export function randomAffine(rand: () => number, o: AugmentOptions): Affine {
  const u = () => rand() * 2 - 1;
  return { angle: u() * o.rotate, scale: 1 + u() * o.scale, dx: u() * o.shift, dy: u() * o.shift };
}

/** n random transforms and their output->input matrices [n*6] (the engine's convention). */
export function randomMatrices(
  n: number,
  rand: () => number,
  o: AugmentOptions,
): { params: Affine[]; matrices: Float32Array } {
  const params = Array.from({ length: n }, () => randomAffine(rand, o));
  return { params, matrices: affineMatrices(params) };
}

/** `count` augmented copies of one image from a fixed seed (the augmentation panel). */
export function augmentVariants(
  img: Float32Array,
  count: number,
  seed: number,
  o: AugmentOptions = DEFAULT_AUGMENT,
): { images: Float32Array; params: Affine[] } {
  const { params, matrices } = randomMatrices(count, mulberry32(seed), o);
  const src = new Float32Array(count * 784);
  for (let i = 0; i < count; i++) src.set(img.subarray(0, 784), i * 784);
  return { images: warpCpu(src, count, matrices), params };
}
