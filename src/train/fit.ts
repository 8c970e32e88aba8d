// The training loop: epochs of captured training steps over an image dataset, with the loss
// read back every few steps and an evaluation after each epoch. Works in Node and in the
// browser (no file system here; scripts/train.ts adds the CLI, progress bar and saving).

import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizers.js';
import { softmaxCrossEntropy } from '../ops/loss/index.js';
import { batches, batchCount, type Normalization } from '../data/batch.js';
import { channelStats } from '../data/normalize.js';
import { checkAugmentOptions, type AugmentOptions } from '../data/augment.js';
import type { ImageDataset } from '../data/dataset.js';
import { TrainStep, type LossFn } from './step.js';
import { Evaluator, type EvalResult } from './evaluate.js';
import type { DataPosition } from './checkpoint.js';
import { checkLabeledDataset, checkModel, checkPositiveInt } from './args.js';
import { checkOptions, describe } from '../tensor/args.js';

/**
 * Options of {@link fit}: model, optimizer, training (and optional test) data, epochs and batch size,
 * plus seed, augmentation, loss, capture and callbacks. Unknown keys or invalid values throw before
 * any training.
 */
export interface FitOptions {
  model: Module;
  optimizer: Optimizer;
  train: ImageDataset;
  /** evaluated after every epoch when given */
  test?: ImageDataset;
  epochs: number;
  batchSize: number;
  /** shuffle / augmentation seed (default 0) */
  seed?: number;
  /** random augmentation of training batches (CPU, per sample): affine, crop, flip, colour jitter */
  augment?: AugmentOptions;
  /** default: the training set's `normalization` (none if absent); used for `test` too */
  normalize?: Normalization | false;
  /** default softmaxCrossEntropy */
  loss?: LossFn;
  /** read the loss back every k steps (default 10); each read waits for the GPU */
  lossEvery?: number;
  /** default true: capture the first step, replay the rest */
  capture?: boolean;
  /** TrainStep's coldStart: 'tiered' (default), 'wait' (bit-for-bit reproducible runs) or 'quick' */
  coldStart?: 'tiered' | 'wait' | 'quick';
  evalBatchSize?: number;
  /**
   * Continue a run from a checkpoint's data position (src/train/checkpoint.ts): training starts
   * at batch `batch` of epoch `epoch` (of `epochs` in all). Its seed must equal `seed`.
   */
  resume?: DataPosition;
  /** awaited when it returns a promise (e.g. to save a checkpoint every k steps) */
  onStep?: (s: StepInfo) => void | Promise<void>;
  onEpoch?: (e: EpochInfo) => void;
}

/** What {@link fit} passes to `onStep` after each training step (`epoch` counts from 0, `step` from 1). */
export interface StepInfo {
  epoch: number;
  /** step within the epoch, from 1 */
  step: number;
  stepsPerEpoch: number;
  /** present on steps whose loss was read back */
  loss?: number;
  /** training images per second so far in this epoch */
  imagesPerSec: number;
  /** where a run resumed from a checkpoint taken now continues (the next batch) */
  resumeAt: DataPosition;
}

/**
 * What {@link fit} reports for each epoch (passed to `onEpoch` and returned): mean training loss, test
 * results if a test set was given, seconds and throughput in images per second.
 */
export interface EpochInfo {
  epoch: number;
  /** mean of the losses read back during the epoch */
  trainLoss: number;
  test?: EvalResult;
  /** seconds spent in training steps (evaluation excluded) */
  trainSeconds: number;
  evalSeconds: number;
  imagesPerSec: number;
}

/** Every option key (a key added to FitOptions and not here does not compile). */
const FIT_KEYS = Object.keys({
  model: true,
  optimizer: true,
  train: true,
  test: true,
  epochs: true,
  batchSize: true,
  seed: true,
  augment: true,
  normalize: true,
  loss: true,
  lossEvery: true,
  capture: true,
  coldStart: true,
  evalBatchSize: true,
  resume: true,
  onStep: true,
  onEpoch: true,
} satisfies Record<keyof FitOptions, true>);

/**
 * fit's options, all checked before anything is allocated (src/tensor/args.ts): no unknown
 * keys, whole positive numbers, datasets whose labels index the model's classes, and at least
 * one step to run (a batch larger than the dataset would otherwise "train" zero steps).
 */
