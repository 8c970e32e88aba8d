// Reductions: sum and mean over axes, biasGrad (sum over every axis but the last), and their
// adjoint broadcastTo. Forward, autograd rules and float64 references side by side.
// Kernels: shaders/reduce.wgsl (chunked deterministic sums), elementwise.wgsl `expand`.
//
// Large reductions run in stages: stage 1 sums chunks of L elements into a [chunks, O] partial
// array, the next stage sums that over its first axis, until one chunk is left. The order of
// additions depends only on the shapes (no atomics), so results are bit-reproducible.

import { engine } from '../runtime/engine.js';
import { empty, shapeStr, sizeOf, type Shape, type Tensor } from '../tensor/tensor.js';
import { needsGrad, record } from '../autograd/tape.js';
import { checkTensor } from './check.js';
import { grid1d } from './grid.js';
import { MAX_RANK, broadcastShapes, broadcastStrides, coalesce, normalizeAxes, stridesOf, vec8 } from './shape.js';

const WG = 256;
/** Threads a stage aims for; beyond it more chunks only add partial sums to add up. */
const TARGET_THREADS = 8192;
/** Up to this many reduced elements per output, one stage (one thread per output) suffices. */
const SINGLE_STAGE_MAX = 256;
/** Smallest chunk a stage-1 thread sums. */
const MIN_CHUNK = 64;

interface Dims {
  shape: number[];
  stride: number[];
}

function pad4(v: number[], fill: number): number[] {
  const a = [...v];
  while (a.length < 4) a.push(fill);
  return a;
}

/** One stage over `src` (kept and reduced dims at most 4 each), chaining more if needed. */
function stage(src: Tensor, kept: Dims, red: Dims, alpha: number, dst: Tensor, op: string): void {
  const O = sizeOf(kept.shape),
    R = sizeOf(red.shape);
  let chunks = 1;
  if (R > SINGLE_STAGE_MAX && O < TARGET_THREADS)
    chunks = Math.min(Math.ceil(R / MIN_CHUNK), Math.ceil(TARGET_THREADS / O));
  const L = chunks === 1 ? R : Math.ceil(R / chunks);
  if (chunks > 1) chunks = Math.ceil(R / L);
  const out = chunks === 1 ? dst : empty([chunks * O]);
  const rshape = red.shape.length ? red.shape : [1],
    rstride = red.stride.length ? red.stride : [0];
  engine().queue.dispatch({
    shader: 'reduce',
    entry: 'sum_chunks',
    op,
    uniforms: {
      O,
      R,
      L,
      total: O * chunks,
      krank: kept.shape.length,
      rrank: rshape.length,
      alpha: chunks === 1 ? alpha : 1,
      kshape: pad4(kept.shape, 1),
      kstride: pad4(kept.stride, 0),
      rshape: pad4(rshape, 1),
      rstride: pad4(rstride, 0),
    },
    buffers: { x: src.buffer, y: out.buffer },
    workgroups: grid1d(O * chunks, WG),
  });
  if (chunks === 1) return;
  stage(out, { shape: O > 1 ? [O] : [], stride: O > 1 ? [1] : [] }, { shape: [chunks], stride: [O] }, alpha, dst, op);
  out.dispose(); // recorded work still reads it; the pool reuses it only after the submit
}

/** alpha * sum of x over `axes` (sorted, unique), written into a new tensor of `outShape`. */
function reduceInto(x: Tensor, axes: number[], outShape: Shape, alpha: number, op: string): Tensor {
  const st = stridesOf(x.shape);
  const isRed = (d: number) => axes.includes(d);
  const dimsOf = (pick: (d: number) => boolean) => {
    const ds = x.shape.map((_, d) => d).filter(pick);
    const c = coalesce(
      ds.map((d) => x.shape[d]),
      [ds.map((d) => st[d])],
    );
    return { shape: c.shape, stride: c.strides[0] };
  };
  const kept = dimsOf((d) => !isRed(d)),
    red = dimsOf(isRed);
  if (kept.shape.length > 4 || red.shape.length > 4)
    throw new RangeError(
      `webgpu-cnn: ${op}: reducing axes [${axes}] of ${shapeStr(x.shape)} interleaves more than 4 kept or 4 reduced dimension groups (not supported)`,
    );
  const y = empty(outShape);
  if (y.size === 0) return y;
  stage(x, kept, red, alpha, y, op);
  return y;
}

