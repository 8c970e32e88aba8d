// Kernel fuzzing of the elementwise, activation and reduction ops. Their fast paths are chosen
// by shape: same-shape operands take the vec4 kernels (4 elements a thread, sizes not multiples
// of 4 leave a partial last vec4), others the broadcasting kernel over coalesced dimensions;
// reductions run one stage or several (chunked partial sums) depending on the reduced size, over
// at most 4 kept and 4 reduced dimension groups. Shapes: rank 0-8, dimensions 1-9 with size-1
// (broadcast) axes, long rows for multi-stage sums, alternating reduced and kept axes, and now
// and then an empty (size-0) axis. Gradients go through the autograd
// rules (broadcast gradients summed back by sumTo).
// References: `ref` of src/ops/elementwise.ts, activations.ts, reduce.ts in float64.

import { uniformArray, type Rng } from '../../src/data/rng.js';
import { add, full, mul, ref as ew, scale, addScalar, scaleBy, sub } from '../../src/ops/elementwise.js';
import {
  leakyRelu,
  leakyReluBackward,
  relu,
  reluBackward,
  sigmoid,
  sigmoidBackward,
  tanh,
  tanhBackward,
  ref as act,
} from '../../src/ops/activations.js';
import { biasGrad, broadcastTo, mean, ref as red, sum, sumTo } from '../../src/ops/reduce.js';
import { broadcastShapes, coalesce, stridesOf } from '../../src/ops/shape.js';
import { sizeOf } from '../../src/tensor/tensor.js';
import {
  ATOL,
  U,
  abs,
  chance,
  compare,
  compareExact,
  edgy,
  firstOf,
  int,
  logInt,
  pick,
  shapeCheck,
  sumTol,
  gradIn,
  type Bag,
  type Family,
  type Mismatch,
} from './core.js';

/** A shape of rank 0-8 (mostly up to 5) with at most `max` elements; a third of the time one long axis. */
function drawShape(r: Rng, max: number): number[] {
  for (;;) {
    const rank = chance(r, 0.15) ? int(r, 6, 8) : int(r, 0, 5);
    const s = Array.from({ length: rank }, () => (chance(r, 0.2) ? 1 : edgy(r, 1, 9, [1, 3, 4, 5, 8])));
    if (rank > 0 && chance(r, 0.33)) s[int(r, 0, rank - 1)] = logInt(r, 10, 3000);
    if (rank > 0 && chance(r, 0.04)) s[int(r, 0, rank - 1)] = 0; // empty tensors too
    if (sizeOf(s) <= max) return s;
  }
}

/** `out` with some axes set to 1 and some leading axes dropped: broadcasts to `out`. */
function drawOperand(r: Rng, out: number[]): number[] {
  const s = out.map((d) => (chance(r, 0.35) ? 1 : d));
  return s.slice(chance(r, 0.3) ? int(r, 0, s.length) : 0);
}

// ---- elementwise ----

export interface ElementwiseParams {
  op: 'add' | 'sub' | 'mul' | 'scale' | 'addScalar' | 'scaleBy' | 'full';
  a: number[];
  b: number[];
  alpha: number;
  seed: number;
}

function drawElementwise(r: Rng): ElementwiseParams {
  const op = pick(r, ['add', 'sub', 'mul', 'add', 'sub', 'mul', 'scale', 'addScalar', 'scaleBy', 'full'] as const);
  const out = chance(r, 0.3) ? [logInt(r, 1, 5000)] : drawShape(r, 20_000);
  const same = chance(r, 0.4);
  const a = same ? out : drawOperand(r, out),
    b = same ? out : drawOperand(r, out);
  return { op, a, b, alpha: Math.fround(pick(r, [0, 1, -1, 0.5, 3.7, -1e-3])), seed: int(r, 0, 2 ** 31) };
}

async function elementwise(p: ElementwiseParams, bag: Bag): Promise<Mismatch | null> {
  const ad = uniformArray(sizeOf(p.a), p.seed),
    bd = uniformArray(sizeOf(p.b), p.seed + 1);
  const a = bag.f32(ad, p.a);
  if (p.op === 'full') {
    const y = bag.add(full(p.a, p.alpha));
    return firstOf(
      shapeCheck(y.shape, p.a),
      compareExact('y', await y.read(), new Float64Array(ad.length).fill(p.alpha)),
    );
  }
  if (p.op === 'scale' || p.op === 'addScalar' || p.op === 'scaleBy') {
    const y = bag.add(
      p.op === 'scale'
        ? scale(a, p.alpha)
        : p.op === 'addScalar'
          ? addScalar(a, p.alpha)
          : scaleBy(a, bag.f32([p.alpha], [1])),
    );
    const want = p.op === 'addScalar' ? ew.addScalar(ad, p.alpha) : ew.scale(ad, p.alpha);
    const mag =
      p.op === 'addScalar' ? (i: number) => Math.abs(ad[i]) + Math.abs(p.alpha) : (i: number) => Math.abs(want[i]);
    return firstOf(
      shapeCheck(y.shape, p.a),
      compare('y', await y.read(), want, (i) => sumTol(1, mag(i))),
    );
  }
  const op = p.op;
  const b = bag.f32(bd, p.b);
  const f = op === 'add' ? add : op === 'sub' ? sub : mul;
  const { y: want, shape } = ew.binary(op, ad, p.a, bd, p.b);
  const gyd = uniformArray(want.length, p.seed + 2);
  const gy = bag.f32(gyd, shape);
  const y = bag.add(f(a, b));
  const { grads } = gradIn(bag, () => sum(mul(f(a, b), gy)), [a, b]);
  const g = ew.binaryBackward(op, gyd, ad, p.a, bd, p.b);
  const gs = ew.binaryBackward(op === 'sub' ? 'add' : op, abs(gyd), abs(ad), p.a, abs(bd), p.b);
  const scaleY = op === 'mul' ? abs(want) : ew.binary('add', abs(ad), p.a, abs(bd), p.b).y;
  const n = want.length;
  return firstOf(
    shapeCheck(y.shape, shape),
    compare('y', await y.read(), want, (i) => sumTol(1, scaleY[i])),
    compare('da', await grads[0].read(), g.da, (i) => sumTol(n / ad.length + 1, gs.da[i])),
    compare('db', await grads[1].read(), g.db, (i) => sumTol(n / bd.length + 1, gs.db[i])),
  );
}

