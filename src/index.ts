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
export { full, zeros, ones, add, scale } from './ops/elementwise.js';

// --- ops: conv2d ---

// --- ops: matmul, activations, reductions, loss ---

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
export { capture, CapturedPlan, type CaptureOptions } from './autograd/capture.js';

// --- nn layers ---
export { Module, Sequential } from './nn/module.js';
export { InitRng, initValues, initTensor, fans, type InitKind } from './nn/init.js';
export { batchNorm, BatchNorm2d, type BatchNormOptions } from './nn/batchnorm.js';
export { dropout, Dropout } from './nn/dropout.js';
export { MaxPool2d, AvgPool2d, GlobalAvgPool } from './nn/pooling.js';

// --- optimizers ---
export { Optimizer, SGD, Adam, AdamW, type OptimizerOptions, type SgdOptimizerOptions, type AdamOptimizerOptions } from './optim/optimizers.js';
export { constantLr, stepLr, cosineLr, type Schedule } from './optim/schedule.js';

// --- data ---

// --- io (safetensors) ---

// --- training ---
export { TrainStep, type TrainStepOptions, type LossFn } from './train/step.js';

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
