// Matrix multiply: matmul (2-D), bmm (3-D batched), with transpose flags and a fused bias + ReLU
// epilogue. Forward, autograd rule and float64 reference side by side. The kernels:
// kernels.ts; which one runs: choose.ts; tuning: tune.ts.
//
// Backward needs no transposed copies: with g = dy (masked by y > 0 when ReLU is fused),
//   d op(A) = g . op(B)^T,  d op(B) = op(A)^T . g,  dbias = biasGrad(g),
// and each product maps onto one matmul call with the right flags (see gradA / gradB).

import { shapeStr, type Shape, type Tensor } from '../../tensor/tensor.js';
import { broadcastDim } from '../shape.js';
import { needsGrad, record } from '../../autograd/tape.js';
import { allocateFor, checkOptions, checkTensor, describe, optionKeys } from '../check.js';
import { reluBackward } from '../activations.js';
import { biasGrad, sum } from '../reduce.js';
import { checkKernel, dispatchGemm, type Gemm, type MatmulKernel } from './kernels.js';
import { matmulKernelFor } from './choose.js';

/**
 * Options of {@link matmul} and {@link bmm}: transposes (`transA`, `transB`, default false), a fused
 * bias and ReLU, and an optional forced kernel.
 */
export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** [N], added to every row of the result */
  bias?: Tensor;
  /** apply max(., 0) after the bias */
  relu?: boolean;
  /**
   * Force a kernel variant (benchmarks, tests); by default the autotuned choice for this
   * shape, else the adapter's default (see choose.ts).
   */
  kernel?: MatmulKernel;
  /** shorthand for kernel { kind: 'shared', wgX, wgY, bk }: threads per workgroup (each owns 8x8 outputs) and K step */
  tiles?: { wgX: number; wgY: number; bk: number };
}

const MATMUL_KEYS = optionKeys<MatmulOptions>({
  transA: true,
  transB: true,
  bias: true,
  relu: true,
  kernel: true,
  tiles: true,
});

/** A stored operand: `batch` matrices of rows x cols (as laid out in memory). */
interface Mat {
  t: Tensor;
  batch: number;
  rows: number;
  cols: number;
}

const mat2 = (t: Tensor): Mat => ({ t, batch: 1, rows: t.shape[0], cols: t.shape[1] });
const mat3 = (t: Tensor): Mat => ({ t, batch: t.shape[0], rows: t.shape[1], cols: t.shape[2] });

/** The kernel the caller forces, validated; undefined when the choice is left to choose.ts. */
function forcedKernel(opts: MatmulOptions, op: string): MatmulKernel | undefined {
  const k = opts.kernel ?? (opts.tiles && { kind: 'shared' as const, ...opts.tiles });
  if (k) checkKernel(k, op, opts.kernel ? 'kernel' : 'tiles');
  return k;
}

/** c = relu?(op(a) . op(b) + bias?) over broadcastDim(a.batch, b.batch) batches, written as `outShape`. */
function gemm(a: Mat, b: Mat, ta: boolean, tb: boolean, outShape: Shape, opts: MatmulOptions, op: string): Tensor {
  const M = ta ? a.cols : a.rows,
    K = ta ? a.rows : a.cols,
    N = tb ? b.rows : b.cols;
  // numpy's rule, not max(a, b): an empty batch against a broadcast one is empty (max gave a
  // batch of 1, computed from the empty operand's buffer: stale data)
  const batch = broadcastDim(a.batch, b.batch);
  const c = allocateFor(op, outShape);
  if (c.size === 0) return c;
  const sa = a.batch === 1 ? 0 : a.rows * a.cols,
    sb = b.batch === 1 ? 0 : b.rows * b.cols;
  // Without a bias the binding still needs a buffer: a's (read-only aliasing is allowed).
  const buffers = { a: a.t.buffer, b: b.t.buffer, bias: (opts.bias ?? a.t).buffer, c: c.buffer };
  const g: Gemm = { M, N, K, batch, ta, tb };
  dispatchGemm(
    matmulKernelFor(g, forcedKernel(opts, op)),
    g,
    { buffers, sa, sb, hasBias: !!opts.bias, relu: !!opts.relu },
    op,
  );
  return c;
}

