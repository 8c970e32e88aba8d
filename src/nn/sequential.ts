// Sequential: layers applied in order, children named "0", "1", ... so parameter names are
// "<layer index>.weight" — the naming of ModelSpec (src/nn/spec.ts) and PyTorch's
// nn.Sequential — or named by `names` ("conv1", "layer1", ...: "layer1.0.conv1.weight").
// Sequentials nest (a child Sequential is a 'sequential' spec layer). A Sequential converts to and from a ModelSpec (the architecture JSON stored
// in model files); layers a ModelSpec cannot describe ('same' pooling) make toSpec() throw
// and say which.

import { shapeStr, type Shape, type Tensor } from '../tensor/tensor.js';
import { childName, parseModelSpec, type LayerSpec, type ModelSpec } from './spec.js';
import { Module } from './module.js';
import { withContext } from '../ops/check.js';
import { InitRng } from './init.js';
import { Conv2d } from './conv.js';
import { Flatten, Linear } from './linear.js';
import { LeakyReLU, ReLU, Sigmoid, Tanh } from './activations.js';
import { AvgPool2d, GlobalAvgPool, MaxPool2d } from './pooling.js';
import { Dropout } from './dropout.js';
import { BatchNorm2d } from './batchnorm.js';
import { Residual } from './residual.js';
import { describe } from '../tensor/args.js';

/** Options of {@link Sequential.fromSpec}: where the initial weights come from (`rng` wins over `seed`). */
export interface FromSpecOptions {
  /** seed of the weight initialisers (default 0) */
  seed?: number;
  rng?: InitRng;
}

/** Options of the {@link Sequential} constructor. */
export interface SequentialOptions {
  /** child names, one per layer (default "0", "1", ...): the first part of their parameter names */
  names?: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$|^(0|[1-9][0-9]*)$/;

/**
 * Layers applied in order, children named "0", "1", ... (or by `names`), so parameter names are
 * `<index>.weight` as in PyTorch's nn.Sequential. Converts to and from a {@link ModelSpec}; throws a
 * TypeError or RangeError on bad layers or names.
 */
export class Sequential extends Module {
  readonly layers: Module[];
  /** child names given to the constructor (undefined: "0", "1", ...) */
  readonly names: string[] | undefined;
  /** per-sample input shape [H,W,C] when known (from a spec) */
  inputShape?: [number, number, number];

  constructor(layers: Module[], opts: SequentialOptions = {}) {
    super();
    if (!Array.isArray(layers) || layers.some((m) => !(m instanceof Module)))
      throw new TypeError(`webgpu-cnn: Sequential: 'layers' must be an array of modules, got ${describe(layers)}`);
    const names = opts?.names;
    if (names !== undefined) {
      if (!Array.isArray(names) || names.length !== layers.length)
        throw new RangeError(
          `webgpu-cnn: Sequential: 'names' must be ${layers.length} names (one per layer), got ${describe(names)}`,
        );
      names.forEach((n, i) => {
        if (typeof n !== 'string' || !NAME.test(n))
          throw new RangeError(
            `webgpu-cnn: Sequential: names[${i}] must be an identifier or an index, got ${describe(n)}`,
          );
        if (names.indexOf(n) !== i) throw new RangeError(`webgpu-cnn: Sequential: the name '${n}' is used twice`);
      });
    }
    this.layers = layers;
    this.names = names && [...names];
    layers.forEach((m, i) => this.addChild(childName(this.names, i), m));
    // Name parameters after their path so errors and checkpoints say which tensor is meant.
    for (const [n, t] of [...this.namedParameters(), ...this.namedBuffers()]) t.name = n;
  }

  override get isContainer(): boolean {
    return true;
  }

  /** Build (with freshly initialised weights) the network a ModelSpec describes. */
  static fromSpec(spec: ModelSpec | string, opts: FromSpecOptions = {}): Sequential {
    const s = parseModelSpec(spec);
    const rng = opts.rng ?? new InitRng(opts.seed ?? 0);
    const m = new Sequential(
      s.layers.map((l) => buildLayer(l, rng)),
      s.names ? { names: s.names } : {},
    );
    if (s.input) m.inputShape = [...s.input];
    return m;
  }

  /** The ModelSpec of this network (validated); `input` [H,W,C] defaults to inputShape. */
  override toSpec(input: [number, number, number] | undefined = this.inputShape): ModelSpec {
    const layers = this.childSpecs();
    const spec: ModelSpec = input ? { version: 1, input, layers } : { version: 1, layers };
    if (this.names) spec.names = this.names;
    return parseModelSpec(spec);
  }

  /** This Sequential as a 'sequential' layer of an enclosing network. */
  override layerSpec(): LayerSpec {
    const layers = this.childSpecs();
    return this.names ? { type: 'sequential', layers, names: this.names } : { type: 'sequential', layers };
  }

  private childSpecs(): LayerSpec[] {
    return this.layers.map((m, i) => {
      try {
        return m.layerSpec();
      } catch (e) {
        throw new Error(
          `webgpu-cnn: toSpec: layer ${childName(this.names, i)} (${m.brief()}): ${(e as Error).message}`,
        );
      }
    });
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const [i, m] of this.layers.entries()) {
      try {
        y = m.forward(y);
      } catch (e) {
        throw withContext(e, `in layer ${childName(this.names, i)} ${m.brief()} with input ${shapeStr(y.shape)}`);
      }
    }
    return y;
  }

  outputShape(shape: Shape): Shape {
    let s = shape;
    for (const [i, m] of this.layers.entries()) {
      try {
        s = m.outputShape(s);
      } catch (e) {
        throw new Error(
          `webgpu-cnn: Sequential layer ${childName(this.names, i)} (${m.brief()}) with input ${shapeStr(s)}: ${(e as Error).message}`,
        );
      }
    }
    return s;
  }

  override brief(): string {
    return `Sequential(${this.layers.length} layers)`;
  }

  toString(): string {
    const inner = this.layers.map((m, i) => `(${childName(this.names, i)}) ${m}`.replace(/\n/g, '\n  '));
    return `Sequential(\n${inner.map((l) => `  ${l}`).join('\n')}\n)`;
  }
}

function buildLayer(l: LayerSpec, rng: InitRng): Module {
  switch (l.type) {
    case 'conv2d':
      return new Conv2d(l.inC, l.outC, l.kernel, {
        stride: l.stride,
        padding: l.padding,
        dilation: l.dilation,
        bias: l.bias ?? true,
        relu: l.activation === 'relu',
        rng,
      });
    case 'linear':
      return new Linear(l.in, l.out, { bias: l.bias ?? true, relu: l.activation === 'relu', rng });
    case 'maxpool2d':
      return new MaxPool2d({ kernel: l.kernel, stride: l.stride, padding: l.padding });
    case 'avgpool2d':
      return new AvgPool2d({
        kernel: l.kernel,
        stride: l.stride,
        padding: l.padding,
        ...(l.countIncludePad !== undefined && { countIncludePad: l.countIncludePad }),
      });
    case 'batchnorm2d':
      return new BatchNorm2d(l.channels, {
        ...(l.eps !== undefined && { eps: l.eps }),
        ...(l.momentum !== undefined && { momentum: l.momentum }),
      });
    case 'globalavgpool':
      return new GlobalAvgPool();
    case 'flatten':
      return new Flatten();
    case 'relu':
      return new ReLU();
    case 'leakyrelu':
      return new LeakyReLU(l.slope);
    case 'sigmoid':
      return new Sigmoid();
    case 'tanh':
      return new Tanh();
    case 'dropout':
      return new Dropout(l.p, { rng });
    case 'sequential':
      return new Sequential(
        l.layers.map((c) => buildLayer(c, rng)),
        l.names ? { names: l.names } : {},
      );
    case 'residual':
      return new Residual(buildLayer(l.body, rng), {
        ...(l.shortcut && { shortcut: buildLayer(l.shortcut, rng) }),
        relu: l.relu ?? false,
      });
  }
}
