// Kernel fuzzing of matmul / bmm: every kernel kind (src/ops/matmul/kernels.ts: shared with its
// workgroup shape and K step, register, subgroup, subgroup32 with theirs; the naive kernel;
// and the default pick), transposes, 2-D and batched with either operand's batch broadcast,
// fused bias and ReLU, M, N, K from 1 to 80 around multiples of 4/8/16/32 (which also switches
// the vector loads on and off), sometimes M, N or K up to 700. Workgroup shapes are any that checkKernel accepts under
// WebGPU's default limits, odd ones included. A second family differentiates through the
// autograd rule (backward products with other transposes, batch-broadcast gradients summed).
// Reference: src/ops/matmul.ts `ref` in float64; the scale is the same product of |a|, |b|.

import { uniformArray, type Rng } from '../../src/data/rng.js';
import { engine } from '../../src/runtime/engine.js';
import { bmm, matmul, ref, type MatmulOptions } from '../../src/ops/matmul/index.js';
import { matmulNaive } from '../../bench/naive.js';
import { kernelProblem, type MatmulKernel } from '../../src/ops/matmul/kernels.js';
import { mul } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import {
  abs,
  chance,
  compare,
  edgy,
  firstOf,
  int,
  pick,
  shapeCheck,
  sumTol,
  gradIn,
  type Bag,
  type Family,
  type Mismatch,
} from './core.js';

export interface MatmulParams {
  M: number;
  N: number;
  K: number;
  /** 2: matmul; 3: bmm with these batch sizes (one of them may be 1: broadcast) */
  rank: 2 | 3;
  batchA: number;
  batchB: number;
  transA: boolean;
  transB: boolean;
  bias: boolean;
  relu: boolean;
  kernel: 'auto' | 'naive' | MatmulKernel;
  seed: number;
}

const MAX_MACS = 150_000;
/** WebGPU's default limits, so that a seed draws the same cases on every device. */
const MAX_THREADS = 256,
  MAX_SHARED = 16384;

function drawKernel(r: Rng): MatmulParams['kernel'] {
  const kind = pick(r, ['auto', 'naive', 'shared', 'register', 'subgroup', 'subgroup32'] as const);
  if (kind === 'auto' || kind === 'naive') return kind;
  for (;;) {
    const wgX = kind === 'shared' || kind === 'register' ? pick(r, [1, 2, 3, 4, 5, 8, 16]) : pick(r, [4, 8, 12, 16]);
    const wgY = pick(r, [1, 2, 3, 4, 5, 8, 16]);
    if (wgX * wgY > MAX_THREADS) continue;
    if (kind !== 'shared') return { kind, wgX, wgY };
    const bk = pick(r, [4, 8, 12, 16, 32]);
    if (32 * bk * (wgX + wgY) <= MAX_SHARED) return { kind, wgX, wgY, bk };
  }
}

function drawMatmul(r: Rng): MatmulParams {
  for (;;) {
    const rank3 = chance(r, 0.5);
    // now and then an empty batch (0, or 0 against a broadcast 1: the result has none)
    const b = chance(r, 0.06) ? 0 : int(r, 1, 3);
    const bc = pick(r, ['none', 'a', 'b'] as const);
    // a quarter of the time one long side (up to 700): several workgroups along it, also for
    // the kernels with tall workgroups (subgroup32 with wgY 16 covers 512 rows)
    // (or a long K: many K steps and their tail)
    const long = chance(r, 0.35) ? pick(r, ['M', 'N', 'K'] as const) : null;
    const side = (d: 'M' | 'N' | 'K') => (long === d ? int(r, 81, 700) : long ? edgy(r, 1, 24) : edgy(r, 1, 80));
    const p: MatmulParams = {
      M: side('M'),
      N: side('N'),
      K: side('K'),
      rank: rank3 ? 3 : 2,
      batchA: rank3 && bc !== 'a' ? b : 1,
      batchB: rank3 && bc !== 'b' ? b : 1,
      transA: chance(r, 0.5),
      transB: chance(r, 0.5),
      bias: chance(r, 0.5),
      relu: chance(r, 0.5),
      kernel: drawKernel(r),
      seed: int(r, 0, 2 ** 31),
    };
    // and now and then an empty side (M, N or K = 0: a K of 0 leaves bias, ReLU and zeros)
    if (chance(r, 0.06)) p[pick(r, ['M', 'N', 'K'] as const)] = 0;
    if (Math.max(p.batchA, p.batchB) * p.M * p.N * p.K <= MAX_MACS) return p;
  }
}

/** Stored shapes [batch, rows, cols] (batch 1 for 2-D), the tensors' shapes and the result's. */
function shapes(p: MatmulParams) {
  const ra = p.transA ? p.K : p.M,
    ca = p.transA ? p.M : p.K,
    rb = p.transB ? p.N : p.K,
    cb = p.transB ? p.K : p.N;
  const as = [p.batchA, ra, ca],
    bs = [p.batchB, rb, cb];
  const rank3 = p.rank === 3;
  // numpy broadcasting: a batch of 1 takes the other's size (0 included)
  const batch = p.batchA === 1 ? p.batchB : p.batchA;
  return {
    as,
    bs,
    aShape: rank3 ? as : as.slice(1),
    bShape: rank3 ? bs : bs.slice(1),
    batch,
    yShape: rank3 ? [batch, p.M, p.N] : [p.M, p.N],
  };
}

