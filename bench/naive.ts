// The naive kernels: one thread per output value, straight from global memory. The benchmark's
// baselines and, in tests, a second GPU implementation independent of the library's kernels.
// Not in the library (it ships only what its ops can pick): the shaders live in bench/shaders/
// and are registered with the engine's shader table on first use.

import { engine } from '../src/runtime/engine.js';
import { registerShader } from '../src/runtime/shaders.js';
import { empty, shapeStr, type Tensor } from '../src/tensor/tensor.js';
import { checkTensor } from '../src/ops/check.js';
import { grid1d } from '../src/ops/grid.js';
import { broadcastDim } from '../src/ops/shape.js';
import { convGeometry, geometryUniforms, type Conv2dGeomOptions } from '../src/ops/conv2d/geometry.js';
import conv2dNaiveSource from './shaders/conv2d_naive.wgsl?raw';
import matmulNaiveSource from './shaders/matmul_naive.wgsl?raw';

function register(): void {
  registerShader('conv2d_naive', conv2dNaiveSource);
  registerShader('matmul_naive', matmulNaiveSource);
}

export interface NaiveConv2dOptions extends Conv2dGeomOptions {
  bias?: Tensor;
  relu?: boolean;
}

/** conv2d's forward (same semantics and checks), one thread per output. No autograd. */
export function conv2dNaive(x: Tensor, w: Tensor, opts: NaiveConv2dOptions = {}): Tensor {
  register();
  const op = 'conv2dNaive';
  checkTensor(op, 'x', x, 'f32', 4);
  checkTensor(op, 'w', w, 'f32', 4);
  const g = convGeometry(op, x.shape, w.shape, opts);
  if (opts.bias) checkTensor(op, 'bias', opts.bias, 'f32', 1);
  const y = empty([g.N, g.OH, g.OW, g.O]);
  const WG = 256;
  engine().queue.dispatch({
    shader: 'conv2d_naive',
    entry: 'forward_naive',
    op,
    constants: { WG },
    uniforms: { ...geometryUniforms(g), total: y.size, has_bias: opts.bias ? 1 : 0, relu: opts.relu ? 1 : 0 },
    buffers: { x: x.buffer, w: w.buffer, bias: (opts.bias ?? w).buffer, y: y.buffer },
    workgroups: grid1d(y.size, WG),
  });
  return y;
}

export interface NaiveMatmulOptions {
  transA?: boolean;
  transB?: boolean;
  bias?: Tensor;
  relu?: boolean;
}

/** matmul (2-D) or bmm (3-D, a batch of 1 broadcasts), one thread per output. No autograd. */
export function matmulNaive(a: Tensor, b: Tensor, opts: NaiveMatmulOptions = {}): Tensor {
  register();
  const op = 'matmulNaive';
  const rank = a.rank === 3 ? 3 : 2;
  checkTensor(op, 'a', a, 'f32', rank);
  checkTensor(op, 'b', b, 'f32', rank);
  const [ba, ra, ca] = rank === 2 ? [1, a.shape[0], a.shape[1]] : a.shape;
  const [bb, rb, cb] = rank === 2 ? [1, b.shape[0], b.shape[1]] : b.shape;
  const ta = !!opts.transA,
    tb = !!opts.transB;
  const M = ta ? ca : ra,
    K = ta ? ra : ca,
    K2 = tb ? cb : rb,
    N = tb ? rb : cb;
  if (K !== K2)
    throw new RangeError(`webgpu-cnn: ${op}: inner dimensions differ: a ${shapeStr(a.shape)}, b ${shapeStr(b.shape)}`);
  if (ba !== bb && ba !== 1 && bb !== 1)
    throw new RangeError(`webgpu-cnn: ${op}: batch sizes of a ${shapeStr(a.shape)} and b ${shapeStr(b.shape)} differ`);
  const batch = broadcastDim(ba, bb);
  const c = empty(rank === 2 ? [M, N] : [batch, M, N]);
  if (c.size === 0) return c;
  engine().queue.dispatch({
    shader: 'matmul_naive',
    entry: 'matmul_naive',
    op,
    constants: { WG_X: 16, WG_Y: 16 },
    uniforms: {
      M,
      N,
      K,
      sa: ba === 1 ? 0 : ra * ca,
      sb: bb === 1 ? 0 : rb * cb,
      sc: M * N,
      has_bias: opts.bias ? 1 : 0,
      relu: opts.relu ? 1 : 0,
      ta: +ta,
      tb: +tb,
    },
    buffers: { a: a.buffer, b: b.buffer, bias: (opts.bias ?? a).buffer, c: c.buffer },
    workgroups: [Math.ceil(N / 16), Math.ceil(M / 16), batch],
  });
  return c;
}
