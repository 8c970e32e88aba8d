// A model trained on normalised inputs (the library's models/*.safetensors record
// x' = (x - mean) / std after scaling to [0, 1] in "webgpu-cnn.preprocess"), on either backend.
// The demo's data, drawings and augmentation stay ink in [0, 1]; this wrapper, the one place
// that knows about the normalisation, applies it to every image before it reaches the WebGPU
// or the plain-JS network: training, prediction (drawings, the rolling evaluation) and
// inspection. The worker wraps a model with it when the model carries a normalisation.

import { normalizeImages, warpCpu } from './engine-adapter.js';
import type { DemoModel, Hyper, Normalize, Stage, StepStats } from './model-api.js';
import { PIXELS } from './mnist-data.js';
import type { NetSpec, Weights } from './net-spec.js';

export class NormalizedModel implements DemoModel {
  /**
   * Augmentation warps ink in [0, 1] (outside the image is no ink), so it runs before the
   * normalisation: on the CPU, by the worker (the GPU warp sits inside the captured step, after
   * the point where this wrapper sees the batch).
   */
  readonly augmentsOnGpu = false;
  readonly prepare?: DemoModel['prepare'];

  constructor(
    readonly inner: DemoModel,
    readonly normalize: NonNullable<Normalize>,
  ) {
    // the warm-up compiles the unaugmented step: that is the one trainStep runs
    if (inner.prepare) this.prepare = (n) => inner.prepare!(n, false);
  }

  get spec(): NetSpec {
    return this.inner.spec;
  }

  get backend(): DemoModel['backend'] {
    return this.inner.backend;
  }

  /** A normalised copy of n images (the caller's array is the demo's: never changed). */
  private norm(x: Float32Array, n: number): Float32Array {
    return normalizeImages(x.slice(0, n * PIXELS), this.normalize);
  }

  setHyper(h: Hyper): void {
    this.inner.setHyper(h);
  }

  trainStep(x: Float32Array, y: Uint32Array, n: number, affine?: Float32Array | null): void | Promise<void> {
    return this.inner.trainStep(this.norm(affine ? warpCpu(x, n, affine) : x, n), y, n);
  }

  takeStats(): Promise<StepStats> {
    return this.inner.takeStats();
  }

  predict(x: Float32Array, n: number): Promise<Float32Array> {
    return this.inner.predict(this.norm(x, n), n);
  }

  /** The input stage shows the image as drawn (ink in [0, 1]); its gradient is d/d(ink). */
  async inspect(x: Float32Array, label: number, grads: boolean): Promise<Stage[]> {
    const stages = await this.inner.inspect(this.norm(x, 1), label, grads);
    const s0 = stages[0];
    if (s0?.kind === 'input') {
      const inv = 1 / this.normalize.std;
      stages[0] = { ...s0, data: x.slice(0, PIXELS), grad: s0.grad?.map((g) => g * inv) };
    }
    return stages;
  }

  getWeights(): Promise<Weights> {
    return this.inner.getWeights();
  }

  setWeights(w: Weights): void {
    this.inner.setWeights(w);
  }

  dispose(): void {
    this.inner.dispose();
  }
}
