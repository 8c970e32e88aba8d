// Public API of webgpu-cnn. Sections by area; keep each area's exports in its own section.

// --- runtime ---
export { init, engine, useDevice, onEngine, Engine, type DeviceLostInfo } from './runtime/engine.js';
export { NoAdapterError, type AdapterSummary, type InitOptions } from './runtime/device.js';
export type { MemoryStats } from './runtime/pool.js';
export { shaderNames, rawShader } from './runtime/shaders.js';

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
export { relu, reluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward, tanh, tanhBackward } from './ops/activations.js';
export { sum, mean, biasGrad, sumTo, broadcastTo } from './ops/reduce.js';
export { reshape, flatten, broadcastShapes } from './ops/shape.js';
export { softmaxCrossEntropy, softmax, softmaxBackward, argmax, accuracy } from './ops/loss.js';

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

// --- nn layers ---

// --- optimizers ---

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

// --- reliability ---

import { engine } from './runtime/engine.js';
/** Memory stats of the current engine: bytes allocated, in use, pooled; live tensors. */
export function memory() {
  return engine().memory();
}
/** Submit all recorded GPU work now. */
export function flush(): void {
  engine().flush();
}
