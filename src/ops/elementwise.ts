// Elementwise ops: fill (full/zeros/ones), add/sub/mul with numpy broadcasting, scale,
// addScalar, scaleBy (a GPU-resident scale factor). Forward, autograd rules and float64
// references side by side. Kernels: shaders/elementwise.wgsl.
//
// Same-shape operands take the flat kernels; others the broadcasting kernel over coalesced
// dimensions. The gradient of a broadcast operand is summed back to its shape (reduce.ts).

import { engine } from '../runtime/engine.js';
import type { PooledBuffer } from '../runtime/pool.js';
import { checkShape, empty, shapeStr, sizeOf, type Shape, type Tensor } from '../tensor/tensor.js';
import { needsGrad, record } from '../autograd/tape.js';
import { allocateFor, checkNumber, checkTensor } from './check.js';
import { grid1d } from './grid.js';
import { sumTo } from './reduce.js';
import { MAX_RANK, broadcastShapes, broadcastStrides, coalesce, vec8 } from './shape.js';

const WG = 256;

/**
 * A same-shape kernel over y's elements, 4 per thread (vec4 views of the buffers: see
 * shaders/elementwise.wgsl). `buffers` name the shader's vec4 views (a4, b4) or `b` for
 * scale_by's scalar.
 */
function run(
  entry: string,
  y: Tensor,
  uniforms: { n: number; alpha: number },
  buffers: Record<string, Tensor>,
  op: string,
): void {
  const bufs: Record<string, PooledBuffer> = { y4: y.buffer };
  for (const [k, t] of Object.entries(buffers)) bufs[k] = t.buffer;
  const n4 = Math.ceil(uniforms.n / 4);
  engine().queue.dispatch({
    shader: 'elementwise',
    entry,
    op,
    uniforms: { n: n4, alpha: uniforms.alpha },
    buffers: bufs,
    workgroups: grid1d(n4, WG),
  });
}

/** A tensor of `shape` with every element `value`. */
export function full(shape: Shape, value: number): Tensor {
  checkShape(shape, 'full');
  checkNumber('full', 'value', value);
  const y = empty(shape);
  run('fill', y, { n: y.size, alpha: value }, {}, 'full');
  return y;
}

/** A new f32 tensor of shape `shape` filled with 0. */
export function zeros(shape: Shape): Tensor {
  return full(shape, 0);
}

/** A new f32 tensor of shape `shape` filled with 1. */
export function ones(shape: Shape): Tensor {
  return full(shape, 1);
}

const OPS = { add: 0, sub: 1, mul: 2 } as const;
type BinaryOp = keyof typeof OPS;

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** y = a op b with numpy broadcasting. */
function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  checkTensor(op, 'a', a, 'f32');
  checkTensor(op, 'b', b, 'f32');
  const shape = broadcastShapes(op, a.shape, b.shape);
  // every check before the output is allocated: a refused call leaves nothing behind
  const c = coalesce(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)]);
  if (!sameShape(a.shape, b.shape) && c.shape.length > MAX_RANK)
    throw new RangeError(
      `webgpu-cnn: ${op}: 'a' ${shapeStr(a.shape)} and 'b' ${shapeStr(b.shape)} broadcast over ${c.shape.length} separate dimensions; at most ${MAX_RANK} are supported`,
    );
  const y = allocateFor(op, shape);
  if (y.size === 0) return y;
  if (sameShape(a.shape, b.shape)) {
    run(op, y, { n: y.size, alpha: 0 }, { a4: a, b4: b }, op);
    return y;
  }
  const s = vec8(c.shape, 1),
    sa = vec8(c.strides[0], 0),
    sb = vec8(c.strides[1], 0);
  engine().queue.dispatch({
    shader: 'elementwise',
    entry: 'binary_bcast',
    op,
    uniforms: {
      n: y.size,
      rank: c.shape.length,
      op: OPS[op],
      alpha: 0,
      shape_lo: s.lo,
      shape_hi: s.hi,
      sa_lo: sa.lo,
      sa_hi: sa.hi,
      sb_lo: sb.lo,
      sb_hi: sb.hi,
    },
    buffers: { a: a.buffer, b: b.buffer, y: y.buffer },
    workgroups: grid1d(y.size, WG),
  });
  return y;
}

/** The gradient `g` (of the broadcast result) as seen by operand `x`: summed to x's shape. */
function toShapeOf(g: Tensor, x: Tensor): Tensor {
  return sameShape(g.shape, x.shape) ? g : sumTo(g, x.shape);
}

/** a + b (numpy broadcasting). */
export function add(a: Tensor, b: Tensor): Tensor {
  const y = binary('add', a, b);
  if (needsGrad([a, b]))
    record('add', [a, b], [y], ([gy]) => [
      gy && a.requiresGrad ? toShapeOf(gy, a) : null,
      gy && b.requiresGrad ? toShapeOf(gy, b) : null,
    ]);
  return y;
}

/** a - b (numpy broadcasting). */
export function sub(a: Tensor, b: Tensor): Tensor {
  const y = binary('sub', a, b);
  if (needsGrad([a, b]))
    record('sub', [a, b], [y], ([gy]) => {
      if (!gy) return [null, null];
      let gb: Tensor | null = null;
      if (b.requiresGrad) {
        const g = toShapeOf(gy, b);
        gb = scale(g, -1);
        if (g !== gy) g.dispose();
      }
      return [a.requiresGrad ? toShapeOf(gy, a) : null, gb];
    });
  return y;
}