/** x's shape with 1 at the reduced axes: the layout of the result in x's index space. */
function keptShape(shape: Shape, axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reduceOp(
  op: 'sum' | 'mean',
  x: Tensor,
  axes: number | readonly number[] | undefined,
  keepDims: boolean,
): Tensor {
  checkTensor(op, 'x', x, 'f32');
  const ax = normalizeAxes(op, axes, x.rank);
  const keep = keptShape(x.shape, ax);
  const outShape = keepDims ? keep : x.shape.filter((_, i) => !ax.includes(i));
  const R = sizeOf(ax.map((a) => x.shape[a]));
  const alpha = op === 'mean' ? 1 / R : 1;
  const y = reduceInto(x, ax, outShape, alpha, op);
  if (needsGrad([x]))
    record(op, [x], [y], ([gy]) => [gy ? expandView(gy, keep, x.shape, alpha, `${op} backward`) : null]);
  return y;
}

/** Sum over `axes` (default: all). Negative axes count from the end. */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp('sum', x, axes, keepDims);
}

/** Mean over `axes` (default: all). */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp('mean', x, axes, keepDims);
}

/** Bias gradient: sum of dy over every axis but the last ([..., C] -> [C]). */
export function biasGrad(dy: Tensor): Tensor {
  checkTensor('biasGrad', 'dy', dy, 'f32');
  if (dy.rank < 1) throw new RangeError(`webgpu-cnn: biasGrad: 'dy' needs rank >= 1, got shape ${shapeStr(dy.shape)}`);
  const ax = [...Array(dy.rank - 1).keys()];
  const y = reduceInto(dy, ax, [dy.shape[dy.rank - 1]], 1, 'biasGrad');
  if (needsGrad([dy]))
    record('biasGrad', [dy], [y], ([gy]) => [
      gy ? expandView(gy, keptShape(dy.shape, ax), dy.shape, 1, 'biasGrad backward') : null,
    ]);
  return y;
}

/**
 * Sum `x` down to `shape`, the inverse of broadcasting `shape` up to x.shape: the gradient of a
 * broadcast input. Returns a copy when nothing is broadcast.
 */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  checkTensor('sumTo', 'x', x, 'f32');
  const out = broadcastShapes('sumTo', shape, x.shape, 'shape', 'x');
  if (out.length !== x.rank || out.some((d, i) => d !== x.shape[i]))
    throw new RangeError(`webgpu-cnn: sumTo: ${shapeStr(shape)} does not broadcast to x ${shapeStr(x.shape)}`);
  const pad = x.rank - shape.length;
  const ax = x.shape.map((_, i) => i).filter((i) => i < pad || (shape[i - pad] === 1 && x.shape[i] !== 1));
  const y = reduceInto(x, ax, shape, 1, 'sumTo');
  if (needsGrad([x])) record('sumTo', [x], [y], ([gy]) => [gy ? broadcastTo(gy, x.shape) : null]);
  return y;
}

