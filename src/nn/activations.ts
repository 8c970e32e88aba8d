// Activation layers (no parameters) over src/ops/activations.ts.

import type { Shape, Tensor } from '../tensor/tensor.js';
import { leakyRelu, relu, sigmoid, tanh } from '../ops/activations.js';
import { checkNumber } from '../ops/check.js';
import type { LayerSpec } from './spec.js';
import { Module } from './module.js';

abstract class Activation extends Module {
  outputShape(s: Shape): Shape {
    return s;
  }
}

/** Layer applying max(x, 0) elementwise; no parameters, output shape = input shape. */
export class ReLU extends Activation {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
  override toSpec(): LayerSpec {
    return { type: 'relu' };
  }
  toString(): string {
    return 'ReLU()';
  }
}

/**
 * Layer applying x for x > 0, else `slope` * x (default slope 0.01), elementwise; no parameters.
 * Throws a TypeError if `slope` is not a finite number.
 */
export class LeakyReLU extends Activation {
  constructor(readonly slope = 0.01) {
    super();
    checkNumber('LeakyReLU', 'slope', slope);
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.slope);
  }
  override toSpec(): LayerSpec {
    return { type: 'leakyrelu', slope: this.slope };
  }
  toString(): string {
    return `LeakyReLU(${this.slope})`;
  }
}

/** Layer applying 1 / (1 + exp(-x)) elementwise; no parameters, output shape = input shape. */
export class Sigmoid extends Activation {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
  override toSpec(): LayerSpec {
    return { type: 'sigmoid' };
  }
  toString(): string {
    return 'Sigmoid()';
  }
}

/** Layer applying tanh(x) elementwise; no parameters, output shape = input shape. */
export class Tanh extends Activation {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
  override toSpec(): LayerSpec {
    return { type: 'tanh' };
  }
  toString(): string {
    return 'Tanh()';
  }
}
