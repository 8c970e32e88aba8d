/// <reference types="@webgpu/types" preserve="true" />
/**
 * The package's main entry: what an application uses to train or predict (tensors and ops,
 * autograd, layers, optimizers, datasets, model files, training and prediction). Gradient
 * kernels, optimizer kernels, kernel choice and tuning, shader access: `webgpu-cnn/kernels`.
 *
 * @module webgpu-cnn
 */
// Sections by area; keep each area's exports in its own section (src/kernels.ts: the other entry).

// --- runtime ---
export { init, engine, useDevice, Engine, type DeviceLostInfo } from './runtime/engine.js';
export { NoAdapterError, type AdapterSummary, type InitOptions } from './runtime/device.js';
export type { MemoryStats, PooledBuffer } from './runtime/pool.js';
export type { NumericsCheck, NonFiniteReport } from './runtime/numerics.js';
export { withQuickKernels } from './runtime/select.js';

// --- tensors ---
export { Tensor, tensor, empty, sizeOf, type DType, type Shape } from './tensor/tensor.js';
export { scope, keep, startScope, endScope, type Disposable } from './tensor/scope.js';

// --- ops: elementwise ---
export { full, zeros, ones, add, sub, mul, scale, addScalar, scaleBy } from './ops/elementwise.js';

// --- ops: conv2d ---
export {
  conv2d,
  conv2dOutputShape,
  oihwToHwio,
  hwioToOihw,
  type Conv2dOptions,
  type Conv2dGeomOptions,
  type Conv2dKernelChoice,
} from './ops/conv2d/index.js';

// --- ops: matmul, activations, reductions, loss ---
export { matmul, bmm, type MatmulOptions } from './ops/matmul/index.js';
export { relu, leakyRelu, sigmoid, tanh } from './ops/activations.js';
export { sum, mean, sumTo, broadcastTo } from './ops/reduce.js';
export { reshape, flatten } from './ops/shape.js';
export { softmaxCrossEntropy, softmax, argmax, accuracy } from './ops/loss/index.js';

// --- ops: pooling ---
export { maxPool2d, avgPool2d, globalAvgPool, pool2dOutputShape, type Pool2dOptions } from './ops/pool2d/index.js';
export { clipByGlobalNorm } from './ops/optim.js';

// --- autograd ---
export { valueAndGrad, computeGradients, type ValueAndGrad, type ComputeGradientsOptions } from './autograd/grad.js';
export {
  capture,
  CapturedPlan,
  planPipelines,
  preparePipelines,
  type CaptureOptions,
  type PrepareInfo,
  type PrepareOptions,
} from './autograd/capture.js';
export type { PipelineSpec } from './runtime/pipelines.js';

// --- nn layers ---
export { Module, type HostArray } from './nn/module.js';
export { Sequential, type FromSpecOptions, type SequentialOptions } from './nn/sequential.js';
export { Residual, type ResidualOptions } from './nn/residual.js';
export { Conv2d, type Conv2dLayerOptions } from './nn/conv.js';
export { Linear, Flatten, type LinearOptions } from './nn/linear.js';
export { ReLU, LeakyReLU, Sigmoid, Tanh } from './nn/activations.js';
export { lenet, resnet20, vgg, type PresetOptions } from './nn/presets.js';
export { InitRng, type InitKind } from './nn/init.js';
export { BatchNorm2d } from './nn/batchnorm.js';
export { batchNorm, type BatchNormOptions } from './ops/batchnorm.js';
export { Dropout } from './nn/dropout.js';
export { dropout } from './ops/dropout.js';
export { MaxPool2d, AvgPool2d, GlobalAvgPool } from './nn/pooling.js';

// --- optimizers ---
export {
  Optimizer,
  SGD,
  Adam,
  AdamW,
  type OptimizerOptions,
  type SgdOptimizerOptions,
  type AdamOptimizerOptions,
} from './optim/optimizers.js';
export { constantLr, stepLr, cosineLr, type Schedule } from './optim/schedule.js';

