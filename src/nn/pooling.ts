// Pooling layers over NHWC activations: thin modules over src/ops/pool2d.ts (no parameters).

import { shapeStr, type Shape, type Tensor } from '../tensor/tensor.js';
import { avgPool2d, globalAvgPool, maxPool2d, pool2dOutputShape, type Pool2dOptions } from '../ops/pool2d/index.js';
import { checkPoolOptions } from '../ops/pool2d/geometry.js';
import type { LayerSpec } from './spec.js';
import { Module } from './module.js';

/** ModelSpec form of a pooling layer ('same' padding has no ModelSpec form). */
function poolSpec(type: 'maxpool2d' | 'avgpool2d', o: Pool2dOptions): LayerSpec {
  if (o.padding === 'same') throw new Error(`'same' pooling padding has no ModelSpec form (use a number)`);
  const pad = o.padding === 'valid' ? undefined : o.padding;
  return {
    type,
    kernel: o.kernel,
    ...(o.stride !== undefined && { stride: o.stride }),
    ...(pad !== undefined && { padding: pad }),
    ...(type === 'avgpool2d' && o.countIncludePad !== undefined && { countIncludePad: o.countIncludePad }),
  };
}

function describe(o: Pool2dOptions): string {
  const k = typeof o.kernel === 'number' ? o.kernel : o.kernel.join('x');
  const s = o.stride === undefined ? '' : `, stride ${typeof o.stride === 'number' ? o.stride : o.stride.join('x')}`;
  const p = o.padding === undefined ? '' : `, padding ${JSON.stringify(o.padding)}`;
  const c = o.countIncludePad ? ', countIncludePad' : '';
  return `${k}${s}${p}${c}`;
}

/** Max pooling; `new MaxPool2d(2)` = 2x2 windows, stride 2. */
export class MaxPool2d extends Module {
  readonly opts: Pool2dOptions;

  constructor(kernel: number | [number, number] | Pool2dOptions) {
    super();
    this.opts = typeof kernel === 'object' && !Array.isArray(kernel) ? kernel : { kernel };
    checkPoolOptions('MaxPool2d', this.opts);
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.opts);
  }

  outputShape(s: Shape): Shape {
    return pool2dOutputShape(s, this.opts);
  }

  override toSpec(): LayerSpec {
    return poolSpec('maxpool2d', this.opts);
  }

  toString(): string {
    return `MaxPool2d(${describe(this.opts)})`;
  }
}

/** Average pooling; `countIncludePad` (default false) counts padded cells in the mean, as PyTorch's default does. */
export class AvgPool2d extends Module {
  readonly opts: Pool2dOptions;

  constructor(kernel: number | [number, number] | Pool2dOptions) {
    super();
    this.opts = typeof kernel === 'object' && !Array.isArray(kernel) ? kernel : { kernel };
    checkPoolOptions('AvgPool2d', this.opts);
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.opts);
  }

  outputShape(s: Shape): Shape {
    return pool2dOutputShape(s, this.opts);
  }

  override toSpec(): LayerSpec {
    return poolSpec('avgpool2d', this.opts);
  }

  toString(): string {
    return `AvgPool2d(${describe(this.opts)})`;
  }
}

/** Mean over H and W: [N,H,W,C] -> [N,C]. */
export class GlobalAvgPool extends Module {
  forward(x: Tensor): Tensor {
    return globalAvgPool(x);
  }

  outputShape(s: Shape): Shape {
    if (s.length !== 4) throw new RangeError(`GlobalAvgPool needs [N,H,W,C] input, got ${shapeStr(s)}`);
    return [s[0], s[3]];
  }

  override toSpec(): LayerSpec {
    return { type: 'globalavgpool' };
  }

  toString(): string {
    return 'GlobalAvgPool()';
  }
}
