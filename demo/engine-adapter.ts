// The demo's boundary with the webgpu-cnn engine. Only this file, model-files.ts (the demo's
// networks as engine model files) and gpu-model.ts (the network on the engine's kernels)
// import from src/: following an engine API change is done here.
//
//   - the GPU: acquire (again, after a loss), adapter description, device-loss notification;
//   - data: the engine's MNIST loader, the standard 60,000 / 10,000 split;
//   - augmentation: the engine's affine matrices and its CPU warp (the GPU kernel runs inside
//     gpu-model.ts's training step); input normalisation (normalized-model.ts);
//   - model files: the engine's safetensors format with its ModelSpec ("webgpu-cnn.arch"
//     metadata, parameters "<layer>.weight"), converted to and from the demo's NetSpec.
//
// Runs inside the training worker: WebGPU is available in dedicated workers.

import {
  affineMatrix,
  augmentCpu,
  engine,
  init,
  loadMnist,
  NoAdapterError,
  normalizeInPlace,
  type Engine,
} from '../src/index.js';
import { GpuModel } from './gpu-model.js';
import type { DemoModel, Normalize } from './model-api.js';
import type { Mnist } from './mnist-data.js';
import { IMAGE, type NetSpec } from './net-spec.js';

export { toModelSpec, fromModelSpec, encodeDemoModel, decodeDemoModel } from './model-files.js';

// ---------------------------------------------------------------- GPU

export class NoWebGpuError extends Error {
  override name = 'NoWebGpuError';
}

export interface GpuBackend {
  /** adapter description for the page ("google swiftshader", "nvidia ampere ...") */
  adapter: string;
  createModel(spec: NetSpec, seed: number): DemoModel;
  /** called once if the device is lost (driver reset, GPU process crash, destroy) */
  onLost(f: (message: string) => void): void;
  /** test hook: destroy the device as a driver reset would */
  loseDevice(): void;
}

function describe(e: Engine): string {
  const i = e.info;
  return (
    [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') ||
    'WebGPU adapter (no details exposed)'
  );
}

/** Acquire the GPU (again, after a loss). Throws NoWebGpuError with how to enable WebGPU. */
export async function createGpuBackend(): Promise<GpuBackend> {
  let e: Engine;
  try {
    e = await init();
  } catch (err) {
    if (err instanceof NoAdapterError || !('gpu' in navigator)) throw new NoWebGpuError((err as Error).message);
    throw err;
  }
  const lostListeners: ((m: string) => void)[] = [];
  e.onDeviceLost((info) => {
    for (const f of lostListeners) f(`${info.reason}: ${info.message || 'the GPU device was lost'}`);
  });
  return {
    adapter: describe(e),
    createModel: (spec, seed) => new GpuModel(spec, seed),
    onLost: (f) => lostListeners.push(f),
    loseDevice: () => engine().device.destroy(),
  };
}

// ---------------------------------------------------------------- data

/**
 * MNIST from the engine's loader: the standard split, 60,000 training and 10,000 test digits,
 * the split every tutorial and paper reports on. The four gzip IDX files (11 MB) are static
 * assets next to the page (vite.data.ts serves them at /data/mnist/), fetched at run time and
 * decompressed by the browser. The worker keeps the pixels as bytes (55 MB, not 220 MB of
 * floats); mnist-data.ts turns an image back into [0, 1] floats when it is used.
 */
export async function loadDigits(): Promise<Mnist> {
  const from = new URL('../data/mnist/', self.location.href).href;
  const { train, test } = await loadMnist({ from });
  const split = (d: typeof train) => ({ images: toBytes(d.images), labels: d.labels, n: d.count });
  return { train: split(train), test: split(test) };
}

/** [0, 1] floats that were bytes / 255 (IDX pixels) back to those bytes, exactly. */
function toBytes(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.round(x[i] * 255);
  return out;
}

// ---------------------------------------------------------------- augmentation

/** Output->input matrices [n*6] of forward transforms (degrees, scale, shift) about the centre. */
export function affineMatrices(params: { angle: number; scale: number; dx: number; dy: number }[]): Float32Array {
  const out = new Float32Array(params.length * 6);
  params.forEach((p, i) =>
    out.set(affineMatrix({ angle: p.angle, scale: p.scale, tx: p.dx, ty: p.dy }, IMAGE, IMAGE), i * 6),
  );
  return out;
}

/** Warp n 28x28 images by their matrices on the CPU (the GPU kernel's reference). */
export function warpCpu(src: Float32Array, n: number, matrices: Float32Array): Float32Array {
  return augmentCpu(src, { n, height: IMAGE, width: IMAGE, channels: 1 }, matrices);
}

/** x = (x - mean) / std in place: the engine's normalisation, as loadPredictor applies it. */
export function normalizeImages(x: Float32Array, n: NonNullable<Normalize>): Float32Array {
  return normalizeInPlace(x, { mean: n.mean, std: n.std }, 1);
}