function checkFitOptions(o: FitOptions): void {
  const where = 'fit';
  if (o === null || typeof o !== 'object')
    throw new TypeError(`webgpu-cnn: ${where}: 'opts' must be an options object, got ${describe(o)}`);
  checkOptions(where, 'opts', o, FIT_KEYS);
  checkModel(where, o.model, o.optimizer);
  checkPositiveInt(where, 'epochs', o.epochs);
  checkPositiveInt(where, 'batchSize', o.batchSize);
  if (o.lossEvery !== undefined) checkPositiveInt(where, 'lossEvery', o.lossEvery);
  if (o.evalBatchSize !== undefined) checkPositiveInt(where, 'evalBatchSize', o.evalBatchSize);
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0))
    throw new RangeError(`webgpu-cnn: ${where}: 'seed' must be an integer >= 0, got ${describe(o.seed)}`);
  for (const k of ['onStep', 'onEpoch', 'loss'] as const)
    if (o[k] !== undefined && typeof o[k] !== 'function')
      throw new TypeError(`webgpu-cnn: ${where}: '${k}' must be a function, got ${describe(o[k])}`);
  checkLabeledDataset(where, 'train', o.train, o.model);
  if (o.test !== undefined) checkLabeledDataset(where, 'test', o.test, o.model);
  if (o.augment !== undefined) checkAugmentOptions(where, o.augment, o.train.channels);
  const norm = o.normalize ?? o.train.normalization;
  if (norm) channelStats(where, norm, o.train.channels);
  if (o.train.count < o.batchSize)
    throw new RangeError(
      `webgpu-cnn: ${where}: 'batchSize' ${o.batchSize} is larger than the training set (${o.train.count} images): ` +
        'no full batch, so no step would run (the last partial batch is dropped)',
    );
  if (o.resume !== undefined) {
    const r = o.resume as unknown as Record<string, unknown>;
    if (
      r === null ||
      typeof r !== 'object' ||
      !['seed', 'epoch', 'batch'].every((k) => Number.isInteger(r[k]) && (r[k] as number) >= 0)
    )
      throw new TypeError(
        `webgpu-cnn: ${where}: 'resume' must be {seed, epoch, batch} (integers >= 0), got ${describe(o.resume)}`,
      );
    const stepsPerEpoch = Math.floor(o.train.count / o.batchSize);
    const first = o.resume.epoch + (o.resume.batch >= stepsPerEpoch ? 1 : 0);
    if (first >= o.epochs)
      throw new RangeError(
        `webgpu-cnn: ${where}: 'resume' is at epoch ${o.resume.epoch} batch ${o.resume.batch}, past the last of ${o.epochs} epochs: no step would run`,
      );
  }
}

/** Train `model` for `epochs` epochs; returns one EpochInfo per epoch. */
export async function fit(o: FitOptions): Promise<EpochInfo[]> {
  checkFitOptions(o);
  const { train, batchSize: B } = o;
  const every = o.lossEvery ?? 10;
  const seed = o.seed ?? 0;
  if (o.resume && o.resume.seed !== seed)
    throw new RangeError(
      `webgpu-cnn: fit: 'resume' has seed ${o.resume.seed}, the run's 'seed' is ${seed} (the data order would differ)`,
    );
  const step = new TrainStep({
    model: o.model,
    optimizer: o.optimizer,
    loss: o.loss ?? softmaxCrossEntropy,
    inputShape: [B, train.height, train.width, train.channels],
    capture: o.capture,
    coldStart: o.coldStart,
  });
  // one normalisation for training and evaluation: the option, else the training set's own
  const normalize = o.normalize ?? train.normalization ?? false;
  const evaluator = o.test ? new Evaluator(o.model, { batchSize: o.evalBatchSize, normalize }) : null;
  const stepsPerEpoch = batchCount(train.count, B, true);
  const history: EpochInfo[] = [];
  try {
    o.model.train();
    // compile every pipeline of the step and of the evaluation at once (cold start)
    await Promise.all([step.prepare(), evaluator?.prepare([o.test!.height, o.test!.width, o.test!.channels])]);
    const first = o.resume ? o.resume.epoch + (o.resume.batch >= stepsPerEpoch ? 1 : 0) : 0;
    let startBatch = o.resume && o.resume.batch < stepsPerEpoch ? o.resume.batch : 0;
    for (let epoch = first; epoch < o.epochs; epoch++, startBatch = 0) {
      const t0 = performance.now();
      let lossSum = 0,
        lossCount = 0,
        k = startBatch;
      const opts = {
        batchSize: B,
        seed,
        epoch,
        startBatch,
        dropLast: true,
        augment: o.augment,
        normalize,
        reuse: true,
      };
      for (const b of batches(train, opts)) {
        step.run(b.images, b.labels);
        k++;
        let loss: number | undefined;
        if (k % every === 0 || k === stepsPerEpoch) {
          loss = await step.readLoss();
          lossSum += loss;
          lossCount++;
        }
        const resumeAt = k < stepsPerEpoch ? { seed, epoch, batch: k } : { seed, epoch: epoch + 1, batch: 0 };
        const imagesPerSec = ((k - startBatch) * B) / ((performance.now() - t0) / 1000);
        await o.onStep?.({ epoch, step: k, stepsPerEpoch, loss, imagesPerSec, resumeAt });
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      const test = evaluator ? await evaluator.evaluate(o.test!) : undefined;
      const info: EpochInfo = {
        epoch,
        trainLoss: lossSum / Math.max(lossCount, 1),
        test,
        trainSeconds,
        evalSeconds: (performance.now() - t1) / 1000,
        imagesPerSec: ((stepsPerEpoch - startBatch) * B) / trainSeconds,
      };
      history.push(info);
      o.onEpoch?.(info);
    }
  } finally {
    step.dispose();
    evaluator?.dispose();
  }
  return history;
}