// ---- activations ----

export interface ActivationParams {
  fn: 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh';
  shape: number[];
  range: number;
  slope: number;
  seed: number;
}

async function activation(p: ActivationParams, bag: Bag): Promise<Mismatch | null> {
  const xd = uniformArray(sizeOf(p.shape), p.seed, -p.range, p.range).map((v, i) => (i % 7 === 3 ? 0 : v)); // exact zeros: the ReLU edge
  const dyd = uniformArray(xd.length, p.seed + 1);
  const x = bag.f32(xd, p.shape),
    dy = bag.f32(dyd, p.shape);
  const n = xd.length;
  if (p.fn === 'relu' || p.fn === 'leakyRelu') {
    const leaky = p.fn === 'leakyRelu';
    const y = bag.add(leaky ? leakyRelu(x, p.slope) : relu(x));
    const dx = bag.add(leaky ? leakyReluBackward(dy, x, p.slope) : reluBackward(dy, y));
    const want = leaky ? act.leakyRelu(xd, p.slope) : act.relu(xd);
    const dxWant = leaky ? act.leakyReluBackward(dyd, xd, p.slope) : act.reluBackward(dyd, xd);
    return firstOf(
      compare('y', await y.read(), want, (i) => sumTol(1, Math.abs(want[i]), 0)),
      compare('dx', await dx.read(), dxWant, (i) => sumTol(1, Math.abs(dxWant[i]), 0)),
    );
  }
  const sig = p.fn === 'sigmoid';
  const y = bag.add(sig ? sigmoid(x) : tanh(x));
  const yd = await y.read();
  const dx = bag.add(sig ? sigmoidBackward(dy, y) : tanhBackward(dy, y));
  const want = sig ? act.sigmoid(xd) : act.tanh(xd);
  // exp within 3 + 2|x| ULP (WGSL), then a division / tanh built from exps (absolute near 0)
  const yTol = (i: number) =>
    ATOL + U * (16 + 4 * (3 + 2 * Math.min(Math.abs(xd[i]), 10))) * Math.max(Math.abs(want[i]), sig ? 0 : 1);
  // the backward takes the GPU's y: dy y (1 - y) or dy (1 - y^2), three roundings
  const dxWant = Float64Array.from(yd, (v, i) => (sig ? dyd[i] * v * (1 - v) : dyd[i] * (1 - v * v)));
  const dxTol = (i: number) =>
    ATOL + 8 * U * Math.abs(dyd[i]) * (1 + Math.abs(yd[i])) * (sig ? Math.abs(yd[i]) : 1 + Math.abs(yd[i]));
  return firstOf(
    compare('y', yd, want, yTol),
    compare('dx', await dx.read(), dxWant, dxTol),
    n === yd.length ? null : shapeCheck([yd.length], [n]),
  );
}

// ---- reductions ----

export interface ReduceParams {
  op: 'sum' | 'mean' | 'biasGrad' | 'sumTo' | 'broadcastTo';
  shape: number[];
  /** sum/mean: axes (null: all); may be negative */
  axes: number[] | null;
  keepDims: boolean;
  /** sumTo: the target shape; broadcastTo: the source shape */
  other: number[];
  seed: number;
}

function drawReduce(r: Rng): ReduceParams {
  const op = pick(r, ['sum', 'mean', 'sum', 'mean', 'biasGrad', 'sumTo', 'broadcastTo'] as const);
  // a third of the time axes alternate between reduced and kept, over more than 256 reduced
  // elements: several reduced dimension groups, summed in chunks that split their runs
  const alternate = (op === 'sum' || op === 'mean') && chance(r, 0.4);
  const first = int(r, 0, 1);
  let shape = alternate
    ? Array.from({ length: int(r, 3, 6) }, (_, d) => (d % 2 === first ? int(r, 5, 13) : int(r, 2, 5)))
    : drawShape(r, 30_000);
  while (sizeOf(shape) > 30_000) shape = shape.slice(0, -1);
  if (op === 'biasGrad' && shape.length === 0) shape = [int(r, 1, 9)];
  const rank = shape.length;
  const axes = alternate
    ? [...Array(rank).keys()].filter((a) => a % 2 === first)
    : chance(r, 0.15)
      ? null
      : [...Array(rank).keys()].filter(() => chance(r, 0.5));
  if (axes) for (let i = 0; i < axes.length; i++) if (chance(r, 0.3)) axes[i] -= rank;
  return { op, shape, axes, keepDims: chance(r, 0.5), other: drawOperand(r, shape), seed: int(r, 0, 2 ** 31) };
}

