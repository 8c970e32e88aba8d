// Public API of webgpu-cnn. Sections by area; keep each area's exports in its own section.

// --- runtime ---
export { init, engine, useDevice, onEngine, Engine, type DeviceLostInfo } from './runtime/engine.js';
export { NoAdapterError, type AdapterSummary, type InitOptions } from './runtime/device.js';
export type { MemoryStats } from './runtime/pool.js';
export { shaderNames, rawShader } from './runtime/shaders.js';
export {
  loadTuning, setTuneStore, clearTuning, fileStore, indexedDbStore, memoryStore, type TuneStore,
} from './runtime/autotune.js';

// --- tensors ---
export { Tensor, tensor, empty, sizeOf, type DType, type Shape } from './tensor/tensor.js';
export { scope, keep, startScope, endScope } from './tensor/scope.js';

// --- ops: elementwise ---
export { full, zeros, ones, add, sub, mul, scale, addScalar, scaleBy } from './ops/elementwise.js';

// --- ops: conv2d ---
export {
  conv2d, conv2dNaive, conv2dBackwardInput, conv2dBackwardWeight, conv2dBackwardWeightBias,
  conv2dOutputShape, oihwToHwio, hwioToOihw,
  setConv2dVariant, getConv2dVariant, pickConv2dVariant, conv2dVariantsFor, isCpuAdapter,
  type Conv2dOptions, type Conv2dBackwardOptions, type Conv2dVariant, type Conv2dVariantChoice, type Conv2dPass,
} from './ops/conv2d.js';

// --- ops: matmul, activations, reductions, loss ---
export { matmul, bmm, matmulNaive, type MatmulOptions } from './ops/matmul.js';
export { kernelName, pickKernel, type MatmulKernel } from './ops/matmul_kernels.js';
export { tuneMatmul, tuneMatmulsIn, type TuneMatmulOptions, type TuneResult } from './ops/matmul_tune.js';
export { tuneConv2d, tuneConv2dIn, type TuneConv2dOptions, type TuneConv2dResult } from './ops/conv2d_tune.js';
export { relu, reluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward, tanh, tanhBackward } from './ops/activations.js';
export { sum, mean, biasGrad, sumTo, broadcastTo } from './ops/reduce.js';
export { reshape, flatten, broadcastShapes } from './ops/shape.js';
export { softmaxCrossEntropy, softmax, softmaxBackward, argmax, accuracy, type SoftmaxCeKernel } from './ops/loss.js';

// --- ops: pooling, optimizer kernels ---
export {
  maxPool2d, maxPool2dWithIndices, maxPool2dBackward, avgPool2d, avgPool2dBackward, globalAvgPool,
  globalAvgPoolBackward, pool2dOutputShape, type Pool2dOptions,
} from './ops/pool2d.js';
export {
  sgdStep, adamStep, sgdStepFlat, adamStepFlat, globalNormSq, clipScale, clipByGlobalNorm, makeHyper,
  writeHyper, hyperArray, HYPER, HYPER_SIZE, type HyperParams, type SgdOptions, type FlatOptions,
} from './ops/optim.js';

// --- autograd ---
export { valueAndGrad, computeGradients, type ValueAndGrad, type ComputeGradientsOptions } from './autograd/grad.js';
export { capture, CapturedPlan, planPipelines, preparePipelines, type CaptureOptions, type PrepareInfo, type PrepareOptions } from './autograd/capture.js';

// --- nn layers ---
export { Module, type HostArray } from './nn/module.js';
export { Sequential, type FromSpecOptions } from './nn/sequential.js';
export { Conv2d, type Conv2dLayerOptions } from './nn/conv.js';
export { Linear, Flatten, type LinearOptions } from './nn/linear.js';
export { ReLU, LeakyReLU, Sigmoid, Tanh } from './nn/activations.js';
export { lenet } from './nn/presets.js';
export { InitRng, initValues, initTensor, fans, type InitKind } from './nn/init.js';
export { batchNorm, BatchNorm2d, type BatchNormOptions } from './nn/batchnorm.js';
export { dropout, Dropout } from './nn/dropout.js';
export { MaxPool2d, AvgPool2d, GlobalAvgPool } from './nn/pooling.js';

// --- optimizers ---
export { Optimizer, SGD, Adam, AdamW, type OptimizerOptions, type SgdOptimizerOptions, type AdamOptimizerOptions } from './optim/optimizers.js';
export { constantLr, stepLr, cosineLr, type Schedule } from './optim/schedule.js';

// --- data ---
export { type ImageDataset, checkDataset, subset, classCounts } from './data/dataset.js';
export { loadMnist, loadMnistRaw, stratifiedSplit, MNIST_SIZE, type MnistOptions, type MnistSplit, type MnistRaw } from './data/mnist.js';
export { createRng, mixSeed, permutation, type Rng } from './data/rng.js';
export {
  batches, batchCount, epochOrder, normalizeInPlace, uploadBatch, MNIST_MEAN, MNIST_STD, MNIST_NORMALIZATION,
  type Batch, type BatchOptions, type Normalization,
} from './data/batch.js';
export {
  randomAffines, affineMatrix, augmentCpu, augmentRef, warpAffine, IDENTITY_AFFINE,
  type AugmentOptions, type AffineParams, type ImageDims,
} from './data/augment.js';
export { augment } from './data/augment-gpu.js';

// --- io (safetensors) ---
export { FormatError } from './io/errors.js';
export { parseIdx, writeIdx, idxImageDataset, type IdxArray, type IdxDType } from './io/idx.js';
export {
  readSafetensors, writeSafetensors, toFloat32, MAX_HEADER_BYTES,
  type SafeDType, type SafeTensor, type SafetensorsFile, type TensorToWrite,
} from './io/safetensors.js';
export {
  parseModelSpec, modelShapes, modelParams, ARCH_METADATA_KEY,
  type ModelSpec, type LayerSpec, type ParamSpec,
} from './io/model-spec.js';
export {
  pytorchToHwio, hwioToPytorch, linearOutInToInOut, linearInOutToOutIn, linearAfterFlattenFromPytorch,
  importPytorchStateDict, type ImportOptions,
} from './io/pytorch.js';
export { encodeModel, decodeModel, saveModel, loadModel, type HostTensor, type ModelFile } from './io/model-file.js';
export { readIdxFile, readSafetensorsFile, writeBytesFile } from './io/node-fs.js';

// --- training ---
export { TrainStep, type TrainStepOptions, type LossFn } from './train/step.js';
export { Evaluator, type EvalResult, type EvaluatorOptions } from './train/evaluate.js';
export { fit, type FitOptions, type StepInfo, type EpochInfo } from './train/fit.js';

// --- reliability ---
export {
  saveCheckpoint, loadCheckpoint, readCheckpointInfo, CHECKPOINT_METADATA_KEY, CHECKPOINT_VERSION,
  type TrainingState, type CheckpointInfo, type DataPosition,
} from './train/checkpoint.js';
export { OutOfMemoryError } from './runtime/pool.js';
export { type StateSlot } from './optim/optimizers.js';

import { engine } from './runtime/engine.js';
/** Memory stats of the current engine: bytes allocated, in use, pooled; live tensors. */
export function memory() {
  return engine().memory();
}
/** Submit all recorded GPU work now. */
export function flush(): void {
  engine().flush();
}
