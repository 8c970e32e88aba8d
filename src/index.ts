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

// --- ops: matmul, activations, reductions, loss ---
export { matmul, bmm, matmulNaive, type MatmulOptions } from './ops/matmul.js';
export { relu, reluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward, tanh, tanhBackward } from './ops/activations.js';
export { sum, mean, biasGrad, sumTo, broadcastTo } from './ops/reduce.js';
export { reshape, flatten, broadcastShapes } from './ops/shape.js';
export { softmaxCrossEntropy, softmax, softmaxBackward, argmax, accuracy } from './ops/loss.js';

// --- ops: pooling, optimizer kernels ---

// --- autograd ---

// --- nn layers ---

// --- optimizers ---

// --- data ---

// --- io (safetensors) ---

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
