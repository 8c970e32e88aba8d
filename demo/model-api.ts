// What the training worker needs from a model, whichever backend runs it: WebGPU through the
// engine (engine-adapter.ts, the only file touching the engine API) or plain JavaScript on the
// CPU (cpu-net.ts, the ConvNetJS-style baseline that the page compares WebGPU against).

import type { Hwc, NetSpec, Weights } from './net-spec.js';

/** Test digits per evaluation chunk: one fixed batch size, so one set of pipelines (a last partial chunk is padded). */
export const EVAL_CHUNK = 64;

export type OptimizerName = 'sgd' | 'adam';

export interface Hyper {
  lr: number;
  optimizer: OptimizerName;
  /** SGD momentum (Adam uses beta1 = 0.9, beta2 = 0.999) */
  momentum: number;
}

/** One visualised activation of a single image: a layer's output and optionally dLoss/dOutput. */
export interface Stage {
  name: string;
  kind: 'input' | 'conv' | 'relu' | 'pool' | 'dense';
  /** conv block (1-based) or dense layer index; 0 for the input */
  block: number;
  shape: Hwc;
  data: Float32Array;
  grad?: Float32Array;
}

export interface StepStats {
  /** mean training loss over the steps since the last call */
  loss: number;
  /** mean training accuracy (fraction) over those steps */
  acc: number;
  steps: number;
}

export type BackendName = 'webgpu' | 'cpu';

/**
 * The input normalisation a model was trained with, x' = (x - mean) / std on ink in [0, 1]
 * (the library's models/*.safetensors: "webgpu-cnn.preprocess"); null for none (the demo's
 * own networks). The worker keeps it with the model (normalized-model.ts applies it).
 */
export type Normalize = { mean: number; std: number } | null;

export interface DemoModel {
  readonly spec: NetSpec;
  readonly backend: BackendName;
  setHyper(h: Hyper): void;
  /** true when trainStep applies `affine` itself (on the GPU); else the caller augments x */
  readonly augmentsOnGpu: boolean;
  /**
   * One optimisation step on n images x [n,28,28,1] with labels y, augmented first by the
   * output->input matrices `affine` [n*6] if given. Does not read back.
   */
  trainStep(x: Float32Array, y: Uint32Array, n: number, affine?: Float32Array | null): void | Promise<void>;
  /**
   * Warm-up (cold start): compile, ahead of the first use, what training at batch n (with or
   * without augmentation) and evaluating chunks of EVAL_CHUNK test digits will run. Idempotent;
   * trainStep waits for it when it is in flight. Absent on the CPU backend (nothing to compile).
   */
  prepare?(n: number, augmented: boolean): Promise<{ pipelines: number; compiled: number; ms: number }>;
  /** Loss/accuracy since the previous call: the training loop's only readback. */
  takeStats(): Promise<StepStats>;
  /** Class probabilities [n,10] (softmax of the logits). */
  predict(x: Float32Array, n: number): Promise<Float32Array>;
  /** Activations of every stage for one image; with `grads`, dLoss/dStage for class `label`. */
  inspect(x: Float32Array, label: number, grads: boolean): Promise<Stage[]>;
  getWeights(): Promise<Weights>;
  /** Replace the weights (same spec) and reset the optimizer state. */
  setWeights(w: Weights): void;
  dispose(): void;
}
