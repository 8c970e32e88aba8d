// Pictures in the browser: files, blobs, bitmaps, canvases and <img> elements to RGB pixels of
// a network's input size, and lists of labelled pictures to an ImageDataset. The platform
// decodes (createImageBitmap); the pixels are read at their own size from an OffscreenCanvas
// and then resized and centre-cropped by resizeCenterCrop (src/data/resize.ts), not by the
// canvas, so the browser gives exactly what loadImageFolder gives in Node for the same picture.
// Browser APIs are looked up at call time: importing this module in Node is harmless, and
// ImageData-like { data, width, height } inputs work in Node too.

import type { ImageDataset } from './dataset.js';
import { resizeCenterCrop } from './resize.js';

/**
 * A picture the browser can decode (file, blob, bitmap, canvas, `<img>` element), or ImageData-like
 * RGBA bytes `{ data, width, height }` (which also work in Node).
 */
export type ImageSourceInput =
  | File
  | Blob
  | ImageBitmap
  | ImageData
  | HTMLCanvasElement
  | OffscreenCanvas
  | HTMLImageElement
  | { data: Uint8ClampedArray | Uint8Array; width: number; height: number };

/** A picture size in pixels (integers >= 1; other values throw a RangeError). */
export interface ImageSize {
  width: number;
  height: number;
}

function checkSize(where: string, size: ImageSize): void {
  const { width, height } = size ?? ({} as ImageSize);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new RangeError(
      `webgpu-cnn: ${where}: 'size' must be { width, height } of integers >= 1, got ${JSON.stringify(size)}`,
    );
}

const nameOf = (s: unknown): string =>
  typeof File !== 'undefined' && s instanceof File ? `'${s.name}'` : Object.prototype.toString.call(s);

/** RGBA bytes of `source` at its own size. */
async function rgba(
  where: string,
  source: ImageSourceInput,
): Promise<{ data: ArrayLike<number>; width: number; height: number }> {
  if (source && typeof source === 'object' && 'data' in source && 'width' in source && 'height' in source) {
    const d = source as { data: Uint8ClampedArray | Uint8Array; width: number; height: number };
    if (d.data.length !== 4 * d.width * d.height)
      throw new RangeError(
        `webgpu-cnn: ${where}: image data of ${d.width}x${d.height} must hold ${4 * d.width * d.height} RGBA bytes, got ${d.data.length}`,
      );
    return d;
  }
  if (typeof createImageBitmap === 'undefined' || typeof OffscreenCanvas === 'undefined')
    throw new TypeError(
      `webgpu-cnn: ${where}: decoding ${nameOf(source)} needs createImageBitmap and OffscreenCanvas (a browser); ` +
        'in Node use readImageFile/loadImageFolder, or pass ImageData-like { data, width, height }',
    );
  let bitmap: ImageBitmap;
  try {
    bitmap =
      source instanceof ImageBitmap
        ? source
        : await createImageBitmap(source as ImageBitmapSource, {
            premultiplyAlpha: 'none',
            colorSpaceConversion: 'none',
          });
  } catch (e) {
    throw new Error(`webgpu-cnn: ${where}: cannot decode ${nameOf(source)} as a picture (${(e as Error).message})`);
  }
  try {
    const c = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = c.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(bitmap, 0, 0);
    return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  } finally {
    if (bitmap !== source) bitmap.close();
  }
}

/**
 * `source` as size.height*size.width*3 RGB values in [0, 1] (HWC): decoded by the browser,
 * scaled to cover `size` and centre-cropped (area averaging when shrinking, bilinear when
 * enlarging; alpha ignored).
 */
export async function imagePixels(source: ImageSourceInput, size: ImageSize): Promise<Float32Array> {
  checkSize('imagePixels', size);
  const img = await rgba('imagePixels', source);
  const bytes =
    img.data instanceof Uint8Array || img.data instanceof Uint8ClampedArray ? img.data : Uint8Array.from(img.data);
  return resizeCenterCrop(bytes, img.width, img.height, 4, size.width, size.height);
}

/** Labelled pictures as an RGB ImageDataset of `size` (in the order given). */
export async function imagesToDataset(
  items: readonly { source: ImageSourceInput; label: number }[],
  size: ImageSize,
): Promise<ImageDataset> {
  checkSize('imagesToDataset', size);
  if (!Array.isArray(items))
    throw new TypeError("webgpu-cnn: imagesToDataset: 'items' must be an array of { source, label }");
  const px = size.width * size.height * 3;
  const images = new Float32Array(items.length * px);
  const labels = new Uint8Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const { source, label } = items[i] ?? {};
    if (!Number.isInteger(label) || label < 0 || label > 255)
      throw new RangeError(
        `webgpu-cnn: imagesToDataset: item ${i}: 'label' must be an integer in 0..255, got ${label}`,
      );
    images.set(await imagePixels(source, size), i * px);
    labels[i] = label;
  }
  return { images, labels, count: items.length, height: size.height, width: size.width, channels: 3 };
}

/** Picture files (e.g. from <input type="file" multiple> or a drop), all of class `label`. */
export function loadImageFiles(
  files: readonly File[] | FileList,
  label: number,
  size: ImageSize,
): Promise<ImageDataset> {
  return imagesToDataset(
    Array.from(files as ArrayLike<File>, (source) => ({ source, label })),
    size,
  );
}