function check(
  op: string,
  a: Tensor,
  b: Tensor,
  opts: MatmulOptions,
  rank: number,
): { A: Mat; B: Mat; outShape: number[] } {
  checkOptions(op, 'opts', opts, MATMUL_KEYS);
  checkTensor(op, 'a', a, 'f32', rank);
  checkTensor(op, 'b', b, 'f32', rank);
  for (const k of ['transA', 'transB', 'relu'] as const)
    if (opts[k] !== undefined && typeof opts[k] !== 'boolean')
      throw new TypeError(`webgpu-cnn: ${op}: '${k}' must be a boolean, got ${describe(opts[k])}`);
  const A = rank === 2 ? mat2(a) : mat3(a),
    B = rank === 2 ? mat2(b) : mat3(b);
  const ta = !!opts.transA,
    tb = !!opts.transB;
  const M = ta ? A.cols : A.rows,
    K = ta ? A.rows : A.cols,
    K2 = tb ? B.cols : B.rows,
    N = tb ? B.rows : B.cols;
  if (K !== K2)
    throw new RangeError(
      `webgpu-cnn: ${op}: inner dimensions differ: op(a) is [${M},${K}] (a ${shapeStr(a.shape)}${ta ? ', transA' : ''}), op(b) is [${K2},${N}] (b ${shapeStr(b.shape)}${tb ? ', transB' : ''})`,
    );
  if (A.batch !== B.batch && A.batch !== 1 && B.batch !== 1)
    throw new RangeError(
      `webgpu-cnn: ${op}: batch sizes of 'a' ${shapeStr(a.shape)} and 'b' ${shapeStr(b.shape)} differ (one may be 1)`,
    );
  if (opts.bias !== undefined) {
    checkTensor(op, 'bias', opts.bias, 'f32', 1);
    if (opts.bias.shape[0] !== N)
      throw new RangeError(`webgpu-cnn: ${op}: 'bias' must have shape [${N}], got ${shapeStr(opts.bias.shape)}`);
  }
  forcedKernel(opts, op);
  const batch = broadcastDim(A.batch, B.batch);
  return { A, B, outShape: rank === 2 ? [M, N] : [batch, M, N] };
}

/** The gradient of stored operand x from a product computed for all `batch` batches. */
function reduceBatch(r: Tensor, x: Mat, batch: number): Tensor {
  if (x.batch === batch) return r;
  const s = sum(r, [0], true); // x was broadcast over the batch
  r.dispose();
  return s;
}

function gradA(g: Mat, A: Mat, B: Mat, ta: boolean, tb: boolean): Tensor {
  // a broadcast a (batch 1 against g's batch, 0 included) gets the per-batch products summed
  const shape = g.batch !== A.batch ? [g.batch, A.rows, A.cols] : A.t.shape;
  const r = !ta
    ? gemm(g, B, false, !tb, shape, {}, 'matmul backward (a)') // g.B^T  or  g.B
    : gemm(B, g, tb, true, shape, {}, 'matmul backward (a)'); // B.g^T  or  B^T.g^T
  return reduceBatch(r, A, g.batch);
}

function gradB(g: Mat, A: Mat, B: Mat, ta: boolean, tb: boolean): Tensor {
  const shape = g.batch !== B.batch ? [g.batch, B.rows, B.cols] : B.t.shape;
  const r = !tb
    ? gemm(A, g, !ta, false, shape, {}, 'matmul backward (b)') // A^T.g  or  A.g
    : gemm(g, A, true, ta, shape, {}, 'matmul backward (b)'); // g^T.A  or  g^T.A^T
  return reduceBatch(r, B, g.batch);
}

