// Residual: y = relu?(body(x) + shortcut(x)), the shortcut being the identity when absent — the
// basic block of a ResNet. Built on the elementwise add and ReLU ops, so autograd, capture and
// replay need nothing new.
//
// Names follow torchvision's BasicBlock: when the body is a Sequential its children become the
// block's own ("conv1", "bn1", "conv2", "bn2"; any other body is the child "body"), and the
// shortcut is "downsample" ("layer2.0.downsample.0.weight"). Spec layer: 'residual' (spec.ts).

import { shapeStr, type Shape, type Tensor } from '../tensor/tensor.js';
import { add } from '../ops/elementwise.js';
import { relu } from '../ops/activations.js';
import { checkOptions, describe, withContext } from '../ops/check.js';
import { Module } from './module.js';
import type { ResidualSpec } from './spec.js';

/** Options of the {@link Residual} layer. */
export interface ResidualOptions {
  /** applied to the input and added to the body's output (default: the identity) */
  shortcut?: Module;
  /** ReLU after the sum (default false) */
  relu?: boolean;
}

/**
 * Residual block: y = body(x) + shortcut(x), then ReLU if `relu`; the shortcut is the identity when
 * absent, and body and shortcut must give the same shape. Children are named as in torchvision's
 * BasicBlock (a Sequential body's children, then "downsample").
 */
export class Residual extends Module {
  readonly shortcut: Module | null;
  readonly relu: boolean;

  constructor(
    readonly body: Module,
    opts: ResidualOptions = {},
  ) {
    super();
    if (!(body instanceof Module))
      throw new TypeError(`webgpu-cnn: Residual: 'body' must be a module, got ${describe(body)}`);
    checkOptions('Residual', 'opts', opts, ['shortcut', 'relu']);
    if (opts.shortcut !== undefined && !(opts.shortcut instanceof Module))
      throw new TypeError(`webgpu-cnn: Residual: 'shortcut' must be a module, got ${describe(opts.shortcut)}`);
    if (opts.relu !== undefined && typeof opts.relu !== 'boolean')
      throw new TypeError(`webgpu-cnn: Residual: 'relu' must be a boolean, got ${describe(opts.relu)}`);
    this.shortcut = opts.shortcut ?? null;
    this.relu = opts.relu ?? false;
    const own: [string, Module][] = body.isContainer ? body.namedChildren() : [['body', body]];
    if (this.shortcut) own.push(['downsample', this.shortcut]);
    for (const [n, m] of own) {
      if (this.children.has(n))
        throw new RangeError(`webgpu-cnn: Residual: the body has a child named '${n}', the shortcut's name`);
      this.addChild(n, m);
    }
    for (const [n, t] of [...this.namedParameters(), ...this.namedBuffers()]) t.name = n;
  }

  forward(x: Tensor): Tensor {
    this.outputShape(x.shape); // a body/shortcut mismatch fails here, before any GPU work
    let y: Tensor;
    try {
      const b = this.body.forward(x);
      y = add(b, this.shortcut ? this.shortcut.forward(x) : x);
    } catch (e) {
      throw withContext(e, `in ${this.name()} with input ${shapeStr(x.shape)}`);
    }
    return this.relu ? relu(y) : y;
  }

  outputShape(shape: Shape): Shape {
    const b = this.body.outputShape(shape);
    const s = this.shortcut ? this.shortcut.outputShape(shape) : shape;
    if (b.length !== s.length || b.some((d, i) => d !== s[i]))
      throw new RangeError(
        `webgpu-cnn: ${this.name()}: for input ${shapeStr(shape)} the body gives ${shapeStr(b)} but the ` +
          `${this.shortcut ? 'shortcut' : 'identity shortcut'} gives ${shapeStr(s)}; they must agree to be added` +
          (this.shortcut ? '' : ' (a body that changes the shape needs a shortcut, e.g. a 1x1 conv with its stride)'),
      );
    return b;
  }

  override toSpec(): ResidualSpec {
    const spec: ResidualSpec = { type: 'residual', body: this.body.layerSpec() };
    if (this.shortcut) spec.shortcut = this.shortcut.layerSpec();
    if (this.relu) spec.relu = true;
    return spec;
  }

  override train(on = true): this {
    super.train(on);
    this.body.train(on); // a container body is not among the children, only its layers are
    return this;
  }

  private name(): string {
    return `Residual${this.shortcut ? ' (with shortcut)' : ''}`;
  }

  override brief(): string {
    return `Residual(${this.shortcut ? 'shortcut' : 'identity'}${this.relu ? ', relu' : ''})`;
  }

  toString(): string {
    const inner = [`body: ${this.body}`, ...(this.shortcut ? [`shortcut: ${this.shortcut}`] : [])];
    return `Residual(${this.relu ? 'relu, ' : ''}\n${inner.map((l) => `  ${l.replace(/\n/g, '\n  ')}`).join('\n')}\n)`;
  }
}
