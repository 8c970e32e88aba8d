// The "your own pictures" model on the GPU, built from the engine's public API only: a small
// CNN for S x S x 3 pictures, trained from scratch by a captured TrainStep with the GPU
// augmentation inside the step, per-channel normalisation computed from the user's pictures,
// and predictions / inspections on the quick kernels (they are one picture at a time).
//
//   input [B,S,S,3] in [0, 1] -> augment (shift, rotation, zoom, left-right flip; brightness,
//   contrast and saturation jitter) -> per-channel normalisation (x - mean) / std
//   conv 3x3 3->16 + ReLU -> maxpool 2 -> conv 3x3 16->32 + ReLU -> maxpool 2
//   -> conv 3x3 32->32 + ReLU -> maxpool 2 -> flatten -> linear (S/8)^2*32 -> classes

import {
  Adam,
  Conv2d,
  Flatten,
  InitRng,
  Linear,
  MaxPool2d,
  Module,
  Sequential,
  TrainStep,
  augment,
  conv2d,
  empty,
  keep,
  maxPool2d,
  mul,
  randomAugment,
  relu,
  scope,
  softmax,
  softmaxCrossEntropy,
  sub,
  tensor,
  withQuickKernels,
  AUGMENT_PARAMS,
  type AugmentOptions,
  type Shape,
  type Tensor,
} from '../../src/index.js';

import { BATCH, FILTERS } from './protocol.js';

export { BATCH, FILTERS };

/** Per-channel mean and standard deviation of the pictures (HWC, values in [0, 1]). */
export function channelStats(pictures: Float32Array[]): { mean: number[]; std: number[] } {
  const s = [0, 0, 0],
    s2 = [0, 0, 0];
  let n = 0;
  for (const p of pictures) {
    for (let i = 0; i < p.length; i += 3)
      for (let c = 0; c < 3; c++) {
        s[c] += p[i + c];
        s2[c] += p[i + c] * p[i + c];
      }
    n += p.length / 3;
  }
  const mean = s.map((v) => v / Math.max(1, n));
  const std = s2.map((v, c) => Math.sqrt(Math.max(v / Math.max(1, n) - mean[c] ** 2, 0)) || 1);
  return { mean, std: std.map((v) => Math.max(v, 1e-3)) };
}

/**
 * The network behind the engine's augmentation kernel and the per-channel normalisation, so
 * both are part of the captured step: augment(x, params) on the [0, 1] pixels (colour jitter
 * clamps to [0, 1]), then (x - mean) * (1 / std) with whole-batch tensors of the per-channel
 * values (two elementwise dispatches; rewritten when the statistics change).
 */
class Augmented extends Module {
  constructor(
    readonly inner: Module,
    readonly augParams: Tensor,
    readonly mean: Tensor,
    readonly invStd: Tensor,
  ) {
    super();
    this.addChild('inner', inner);
  }
  forward(x: Tensor): Tensor {
    return this.inner.forward(mul(sub(augment(x, this.augParams), this.mean), this.invStd));
  }
  outputShape(s: Shape): Shape {
    return this.inner.outputShape(s);
  }
  toString(): string {
    return `Augmented(${this.inner})`;
  }
}

/** What the page's augmentation does (the engine's AugmentOptions; fill 0 is black). */
export function augmentOptions(size: number): AugmentOptions {
  return {
    shift: size / 8,
    rotate: 15,
    scale: [0.9, 1.1],
    flip: true,
    brightness: 0.2,
    contrast: 0.2,
    saturation: 0.3,
  };
}

/** Seeded augmentation parameters ([n, AUGMENT_PARAMS] rows) for n pictures. */
export function augmentParams(n: number, size: number, rand: () => number): Float32Array {
  const seed = Math.floor(rand() * 2 ** 32);
  return randomAugment({ n, height: size, width: size, channels: 3 }, augmentOptions(size), seed);
}

export class PictureModel {
  readonly net: Sequential;
  private readonly params: Tensor;
  private readonly mean: Tensor;
  private readonly invStd: Tensor;
  private readonly step: TrainStep;
  private readonly x: Float32Array;
  private readonly y: Uint32Array;
  norm: { mean: number[]; std: number[] } = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
  steps = 0;

  constructor(
    readonly size: number,
    readonly classes: number,
    seed: number,
  ) {
    const rng = new InitRng(seed);
    const q = size / 8;
    this.net = new Sequential([
      new Conv2d(3, FILTERS, 3, { padding: 'same', relu: true, rng }),
      new MaxPool2d(2),
      new Conv2d(FILTERS, 32, 3, { padding: 'same', relu: true, rng }),
      new MaxPool2d(2),
      new Conv2d(32, 32, 3, { padding: 'same', relu: true, rng }),
      new MaxPool2d(2),
      new Flatten(),
      new Linear(q * q * 32, classes, { init: 'glorot-uniform', rng }),
    ]);
    this.net.inputShape = [size, size, 3];
    this.params = keep(empty([BATCH, AUGMENT_PARAMS]));
    this.mean = keep(empty([BATCH, size, size, 3]));
    this.invStd = keep(empty([BATCH, size, size, 3]));
    this.setNorm(this.norm);
    this.step = new TrainStep({
      model: new Augmented(this.net, this.params, this.mean, this.invStd),
      optimizer: new Adam(this.net.parameters(), { lr: 0.002 }),
      loss: softmaxCrossEntropy,
      inputShape: [BATCH, size, size, 3],
    });
    this.x = new Float32Array(BATCH * size * size * 3);
    this.y = new Uint32Array(BATCH);
  }

