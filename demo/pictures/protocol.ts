// Messages between the "teach it your own pictures" page (main.ts) and its training worker
// (worker.ts). Pictures travel as Blobs (files) or ImageBitmaps (webcam frames); the worker
// decodes, centre-crops and resizes them to the model's input size.

export type Picture = Blob | ImageBitmap;

/** conv1's filters, and the batch size of a training step */
export const FILTERS = 16;
export const BATCH = 16;

export interface Progress {
  step: number;
  /** mean training loss over the last chunk of steps */
  loss: number;
  /** accuracy on all of the user's pictures (unaugmented), or null before the first check */
  accuracy: number | null;
  imagesPerSec: number;
  kernels: 'quick' | 'fast' | null;
}

export interface Stage {
  name: string;
  /** [H, W, C] */
  shape: [number, number, number];
  data: Float32Array;
}

export type ToWorker =
  | { type: 'reset'; size: number; classes: number }
  | { type: 'add'; cls: number; pictures: Picture[] }
  | { type: 'remove-class'; cls: number }
  | { type: 'train'; on: boolean };

export type Request =
  | { type: 'predict'; picture: Picture }
  | { type: 'inspect'; cls: number; index: number }
  | { type: 'augmented'; cls: number; index: number; n: number };

export interface Replies {
  predict: { probabilities: Float32Array; ms: number };
  /** the input, then conv1, relu1, pool1 of one of the user's pictures, and conv1's filters */
  inspect: { stages: Stage[]; filters: { shape: number[]; data: Float32Array } };
  /** n augmented versions of one picture as the network sees them (values in [0, 1]) */
  augmented: { size: number; images: Float32Array };
}

export type FromWorker =
  | { type: 'ready'; adapter: string }
  | { type: 'fatal'; message: string }
  | { type: 'error'; message: string }
  | { type: 'added'; cls: number; counts: number[] }
  | { type: 'status'; message: string }
  | { type: 'progress'; progress: Progress }
  | { type: 'running'; running: boolean }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };
