// The BatchNorm2d layer: parameters, running statistics and their use in training and
// evaluation modes, with PyTorch's semantics (momentum 0.1, eps 1e-5, unbiased running
// variance, num_batches_tracked). The op and its kernels: ops/batchnorm.ts.

import { shapeStr, type Shape, type Tensor } from '../tensor/tensor.js';
import { checkNumber, checkOptions, guarded } from '../ops/check.js';
import { full } from '../ops/elementwise.js';
import { batchNorm, type BatchNormOptions } from '../ops/batchnorm.js';
import { Module } from './module.js';
import type { LayerSpec } from './spec.js';

export { batchNorm, type BatchNormOptions };

/** BatchNorm over the channels of NHWC activations (also works on [N,C]). */
export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  /** batches seen in training mode (PyTorch's num_batches_tracked; f32, exact to 2^24) */
  readonly numBatchesTracked: Tensor;

  constructor(
    readonly channels: number,
    /** momentum: default 0.1; null = cumulative average (PyTorch's momentum=None). eps: default 1e-5 */
    readonly opts: { momentum?: number | null; eps?: number } = {},
  ) {
    super();
    checkNumber('BatchNorm2d', 'channels', channels, { int: true, min: 1 });
    checkOptions('BatchNorm2d', 'opts', opts, ['momentum', 'eps']);
    if (opts.momentum !== undefined && opts.momentum !== null)
      checkNumber('BatchNorm2d', 'momentum', opts.momentum, { min: 0 });
    if (opts.eps !== undefined) checkNumber('BatchNorm2d', 'eps', opts.eps, { min: 0 });
    // five tensors, all or nothing (out of memory at the third frees the first two)
    [this.weight, this.bias, this.runningMean, this.runningVar, this.numBatchesTracked] = guarded('BatchNorm2d', () => [
      full([channels], 1),
      full([channels], 0),
      full([channels], 0),
      full([channels], 1),
      full([], 0),
    ]);
    this.addParameter('weight', this.weight);
    this.addParameter('bias', this.bias);
    this.addBuffer('running_mean', this.runningMean);
    this.addBuffer('running_var', this.runningVar);
    this.addBuffer('num_batches_tracked', this.numBatchesTracked);
  }

  forward(x: Tensor): Tensor {
    return batchNorm(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training,
      ...this.opts,
      numBatchesTracked: this.numBatchesTracked,
    });
  }

  outputShape(s: Shape): Shape {
    if (s.length < 2 || s[s.length - 1] !== this.channels)
      throw new RangeError(`BatchNorm2d(${this.channels}) needs [...,${this.channels}] input, got ${shapeStr(s)}`);
    return s;
  }

  override toSpec(): LayerSpec {
    const { eps, momentum } = this.opts;
    return {
      type: 'batchnorm2d',
      channels: this.channels,
      ...(eps !== undefined && { eps }),
      ...(momentum !== undefined && { momentum }),
    };
  }

  toString(): string {
    return `BatchNorm2d(${this.channels})`;
  }
}

/** Float64 references over x viewed as [M, C]. */
export const ref = {
  batchNorm(x: ArrayLike<number>, C: number, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number) {
    const M = x.length / C;
    const mean = new Float64Array(C),
      variance = new Float64Array(C);
    for (let i = 0; i < x.length; i++) mean[i % C] += x[i] / M;
    for (let i = 0; i < x.length; i++) variance[i % C] += (x[i] - mean[i % C]) ** 2 / M;
    const y = Float64Array.from(
      x,
      (v, i) => (gamma[i % C] * (v - mean[i % C])) / Math.sqrt(variance[i % C] + eps) + beta[i % C],
    );
    return { y, mean, variance };
  },
  /** Gradients through batch statistics. */
  batchNormBackward(x: ArrayLike<number>, dy: ArrayLike<number>, C: number, gamma: ArrayLike<number>, eps: number) {
    const M = x.length / C;
    const { mean, variance } = ref.batchNorm(x, C, gamma, new Float64Array(C), eps);
    const inv = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
    const dgamma = new Float64Array(C),
      dbeta = new Float64Array(C);
    for (let i = 0; i < x.length; i++) {
      const c = i % C;
      dbeta[c] += dy[i];
      dgamma[c] += dy[i] * (x[i] - mean[c]) * inv[c];
    }
    const dx = Float64Array.from(x, (v, i) => {
      const c = i % C;
      return (gamma[c] * inv[c] * (M * dy[i] - dbeta[c] - (v - mean[c]) * inv[c] * dgamma[c])) / M;
    });
    return { dx, dgamma, dbeta };
  },
};