/** Dimension groups of the dims `pick` selects, as the kernels see them (coalesced, size 1 dropped). */
function groups(shape: number[], pick: (d: number) => boolean): number {
  const ds = shape.map((_, d) => d).filter(pick);
  const st = stridesOf(shape);
  return coalesce(
    ds.map((d) => shape[d]),
    [ds.map((d) => st[d])],
  ).shape.length;
}

async function reduce(p: ReduceParams, bag: Bag): Promise<Mismatch | null> {
  const xd = uniformArray(sizeOf(p.op === 'broadcastTo' ? p.other : p.shape), p.seed);
  if (p.op === 'broadcastTo') {
    const y = bag.add(broadcastTo(bag.f32(xd, p.other), p.shape));
    return firstOf(
      shapeCheck(y.shape, p.shape),
      compareExact('y', await y.read(), red.broadcast(xd, p.other, p.shape)),
    );
  }
  const x = bag.f32(xd, p.shape);
  if (p.op === 'sumTo') {
    broadcastShapes('fuzz', p.other, p.shape);
    const y = bag.add(sumTo(x, p.other));
    const want = red.sumTo(xd, p.shape, p.other),
      scale = red.sumTo(abs(xd), p.shape, p.other);
    const terms = xd.length / Math.max(want.length, 1);
    return firstOf(
      shapeCheck(y.shape, p.other),
      compare('y', await y.read(), want, (i) => sumTol(terms, scale[i])),
    );
  }
  const rank = p.shape.length;
  const axes =
    p.op === 'biasGrad'
      ? [...Array(rank - 1).keys()]
      : (p.axes ?? [...Array(rank).keys()]).map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  const R = sizeOf(axes.map((a) => p.shape[a]));
  const alpha = p.op === 'mean' ? 1 / R : 1;
  const f = () =>
    p.op === 'biasGrad' ? biasGrad(x) : (p.op === 'sum' ? sum : mean)(x, p.axes ?? undefined, p.keepDims);
  if (
    Math.max(
      groups(p.shape, (d) => axes.includes(d)),
      groups(p.shape, (d) => !axes.includes(d)),
    ) > 4
  ) {
    // documented limit: more than 4 kept or 4 reduced dimension groups is refused
    try {
      bag.add(f());
    } catch (e) {
      if (/interleaves more than 4/.test((e as Error).message)) return null;
      throw e;
    }
    return shapeCheck(['no error'], ['a RangeError for more than 4 dimension groups']);
  }
  const y = bag.add(f());
  const outShape =
    p.op === 'biasGrad'
      ? [p.shape[rank - 1]]
      : p.keepDims
        ? p.shape.map((d, i) => (axes.includes(i) ? 1 : d))
        : p.shape.filter((_, i) => !axes.includes(i));
  const want = red.sum(xd, p.shape, axes, alpha),
    scale = red.sum(abs(xd), p.shape, axes, alpha);
  // the gradient of sum(y * gy): gy broadcast back over the reduced axes, times alpha
  const gyd = uniformArray(want.length, p.seed + 1);
  const gy = bag.f32(gyd, outShape);
  const { grads } = gradIn(bag, () => sum(mul(f(), gy)), [x]);
  const dxWant = red.sumBackward(gyd, p.shape, axes, alpha);
  return firstOf(
    shapeCheck(y.shape, outShape),
    compare('y', await y.read(), want, (i) => sumTol(R + 1, scale[i])),
    compare('dx', await grads[0].read(), dxWant, (i) => sumTol(2, Math.abs(dxWant[i]))),
  );
}

// biome-ignore lint/suspicious/noExplicitAny: families of different parameter types in one list
export const pointwiseFamilies: Family<any>[] = [
  { name: 'elementwise', draw: drawElementwise, run: elementwise } satisfies Family<ElementwiseParams>,
  {
    name: 'activations',
    draw: (r) => ({
      fn: pick(r, ['relu', 'leakyRelu', 'sigmoid', 'tanh'] as const),
      shape: chance(r, 0.5) ? [logInt(r, 1, 5000)] : drawShape(r, 20_000),
      range: pick(r, [1, 4, 20]),
      slope: Math.fround(pick(r, [0.01, 0.2, -0.5, 0, 1.5])),
      seed: int(r, 0, 2 ** 31),
    }),
    run: activation,
  } satisfies Family<ActivationParams>,
  { name: 'reduce', draw: drawReduce, run: reduce } satisfies Family<ReduceParams>,
];
