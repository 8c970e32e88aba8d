// Finiteness flags: record, on the GPU, whether a loss and a list of tensors (a step's
// gradients) hold only finite values, into one small u32 status tensor that also carries the
// loss. Reading that status back is the step's one readback of its loss (src/train/step.ts):
// the check adds dispatches, never a submit or a readback. Kernels: shaders/finite.wgsl.
//
//   status: [2 + P] u32   [0] the loss's (first value's) f32 bits   [1] loss non-finite
//                         [2 + i] tensor i non-finite
//
// Cost: one dispatch for the loss and one per tensor, each reading its tensor once (4 values
// a thread); what a LeNet step pays is in docs/performance.md.

import { engine } from '../runtime/engine.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { checkTensor } from './check.js';
import { grid1d } from './grid.js';

const WG = 256;

/** A status tensor for a loss and `count` tensors (uninitialised: recordFinite rewrites it). */
export function finiteStatus(count: number): Tensor {
  return empty([2 + count], 'u32');
}

/**
 * Record into `status` the loss's bits and whether the loss and each of `tensors` are finite
 * (every value neither NaN nor ±Inf). Nothing is read here; decode with `decodeFinite`.
 */
export function recordFinite(status: Tensor, loss: Tensor, tensors: readonly Tensor[]): void {
  const op = 'finiteCheck';
  checkTensor(op, 'status', status, 'u32', 1);
  checkTensor(op, 'loss', loss, 'f32');
  if (loss.size === 0) throw new RangeError(`webgpu-cnn: ${op}: 'loss' is empty`);
  if (status.size !== 2 + tensors.length)
    throw new RangeError(
      `webgpu-cnn: ${op}: 'status' must hold ${2 + tensors.length} words (2 + tensors), got ${status.size}`,
    );
  const q = engine().queue;
  q.dispatch({
    shader: 'finite',
    entry: 'finite_begin',
    op,
    uniforms: { n: loss.size, slot: 1, words: status.size },
    buffers: { x: loss.buffer, status: status.buffer },
    workgroups: [1],
  });
  tensors.forEach((t, i) => {
    checkTensor(op, `tensors[${i}]`, t, 'f32');
    if (t.size === 0) return;
    q.dispatch({
      shader: 'finite',
      entry: 'finite_check',
      op,
      uniforms: { n: t.size, slot: 2 + i, words: status.size },
      buffers: { x: t.buffer, status: status.buffer },
      workgroups: grid1d(Math.ceil(t.size / 4), WG),
    });
  });
}

/**
 * A finiteness status tensor decoded ({@link decodeFinite}): the loss, whether it is finite, and per
 * tensor given to {@link recordFinite} whether it holds no NaN or ±Inf.
 */
export interface FiniteFlags {
  /** the loss value (its first value, for a loss of several) */
  loss: number;
  /** the loss is finite */
  lossFinite: boolean;
  /** per tensor given to recordFinite: finite (true) or holds a NaN/±Inf (false) */
  tensors: boolean[];
}

/** Decode a status tensor as read back (`await status.read()`). */
export function decodeFinite(words: Uint32Array): FiniteFlags {
  return {
    loss: new Float32Array(words.buffer, words.byteOffset, 1)[0],
    lossFinite: words[1] === 0,
    tensors: Array.from(words.subarray(2), (w) => w === 0),
  };
}
