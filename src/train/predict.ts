// Prediction for applications: load a model file (URL, bytes, File/Blob) with its architecture
// and preprocessing, then classify an image (ImageData, canvas, ImageBitmap, Float32Array or
// tensor) the way the model was trained:
//
//   const model = await loadPredictor('/models/mnist-lenet.safetensors');
//   const { label, probabilities } = await model.predict(canvas);
//
// The preprocessing lives in the model file, metadata key "webgpu-cnn.preprocess":
// {"normalize": {"mean": m | [m per channel], "std": s | [s per channel]} | false} (files
// written before per-channel values hold numbers, and still load); the input size and channels come from the
// architecture (ModelSpec.input). Images are resized to the input size (browser: drawn onto
// an OffscreenCanvas), turned into [0, 1] values (grey: the mean of R, G and B; with
// `invert`, 1 - value, for dark ink on a light background), then normalised. A file without
// the key is taken as trained on [0, 1] values without normalisation, and says so
// (`preprocessKnown: false`).

import { Tensor, tensor } from '../tensor/tensor.js';
import { scope } from '../tensor/scope.js';
import { softmax } from '../ops/loss/index.js';
import { reshape } from '../ops/shape.js';
import { Sequential } from '../nn/sequential.js';
import type { ModelSpec } from '../nn/spec.js';
import { decodeModel } from '../io/model-file.js';
import { channelStats, type Normalization } from '../data/normalize.js';

/**
 * The model-file metadata key under which {@link preprocessMetadata} records how inputs are
 * preprocessed, as JSON: `'webgpu-cnn.preprocess'`.
 */
export const PREPROCESS_METADATA_KEY = 'webgpu-cnn.preprocess';

/**
 * How a model's inputs are preprocessed before the network: pixels scaled to [0, 1], then normalised
 * with `normalize` (or not, when false).
 */
export interface Preprocess {
  /** the mean and std the training inputs were normalised with (after scaling to [0, 1]), or false */
  normalize: Normalization | false;
}

/** The metadata entry that records how a model's inputs were preprocessed (for saveModel). */
export function preprocessMetadata(p: Preprocess): Record<string, string> {
  checkPreprocess(p, 'preprocessMetadata');
  return { [PREPROCESS_METADATA_KEY]: JSON.stringify({ normalize: p.normalize }) };
}

function checkPreprocess(p: unknown, op: string): Preprocess {
  const n = (p as { normalize?: unknown } | null)?.normalize;
  if (n === false) return { normalize: false };
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const ok = (v: unknown, pos: boolean) =>
    (num(v) && (!pos || (v as number) > 0)) ||
    (Array.isArray(v) && v.length > 0 && v.every((a) => num(a) && (!pos || a > 0)));
  const m = (n as Normalization | null)?.mean,
    s = (n as Normalization | null)?.std;
  if (typeof n !== 'object' || n === null || !ok(m, false) || !ok(s, true))
    throw new TypeError(
      `webgpu-cnn: ${op}: 'normalize' must be false or { mean, std > 0 } (numbers or one per channel), got ${JSON.stringify(n)}`,
    );
  const copy = (v: number | readonly number[]) => (typeof v === 'number' ? v : [...v]);
  return { normalize: { mean: copy(m!), std: copy(s!) } };
}

/**
 * The preprocessing a model file records ("webgpu-cnn.preprocess" metadata), checked; undefined
 * when the file does not say. Throws, naming `op`, when the entry is not JSON or not valid.
 */
export function readPreprocess(metadata: Record<string, string>, op = 'readPreprocess'): Preprocess | undefined {
  const raw = metadata[PREPROCESS_METADATA_KEY];
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`webgpu-cnn: ${op}: metadata "${PREPROCESS_METADATA_KEY}" is not JSON`);
  }
  return checkPreprocess(parsed, op);
}

/** An image in one of the forms predict() takes. ImageData-like objects work in Node too. */
export type PredictInput =
  | Float32Array
  | Tensor
  | { data: Uint8ClampedArray | Uint8Array; width: number; height: number }
  | CanvasImageSource;

/** A classifier's answer for one input: the most probable class and the softmax probabilities of all classes. */
export interface Prediction {
  /** the most probable class */
  label: number;
  /** softmax over the classes */
  probabilities: Float32Array;
}

/** Options of {@link Predictor.predict}. */
export interface PredictOptions {
  /** 1 - value before normalising: dark ink on a light background (MNIST is light on dark) */
  invert?: boolean;
}

/** Where a model file comes from: a URL (fetched), its bytes, or a Blob/File. */
export type PredictorSource = string | URL | ArrayBuffer | ArrayBufferView | Blob;

async function bytesOf(src: PredictorSource): Promise<ArrayBuffer | ArrayBufferView> {
  if (typeof src === 'string' || src instanceof URL) {
    const res = await fetch(src);
    if (!res.ok) throw new Error(`webgpu-cnn: loadPredictor: fetching ${String(src)} failed: HTTP ${res.status}`);
    return res.arrayBuffer();
  }
  if (typeof Blob !== 'undefined' && src instanceof Blob) return src.arrayBuffer();
  if (src instanceof ArrayBuffer || ArrayBuffer.isView(src)) return src;
  throw new TypeError(
    `webgpu-cnn: loadPredictor: expected a URL, ArrayBuffer, typed array, File or Blob, got ${Object.prototype.toString.call(src)}`,
  );
}