  /** Compile the first step's kernels (quick tier) and the prediction's, while pictures are added. */
  prepare(): Promise<unknown> {
    return this.step.prepare({ concurrency: 1 });
  }

  get kernels(): 'quick' | 'fast' | null {
    return this.step.kernels;
  }

  /** Set the per-channel statistics (the step's normalisation tensors too). */
  setNorm(norm: { mean: number[]; std: number[] }): void {
    this.norm = norm;
    const n = BATCH * this.size * this.size * 3;
    this.mean.write(Float32Array.from({ length: n }, (_, i) => norm.mean[i % 3]));
    this.invStd.write(Float32Array.from({ length: n }, (_, i) => 1 / norm.std[i % 3]));
  }

  private normalize(src: Float32Array, dst: Float32Array, at: number): void {
    const { mean, std } = this.norm;
    for (let i = 0; i < src.length; i++) dst[at + i] = (src[i] - mean[i % 3]) / std[i % 3];
  }

  /** One training step on BATCH pictures drawn class-balanced from `data` (per class). */
  trainStep(data: Float32Array[][], rand: () => number): void {
    const px = this.size * this.size * 3;
    const classes = data.map((d, c) => (d.length ? c : -1)).filter((c) => c >= 0);
    for (let i = 0; i < BATCH; i++) {
      const c = classes[Math.floor(rand() * classes.length)];
      const pics = data[c];
      this.x.set(pics[Math.floor(rand() * pics.length)], i * px);
      this.y[i] = c;
    }
    this.params.write(augmentParams(BATCH, this.size, rand));
    this.step.run(this.x, this.y);
    this.steps++;
  }

  readLoss(): Promise<number> {
    return this.step.readLoss();
  }

  /** Class probabilities of n pictures (normalised here), on the quick kernels. */
  async predict(pictures: Float32Array[]): Promise<Float32Array> {
    const px = this.size * this.size * 3;
    const x = new Float32Array(pictures.length * px);
    pictures.forEach((p, i) => this.normalize(p, x, i * px));
    const probs = scope(() =>
      withQuickKernels(() => softmax(this.net.forward(tensor(x, [pictures.length, this.size, this.size, 3])))),
    );
    try {
      return (await probs.read()) as Float32Array;
    } finally {
      probs.dispose();
    }
  }

  /** Accuracy over every picture (unaugmented), in chunks of BATCH. */
  async accuracy(data: Float32Array[][]): Promise<number> {
    let hits = 0,
      n = 0;
    const all = data.flatMap((d, c) => d.map((p) => [p, c] as const));
    for (let i = 0; i < all.length; i += BATCH) {
      const part = all.slice(i, i + BATCH);
      const p = await this.predict(part.map((a) => a[0]));
      const k = this.classes;
      part.forEach(([, c], j) => {
        let best = 0;
        for (let q = 1; q < k; q++) if (p[j * k + q] > p[j * k + best]) best = q;
        hits += best === c ? 1 : 0;
        n++;
      });
    }
    return n ? hits / n : 0;
  }

  /** The picture, conv1's output before and after ReLU, and after pooling; conv1's filters. */
  async inspect(picture: Float32Array): Promise<{
    stages: { name: string; shape: [number, number, number]; data: Float32Array }[];
    filters: { shape: number[]; data: Float32Array };
  }> {
    const S = this.size,
      h = S / 2;
    const conv = this.net.layers[0] as Conv2d;
    const x = new Float32Array(S * S * 3);
    this.normalize(picture, x, 0);
    const out = scope(() =>
      withQuickKernels(() => {
        const c = conv2d(tensor(x, [1, S, S, 3]), conv.weight, { padding: 'same', bias: conv.bias ?? undefined });
        const r = relu(c);
        return [c, r, maxPool2d(r, { kernel: 2 })];
      }),
    );
    try {
      const [c, r, p] = await Promise.all(out.map((t) => t.read() as Promise<Float32Array>));
      const w = (await conv.weight.read()) as Float32Array;
      return {
        stages: [
          { name: 'picture', shape: [S, S, 3], data: picture },
          { name: 'conv1', shape: [S, S, FILTERS], data: c },
          { name: 'relu1', shape: [S, S, FILTERS], data: r },
          { name: 'pool1', shape: [h, h, FILTERS], data: p },
        ],
        filters: { shape: conv.weight.shape.slice(), data: w },
      };
    } finally {
      for (const t of out) t.dispose();
    }
  }

  /** n augmented versions of one picture, as the step augments them (values in [0, 1]). */
  async augmented(picture: Float32Array, n: number, rand: () => number): Promise<Float32Array> {
    const S = this.size,
      px = S * S * 3;
    const batch = new Float32Array(n * px);
    for (let i = 0; i < n; i++) batch.set(picture, i * px);
    const y = scope(() => augment(tensor(batch, [n, S, S, 3]), tensor(augmentParams(n, S, rand), [n, AUGMENT_PARAMS])));
    try {
      return (await y.read()) as Float32Array;
    } finally {
      y.dispose();
    }
  }

  dispose(): void {
    this.step.dispose();
    this.params.dispose();
    this.mean.dispose();
    this.invStd.dispose();
    this.net.dispose();
  }
}