function inputs(p: MatmulParams, bag: Bag) {
  const s = shapes(p);
  const ad = uniformArray(s.as[0] * s.as[1] * s.as[2], p.seed),
    bd = uniformArray(s.bs[0] * s.bs[1] * s.bs[2], p.seed + 1),
    biasd = uniformArray(p.N, p.seed + 2);
  return {
    ...s,
    ad,
    bd,
    biasd,
    a: bag.f32(ad, s.aShape),
    b: bag.f32(bd, s.bShape),
    bias: p.bias ? bag.f32(biasd, [p.N]) : undefined,
  };
}

/** True when the forced kernel cannot run on this device (no subgroups): the op must refuse it. */
function refused(p: MatmulParams): boolean {
  return typeof p.kernel === 'object' && kernelProblem(p.kernel, engine()) !== null;
}

function product(p: MatmulParams, a: Tensor, b: Tensor, bias: Tensor | undefined): Tensor {
  const o: MatmulOptions = { transA: p.transA, transB: p.transB, bias, relu: p.relu };
  if (p.kernel === 'naive') return matmulNaive(a, b, o);
  if (p.kernel !== 'auto') o.kernel = p.kernel;
  return p.rank === 3 ? bmm(a, b, o) : matmul(a, b, o);
}

async function forward(p: MatmulParams, bag: Bag): Promise<Mismatch | null> {
  const d = inputs(p, bag);
  if (refused(p)) return expectRefusal(() => product(p, d.a, d.b, d.bias));
  const y = bag.add(product(p, d.a, d.b, d.bias));
  const o = { transA: p.transA, transB: p.transB };
  const want = ref.matmul(d.ad, d.as, d.bd, d.bs, { ...o, bias: p.bias ? d.biasd : undefined, relu: p.relu });
  const scale = ref.matmul(abs(d.ad), d.as, abs(d.bd), d.bs, { ...o, bias: p.bias ? abs(d.biasd) : undefined });
  return firstOf(
    shapeCheck(y.shape, d.yShape),
    compare('y', await y.read(), want, (i) => sumTol(p.K + 1, scale[i])),
  );
}

/**
 * Gradients of sum(y * gy) for a, b and bias through the autograd rule. The ReLU mask comes
 * from the GPU's own y (the same kernel on the same data, so bitwise the same y the rule
 * sees): an output within rounding of 0 must not decide the case.
 */
async function grad(p: MatmulParams, bag: Bag): Promise<Mismatch | null> {
  const d = inputs(p, bag);
  if (refused(p)) return expectRefusal(() => product(p, d.a, d.b, d.bias));
  const y = bag.add(product(p, d.a, d.b, d.bias));
  const yd = await y.read();
  const gyd = uniformArray(yd.length, p.seed + 3);
  const gy = bag.f32(gyd, y.shape);
  const params = d.bias ? [d.a, d.b, d.bias] : [d.a, d.b];
  const { grads } = gradIn(bag, () => sum(mul(product(p, d.a, d.b, d.bias), gy)), params);
  const g = Float64Array.from(gyd, (v, i) => (p.relu && !(yd[i] > 0) ? 0 : v));
  const o = { transA: p.transA, transB: p.transB };
  const want = ref.matmulBackward(g, d.ad, d.as, d.bd, d.bs, o);
  const scale = ref.matmulBackward(abs(g), abs(d.ad), d.as, abs(d.bd), d.bs, o);
  // da sums over N (and the batch when a is broadcast), db over M (and the batch), dbias over M and the batch
  const ta = p.N * (d.as[0] === 1 ? d.batch : 1),
    tb = p.M * (d.bs[0] === 1 ? d.batch : 1);
  return firstOf(
    shapeCheck(y.shape, d.yShape),
    compare('da', await grads[0].read(), want.da, (i) => sumTol(ta, scale.da[i])),
    compare('db', await grads[1].read(), want.db, (i) => sumTol(tb, scale.db[i])),
    d.bias ? compare('dbias', await grads[2].read(), want.dbias, (i) => sumTol(p.M * d.batch, scale.dbias[i])) : null,
  );
}

async function expectRefusal(f: () => Tensor): Promise<Mismatch | null> {
  try {
    f().dispose();
  } catch (e) {
    if (/needs the 'subgroups' feature/.test((e as Error).message)) return null;
    throw e;
  }
  return {
    what: 'a subgroup kernel without the subgroups feature was not refused',
    firstBadIndex: -1,
    got: 0,
    want: 0,
    tol: 0,
    size: 0,
    bad: 1,
  };
}

export const matmulFamilies: Family<MatmulParams>[] = [
  { name: 'matmul.forward', draw: drawMatmul, run: forward },
  // matmulNaive has no autograd rule: its draws take the default kernel here
  {
    name: 'matmul.grad',
    draw: (r) => ((p) => (p.kernel === 'naive' ? { ...p, kernel: 'auto' as const } : p))(drawMatmul(r)),
    run: grad,
  },
];
