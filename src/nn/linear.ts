// Linear (fully connected) layer and Flatten. Linear weights are [in, out] (y = x·W + b; a
// PyTorch [out, in] weight transposes), with an optional fused ReLU (one matmul kernel).

import { shapeStr, type Shape, type Tensor } from '../tensor/tensor.js';
import { matmul } from '../ops/matmul/index.js';
import { flatten } from '../ops/shape.js';
import { checkNumber, checkOptions, describe, optionKeys, withContext } from '../ops/check.js';
import type { LayerSpec } from './spec.js';
import { Module } from './module.js';
import { InitRng, initTensor, type InitKind } from './init.js';

/** Options of the {@link Linear} layer. Unknown keys throw a TypeError. */
export interface LinearOptions {
  /** add a bias (default true) */
  bias?: boolean;
  /** fuse a ReLU into the matmul */
  relu?: boolean;
  /** weight initialiser (default 'he-normal'); biases start at zero */
  init?: InitKind;
  rng?: InitRng;
}

/**
 * Fully connected layer: [N, inFeatures] -> [N, outFeatures], y = x · W + b with weight [inFeatures,
 * outFeatures] (he-normal by default; PyTorch's [out, in] transposed) and bias [outFeatures] (zeros),
 * optional fused ReLU.
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly opts: LinearOptions = {},
  ) {
    super();
    checkNumber('Linear', 'inFeatures', inFeatures, { int: true, min: 1 });
    checkNumber('Linear', 'outFeatures', outFeatures, { int: true, min: 1 });
    checkOptions('Linear', 'opts', opts, optionKeys<LinearOptions>({ bias: true, relu: true, init: true, rng: true }));
    for (const k of ['bias', 'relu'] as const)
      if (opts[k] !== undefined && typeof opts[k] !== 'boolean')
        throw new TypeError(`webgpu-cnn: Linear: '${k}' must be a boolean, got ${describe(opts[k])}`);
    const rng = opts.rng ?? new InitRng(0);
    this.weight = this.addParameter('weight', initTensor(opts.init ?? 'he-normal', [inFeatures, outFeatures], rng));
    try {
      this.bias = opts.bias === false ? null : this.addParameter('bias', initTensor('zeros', [outFeatures], rng));
    } catch (e) {
      this.weight.dispose(); // out of memory for the bias: nothing left behind
      throw withContext(e, 'in Linear');
    }
  }

  forward(x: Tensor): Tensor {
    return matmul(x, this.weight, { bias: this.bias ?? undefined, relu: this.opts.relu ?? false });
  }

  outputShape(s: Shape): Shape {
    if (s.length !== 2 || s[1] !== this.inFeatures)
      throw new RangeError(
        `Linear(${this.inFeatures}→${this.outFeatures}) needs [N,${this.inFeatures}] input, got ${shapeStr(s)}`,
      );
    return [s[0], this.outFeatures];
  }

  override toSpec(): LayerSpec {
    return {
      type: 'linear',
      in: this.inFeatures,
      out: this.outFeatures,
      bias: this.bias !== null,
      activation: this.opts.relu ? 'relu' : 'none',
    };
  }

  toString(): string {
    return `Linear(${this.inFeatures}→${this.outFeatures}${this.opts.relu ? ', relu' : ''})`;
  }
}

/** [N, ...rest] -> [N, prod(rest)] (a GPU copy). */
export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    return flatten(x);
  }

  outputShape(s: Shape): Shape {
    if (s.length < 1) throw new RangeError(`Flatten needs a batch axis, got ${shapeStr(s)}`);
    return [s[0], s.slice(1).reduce((a, b) => a * b, 1)];
  }

  override toSpec(): LayerSpec {
    return { type: 'flatten' };
  }

  toString(): string {
    return 'Flatten()';
  }
}