/** a * b (numpy broadcasting). */
export function mul(a: Tensor, b: Tensor): Tensor {
  const y = binary('mul', a, b);
  if (needsGrad([a, b]))
    record('mul', [a, b], [y], ([gy]) => {
      if (!gy) return [null, null];
      const part = (x: Tensor, other: Tensor) => {
        const prod = binary('mul', gy, other); // gy * other, in the broadcast shape
        const g = toShapeOf(prod, x);
        if (g !== prod) prod.dispose();
        return g;
      };
      return [a.requiresGrad ? part(a, b) : null, b.requiresGrad ? part(b, a) : null];
    });
  return y;
}

/** alpha * a */
export function scale(a: Tensor, alpha: number): Tensor {
  checkTensor('scale', 'a', a, 'f32');
  checkNumber('scale', 'alpha', alpha);
  const y = empty(a.shape);
  run('scale', y, { n: y.size, alpha }, { a4: a }, 'scale');
  if (needsGrad([a])) record('scale', [a], [y], ([gy]) => [gy ? scale(gy, alpha) : null]);
  return y;
}

/** a + s for a host number s. */
export function addScalar(a: Tensor, s: number): Tensor {
  checkTensor('addScalar', 'a', a, 'f32');
  checkNumber('addScalar', 's', s);
  const y = empty(a.shape);
  run('add_scalar', y, { n: y.size, alpha: s }, { a4: a }, 'addScalar');
  if (needsGrad([a])) record('addScalar', [a], [y], ([gy]) => [gy]);
  return y;
}

/**
 * a * s[0] where `s` is a one-element GPU tensor (e.g. an upstream gradient): the factor is read
 * by the kernel, never by the host.
 */
export function scaleBy(a: Tensor, s: Tensor): Tensor {
  checkTensor('scaleBy', 'a', a, 'f32');
  checkTensor('scaleBy', 's', s, 'f32');
  if (s.size !== 1)
    throw new RangeError(`webgpu-cnn: scaleBy: 's' must have one element, got shape ${shapeStr(s.shape)}`);
  const y = empty(a.shape);
  run('scale_by', y, { n: y.size, alpha: 0 }, { a4: a, b: s }, 'scaleBy');
  if (needsGrad([a, s]))
    record('scaleBy', [a, s], [y], ([gy]) => {
      if (!gy) return [null, null];
      let gs: Tensor | null = null;
      if (s.requiresGrad) {
        const prod = binary('mul', gy, a);
        gs = sumTo(prod, s.shape);
        prod.dispose();
      }
      return [a.requiresGrad ? scaleBy(gy, s) : null, gs];
    });
  return y;
}

/** Float64 references (flat row-major data; shapes for the broadcasting ops). */
export const ref = {
  add: (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v + b[i]),
  scale: (a: ArrayLike<number>, alpha: number) => Float64Array.from(a, (v) => alpha * v),
  addScalar: (a: ArrayLike<number>, s: number) => Float64Array.from(a, (v) => v + s),
  /** a op b broadcast: returns the result and its shape. */
  binary(
    op: BinaryOp,
    a: ArrayLike<number>,
    as: Shape,
    b: ArrayLike<number>,
    bs: Shape,
  ): { y: Float64Array; shape: number[] } {
    const shape = broadcastShapes('ref', as, bs);
    const sa = broadcastStrides(as, shape),
      sb = broadcastStrides(bs, shape);
    const y = new Float64Array(sizeOf(shape));
    const idx = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < y.length; i++) {
      let oa = 0,
        ob = 0;
      for (let d = 0; d < shape.length; d++) (oa += idx[d] * sa[d]), (ob += idx[d] * sb[d]);
      y[i] = op === 'add' ? a[oa] + b[ob] : op === 'sub' ? a[oa] - b[ob] : a[oa] * b[ob];
      for (let d = shape.length - 1; d >= 0; d--)
        if (++idx[d] < shape[d]) break;
        else idx[d] = 0;
    }
    return { y, shape };
  },
  /** Gradients of sum(gy * (a op b)) with respect to a and b (broadcast gradients summed back). */
  binaryBackward(
    op: BinaryOp,
    gy: ArrayLike<number>,
    a: ArrayLike<number>,
    as: Shape,
    b: ArrayLike<number>,
    bs: Shape,
  ): { da: Float64Array; db: Float64Array } {
    const shape = broadcastShapes('ref', as, bs);
    const sa = broadcastStrides(as, shape),
      sb = broadcastStrides(bs, shape);
    const da = new Float64Array(sizeOf(as)),
      db = new Float64Array(sizeOf(bs));
    const idx = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < gy.length; i++) {
      let oa = 0,
        ob = 0;
      for (let d = 0; d < shape.length; d++) (oa += idx[d] * sa[d]), (ob += idx[d] * sb[d]);
      da[oa] += op === 'mul' ? gy[i] * b[ob] : gy[i];
      db[ob] += op === 'mul' ? gy[i] * a[oa] : op === 'sub' ? -gy[i] : gy[i];
      for (let d = shape.length - 1; d >= 0; d--)
        if (++idx[d] < shape[d]) break;
        else idx[d] = 0;
    }
    return { da, db };
  },
};
