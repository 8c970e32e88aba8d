// Shared fixture of the checkpoint and training-reliability suites: a tiny CNN with every kind
// of training state (conv and linear weights, BatchNorm running statistics, a dropout counter),
// a tiny dataset, and a loop of captured steps over seeded batches that can start anywhere.
import { Sequential } from '../../src/nn/sequential.js';
import { Conv2d } from '../../src/nn/conv.js';
import { BatchNorm2d } from '../../src/nn/batchnorm.js';
import { Dropout } from '../../src/nn/dropout.js';
import { MaxPool2d } from '../../src/nn/pooling.js';
import { Flatten, Linear } from '../../src/nn/linear.js';
import { InitRng } from '../../src/nn/init.js';
import { Adam, SGD, type Optimizer } from '../../src/optim/optimizers.js';
import { cosineLr } from '../../src/optim/schedule.js';
import { softmaxCrossEntropy } from '../../src/ops/loss/index.js';
import { TrainStep } from '../../src/train/step.js';
import { batches, batchCount } from '../../src/data/batch.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import type { DataPosition } from '../../src/train/checkpoint.js';
import type { Module } from '../../src/nn/module.js';

export const H = 8,
  K = 3,
  B = 4;
/** 24 samples: 6 steps per epoch at B = 4 */
export const COUNT = 24;
export const AUGMENT = { shift: 1, rotate: 10 };

/** conv 1→2, BN, dropout, conv 2→16 (ReLU), maxpool, flatten, linear 256→3. */
export function makeModel(seed: number): Sequential {
  const rng = new InitRng(seed);
  return new Sequential([
    new Conv2d(1, 2, 3, { padding: 'same', rng }),
    new BatchNorm2d(2),
    new Dropout(0.25, { seed: 1000 + seed }),
    new Conv2d(2, 16, 3, { padding: 'same', relu: true, rng }),
    new MaxPool2d(2),
    new Flatten(),
    new Linear((H / 2) ** 2 * 16, K, { rng }),
  ]);
}

export function makeOptimizer(model: Module, kind: 'adam' | 'sgd'): Optimizer {
  return kind === 'adam'
    ? new Adam(model.parameters(), {
        lr: cosineLr(0.005, { totalSteps: 12, warmupSteps: 2 }),
        weightDecay: 0.01,
        clipNorm: 2,
      })
    : new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, nesterov: true });
}

/** Class k has a bright bar in row band k, plus noise. */
export function makeDataset(seed = 3, count = COUNT): ImageDataset {
  const rng = new InitRng(seed);
  const images = new Float32Array(count * H * H),
    labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    labels[n] = n % K;
    for (let i = 0; i < H * H; i++)
      images[n * H * H + i] = Math.min(
        1,
        Math.max(0, 0.2 * rng.normal() + (Math.floor(Math.floor(i / H) / 3) === labels[n] ? 0.8 : 0.1)),
      );
  }
  return { images, labels, count, height: H, width: H, channels: 1 };
}

export interface Run {
  losses: number[];
  /** the next batch */
  next: DataPosition;
}

/**
 * `steps` captured training steps from data position `from` (crossing epochs), reading every
 * loss. The TrainStep is disposed at the end; model and optimizer stay with the caller.
 */
export async function trainSteps(
  model: Module,
  optimizer: Optimizer,
  ds: ImageDataset,
  from: DataPosition,
  steps: number,
  capture = true,
): Promise<Run> {
  // coldStart 'quick': every step on one kernel tier, so runs compare bit for bit (a tiered
  // start switches kernels at a time that depends on the compiles). The quick tier compiles in
  // a fraction of the fast one's time, which a fresh engine (device-loss case) pays again.
  const step = new TrainStep({
    model,
    optimizer,
    loss: softmaxCrossEntropy,
    inputShape: [B, H, H, 1],
    capture,
    coldStart: 'quick',
  });
  const perEpoch = batchCount(ds.count, B, true);
  const losses: number[] = [];
  let { epoch, batch } = from;
  try {
    while (losses.length < steps) {
      for (const b of batches(ds, {
        batchSize: B,
        seed: from.seed,
        epoch,
        startBatch: batch,
        dropLast: true,
        normalize: false,
        augment: AUGMENT,
      })) {
        step.run(b.images, b.labels);
        losses.push(await step.readLoss());
        batch++;
        if (losses.length === steps) break;
      }
      if (batch >= perEpoch) epoch++, (batch = 0);
    }
  } finally {
    step.dispose();
  }
  return { losses, next: { seed: from.seed, epoch, batch } };
}

/** Every tensor of the training state, read back: model state, optimizer state, dropout state. */
export async function snapshot(model: Module, optimizer: Optimizer): Promise<Map<string, Float32Array | Uint32Array>> {
  const out = new Map<string, Float32Array | Uint32Array>();
  for (const [n, t] of model.stateDict()) out.set(n, (await t.read()) as Float32Array);
  for (const s of optimizer.stateSlots()) out.set(`${s.slot}.${s.param}`, (await s.tensor.read()) as Float32Array);
  for (const [n, m] of model.namedModules())
    if (m instanceof Dropout) out.set(`${n}.dropout`, (await m.state.read()) as Uint32Array);
  return out;
}

/** Names of the entries of `a` and `b` that differ in any bit (f32 compared as bits). */
export function differing(
  a: Map<string, Float32Array | Uint32Array>,
  b: Map<string, Float32Array | Uint32Array>,
): string[] {
  const bits = (v: Float32Array | Uint32Array) => new Uint32Array(v.buffer, v.byteOffset, v.length);
  const out: string[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.length !== v.length || bits(v).some((x, i) => x !== bits(w)[i])) out.push(k);
  }
  for (const k of b.keys()) if (!a.has(k)) out.push(k);
  return out;
}

/** Losses compared bit for bit. */
export function sameBits(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(Math.fround(v), Math.fround(b[i])));
}
