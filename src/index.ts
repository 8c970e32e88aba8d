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
export {
  conv2d, conv2dNaive, conv2dBackwardInput, conv2dBackwardWeight, conv2dBackwardWeightBias,
  conv2dOutputShape, oihwToHwio, hwioToOihw,
  type Conv2dOptions, type Conv2dBackwardOptions,
} from './ops/conv2d.js';

// --- ops: matmul, activations, reductions, loss ---

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
