// Pictures from files in Node: decode PNG and JPEG bytes, read one file, and load a folder with
// one sub-folder per class into an ImageDataset (RGB, resized and centre-cropped by
// src/data/resize.ts). Browsers decode pictures themselves: see src/data/images-browser.ts.
//
// The decoders are the optional peer packages fast-png and jpeg-js, imported at call time
// through variable specifiers: bundles of the library never contain or resolve them, and an
// application that does not load pictures in Node does not need them.

import type { ImageDataset } from '../data/dataset.js';
import { resizeCenterCrop } from '../data/resize.js';
import { checkOptions, describe, optionKeys } from '../tensor/args.js';

/** A decoded picture: `channels` values per pixel (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA), 8 bits each. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

/** Options of {@link loadImageFolder}: the output size in pixels and the class folders. */
export interface ImageFolderOptions {
  /** the size every picture is resized and centre-cropped to */
  size: { width: number; height: number };
  /** class folder names, in label order (default: every sub-folder, sorted) */
  classes?: string[];
}

const NODE_FS = 'node:fs/promises';
const NODE_PATH = 'node:path';
const FAST_PNG = 'fast-png';
const JPEG_JS = 'jpeg-js';
const EXTENSIONS = ['.png', '.jpg', '.jpeg'];

async function decoder<T>(pkg: string): Promise<T> {
  try {
    const m = (await import(/* @vite-ignore */ pkg)) as T & { default?: T };
    return (m as { decode?: unknown }).decode ? m : (m.default as T);
  } catch (e) {
    throw new Error(
      `webgpu-cnn: decodeImage: the optional package '${pkg}' is missing (${(e as Error).message}): run \`npm install fast-png jpeg-js\``,
    );
  }
}

interface FastPng {
  decode(b: Uint8Array): {
    width: number;
    height: number;
    channels: number;
    depth: number;
    data: Uint8Array | Uint8ClampedArray | Uint16Array;
    palette?: number[][];
  };
  convertIndexedToRgb(png: unknown): Uint8Array;
}
interface JpegJs {
  decode(
    b: Uint8Array,
    o: { useTArray: true; formatAsRGBA: boolean },
  ): { width: number; height: number; data: Uint8Array };
}

/** 8-bit samples of a PNG's decoded data (16-bit: the high byte; 1/2/4-bit grey: scaled to 0..255). */
function eightBit(png: ReturnType<FastPng['decode']>): Uint8Array {
  const { width, height, channels, depth, data } = png;
  if (depth === 8) return data instanceof Uint8Array ? data : new Uint8Array(data);
  if (depth === 16) return Uint8Array.from(data, (v) => v >> 8);
  const out = new Uint8Array(width * height * channels);
  const stride = Math.ceil((width * channels * depth) / 8);
  const max = (1 << depth) - 1;
  for (let y = 0; y < height; y++)
    for (let i = 0; i < width * channels; i++) {
      const bit = i * depth;
      const v = (data[y * stride + (bit >> 3)] >> (8 - depth - (bit & 7))) & max;
      out[y * width * channels + i] = Math.round((v * 255) / max);
    }
  return out;
}

/** Decode PNG or JPEG bytes (recognised by their signature); `nameForErrors` names the input in errors. */
export async function decodeImage(bytes: Uint8Array, nameForErrors = 'image'): Promise<DecodedImage> {
  const isPng = bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (!isPng && !isJpeg)
    throw new Error(`webgpu-cnn: decodeImage: ${nameForErrors} is neither a PNG nor a JPEG (its first bytes)`);
  const fail = (e: unknown): never => {
    throw new Error(
      `webgpu-cnn: decodeImage: ${nameForErrors}: cannot decode the ${isPng ? 'PNG' : 'JPEG'} (${(e as Error).message})`,
    );
  };
  if (isPng) {
    const png = await decoder<FastPng>(FAST_PNG);
    let d: ReturnType<FastPng['decode']>;
    try {
      d = png.decode(bytes);
    } catch (e) {
      return fail(e);
    }
    if (d.palette) {
      const data = png.convertIndexedToRgb(d);
      return { width: d.width, height: d.height, channels: data.length / (d.width * d.height), data };
    }
    return { width: d.width, height: d.height, channels: d.channels, data: eightBit(d) };
  }
  const jpeg = await decoder<JpegJs>(JPEG_JS);
  try {
    const d = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
    const channels = d.data.length / (d.width * d.height);
    return { width: d.width, height: d.height, channels, data: d.data };
  } catch (e) {
    return fail(e);
  }
}

