// Argument checks of the training API (TrainStep, fit, Evaluator), run on the host before
// anything is allocated, written or recorded (the rule of src/tensor/args.ts).
//
// Labels: class indices are host arrays when they reach these functions, so they are checked
// there, where it is cheap (one pass, no readback): integers, 0 <= label < classes, one per
// sample. A label out of range would otherwise wrap (-1 -> 4294967295 as u32) or be truncated
// (2.7 -> 2) on upload and train silently on NaN losses or the wrong class.

import { checkHostData, checkOptions, describe } from '../tensor/args.js';
import { checkShape, checkDType, type DType, type Shape } from '../tensor/tensor.js';
import { checkDataset, type ImageDataset } from '../data/dataset.js';
import { Module } from '../nn/module.js';
import { Optimizer } from '../optim/optimizers.js';

/** TrainStep's options (`keys`: every key of TrainStepOptions), checked before the step allocates. */
export function checkTrainStepOptions(o: unknown, keys: readonly string[]): void {
  const where = 'TrainStep';
  if (o === undefined) throw new TypeError(`webgpu-cnn: ${where}: 'opts' must be an options object, got undefined`);
  checkOptions(where, 'opts', o, keys);
  const { model, optimizer, loss, inputShape, labelShape, labelDtype } = o as Record<string, unknown>;
  checkModel(where, model, optimizer);
  if (typeof loss !== 'function')
    throw new TypeError(
      `webgpu-cnn: ${where}: 'loss' must be a function (output, labels) => loss, got ${describe(loss)}`,
    );
  checkShape(inputShape as Shape, `${where} (inputShape)`);
  if (!((inputShape as Shape).length >= 1 && (inputShape as Shape)[0] >= 1))
    throw new RangeError(
      `webgpu-cnn: ${where}: 'inputShape' must start with a batch size >= 1, got ${describe(inputShape)}`,
    );
  if (labelShape !== undefined) checkShape(labelShape as Shape, `${where} (labelShape)`);
  if (labelDtype !== undefined) checkDType(labelDtype, `${where} (labelDtype)`);
}

/** `model` is a Module and, with `optimizer` given as a third argument, that is an Optimizer. */
export function checkModel(where: string, model: unknown, ...optimizer: unknown[]): void {
  if (!(model instanceof Module))
    throw new TypeError(`webgpu-cnn: ${where}: 'model' must be a Module, got ${describe(model)}`);
  if (optimizer.length && !(optimizer[0] instanceof Optimizer))
    throw new TypeError(`webgpu-cnn: ${where}: 'optimizer' must be an Optimizer, got ${describe(optimizer[0])}`);
}

/**
 * The number of classes a step's u32 labels index, when the model's output for `inputShape`
 * is [B, K] and the labels are [B]; null when that does not apply (other losses, other shapes).
 */
export function classesOf(model: Module, inputShape: Shape, labelShape: Shape, labelDtype: DType): number | null {
  if (labelDtype !== 'u32' || labelShape.length !== 1 || labelShape[0] !== inputShape[0]) return null;
  try {
    const out = model.outputShape(inputShape);
    return out.length === 2 && out[0] === inputShape[0] ? out[1] : null;
  } catch {
    return null; // a model that does not fit the input fails at its first run, naming the layer
  }
}

/**
 * Host labels for `where`: numbers of the dtype's range (integers for u32/i32), `n` of them,
 * and each < `classes` when that is known.
 */
export function checkLabels(
  where: string,
  labels: unknown,
  n: number,
  dtype: DType,
  classes: number | null,
  arg = 'labels',
): void {
  const len = checkHostData(where, arg, labels, dtype);
  if (len !== n) throw new RangeError(`webgpu-cnn: ${where}: '${arg}' has ${len} values, the batch needs ${n}`);
  if (classes === null) return;
  const a = labels as ArrayLike<number>;
  for (let i = 0; i < len; i++)
    if (!(a[i] >= 0 && a[i] < classes))
      throw new RangeError(
        `webgpu-cnn: ${where}: '${arg}' must be class indices in [0, ${classes - 1}] (the model has ${classes} outputs), element ${i} is ${a[i]}`,
      );
}

/** A dataset's shape fields, arrays, and labels against the classes `model` predicts. */
export function checkLabeledDataset(where: string, arg: string, ds: unknown, model: Module): void {
  if (ds === null || typeof ds !== 'object')
    throw new TypeError(`webgpu-cnn: ${where}: '${arg}' must be an ImageDataset, got ${describe(ds)}`);
  checkDataset(where, ds as ImageDataset, arg);
  const d = ds as ImageDataset;
  const classes = classesOf(model, [1, d.height, d.width, d.channels], [1], 'u32');
  checkLabels(where, d.labels, d.count, 'u32', classes, `${arg}.labels`);
}

/** A positive integer option (batch sizes, epochs). */
export function checkPositiveInt(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new (typeof v === 'number' ? RangeError : TypeError)(
      `webgpu-cnn: ${where}: '${arg}' must be an integer >= 1, got ${describe(v)}`,
    );
  return v;
}
