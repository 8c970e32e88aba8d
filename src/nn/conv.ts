// Conv2d layer: HWIO weights [KH,KW,Cin,Cout], optional bias [Cout], optional fused ReLU
// (one kernel: conv + bias + ReLU), over src/ops/conv2d.ts.

import type { Shape, Tensor } from '../tensor/tensor.js';
import { conv2d, conv2dOutputShape, type Conv2dGeomOptions } from '../ops/conv2d/index.js';
import { checkNumber, checkOptions, describe, optionKeys, withContext } from '../ops/check.js';
import type { Conv2dSpec, LayerSpec } from './spec.js';
import { Module } from './module.js';
import { InitRng, initTensor, type InitKind } from './init.js';

const CONV2D_LAYER_KEYS = optionKeys<Conv2dLayerOptions>({
  stride: true,
  padding: true,
  dilation: true,
  bias: true,
  relu: true,
  init: true,
  rng: true,
});

export interface Conv2dLayerOptions extends Conv2dGeomOptions {
  /** add a bias (default true) */
  bias?: boolean;
  /** fuse a ReLU into the convolution */
  relu?: boolean;
  /** weight initialiser (default 'he-normal'); biases start at zero */
  init?: InitKind;
  /** generator for the initial weights (default: a fresh InitRng(0)) */
  rng?: InitRng;
}

/**
 * 2-D convolution layer over NHWC input [N,H,W,inChannels]: HWIO weight [KH,KW,inChannels,outChannels]
 * (he-normal by default), optional bias [outChannels] (zeros), optional fused ReLU. Throws a TypeError
 * or RangeError on bad arguments.
 */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernel: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: number | [number, number],
    readonly opts: Conv2dLayerOptions = {},
  ) {
    super();
    checkNumber('Conv2d', 'inChannels', inChannels, { int: true, min: 1 });
    checkNumber('Conv2d', 'outChannels', outChannels, { int: true, min: 1 });
    checkOptions('Conv2d', 'opts', opts, CONV2D_LAYER_KEYS);
    this.kernel = typeof kernel === 'number' ? [kernel, kernel] : kernel;
    if (!Array.isArray(this.kernel) || this.kernel.length !== 2)
      throw new TypeError(`webgpu-cnn: Conv2d: 'kernel' must be a number or [kh, kw], got ${describe(kernel)}`);
    this.kernel.forEach((k, i) => checkNumber('Conv2d', `kernel[${i}]`, k, { int: true, min: 1 }));
    for (const k of ['bias', 'relu'] as const)
      if (opts[k] !== undefined && typeof opts[k] !== 'boolean')
        throw new TypeError(`webgpu-cnn: Conv2d: '${k}' must be a boolean, got ${describe(opts[k])}`);
    const rng = opts.rng ?? new InitRng(0);
    this.weight = this.addParameter(
      'weight',
      initTensor(opts.init ?? 'he-normal', [...this.kernel, inChannels, outChannels], rng),
    );
    try {
      this.bias = opts.bias === false ? null : this.addParameter('bias', initTensor('zeros', [outChannels], rng));
    } catch (e) {
      this.weight.dispose(); // out of memory for the bias: nothing left behind
      throw withContext(e, 'in Conv2d');
    }
  }

  private geom(): Conv2dGeomOptions {
    const { stride, padding, dilation } = this.opts;
    return { stride, padding, dilation };
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, { ...this.geom(), bias: this.bias ?? undefined, relu: this.opts.relu ?? false });
  }

  outputShape(s: Shape): Shape {
    return conv2dOutputShape(s, this.weight.shape, this.geom());
  }

  override toSpec(): LayerSpec {
    const { stride, padding, dilation } = this.opts;
    const k = this.kernel[0] === this.kernel[1] ? this.kernel[0] : this.kernel;
    return {
      type: 'conv2d',
      inC: this.inChannels,
      outC: this.outChannels,
      kernel: k,
      ...(stride !== undefined && { stride: stride as number | [number, number] }),
      ...(padding !== undefined && { padding: padding as Conv2dSpec['padding'] }),
      ...(dilation !== undefined && { dilation: dilation as number | [number, number] }),
      bias: this.bias !== null,
      activation: this.opts.relu ? 'relu' : 'none',
    };
  }

  toString(): string {
    const p = this.opts.padding === undefined ? '' : `, padding ${JSON.stringify(this.opts.padding)}`;
    const s = this.opts.stride === undefined ? '' : `, stride ${JSON.stringify(this.opts.stride)}`;
    return `Conv2d(${this.inChannels}→${this.outChannels}, ${this.kernel.join('x')}${s}${p}${this.opts.relu ? ', relu' : ''})`;
  }
}