/** A classifier loaded from a model file, ready to predict. dispose() frees its GPU tensors. */
export class Predictor {
  /** [H, W, C] of one input image */
  readonly inputShape: [number, number, number];
  private constructor(
    readonly spec: ModelSpec,
    readonly model: Sequential,
    readonly preprocess: Preprocess,
    /** false when the file did not record its preprocessing (taken as [0, 1], no normalisation) */
    readonly preprocessKnown: boolean,
    readonly metadata: Record<string, string>,
  ) {
    const input = spec.input;
    if (!input)
      throw new Error('webgpu-cnn: loadPredictor: the model file does not record its input shape (ModelSpec.input)');
    this.inputShape = [input[0], input[1], input[2] ?? 1];
  }

  /** Load from a URL (fetched), bytes, or a File/Blob. */
  static async load(src: PredictorSource): Promise<Predictor> {
    const f = decodeModel(await bytesOf(src));
    if (!f.spec)
      throw new Error(
        'webgpu-cnn: loadPredictor: the file has no architecture ("webgpu-cnn.arch" metadata): save it with saveModel(model.toSpec(), ...)',
      );
    const recorded = readPreprocess(f.metadata, 'loadPredictor');
    const pre = recorded ?? { normalize: false };
    const model = Sequential.fromSpec(f.spec);
    try {
      model.loadStateDict(f.params);
    } catch (e) {
      model.dispose();
      throw e;
    }
    model.eval();
    const p = new Predictor(f.spec, model, pre, recorded !== undefined, f.metadata);
    try {
      if (pre.normalize) channelStats('loadPredictor', pre.normalize, p.inputShape[2]);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return p;
  }

  /** The input as [1, H, W, C] values in [0, 1] (before normalisation). */
  pixels(input: Exclude<PredictInput, Tensor>, opts: PredictOptions = {}): Float32Array {
    const [H, W, C] = this.inputShape;
    let out: Float32Array;
    if (input instanceof Float32Array) {
      if (input.length !== H * W * C)
        throw new RangeError(
          `webgpu-cnn: predict: a Float32Array input must hold ${H}x${W}x${C} = ${H * W * C} values, got ${input.length}`,
        );
      out = Float32Array.from(input);
    } else {
      const img = imageData(input, W, H);
      out = new Float32Array(H * W * C);
      for (let i = 0; i < H * W; i++) {
        const r = img.data[4 * i],
          g = img.data[4 * i + 1],
          b = img.data[4 * i + 2];
        if (C === 1) out[i] = (r + g + b) / (3 * 255);
        else for (let c = 0; c < C; c++) out[i * C + c] = img.data[4 * i + Math.min(c, 2)] / 255;
      }
    }
    if (opts.invert) for (let i = 0; i < out.length; i++) out[i] = 1 - out[i];
    return out;
  }

  /** Classify one image; the forward pass runs on the GPU, one readback. */
  async predict(input: PredictInput, opts: PredictOptions = {}): Promise<Prediction> {
    const [H, W, C] = this.inputShape;
    let x: Tensor;
    if (input instanceof Tensor) {
      // taken as already preprocessed (normalised) values
      if (input.size !== H * W * C)
        throw new RangeError(
          `webgpu-cnn: predict: a tensor input must hold ${H * W * C} values ([1,${H},${W},${C}]), got [${input.shape}]`,
        );
      x = input;
    } else {
      const v = this.pixels(input, opts);
      const n = this.preprocess.normalize;
      if (n) {
        const { mean, invStd } = channelStats('predict', n, C);
        for (let i = 0; i < v.length; i++) v[i] = (v[i] - mean[i % C]) * invStd[i % C];
      }
      x = tensor(v, [1, H, W, C]);
    }
    let probs: Tensor;
    try {
      probs = scope(() => softmax(this.model.forward(x.rank === 4 ? x : reshape(x, [1, H, W, C]))));
    } finally {
      if (x !== input) x.dispose();
    }
    const p = (await probs.read()) as Float32Array;
    probs.dispose();
    let label = 0;
    for (let i = 1; i < p.length; i++) if (p[i] > p[label]) label = i;
    return { label, probabilities: p };
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Load a model file for prediction (see Predictor.load). */
export function loadPredictor(src: PredictorSource): Promise<Predictor> {
  return Predictor.load(src);
}

/** RGBA bytes of the input at W x H: ImageData-like objects as they are (they must be W x H), other sources drawn and resized. */
function imageData(
  input: Exclude<PredictInput, Float32Array | Tensor>,
  W: number,
  H: number,
): { data: Uint8ClampedArray | Uint8Array } {
  if ('data' in input && 'width' in input && 'height' in input) {
    const d = input as { data: Uint8ClampedArray | Uint8Array; width: number; height: number };
    if (d.width === W && d.height === H && d.data.length === 4 * W * H) return d;
    if (typeof OffscreenCanvas === 'undefined' || typeof ImageData === 'undefined')
      throw new RangeError(
        `webgpu-cnn: predict: image data must be ${W}x${H} here (no OffscreenCanvas to resize), got ${d.width}x${d.height}`,
      );
    const src = new OffscreenCanvas(d.width, d.height);
    src.getContext('2d')!.putImageData(new ImageData(Uint8ClampedArray.from(d.data), d.width, d.height), 0, 0);
    return draw(src, W, H);
  }
  if (typeof OffscreenCanvas === 'undefined')
    throw new TypeError(
      'webgpu-cnn: predict: canvases and images need OffscreenCanvas (a browser); pass ImageData-like { data, width, height } or a Float32Array',
    );
  return draw(input as CanvasImageSource, W, H);
}

function draw(src: CanvasImageSource, W: number, H: number): ImageData {
  const c = new OffscreenCanvas(W, H);
  const ctx = c.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(src, 0, 0, W, H);
  return ctx.getImageData(0, 0, W, H);
}
