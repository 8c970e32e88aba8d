// Shape ops (reshape, flatten) and the shape arithmetic the broadcasting and reducing kernels
// share: numpy broadcasting, contiguous strides, and dimension coalescing (merging adjacent
// dimensions that are walked the same way, so kernels index at most a few dimensions).
//
// Tensors own their buffers, so a reshape is not a free view: it is one GPU buffer copy
// (queue.copy) into a new tensor. Not here: transposes (matmul takes trans flags instead).

import { engine } from '../runtime/engine.js';
import { empty, shapeStr, sizeOf, type Shape, type Tensor } from '../tensor/tensor.js';
import { needsGrad, record } from '../autograd/tape.js';
import { checkTensor } from './check.js';

/** Highest rank the broadcasting and reducing kernels index (two vec4 of dimensions). */
export const MAX_RANK = 8;

/** Row-major element strides of a contiguous tensor. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** One dimension of a numpy broadcast (sizes equal, or one of them 1): a 1 takes the other's size, 0 included. */
export const broadcastDim = (a: number, b: number): number => (a === 1 ? b : a);

/** numpy broadcasting: align right, each pair of dimensions equal or one of them 1. */
export function broadcastShapes(op: string, a: Shape, b: Shape, an = 'a', bn = 'b'): number[] {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1,
      db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new RangeError(
        `webgpu-cnn: ${op}: '${an}' ${shapeStr(a)} and '${bn}' ${shapeStr(b)} must have the same shape or be broadcastable (numpy rules; dimension ${i} of the result: ${da} vs ${db})`,
      );
    out[i] = broadcastDim(da, db);
  }
  return out;
}

/**
 * Strides with which an input of shape `inShape` is read when broadcast to `outShape`
 * (0 along broadcast dimensions); `inShape` must broadcast to `outShape`.
 */
export function broadcastStrides(inShape: Shape, outShape: Shape): number[] {
  const pad = outShape.length - inShape.length;
  const s = stridesOf(inShape);
  return outShape.map((_d, i) => (i < pad || inShape[i - pad] === 1 ? 0 : s[i - pad]));
}

/**
 * Coalesce an index space: `shape` with one stride list per operand. Size-1 dimensions are
 * dropped; adjacent dimensions merge when every operand walks them contiguously
 * (stride[d] == stride[d+1] * shape[d+1], which includes broadcast strides 0 == 0).
 */
export function coalesce(shape: Shape, strides: number[][]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Split up to 8 dimensions into the (lo, hi) vec4 pair the kernels take; pads with `fill`. */
export function vec8(v: readonly number[], fill: number): { lo: number[]; hi: number[] } {
  const a = [...v];
  while (a.length < 8) a.push(fill);
  return { lo: a.slice(0, 4), hi: a.slice(4, 8) };
}

/** Normalise a list of axes (negative counts from the end); checks range and duplicates. */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= rank)
      throw new RangeError(`webgpu-cnn: ${op}: axis ${a} is out of range for rank ${rank}`);
    return a < 0 ? a + rank : a;
  });
  if (new Set(out).size !== out.length) throw new RangeError(`webgpu-cnn: ${op}: repeated axis in [${list}]`);
  return out.sort((x, y) => x - y);
}

/** A GPU copy of `x` under a new shape with the same number of elements (one -1 is inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  checkTensor('reshape', 'x', x);
  const target = [...shape];
  const unknown = target.indexOf(-1);
  if (unknown >= 0) {
    if (target.indexOf(-1, unknown + 1) >= 0)
      throw new RangeError(`webgpu-cnn: reshape: at most one -1 in shape ${shapeStr(shape)}`);
    const known = sizeOf(target.filter((_, i) => i !== unknown));
    if (known === 0 || x.size % known !== 0)
      throw new RangeError(
        `webgpu-cnn: reshape: cannot reshape ${shapeStr(x.shape)} (${x.size} elements) to ${shapeStr(shape)}`,
      );
    target[unknown] = x.size / known;
  }
  for (const d of target)
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`webgpu-cnn: reshape: bad shape ${shapeStr(shape)}`);
  if (sizeOf(target) !== x.size)
    throw new RangeError(
      `webgpu-cnn: reshape: cannot reshape ${shapeStr(x.shape)} (${x.size} elements) to ${shapeStr(shape)} (${sizeOf(target)} elements)`,
    );
  const y = empty(target, x.dtype);
  if (x.byteLength > 0) engine().queue.copy(x.buffer, 0, y.buffer, 0, x.byteLength);
  if (needsGrad([x])) record('reshape', [x], [y], ([gy]) => [gy ? reshape(gy, x.shape) : null]);
  return y;
}

/** [N, ...rest] -> [N, prod(rest)] (a GPU copy, see reshape). */
export function flatten(x: Tensor): Tensor {
  checkTensor('flatten', 'x', x);
  if (x.rank < 1) throw new RangeError(`webgpu-cnn: flatten: 'x' needs rank >= 1, got shape ${shapeStr(x.shape)}`);
  return reshape(x, [x.shape[0], sizeOf(x.shape.slice(1))]);
}

/** Float64 references: the element order never changes, so they are the identity on data. */
export const ref = {
  reshape: (x: ArrayLike<number>) => Float64Array.from(x),
  broadcastShapes: (a: Shape, b: Shape) => broadcastShapes('ref', a, b),
};
