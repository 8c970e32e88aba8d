// Activations: relu, leakyRelu, sigmoid, tanh and their backward kernels. Forward, autograd
// rules and float64 references side by side. Kernels: shaders/activations.wgsl.
//
// Backward kernels take what the rule saved: relu, sigmoid and tanh the forward OUTPUT y (their
// derivative is a function of y), leakyRelu the INPUT x (its slope may be <= 0).

import { engine } from '../runtime/engine.js';
import type { PooledBuffer } from '../runtime/pool.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { needsGrad, record } from '../autograd/tape.js';
import { checkNumber, checkSameShape, checkTensor } from './check.js';
import { grid1d } from './grid.js';

const WG = 256;

function run(entry: string, op: string, x: Tensor, dy: Tensor | null, alpha = 0): Tensor {
  const out = empty(x.shape);
  if (out.size === 0) return out;
  const buffers: Record<string, PooledBuffer> = { x: x.buffer, out: out.buffer };
  if (dy) buffers.dy = dy.buffer;
  const n4 = Math.ceil(out.size / 4); // 4 elements a thread (vec4 views, see the shader)
  engine().queue.dispatch({
    shader: 'activations',
    entry,
    op,
    uniforms: { n: n4, alpha },
    buffers,
    workgroups: grid1d(n4, WG),
  });
  return out;
}

function checkBackward(op: string, dy: Tensor, saved: Tensor, savedName: string): void {
  checkTensor(op, 'dy', dy, 'f32');
  checkTensor(op, savedName, saved, 'f32');
  checkSameShape(op, dy, saved, 'dy', savedName);
}

/** max(x, 0), with relu(NaN) = NaN as in PyTorch (shaders/nan.wgsl). */
export function relu(x: Tensor): Tensor {
  checkTensor('relu', 'x', x, 'f32');
  const y = run('relu', 'relu', x, null);
  if (needsGrad([x])) record('relu', [x], [y], ([gy]) => [gy ? reluBackward(gy, y) : null]);
  return y;
}

/** dy masked by y > 0 or NaN (y = relu's output; also used by matmul/conv with a fused ReLU). */
export function reluBackward(dy: Tensor, y: Tensor): Tensor {
  checkBackward('reluBackward', dy, y, 'y');
  return run('relu_backward', 'reluBackward', y, dy);
}

/** x > 0 ? x : slope * x */
export function leakyRelu(x: Tensor, slope: number): Tensor {
  checkTensor('leakyRelu', 'x', x, 'f32');
  checkNumber('leakyRelu', 'slope', slope);
  const y = run('leaky', 'leakyRelu', x, null, slope);
  if (needsGrad([x])) record('leakyRelu', [x], [y], ([gy]) => [gy ? leakyReluBackward(gy, x, slope) : null]);
  return y;
}

/** dy * (x > 0 ? 1 : slope), x = leakyRelu's input. */
export function leakyReluBackward(dy: Tensor, x: Tensor, slope: number): Tensor {
  checkBackward('leakyReluBackward', dy, x, 'x');
  checkNumber('leakyReluBackward', 'slope', slope);
  return run('leaky_backward', 'leakyReluBackward', x, dy, slope);
}

/** 1 / (1 + exp(-x)) */
export function sigmoid(x: Tensor): Tensor {
  checkTensor('sigmoid', 'x', x, 'f32');
  const y = run('sigmoid', 'sigmoid', x, null);
  if (needsGrad([x])) record('sigmoid', [x], [y], ([gy]) => [gy ? sigmoidBackward(gy, y) : null]);
  return y;
}

/** dy * y * (1 - y), y = sigmoid's output. */
export function sigmoidBackward(dy: Tensor, y: Tensor): Tensor {
  checkBackward('sigmoidBackward', dy, y, 'y');
  return run('sigmoid_backward', 'sigmoidBackward', y, dy);
}

/** tanh(x) */
export function tanh(x: Tensor): Tensor {
  checkTensor('tanh', 'x', x, 'f32');
  const y = run('tanh_fwd', 'tanh', x, null);
  if (needsGrad([x])) record('tanh', [x], [y], ([gy]) => [gy ? tanhBackward(gy, y) : null]);
  return y;
}

/** dy * (1 - y^2), y = tanh's output. */
export function tanhBackward(dy: Tensor, y: Tensor): Tensor {
  checkBackward('tanhBackward', dy, y, 'y');
  return run('tanh_backward', 'tanhBackward', y, dy);
}

const map = (x: ArrayLike<number>, f: (v: number, i: number) => number) => Float64Array.from(x, f);
const sig = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * Float64 references: forward, and backward as functions of the forward input x. NaN follows
 * PyTorch: relu(NaN) = NaN (Math.max keeps NaN), and relu's backward is `x <= 0 ? 0 : dy`
 * (threshold_backward), so a NaN x passes dy through; leakyRelu's gives slope * dy there.
 */
export const ref = {
  relu: (x: ArrayLike<number>) => map(x, (v) => Math.max(v, 0)),
  reluBackward: (dy: ArrayLike<number>, x: ArrayLike<number>) => map(x, (v, i) => (v <= 0 ? 0 : dy[i])),
  leakyRelu: (x: ArrayLike<number>, s: number) => map(x, (v) => (v > 0 ? v : s * v)),
  leakyReluBackward: (dy: ArrayLike<number>, x: ArrayLike<number>, s: number) =>
    map(x, (v, i) => (v > 0 ? dy[i] : s * dy[i])),
  sigmoid: (x: ArrayLike<number>) => map(x, sig),
  sigmoidBackward: (dy: ArrayLike<number>, x: ArrayLike<number>) => map(x, (v, i) => dy[i] * sig(v) * (1 - sig(v))),
  tanh: (x: ArrayLike<number>) => map(x, Math.tanh),
  tanhBackward: (dy: ArrayLike<number>, x: ArrayLike<number>) => map(x, (v, i) => dy[i] * (1 - Math.tanh(v) ** 2)),
};
