// 2-D pooling on NHWC tensors: max pooling (forward saves argmax indices; the backward gathers
// through them, no recompute), average pooling (count_include_pad = false: a window's mean is
// over the cells inside the input, PyTorch's count_include_pad=False), global average pooling;
// their backward kernels, autograd rules and float64 references. Kernels: shaders/pool2d.wgsl.
//
// Padding: 'valid' (none), 'same' (TensorFlow: OH = ceil(H / SH), total padding split with the
// extra cell at the bottom/right), a number, or [ph, pw] (symmetric). Padding must be smaller
// than the kernel so that every window holds at least one input cell (PyTorch asks for at most
// half the kernel; we only need non-empty windows).

import { engine } from '../runtime/engine.js';
import type { PooledBuffer } from '../runtime/pool.js';
import { empty, shapeStr, type Shape, type Tensor } from '../tensor/tensor.js';
import { canPremask, markReluMasked, needsGrad, record } from '../autograd/tape.js';
import { checkTensor } from './check.js';
import { grid1d } from './grid.js';

const WG = 256;

export interface Pool2dOptions {
  kernel: number | [number, number];
  /** defaults to the kernel (non-overlapping windows) */
  stride?: number | [number, number];
  padding?: 'valid' | 'same' | number | [number, number];
}

/** Resolved geometry: everything the kernels and references need. */
export interface PoolGeometry {
  N: number; H: number; W: number; C: number;
  OH: number; OW: number;
  KH: number; KW: number;
  SH: number; SW: number;
  /** padding before the first row / column (after the last is implied by OH, OW) */
  PT: number; PL: number;
}

