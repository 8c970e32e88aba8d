// Dropout: the op (forward, backward rule, reference mask) and the layer. Kernels:
// shaders/dropout.wgsl. The mask is a pure function of (seed, k, i) for the k-th training
// forward of the layer, computed on the GPU, so runs are reproducible and a captured step
// draws a fresh mask on every replay (the counter k lives on the GPU and is advanced there).

import { engine } from '../runtime/engine.js';
import { empty, tensor, type Shape, type Tensor } from '../tensor/tensor.js';
import { needsGrad, record } from '../autograd/tape.js';
import { checkNumber, checkTensor } from '../ops/check.js';
import { grid1d } from '../ops/grid.js';
import type { LayerSpec } from '../io/model-spec.js';
import { Module } from './module.js';
import type { InitRng } from './init.js';
import { keep } from '../tensor/scope.js';

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
  const y = empty(x.shape), mask = empty(x.shape);
  const n = x.size;
  q.dispatch({ shader: 'dropout', entry: 'forward', op: 'dropout', uniforms: { n, rate },
    buffers: { x: x.buffer, state: state.buffer, y: y.buffer, mask: mask.buffer }, workgroups: grid1d(n, WG) });
  q.dispatch({ shader: 'dropout', entry: 'advance', op: 'dropout', buffers: { counter: state.buffer }, workgroups: [1] });
  if (needsGrad([x])) {
    record('dropout', [x], [y], ([gy]) => {
      if (!gy) return [null];
      const dx = empty(x.shape);
      q.dispatch({ shader: 'dropout', entry: 'apply_mask', op: 'dropout', uniforms: { n, rate },
        buffers: { x: gy.buffer, mask_in: mask.buffer, y: dx.buffer }, workgroups: grid1d(n, WG) });
      return [dx];
    });
  } else mask.dispose();
  return y;
}

let defaultSeeds = 0;

/**
 * Dropout layer: drops in training mode, identity in evaluation mode. Without a seed, layers get
 * seeds 0, 1, 2, ... in construction order (reproducible, and no two layers share a mask).
 */
export class Dropout extends Module {
  /** [seed, forward counter] on the GPU; not a checkpoint buffer (inference does not need it) */
  readonly state: Tensor;

  constructor(readonly rate = 0.5, opts: { seed?: number; rng?: InitRng } = {}) {
    super();
    checkNumber('Dropout', 'rate', rate, { min: 0 });
    if (rate >= 1) throw new RangeError(`webgpu-cnn: Dropout: 'rate' must be in [0, 1), got ${rate}`);
    const seed = opts.seed ?? opts.rng?.u32() ?? defaultSeeds++;
    this.state = keep(tensor([seed, 0], [2], 'u32'));
  }

  override dispose(): void {
    this.state.dispose();
    super.dispose();
  }

  forward(x: Tensor): Tensor {
    return this.training && this.rate > 0 ? dropout(x, this.rate, this.state) : x;
  }

  outputShape(s: Shape): Shape {
    return s;
  }

  override toSpec(): LayerSpec {
    return { type: 'dropout', p: this.rate };
  }

  toString(): string {
    return `Dropout(${this.rate})`;
  }
}

function pcgHash(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** Host reference of the mask for forward number `k` (same hash as the kernel). */
export const ref = {
  mask(seed: number, k: number, n: number, rate: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const h = pcgHash((pcgHash((pcgHash(seed) ^ k) >>> 0) ^ i) >>> 0);
      out[i] = (h >>> 8) / 16777216 >= rate ? 1 / (1 - rate) : 0;
    }
    return out;
  },
};
