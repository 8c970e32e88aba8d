// Dropout: the op and its backward rule (the layer: nn/dropout.ts). Kernels:
// shaders/dropout.wgsl. The mask is a pure function of (seed, k, i) for the k-th training
// forward of the layer, computed on the GPU, so runs are reproducible and a captured step
// draws a fresh mask on every replay (the counter k lives on the GPU and is advanced there).

import { engine } from '../runtime/engine.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { needsGrad, record } from '../autograd/tape.js';
import { allocateFor, checkNumber, checkTensor, guarded } from './check.js';
import { grid1d } from './grid.js';

const WG = 256;

/**
 * Training-mode dropout: y = x * mask, mask = (u(seed, k, i) >= rate) / (1 - rate), where
 * `state` is a u32 tensor [2] = [seed, k]; k is incremented on the GPU afterwards.
 */
export function dropout(x: Tensor, rate: number, state: Tensor): Tensor {
  checkTensor('dropout', 'x', x, 'f32');
  checkTensor('dropout', 'state', state, 'u32');
  checkNumber('dropout', 'rate', rate, { min: 0 });
  if (rate >= 1) throw new RangeError(`webgpu-cnn: dropout: 'rate' must be in [0, 1), got ${rate}`);
  if (state.size !== 2) throw new RangeError(`webgpu-cnn: dropout: 'state' must be a u32 tensor [2] (seed, counter)`);
  const q = engine().queue;
  const [y, mask] = guarded('dropout', () => [allocateFor('dropout', x.shape), allocateFor('dropout', x.shape)]);
  const n = x.size;
  q.dispatch({
    shader: 'dropout',
    entry: 'forward',
    op: 'dropout',
    uniforms: { n, rate },
    buffers: { x: x.buffer, state: state.buffer, y: y.buffer, mask: mask.buffer },
    workgroups: grid1d(n, WG),
  });
  q.dispatch({
    shader: 'dropout',
    entry: 'advance',
    op: 'dropout',
    buffers: { counter: state.buffer },
    workgroups: [1],
  });
  if (needsGrad([x])) {
    record('dropout', [x], [y], ([gy]) => {
      if (!gy) return [null];
      const dx = empty(x.shape);
      q.dispatch({
        shader: 'dropout',
        entry: 'apply_mask',
        op: 'dropout',
        uniforms: { n, rate },
        buffers: { x: gy.buffer, mask_in: mask.buffer, y: dx.buffer },
        workgroups: grid1d(n, WG),
      });
      return [dx];
    });
  } else mask.dispose();
  return y;
}