function pair(op: string, arg: string, v: number | readonly number[], min: number): [number, number] {
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= min))
    throw new RangeError(`webgpu-cnn: ${op}: '${arg}' must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  return [p[0], p[1]];
}

/** Output size and padding of a pooling window over an NHWC shape; validates everything. */
export function poolGeometry(op: string, xShape: Shape, opts: Pool2dOptions, xName = 'x'): PoolGeometry {
  if (xShape.length !== 4) throw new RangeError(`webgpu-cnn: ${op}: '${xName}' must have shape [N,H,W,C], got ${shapeStr(xShape)}`);
  if (!opts || opts.kernel === undefined) throw new TypeError(`webgpu-cnn: ${op}: option 'kernel' is required`);
  const [N, H, W, C] = xShape;
  const [KH, KW] = pair(op, 'kernel', opts.kernel, 1);
  const [SH, SW] = opts.stride === undefined ? [KH, KW] : pair(op, 'stride', opts.stride, 1);
  const pad = opts.padding ?? 'valid';
  let OH: number, OW: number, PT: number, PL: number;
  if (pad === 'same') {
    OH = Math.ceil(H / SH);
    OW = Math.ceil(W / SW);
    PT = Math.floor(Math.max((OH - 1) * SH + KH - H, 0) / 2);
    PL = Math.floor(Math.max((OW - 1) * SW + KW - W, 0) / 2);
  } else {
    const [ph, pw] = pad === 'valid' ? [0, 0] : pair(op, 'padding', pad as number | [number, number], 0);
    if (ph >= KH || pw >= KW)
      throw new RangeError(`webgpu-cnn: ${op}: 'padding' [${ph},${pw}] must be smaller than the kernel [${KH},${KW}] (a window must hold an input cell)`);
    if (H + 2 * ph < KH || W + 2 * pw < KW)
      throw new RangeError(`webgpu-cnn: ${op}: kernel [${KH},${KW}] is larger than the padded input ${shapeStr(xShape)} (padding [${ph},${pw}])`);
    OH = Math.floor((H + 2 * ph - KH) / SH) + 1;
    OW = Math.floor((W + 2 * pw - KW) / SW) + 1;
    PT = ph;
    PL = pw;
  }
  return { N, H, W, C, OH, OW, KH, KW, SH, SW, PT, PL };
}

export function pool2dOutputShape(xShape: Shape, opts: Pool2dOptions): [number, number, number, number] {
  const g = poolGeometry('pool2d', xShape, opts);
  return [g.N, g.OH, g.OW, g.C];
}

function dispatch(entry: string, g: PoolGeometry, total: number, buffers: Record<string, PooledBuffer>, op: string): void {
  const { H, W, C, OH, OW, KH, KW, SH, SW, PT, PL } = g;
  engine().queue.dispatch({
    shader: 'pool2d', entry, op, constants: { WG }, buffers, workgroups: grid1d(total, WG),
    uniforms: { total, H, W, C, OH, OW, KH, KW, SH, SW, PT, PL },
  });
}

// ---- the vec4 fast path (shaders/pool2d_vec4.wgsl) ----
// Non-overlapping windows without padding over C % 4 == 0 channels: a thread moves 4 channels
// as vec4 (about 4x fewer loads on CPU adapters, coalesced on GPUs). Every window must lie
// inside the input: 'same' padding with stride = kernel can have no top/left padding and still
// hang the last windows over the bottom/right edge (OH·KH > H), which the kernel cannot see.
// The backward also needs the windows to tile the input exactly (it scatters, writing each dx
// cell once).
const WG4 = 128;
const vec4Forward = (g: PoolGeometry) =>
  g.C % 4 === 0 && g.SH === g.KH && g.SW === g.KW && g.PT === 0 && g.PL === 0 && g.OH * g.KH <= g.H && g.OW * g.KW <= g.W && g.KH * g.KW <= 16;
const vec4Backward = (g: PoolGeometry) => vec4Forward(g) && g.H === g.OH * g.KH && g.W === g.OW * g.KW;

function dispatch4(entry: string, g: PoolGeometry, buffers: Record<string, PooledBuffer>, op: string): void {
  const total = (g.N * g.OH * g.OW * g.C) / 4;
  engine().queue.dispatch({
    shader: 'pool2d_vec4', entry, op, constants: { WG: WG4, KH: g.KH, KW: g.KW }, buffers, workgroups: grid1d(total, WG4),
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
        dispatch4('max_backward4_relu', g, { dy: gy.buffer, idx: argmax.buffer, ym: y.buffer, dx: dx.buffer }, 'maxPool2dBackward');
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
    throw new RangeError(`webgpu-cnn: maxPool2dBackward: 'argmax' ${shapeStr(argmax.shape)} must have the shape of 'dy' ${shapeStr(dy.shape)}`);
  const dx = empty(xShape);
  if (vec4Backward(g)) dispatch4('max_backward4', g, { dy: dy.buffer, idx: argmax.buffer, dx: dx.buffer }, 'maxPool2dBackward');
  else dispatch('max_backward', g, dx.size, { dy: dy.buffer, idx: argmax.buffer, dx: dx.buffer }, 'maxPool2dBackward');
  return dx;
}

/** Average pooling, count_include_pad = false. */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  checkTensor('avgPool2d', 'x', x, 'f32', 4);
  const g = poolGeometry('avgPool2d', x.shape, opts);
  const y = empty([g.N, g.OH, g.OW, g.C]);
  if (vec4Forward(g)) dispatch4('avg_forward4', g, { x: x.buffer, y: y.buffer }, 'avgPool2d');
  else dispatch('avg_forward', g, y.size, { x: x.buffer, y: y.buffer }, 'avgPool2d');
  if (needsGrad([x])) record('avgPool2d', [x], [y], ([gy]) => [gy ? avgPool2dBackward(gy, x.shape, opts) : null]);
  return y;
}

export function avgPool2dBackward(dy: Tensor, xShape: Shape, opts: Pool2dOptions): Tensor {
  const g = poolGeometry('avgPool2dBackward', xShape, opts, 'xShape');
  checkDy('avgPool2dBackward', dy, g);
  const dx = empty(xShape);
  if (vec4Backward(g)) dispatch4('avg_backward4', g, { dy: dy.buffer, dx: dx.buffer }, 'avgPool2dBackward');
  else dispatch('avg_backward', g, dx.size, { dy: dy.buffer, dx: dx.buffer }, 'avgPool2dBackward');
  return dx;
}

function globalDispatch(entry: string, xShape: Shape, total: number, buffers: Record<string, PooledBuffer>, op: string): void {
  const [, H, W, C] = xShape;
  engine().queue.dispatch({
    shader: 'pool2d', entry, op, constants: { WG }, buffers, workgroups: grid1d(total, WG),
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

export function globalAvgPoolBackward(dy: Tensor, xShape: Shape): Tensor {
  if (xShape.length !== 4) throw new RangeError(`webgpu-cnn: globalAvgPoolBackward: 'xShape' must be [N,H,W,C], got ${shapeStr(xShape)}`);
  checkTensor('globalAvgPoolBackward', 'dy', dy, 'f32', 2);
  const [N, H, W, C] = xShape;
  if (dy.shape[0] !== N || dy.shape[1] !== C)
    throw new RangeError(`webgpu-cnn: globalAvgPoolBackward: 'dy' must have shape [${N},${C}], got ${shapeStr(dy.shape)}`);
  const dx = empty(xShape);
  globalDispatch('global_avg_backward', xShape, dx.size, { dy: dy.buffer, dx: dx.buffer }, 'globalAvgPoolBackward');
  return dx;
}

/** The flat input indices (inside the input) of the window of output element o (c fastest). */
export function poolWindow(g: PoolGeometry, o: number): number[] {
  const c = o % g.C;
  let r = Math.floor(o / g.C);
  const ow = r % g.OW;
  r = Math.floor(r / g.OW);
  const oh = r % g.OH;
  const n = Math.floor(r / g.OH);
  const cells: number[] = [];
  for (let kh = 0; kh < g.KH; kh++) {
    const h = oh * g.SH - g.PT + kh;
    if (h < 0 || h >= g.H) continue;
    for (let kw = 0; kw < g.KW; kw++) {
      const w = ow * g.SW - g.PL + kw;
      if (w >= 0 && w < g.W) cells.push(((n * g.H + h) * g.W + w) * g.C + c);
    }
  }
  return cells;
}

/** Visit every output in order with its flat index and the flat input indices of its window. */
function eachWindow(g: PoolGeometry, f: (o: number, cells: number[]) => void): void {
  const total = g.N * g.OH * g.OW * g.C;
  for (let o = 0; o < total; o++) f(o, poolWindow(g, o));
}

/** Float64 references (straightforward loops over windows; backward as a scatter). */
export const ref = {
  maxPool2d(x: ArrayLike<number>, xShape: Shape, opts: Pool2dOptions): { y: Float64Array; argmax: Uint32Array } {
    const g = poolGeometry('ref.maxPool2d', xShape, opts);
    const n = g.N * g.OH * g.OW * g.C;
    const y = new Float64Array(n), argmax = new Uint32Array(n);
    eachWindow(g, (o, cells) => {
      let b = cells[0];
      for (const j of cells) if (x[j] > x[b]) b = j; // first maximum in scan order, like the kernel
      y[o] = x[b];
      argmax[o] = b;
    });
    return { y, argmax };
  },
  maxPool2dBackward(dy: ArrayLike<number>, argmax: ArrayLike<number>, xShape: Shape): Float64Array {
    const dx = new Float64Array(xShape.reduce((a, b) => a * b, 1));
    for (let o = 0; o < dy.length; o++) dx[argmax[o]] += dy[o];
    return dx;
  },
  avgPool2d(x: ArrayLike<number>, xShape: Shape, opts: Pool2dOptions): Float64Array {
    const g = poolGeometry('ref.avgPool2d', xShape, opts);
    const y = new Float64Array(g.N * g.OH * g.OW * g.C);
    eachWindow(g, (o, cells) => {
      let s = 0;
      for (const j of cells) s += x[j];
      y[o] = s / cells.length;
    });
    return y;
  },
  avgPool2dBackward(dy: ArrayLike<number>, xShape: Shape, opts: Pool2dOptions): Float64Array {
    const g = poolGeometry('ref.avgPool2dBackward', xShape, opts);
    const dx = new Float64Array(g.N * g.H * g.W * g.C);
    eachWindow(g, (o, cells) => {
      for (const j of cells) dx[j] += dy[o] / cells.length;
    });
    return dx;
  },
  globalAvgPool(x: ArrayLike<number>, [N, H, W, C]: Shape): Float64Array {
    const y = new Float64Array(N * C);
    for (let n = 0; n < N; n++)
      for (let s = 0; s < H * W; s++) for (let c = 0; c < C; c++) y[n * C + c] += x[(n * H * W + s) * C + c] / (H * W);
    return y;
  },
  globalAvgPoolBackward(dy: ArrayLike<number>, [N, H, W, C]: Shape): Float64Array {
    const dx = new Float64Array(N * H * W * C);
    for (let i = 0; i < dx.length; i++) dx[i] = dy[Math.floor(i / (H * W * C)) * C + (i % C)] / (H * W);
    return dx;
  },
};
