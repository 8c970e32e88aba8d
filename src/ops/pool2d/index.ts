// 2-D pooling on NHWC tensors: max pooling (forward saves argmax indices; the backward gathers
// through them, no recompute), average pooling (by default a window's mean is over the cells
// inside the input, PyTorch's count_include_pad=False; `countIncludePad: true` divides by the
// whole window, PyTorch's default), global average pooling;
// their backward kernels and autograd rules. Kernels: shaders/pool2d/pool2d.wgsl (any window)
// and shaders/pool2d/vec4.wgsl (4 channels per thread); which one runs: choose.ts. Geometry:
// geometry.ts; float64 references: reference.ts.

import { engine } from '../../runtime/engine.js';
import type { PooledBuffer } from '../../runtime/pool.js';
import { empty, shapeStr, type Shape, type Tensor } from '../../tensor/tensor.js';
import { canPremask, markReluMasked, needsGrad, record } from '../../autograd/tape.js';
import { checkTensor } from '../check.js';
import { grid1d } from '../grid.js';
import { chooseKernel } from '../../runtime/select.js';
import { poolGeometry, type Pool2dOptions, type PoolGeometry } from './geometry.js';
import { POOL2D } from './choose.js';

export { poolGeometry, pool2dOutputShape, type Pool2dOptions, type PoolGeometry } from './geometry.js';
export { ref, poolWindow } from './reference.js';
export { POOL2D, type Pool2dKernel } from './choose.js';

const WG = 256;

function dispatch(
  entry: string,
  g: PoolGeometry,
  total: number,
  buffers: Record<string, PooledBuffer>,
  op: string,
): void {
  const { H, W, C, OH, OW, KH, KW, SH, SW, PT, PL } = g;
  engine().queue.dispatch({
    shader: 'pool2d/pool2d',
    entry,
    op,
    constants: { WG },
    buffers,
    workgroups: grid1d(total, WG),
    uniforms: { total, H, W, C, OH, OW, KH, KW, SH, SW, PT, PL, count_pad: g.countIncludePad ? 1 : 0 },
  });
}

// ---- the vec4 kernels (when they apply: choose.ts) ----
const WG4 = 128;
const vec4Forward = (g: PoolGeometry) => chooseKernel(POOL2D, { g, pass: 'forward' }) === 'vec4';
const vec4Backward = (g: PoolGeometry) => chooseKernel(POOL2D, { g, pass: 'backward' }) === 'vec4';

function dispatch4(entry: string, g: PoolGeometry, buffers: Record<string, PooledBuffer>, op: string): void {
  const total = (g.N * g.OH * g.OW * g.C) / 4;
  engine().queue.dispatch({
    shader: 'pool2d/vec4',
    entry,
    op,
    constants: { WG: WG4, KH: g.KH, KW: g.KW },
    buffers,
    workgroups: grid1d(total, WG4),
    uniforms: { total, H: g.H, W: g.W, C4: g.C / 4, OH: g.OH, OW: g.OW },
  });
}

/** Max pooling forward that also returns the argmax (flat index into x, u32) of every output. */
export function maxPool2dWithIndices(x: Tensor, opts: Pool2dOptions): { y: Tensor; argmax: Tensor } {
  checkTensor('maxPool2d', 'x', x, 'f32', 4);
  const g = poolGeometry('maxPool2d', x.shape, opts);
  const y = empty([g.N, g.OH, g.OW, g.C]);
  const argmax = empty(y.shape, 'u32');
  if (vec4Forward(g)) dispatch4('max_forward4', g, { x: x.buffer, y: y.buffer, argmax: argmax.buffer }, 'maxPool2d');
  else dispatch('max_forward', g, y.size, { x: x.buffer, y: y.buffer, argmax: argmax.buffer }, 'maxPool2d');
  return { y, argmax };
}

/** Max pooling. Under autograd the rule captures the argmax tensor (freed with the forward's scope). */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  if (needsGrad([x])) {
    const { y, argmax } = maxPool2dWithIndices(x, opts);
    record('maxPool2d', [x], [y], ([gy]) => {
      if (!gy) return [null];
      // x from a fused ReLU: fold the ReLU's mask into this backward kernel (tape.ts, canPremask)
      const g = poolGeometry('maxPool2d', x.shape, opts);
      if (vec4Backward(g) && canPremask(x)) {
        const dx = empty(x.shape);
        dispatch4(
          'max_backward4_relu',
          g,
          { dy: gy.buffer, idx: argmax.buffer, ym: y.buffer, dx: dx.buffer },
          'maxPool2dBackward',
        );
        markReluMasked(dx, x);
        return [dx];
      }
      return [maxPool2dBackward(gy, argmax, x.shape, opts)];
    });
    return y;
  }
  checkTensor('maxPool2d', 'x', x, 'f32', 4);
  const g = poolGeometry('maxPool2d', x.shape, opts);
  const y = empty([g.N, g.OH, g.OW, g.C]);
  if (vec4Forward(g)) dispatch4('max_forward4_noidx', g, { x: x.buffer, y: y.buffer }, 'maxPool2d');
  else dispatch('max_forward_noidx', g, y.size, { x: x.buffer, y: y.buffer }, 'maxPool2d');
  return y;
}