// --- data ---
export { type ImageDataset, checkDataset, subset, classCounts } from './data/dataset.js';
export { loadMnist, MNIST_SIZE, type MnistOptions, type MnistSplit } from './data/mnist.js';
export type { MnistSplitKind } from './data/mnist-source.js';
export { loadFashionMnist, FASHION_MNIST_CLASSES, type FashionMnistOptions } from './data/fashion-mnist.js';
export {
  batches,
  batchCount,
  uploadBatch,
  type Batch,
  type BatchOptions,
} from './data/batch.js';
export {
  normalizeInPlace,
  datasetNormalization,
  MNIST_MEAN,
  MNIST_STD,
  MNIST_NORMALIZATION,
  FASHION_MNIST_NORMALIZATION,
  CIFAR10_NORMALIZATION,
  type Normalization,
} from './data/normalize.js';
export { resizeCenterCrop, type PixelArray } from './data/resize.js';
export {
  imagePixels,
  imagesToDataset,
  loadImageFiles,
  type ImageSourceInput,
  type ImageSize,
} from './data/images-browser.js';
export {
  randomAffines,
  randomAugment,
  affineMatrix,
  augmentCpu,
  IDENTITY_AFFINE,
  AUGMENT_PARAMS,
  type AugmentOptions,
  type AffineParams,
  type ImageDims,
} from './data/augment.js';
export { colourJitter, GREY_WEIGHTS } from './data/colour-jitter.js';
export type { Rng } from './data/rng.js';
export { augment } from './data/augment-gpu.js';

// --- io (safetensors) ---
export { FormatError } from './io/errors.js';
export { parseIdx, writeIdx, idxImageDataset, type IdxArray, type IdxData, type IdxDType } from './io/idx.js';
export {
  readSafetensors,
  writeSafetensors,
  toFloat32,
  type SafeDType,
  type SafeTensor,
  type SafetensorsFile,
  type TensorToWrite,
  type WritableData,
} from './io/safetensors.js';
export {
  parseModelSpec,
  modelShapes,
  modelParams,
  ARCH_METADATA_KEY,
  type ModelSpec,
  type LayerSpec,
  type SequentialSpec,
  type ResidualSpec,
  type ParamSpec,
  type SidePadding,
  type Pair,
  type Activation,
  type Conv2dSpec,
  type Pool2dSpec,
  type LinearSpec,
  type BatchNormSpec,
  type LeakyReluSpec,
  type DropoutSpec,
  type PlainSpec,
} from './nn/spec.js';
export {
  pytorchToHwio,
  hwioToPytorch,
  linearOutInToInOut,
  linearInOutToOutIn,
  linearAfterFlattenFromPytorch,
  linearAfterFlattenToPytorch,
  importPytorchStateDict,
  type ImportOptions,
} from './io/pytorch.js';
export {
  exportPytorchStateDict,
  encodePytorchStateDict,
  type ExportableModel,
  type HostState,
} from './io/pytorch-export.js';
export { pytorchModuleSource, torchModules, type ModuleSourceOptions } from './io/pytorch-modules.js';
export type { TorchModules, TorchLayer, TorchTensor, TorchKind } from './io/pytorch-common.js';
export { encodeModel, decodeModel, saveModel, loadModel, type HostTensor, type ModelFile } from './io/model-file.js';
export { readIdxFile, readSafetensorsFile, writeBytesFile } from './io/node-fs.js';
export {
  parseCifar10,
  writeCifar10,
  readCifar10File,
  loadCifar10,
  CIFAR10_CLASSES,
  CIFAR10_TRAIN_FILES,
  CIFAR10_TEST_FILE,
} from './io/cifar10.js';
export {
  decodeImage,
  readImageFile,
  loadImageFolder,
  type DecodedImage,
  type ImageFolderOptions,
} from './io/image-folder.js';

// --- training ---
export {
  TrainStep,
  type TrainStepOptions,
  type StepPrepareOptions,
  type StepStatus,
  type LossFn,
} from './train/step.js';
export { Evaluator, type EvalResult, type EvaluatorOptions } from './train/evaluate.js';
export { fit, type FitOptions, type StepInfo, type EpochInfo } from './train/fit.js';
export {
  loadPredictor,
  Predictor,
  preprocessMetadata,
  readPreprocess,
  PREPROCESS_METADATA_KEY,
  type Prediction,
  type PredictInput,
  type PredictOptions,
  type Preprocess,
  type PredictorSource,
} from './train/predict.js';

// --- reliability ---
export {
  saveCheckpoint,
  loadCheckpoint,
  readCheckpointInfo,
  CHECKPOINT_METADATA_KEY,
  type TrainingState,
  type CheckpointInfo,
  type DataPosition,
} from './train/checkpoint.js';
export { OutOfMemoryError } from './runtime/pool.js';
export type { StateSlot } from './optim/optimizers.js';

import { engine } from './runtime/engine.js';
/** Memory stats of the current engine: bytes allocated, in use, pooled; live tensors. */
export function memory() {
  return engine().memory();
}
/** Submit all recorded GPU work now. */
export function flush(): void {
  engine().flush();
}
