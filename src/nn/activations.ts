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