/** Read and decode one PNG or JPEG file (Node). */
export async function readImageFile(path: string): Promise<DecodedImage> {
  const fs = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
  const b = await fs.readFile(path);
  return decodeImage(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), path);
}

/**
 * Every .png/.jpg/.jpeg in `dir`/<class>/ (other files and hidden ones, named '.*', are
 * skipped), as RGB pictures resized and centre-cropped to `size`, labelled by the class
 * folder's index in `classes` (default: the sub-folders of `dir` not named '.*', sorted). Samples are in class order, files sorted by name.
 */
export async function loadImageFolder(
  dir: string,
  opts: ImageFolderOptions,
): Promise<{ dataset: ImageDataset; classes: string[] }> {
  const where = 'loadImageFolder';
  const fs = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
  const path = (await import(/* @vite-ignore */ NODE_PATH)) as typeof import('node:path');
  if (opts === null || typeof opts !== 'object')
    throw new TypeError(
      `webgpu-cnn: ${where}: 'opts' must be { size: { width, height }, classes? }, got ${describe(opts)}`,
    );
  checkOptions(where, 'opts', opts, optionKeys<ImageFolderOptions>({ size: true, classes: true }));
  const { width, height } = opts.size ?? {};
  if (!Number.isInteger(width) || !Number.isInteger(height) || width! < 1 || height! < 1)
    throw new RangeError(
      `webgpu-cnn: ${where}: 'size' must be { width, height } of integers >= 1, got ${JSON.stringify(opts?.size)}`,
    );
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new Error(`webgpu-cnn: ${where}: cannot read the folder ${dir} (${(e as Error).message})`);
  }
  // hidden entries (.git, macOS's ._name copies) are neither classes nor pictures
  const found = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  if (
    opts.classes !== undefined &&
    !(
      Array.isArray(opts.classes) &&
      opts.classes.every((c) => typeof c === 'string') &&
      new Set(opts.classes).size === opts.classes.length
    )
  )
    throw new TypeError(
      `webgpu-cnn: ${where}: 'classes' must be an array of distinct folder names, got ${describe(opts.classes)}`,
    );
  const classes = opts.classes ? [...opts.classes] : found.sort();
  if (classes.length === 0)
    throw new Error(`webgpu-cnn: ${where}: ${dir} has no class sub-folders (want ${dir}/<class>/<picture>.png|.jpg)`);
  if (classes.length > 256) throw new RangeError(`webgpu-cnn: ${where}: ${classes.length} classes, at most 256`);
  for (const c of classes)
    if (!found.includes(c)) throw new Error(`webgpu-cnn: ${where}: class folder ${path.join(dir, c)} does not exist`);
  const px = width! * height! * 3;
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  for (let label = 0; label < classes.length; label++) {
    const sub = path.join(dir, classes[label]);
    const files = (await fs.readdir(sub, { withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.startsWith('.') && EXTENSIONS.includes(path.extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort();
    if (files.length === 0)
      throw new Error(`webgpu-cnn: ${where}: the class folder ${sub} has no .png/.jpg/.jpeg files`);
    for (const f of files) {
      const img = await readImageFile(path.join(sub, f));
      parts.push(resizeCenterCrop(img.data, img.width, img.height, img.channels, width!, height!));
      labels.push(label);
    }
  }
  const images = new Float32Array(parts.length * px);
  parts.forEach((p, i) => images.set(p, i * px));
  const dataset = {
    images,
    labels: Uint8Array.from(labels),
    count: labels.length,
    height: height!,
    width: width!,
    channels: 3,
  };
  return { dataset, classes };
}