/** alpha * src (whose data is laid out as `view`) broadcast to `shape`. */
function expandView(src: Tensor, view: Shape, shape: Shape, alpha: number, op: string): Tensor {
  const c = coalesce(shape, [broadcastStrides(view, shape)]);
  if (c.shape.length > MAX_RANK)
    throw new RangeError(
      `webgpu-cnn: ${op}: broadcasting ${shapeStr(view)} to ${shapeStr(shape)} alternates over ${c.shape.length} dimension groups; at most ${MAX_RANK} are supported`,
    );
  const y = empty(shape);
  if (y.size === 0) return y;
  const s = vec8(c.shape, 1),
    sa = vec8(c.strides[0], 0),
    zero = vec8([], 0);
  engine().queue.dispatch({
    shader: 'elementwise',
    entry: 'expand',
    op,
    uniforms: {
      n: y.size,
      rank: c.shape.length,
      op: 0,
      alpha,
      shape_lo: s.lo,
      shape_hi: s.hi,
      sa_lo: sa.lo,
      sa_hi: sa.hi,
      sb_lo: zero.lo,
      sb_hi: zero.hi,
    },
    buffers: { a: src.buffer, y: y.buffer },
    workgroups: grid1d(y.size, WG),
  });
  return y;
}

/** Broadcast x to `shape` (numpy rules) as a new tensor. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  checkTensor('broadcastTo', 'x', x, 'f32');
  const out = broadcastShapes('broadcastTo', x.shape, shape, 'x', 'shape');
  if (out.length !== shape.length || out.some((d, i) => d !== shape[i]))
    throw new RangeError(`webgpu-cnn: broadcastTo: x ${shapeStr(x.shape)} does not broadcast to ${shapeStr(shape)}`);
  const y = expandView(x, x.shape, shape, 1, 'broadcastTo');
  if (needsGrad([x])) record('broadcastTo', [x], [y], ([gy]) => [gy ? sumTo(gy, x.shape) : null]);
  return y;
}

/** Float64 references on flat row-major data. */
export const ref = {
  /** alpha * sum over `axes` (sorted); result laid out in x's order with the axes removed. */
  sum(x: ArrayLike<number>, shape: Shape, axes: number[], alpha = 1): Float64Array {
    const keep = keptShape(shape, axes);
    const out = new Float64Array(sizeOf(keep));
    const ks = stridesOf(keep);
    const idx = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < x.length; i++) {
      let o = 0;
      for (let d = 0; d < shape.length; d++) if (keep[d] !== 1) o += idx[d] * ks[d];
      out[o] += x[i];
      for (let d = shape.length - 1; d >= 0; d--)
        if (++idx[d] < shape[d]) break;
        else idx[d] = 0;
    }
    return out.map((v) => alpha * v);
  },
  /** The adjoint of sum: gy (laid out as x's shape with 1 at `axes`) broadcast back, times alpha. */
  sumBackward(gy: ArrayLike<number>, shape: Shape, axes: number[], alpha = 1): Float64Array {
    return ref.broadcast(gy, keptShape(shape, axes), shape).map((v) => alpha * v);
  },
  /** x of shape `from` broadcast to `to` (numpy rules). */
  broadcast(x: ArrayLike<number>, from: Shape, to: Shape): Float64Array {
    const s = broadcastStrides(from, to);
    const out = new Float64Array(sizeOf(to));
    const idx = new Array<number>(to.length).fill(0);
    for (let i = 0; i < out.length; i++) {
      let o = 0;
      for (let d = 0; d < to.length; d++) o += idx[d] * s[d];
      out[i] = x[o];
      for (let d = to.length - 1; d >= 0; d--)
        if (++idx[d] < to[d]) break;
        else idx[d] = 0;
    }
    return out;
  },
  /** sum of x (shape `from`) down to `to` (the adjoint of broadcast). */
  sumTo(x: ArrayLike<number>, from: Shape, to: Shape): Float64Array {
    const s = broadcastStrides(to, from);
    const out = new Float64Array(sizeOf(to));
    const idx = new Array<number>(from.length).fill(0);
    for (let i = 0; i < x.length; i++) {
      let o = 0;
      for (let d = 0; d < from.length; d++) o += idx[d] * s[d];
      out[o] += x[i];
      for (let d = from.length - 1; d >= 0; d--)
        if (++idx[d] < from[d]) break;
        else idx[d] = 0;
    }
    return out;
  },
};
