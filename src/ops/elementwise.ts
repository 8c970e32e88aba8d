// Elementwise ops (foundation set): fill, add, scale. Forward, backward rule and float64
// reference side by side. Kernels: shaders/elementwise.wgsl.

import { engine } from '../runtime/engine.js';
import { empty, type Shape, type Tensor } from '../tensor/tensor.js';
import { needsGrad, record } from '../autograd/tape.js';
import { checkNumber, checkSameShape, checkTensor } from './check.js';
import { grid1d } from './grid.js';

const WG = 256;

function run(entry: string, y: Tensor, uniforms: { n: number; alpha: number }, buffers: Record<string, Tensor>, op: string): void {
  const bufs: Record<string, import('../runtime/pool.js').PooledBuffer> = { y: y.buffer };
  for (const [k, t] of Object.entries(buffers)) bufs[k] = t.buffer;
  engine().queue.dispatch({ shader: 'elementwise', entry, op, uniforms, buffers: bufs, workgroups: grid1d(uniforms.n, WG) });
}

/** A tensor of `shape` with every element `value`. */
export function full(shape: Shape, value: number): Tensor {
  checkNumber('full', 'value', value);
  const y = empty(shape);
  run('fill', y, { n: y.size, alpha: value }, {}, 'full');
  return y;
}

export function zeros(shape: Shape): Tensor {
  return full(shape, 0);
}

export function ones(shape: Shape): Tensor {
  return full(shape, 1);
}

/** a + b (same shapes). */
export function add(a: Tensor, b: Tensor): Tensor {
  checkTensor('add', 'a', a, 'f32');
  checkTensor('add', 'b', b, 'f32');
  checkSameShape('add', a, b);
  const y = empty(a.shape);
  run('add', y, { n: y.size, alpha: 0 }, { a, b }, 'add');
  if (needsGrad([a, b])) record('add', [a, b], [y], ([gy]) => [gy && a.requiresGrad ? scale(gy, 1) : null, gy && b.requiresGrad ? scale(gy, 1) : null]);
  return y;
}

/** alpha * a */
export function scale(a: Tensor, alpha: number): Tensor {
  checkTensor('scale', 'a', a, 'f32');
  checkNumber('scale', 'alpha', alpha);
  const y = empty(a.shape);
  run('scale', y, { n: y.size, alpha }, { a }, 'scale');
  if (needsGrad([a])) record('scale', [a], [y], ([gy]) => [gy ? scale(gy, alpha) : null]);
  return y;
}

/** Float64 references. */
export const ref = {
  add: (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v + b[i]),
  scale: (a: ArrayLike<number>, alpha: number) => Float64Array.from(a, (v) => alpha * v),
};