function checkDy(op: string, dy: Tensor, g: PoolGeometry): void {
  checkTensor(op, 'dy', dy, 'f32', 4);
  const want = [g.N, g.OH, g.OW, g.C];
  if (dy.shape.some((d, i) => d !== want[i]))
    throw new RangeError(`webgpu-cnn: ${op}: 'dy' must have shape ${shapeStr(want)}, got ${shapeStr(dy.shape)}`);
}

/** dx for max pooling: each input sums dy over the outputs that picked it (gather, deterministic). */
export function maxPool2dBackward(dy: Tensor, argmax: Tensor, xShape: Shape, opts: Pool2dOptions): Tensor {
  const g = poolGeometry('maxPool2dBackward', xShape, opts, 'xShape');
  checkDy('maxPool2dBackward', dy, g);
  checkTensor('maxPool2dBackward', 'argmax', argmax, 'u32', 4);
  if (argmax.shape.some((d, i) => d !== dy.shape[i]))
    throw new RangeError(
      `webgpu-cnn: maxPool2dBackward: 'argmax' ${shapeStr(argmax.shape)} must have the shape of 'dy' ${shapeStr(dy.shape)}`,
    );
  const dx = empty(xShape);
  if (vec4Backward(g))
    dispatch4('max_backward4', g, { dy: dy.buffer, idx: argmax.buffer, dx: dx.buffer }, 'maxPool2dBackward');
  else dispatch('max_backward', g, dx.size, { dy: dy.buffer, idx: argmax.buffer, dx: dx.buffer }, 'maxPool2dBackward');
  return dx;
}

/** Average pooling; `countIncludePad` (default false) says whether padded cells count in the mean. */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  checkTensor('avgPool2d', 'x', x, 'f32', 4);
  const g = poolGeometry('avgPool2d', x.shape, opts);
  const y = empty([g.N, g.OH, g.OW, g.C]);
  if (vec4Forward(g)) dispatch4('avg_forward4', g, { x: x.buffer, y: y.buffer }, 'avgPool2d');
  else dispatch('avg_forward', g, y.size, { x: x.buffer, y: y.buffer }, 'avgPool2d');
  if (needsGrad([x])) record('avgPool2d', [x], [y], ([gy]) => [gy ? avgPool2dBackward(gy, x.shape, opts) : null]);
  return y;
}

/**
 * Gradient of {@link avgPool2d} with the forward's `opts`: dx of NHWC shape `xShape` from dy [N, OH,
 * OW, C], each input cell summing dy / (the window's divisor) over the windows that hold it. Throws a
 * RangeError on a dy of the wrong shape or invalid options.
 */
export function avgPool2dBackward(dy: Tensor, xShape: Shape, opts: Pool2dOptions): Tensor {
  const g = poolGeometry('avgPool2dBackward', xShape, opts, 'xShape');
  checkDy('avgPool2dBackward', dy, g);
  const dx = empty(xShape);
  if (vec4Backward(g)) dispatch4('avg_backward4', g, { dy: dy.buffer, dx: dx.buffer }, 'avgPool2dBackward');
  else dispatch('avg_backward', g, dx.size, { dy: dy.buffer, dx: dx.buffer }, 'avgPool2dBackward');
  return dx;
}

function globalDispatch(
  entry: string,
  xShape: Shape,
  total: number,
  buffers: Record<string, PooledBuffer>,
  op: string,
): void {
  const [, H, W, C] = xShape;
  engine().queue.dispatch({
    shader: 'pool2d/pool2d',
    entry,
    op,
    constants: { WG },
    buffers,
    workgroups: grid1d(total, WG),
    uniforms: { total, HW: H * W, C, inv_hw: 1 / (H * W) },
  });
}

/** Mean over H and W: [N,H,W,C] -> [N,C]. */
export function globalAvgPool(x: Tensor): Tensor {
  checkTensor('globalAvgPool', 'x', x, 'f32', 4);
  const [N, H, W, C] = x.shape;
  if (H * W === 0) throw new RangeError(`webgpu-cnn: globalAvgPool: 'x' ${shapeStr(x.shape)} has no spatial cells`);
  const y = empty([N, C]);
  globalDispatch('global_avg_forward', x.shape, y.size, { x: x.buffer, y: y.buffer }, 'globalAvgPool');
  if (needsGrad([x])) record('globalAvgPool', [x], [y], ([gy]) => [gy ? globalAvgPoolBackward(gy, x.shape) : null]);
  return y;
}

/**
 * Gradient of {@link globalAvgPool}: dx of NHWC shape `xShape` ([N, H, W, C]), each cell dy[n, c] /
 * (H * W), from dy [N, C]. Throws a RangeError on mismatched shapes.
 */
export function globalAvgPoolBackward(dy: Tensor, xShape: Shape): Tensor {
  if (xShape.length !== 4)
    throw new RangeError(`webgpu-cnn: globalAvgPoolBackward: 'xShape' must be [N,H,W,C], got ${shapeStr(xShape)}`);
  checkTensor('globalAvgPoolBackward', 'dy', dy, 'f32', 2);
  const [N, _H, _W, C] = xShape;
  if (dy.shape[0] !== N || dy.shape[1] !== C)
    throw new RangeError(
      `webgpu-cnn: globalAvgPoolBackward: 'dy' must have shape [${N},${C}], got ${shapeStr(dy.shape)}`,
    );
  const dx = empty(xShape);
  globalDispatch('global_avg_backward', xShape, dx.size, { dy: dy.buffer, dx: dx.buffer }, 'globalAvgPoolBackward');
  return dx;
}
