// Messages between the page (main.ts) and the training worker (worker.ts). The worker owns
// the data, the GPU device and the model; the page only draws. Requests that expect an answer
// carry an `id`, answered by a `reply` with the same id.

import type { AugmentOptions } from './augment-options.js';
import type { NetSpec, Weights } from './net-spec.js';
import type { BackendName, Hyper, Normalize, Stage } from './model-api.js';

export interface TrainSettings {
  hyper: Hyper;
  batch: number;
  augment: boolean;
  augmentOptions: AugmentOptions;
}

export type ToWorker =
  | { type: 'init'; backend: BackendName; simulateNoGpu?: boolean }
  | { type: 'configure'; spec: NetSpec; settings: TrainSettings; seed: number }
  | { type: 'settings'; settings: TrainSettings }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'reset'; seed: number }
  | { type: 'use-backend'; backend: BackendName }
  | { type: 'debug-lose-device' }
  | ({ id: number } & Request);

export type Request =
  | { type: 'inspect'; image: Float32Array; label: number; grads: boolean }
  | { type: 'predict'; images: Float32Array; n: number }
  | { type: 'digit'; split: 'train' | 'test'; index: number }
  | { type: 'augment-preview'; index: number; count: number; seed: number }
  | { type: 'save'; meta: Record<string, string> }
  | { type: 'load'; bytes: Uint8Array }
  | { type: 'weights' }
  | { type: 'benchmark'; batch: number; ms: number };

export interface Replies {
  inspect: { stages: Stage[]; probs: Float32Array };
  predict: { probs: Float32Array };
  digit: { image: Float32Array; label: number };
  'augment-preview': {
    original: Float32Array;
    images: Float32Array;
    label: number;
    params: { angle: number; scale: number; dx: number; dy: number }[];
  };
  save: { bytes: Uint8Array };
  load: { spec: NetSpec; meta: Record<string, string>; normalize: Normalize };
  weights: { weights: Weights };
  /** training images/s of the current network on each available backend */
  benchmark: { results: { backend: BackendName; imagesPerSec: number; steps: number }[] };
}

export interface Progress {
  step: number;
  epoch: number;
  /** fraction of the current epoch */
  epochProgress: number;
  loss: number;
  acc: number;
  /** training throughput over the last chunk of steps (images per second, wall clock) */
  imagesPerSec: number;
  /** steps in the last chunk (the loss is read back once per chunk) */
  chunk: number;
  running: boolean;
}

export interface EvalResult {
  /** 10x10 counts, row = true class, column = predicted class */
  confusion: Int32Array;
  /** test digits evaluated so far in the rolling pass (the whole test set after one pass) */
  evaluated: number;
  /** digits in the test split (MNIST's standard 10,000) */
  total: number;
  accuracy: number;
  step: number;
  /** the digits of the latest chunk, for the rolling panel */
  samples: { image: Float32Array; label: number; probs: Float32Array }[];
}

export type FromWorker =
  | { type: 'loading'; message: string }
  | { type: 'ready'; backend: BackendName; adapter: string; note?: string; train: number; test: number }
  | { type: 'no-webgpu'; message: string }
  /** a model was installed: new, loaded, or the same weights (and normalisation) moved */
  | { type: 'model'; spec: NetSpec; params: number; backend: BackendName; source: string; normalize: Normalize }
  /** the warm-up of training at `batch` and of evaluation finished (GpuModel.prepare) */
  | { type: 'prepared'; batch: number; augment: boolean; pipelines: number; compiled: number; ms: number }
  | { type: 'progress'; progress: Progress }
  | { type: 'running'; running: boolean }
  | { type: 'filters'; shape: number[]; data: Float32Array; bias: Float32Array; step: number }
  | { type: 'eval'; result: EvalResult }
  | { type: 'device-lost'; message: string }
  | { type: 'recovered'; message: string }
  | { type: 'error'; message: string }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };
