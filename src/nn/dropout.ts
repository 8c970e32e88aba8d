// The Dropout layer: drops in training mode, identity in evaluation mode. The op and its
// kernels: ops/dropout.ts.

import { tensor, type Shape, type Tensor } from '../tensor/tensor.js';
import { checkNumber } from '../ops/check.js';
import { dropout } from '../ops/dropout.js';
import { keep } from '../tensor/scope.js';
import type { LayerSpec } from './spec.js';
import { Module } from './module.js';
import type { InitRng } from './init.js';

export { dropout };

let defaultSeeds = 0;

/**
 * Dropout layer: drops in training mode, identity in evaluation mode. Without a seed, layers get
 * seeds 0, 1, 2, ... in construction order (reproducible, and no two layers share a mask).
 */
export class Dropout extends Module {
  /** [seed, forward counter] on the GPU; not a checkpoint buffer (inference does not need it) */
  readonly state: Tensor;

  constructor(
    readonly rate = 0.5,
    opts: { seed?: number; rng?: InitRng } = {},
  ) {
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
