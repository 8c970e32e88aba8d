/// <reference types="@webgpu/types" preserve="true" />
/**
 * The ops' gradient kernels, the optimizer kernels, kernel choice and tuning, shader access,
 * and the types of the engine's queue and pool. For benchmarks, tests and power users;
 * applications need only the main entry, `webgpu-cnn`. Shares one engine with it.
 *
 * @module webgpu-cnn/kernels
 */

// --- kernel choice (runtime/select.ts) and the families' declarations ---
export {
  adapterClass,
  isCpuAdapter,
  chooseKernel,
  setKernel,
  getKernel,
  defaultKernel,
  tunedKernel,
  tuneKeyOf,
  runnableCandidates,
  recordProblems,
  type AdapterClass,
  type KernelFamily,
} from './runtime/select.js';
export {
  CONV2D,
  conv2dKernelFor,
  type Conv2dKernel,
  type Conv2dPass,
  type ConvGeometry,
} from './ops/conv2d/index.js';
export type { ConvTiles } from './ops/conv2d/tiled.js';
export { MATMUL } from './ops/matmul/choose.js';
export { kernelName, type MatmulKernel, type Gemm } from './ops/matmul/kernels.js';
export { SOFTMAX, type SoftmaxKernel, type SoftmaxKernelChoice } from './ops/loss/index.js';
export type { SoftmaxRows } from './ops/loss/choose.js';
export { POOL2D, type Pool2dKernel, type PoolGeometry } from './ops/pool2d/index.js';
export type { PoolProblem } from './ops/pool2d/choose.js';

// --- tuning (explicit and async; ops only read remembered choices) ---
export {
  loadTuning,
  setTuneStore,
  clearTuning,
  fileStore,
  indexedDbStore,
  memoryStore,
  type TuneStore,
  type CandidateTiming,
} from './runtime/autotune.js';
export { tuneMatmul, tuneMatmulsIn, type TuneMatmulOptions, type TuneResult } from './ops/matmul/tune.js';
export { tuneConv2d, tuneConv2dIn, type TuneConv2dOptions, type TuneConv2dResult } from './ops/conv2d/tune.js';

// --- gradient kernels (the autograd rules call these) ---
export { conv2dInputGrad, conv2dWeightGrad, conv2dWeightBiasGrad, type Conv2dGradOptions } from './ops/conv2d/index.js';
export { reluBackward, leakyReluBackward, sigmoidBackward, tanhBackward } from './ops/activations.js';
export { biasGrad } from './ops/reduce.js';
export { softmaxBackward } from './ops/loss/index.js';
export {
  maxPool2dWithIndices,
  maxPool2dBackward,
  avgPool2dBackward,
  globalAvgPoolBackward,
} from './ops/pool2d/index.js';

// --- finiteness flags (a TrainStep records these; readStatus decodes them) ---
export { finiteStatus, recordFinite, decodeFinite, type FiniteFlags } from './ops/finite.js';

// --- optimizer kernels (the optimizers call these) ---
export {
  sgdStep,
  adamStep,
  sgdStepFlat,
  adamStepFlat,
  globalNormSq,
  clipScale,
  makeHyper,
  writeHyper,
  hyperArray,
  HYPER,
  HYPER_SIZE,
  type HyperParams,
  type SgdOptions,
  type FlatOptions,
} from './ops/optim.js';

// --- parameter initialisation (custom layers) ---
export { InitRng, initValues, initTensor, fans, type InitKind } from './nn/init.js';

// --- shaders ---
export {
  shaderNames,
  rawShader,
  registerShader,
  type EntryInfo,
  type BindingInfo,
  type UniformLayout,
  type UniformField,
  type ScalarKind,
} from './runtime/shaders.js';

// --- the engine's queue and pool (the types of engine().queue and engine().pool) ---
export type { Queue, Command, DispatchArgs } from './runtime/queue.js';
export type { BufferPool } from './runtime/pool.js';
export type { PipelineCache, CachedPipeline, CompileRecord, Constants } from './runtime/pipelines.js';