function forward(op: string, a: Tensor, b: Tensor, opts: MatmulOptions, rank: number): Tensor {
  const { A, B, outShape } = check(op, a, b, opts, rank);
  const ta = !!opts.transA,
    tb = !!opts.transB,
    bias = opts.bias;
  const y = gemm(A, B, ta, tb, outShape, opts, op);
  const inputs = bias ? [a, b, bias] : [a, b];
  if (needsGrad(inputs))
    record(op, inputs, [y], ([gy]) => {
      if (!gy) return inputs.map(() => null);
      const g = opts.relu ? reluBackward(gy, y) : gy;
      const G: Mat = { t: g, batch: rank === 2 ? 1 : y.shape[0], rows: y.shape[rank - 2], cols: y.shape[rank - 1] };
      const out = [a.requiresGrad ? gradA(G, A, B, ta, tb) : null, b.requiresGrad ? gradB(G, A, B, ta, tb) : null];
      if (bias) out.push(bias.requiresGrad ? biasGrad(g) : null);
      if (g !== gy) g.dispose();
      return out;
    });
  return y;
}

/** op(a) . op(b) (+ bias) (ReLU) for 2-D a, b: [M,K] . [K,N] -> [M,N]. */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  return forward('matmul', a, b, opts, 2);
}

/** Batched matmul for 3-D a, b: [B,M,K] . [B,K,N] -> [B,M,N]; a batch of 1 broadcasts. */
export function bmm(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  return forward('bmm', a, b, opts, 3);
}

export interface RefMatmulOptions {
  transA?: boolean;
  transB?: boolean;
  bias?: ArrayLike<number>;
  relu?: boolean;
}

/** Float64 references; shapes are [batch, rows, cols] as stored (batch 1 broadcasts). */
export const ref = {
  matmul(
    a: ArrayLike<number>,
    as: number[],
    b: ArrayLike<number>,
    bs: number[],
    o: RefMatmulOptions = {},
  ): Float64Array {
    const [ba, ra, ca] = as,
      [bb, rb, cb] = bs;
    const M = o.transA ? ca : ra,
      K = o.transA ? ra : ca,
      N = o.transB ? rb : cb,
      batch = broadcastDim(ba, bb);
    const y = new Float64Array(batch * M * N);
    for (let z = 0; z < batch; z++)
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          let s = o.bias ? o.bias[n] : 0;
          for (let k = 0; k < K; k++) {
            const av = a[(ba === 1 ? 0 : z * ra * ca) + (o.transA ? k * ca + m : m * ca + k)];
            const bv = b[(bb === 1 ? 0 : z * rb * cb) + (o.transB ? n * cb + k : k * cb + n)];
            s += av * bv;
          }
          y[(z * M + m) * N + n] = o.relu ? Math.max(s, 0) : s;
        }
    return y;
  },
  /** Gradients of sum(gy * matmul(a, b, o)) for a, b and bias (straight from the definition). */
  matmulBackward(
    gy: ArrayLike<number>,
    a: ArrayLike<number>,
    as: number[],
    b: ArrayLike<number>,
    bs: number[],
    o: RefMatmulOptions = {},
  ) {
    const [ba, ra, ca] = as,
      [bb, rb, cb] = bs;
    const M = o.transA ? ca : ra,
      K = o.transA ? ra : ca,
      N = o.transB ? rb : cb,
      batch = broadcastDim(ba, bb);
    const y = o.relu ? ref.matmul(a, as, b, bs, o) : null;
    const da = new Float64Array(a.length),
      db = new Float64Array(b.length),
      dbias = new Float64Array(N);
    for (let z = 0; z < batch; z++)
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          const i = (z * M + m) * N + n;
          const g = y && y[i] <= 0 ? 0 : gy[i];
          dbias[n] += g;
          for (let k = 0; k < K; k++) {
            const ia = (ba === 1 ? 0 : z * ra * ca) + (o.transA ? k * ca + m : m * ca + k);
            const ib = (bb === 1 ? 0 : z * rb * cb) + (o.transB ? n * cb + k : k * cb + n);
            da[ia] += g * b[ib];
            db[ib] += g * a[ia];
          }
        }
    return { da, db, dbias };
  },
};
