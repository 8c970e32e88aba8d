// Kernel fuzzing of pooling: max pooling (with and without indices, the gather/scatter
// backward, and the autograd path that folds a fused ReLU's mask into the backward), average
// pooling and global average pooling, forward and backward. Geometries aim at the vec4 fast
// path's preconditions (C % 4 == 0, stride = kernel, no padding, windows inside the input,
// exact tiling for its backward) and just outside them: sizes that are multiples of the kernel
// plus or minus one, 'same' padding with stride = kernel, C = 4k +- 1.
// References: src/ops/pool2d.ts `ref` in float64; max pooling runs on distinct values, so the
// argmax is unambiguous and compared exactly.

import { uniformArray, type Rng } from '../../src/data/rng.js';
import {
  avgPool2d,
  avgPool2dBackward,
  globalAvgPool,
  globalAvgPoolBackward,
  maxPool2d,
  maxPool2dBackward,
  maxPool2dWithIndices,
  pool2dOutputShape,
  poolGeometry,
  ref,
  type Pool2dOptions,
  type PoolGeometry,
} from '../../src/ops/pool2d/index.js';
import { conv2d } from '../../src/ops/conv2d/index.js';
import { mul } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';
import { sizeOf } from '../../src/tensor/tensor.js';
import {
  abs,
  chance,
  compare,
  compareExact,
  edgy,
  firstOf,
  int,
  pick,
  sumTol,
  distinctData,
  gradIn,
  type Bag,
  type Family,
  type Mismatch,
} from './core.js';

type S4 = [number, number, number, number];

export interface PoolParams {
  x: S4;
  kernel: [number, number];
  stride: [number, number];
  padding: 'valid' | 'same' | number | [number, number];
  /** average pooling: padded cells count in the divisor (PyTorch's default) */
  countIncludePad?: boolean;
  seed: number;
}

const opts = (p: PoolParams): Pool2dOptions => ({
  kernel: p.kernel,
  stride: p.stride,
  padding: p.padding,
  ...(p.countIncludePad && { countIncludePad: true }),
});
/** Most outputs one input can feed: the windows overlapping along each axis. */
const overlap = (g: PoolGeometry) => Math.ceil(g.KH / g.SH) * Math.ceil(g.KW / g.SW);

/** A size that is a multiple of k, or one off it, or anything in [1, 13]. */
function sizeNear(r: Rng, k: number): number {
  if (chance(r, 0.5)) return int(r, 1, 13);
  return Math.max(1, k * int(r, 1, 4) + pick(r, [0, 0, 1, -1]));
}

function drawPool(r: Rng): PoolParams {
  for (;;) {
    // kernels up to 5: the vec4 kernels take windows of at most 16 cells (5x3 yes, 5x4 no)
    const kh = int(r, 1, 5),
      kw = chance(r, 0.6) ? kh : int(r, 1, 5);
    const stride: [number, number] = chance(r, 0.5) ? [kh, kw] : [int(r, 1, 4), int(r, 1, 4)];
    const mode = pick(r, ['valid', 'valid', 'same', 'same', 'num', 'pair'] as const);
    const padding =
      mode === 'valid' || mode === 'same'
        ? mode
        : mode === 'num'
          ? int(r, 0, Math.min(kh, kw) - 1)
          : ([int(r, 0, kh - 1), int(r, 0, kw - 1)] as [number, number]);
    const C = chance(r, 0.5) ? 4 * int(r, 1, 5) : edgy(r, 1, 9, [1, 3, 5, 7]);
    const p: PoolParams = {
      x: [int(r, 1, 3), sizeNear(r, kh), sizeNear(r, kw), C],
      kernel: [kh, kw],
      stride,
      padding,
      seed: int(r, 0, 2 ** 31),
    };
    if (padding !== 'valid' && chance(r, 0.5)) p.countIncludePad = true;
    if (chance(r, 0.04)) p.x[pick(r, [0, 3])] = 0; // no images or no channels: empty outputs
    try {
      poolGeometry('fuzz', p.x, opts(p));
      return p;
    } catch {
      // kernel larger than the padded input: draw again
    }
  }
}

async function maxPool(p: PoolParams, bag: Bag): Promise<Mismatch | null> {
  const g = poolGeometry('fuzz', p.x, opts(p));
  const xd = distinctData(sizeOf(p.x), p.seed);
  const x = bag.f32(xd, p.x);
  const { y, argmax } = maxPool2dWithIndices(x, opts(p));
  bag.add(y), bag.add(argmax);
  const y2 = bag.add(maxPool2d(x, opts(p))); // no autograd: the kernels without indices
  const want = ref.maxPool2d(xd, p.x, opts(p));
  const dyd = uniformArray(y.size, p.seed + 1);
  const dx = bag.add(maxPool2dBackward(bag.f32(dyd, y.shape), argmax, p.x, opts(p)));
  const dxWant = ref.maxPool2dBackward(dyd, want.argmax, p.x),
    dxScale = ref.maxPool2dBackward(abs(dyd), want.argmax, p.x);
  return firstOf(
    compareExact('y', await y.read(), want.y),
    compareExact('argmax', await argmax.read(), want.argmax),
    compareExact('y (no indices)', await y2.read(), want.y),
    compare('dx', await dx.read(), dxWant, (i) => sumTol(overlap(g), dxScale[i])),
  );
}

/**
 * conv2d with a fused ReLU (an identity 1x1 filter, so its output is relu(x0) exactly) into a
 * max pool, differentiated: the pool's backward folds the ReLU mask in (vec4 kernel
 * max_backward4_relu where the geometry allows). d/dx0 of sum(pool * gy) is gy scattered to
 * each window's argmax, masked by relu(x0) > 0. Zeros from the ReLU tie, but a tied (zero)
 * winner is masked out whichever cell wins.
 */
async function maxPoolRelu(p: PoolParams, bag: Bag): Promise<Mismatch | null> {
  const C = p.x[3];
  const x0d = distinctData(sizeOf(p.x), p.seed);
  const eye = new Float32Array(C * C).map((_, i) => (i % (C + 1) === 0 ? 1 : 0));
  const x0 = bag.f32(x0d, p.x),
    id = bag.f32(eye, [1, 1, C, C]);
  const xr = Float64Array.from(x0d, (v) => Math.max(v, 0));
  const want = ref.maxPool2d(xr, p.x, opts(p));
  const gyd = uniformArray(want.y.length, p.seed + 1);
  const gy = bag.f32(gyd, pool2dOutputShape(p.x, opts(p)));
  const { value, grads } = gradIn(bag, () => sum(mul(maxPool2d(conv2d(x0, id, { relu: true }), opts(p)), gy)), [x0]);
  const dx = new Float64Array(xr.length),
    scale = new Float64Array(xr.length);
  want.argmax.forEach((j, o) => {
    if (xr[j] > 0) (dx[j] += gyd[o]), (scale[j] += Math.abs(gyd[o]));
  });
  let v = 0,
    vs = 0;
  want.y.forEach((yv, o) => ((v += yv * gyd[o]), (vs += Math.abs(yv * gyd[o]))));
  const g = poolGeometry('fuzz', p.x, opts(p));
  return firstOf(
    compare('value', await value.read(), [v], () => sumTol(want.y.length, vs)),
    compare('dx0', await grads[0].read(), dx, (i) => sumTol(overlap(g), scale[i])),
  );
}

async function avgPool(p: PoolParams, bag: Bag): Promise<Mismatch | null> {
  const g = poolGeometry('fuzz', p.x, opts(p));
  const xd = uniformArray(sizeOf(p.x), p.seed);
  const y = bag.add(avgPool2d(bag.f32(xd, p.x), opts(p)));
  const dyd = uniformArray(y.size, p.seed + 1);
  const dx = bag.add(avgPool2dBackward(bag.f32(dyd, y.shape), p.x, opts(p)));
  const want = ref.avgPool2d(xd, p.x, opts(p)),
    scale = ref.avgPool2d(abs(xd), p.x, opts(p));
  const dxWant = ref.avgPool2dBackward(dyd, p.x, opts(p)),
    dxScale = ref.avgPool2dBackward(abs(dyd), p.x, opts(p));
  return firstOf(
    compare('y', await y.read(), want, (i) => sumTol(g.KH * g.KW, scale[i])),
    compare('dx', await dx.read(), dxWant, (i) => sumTol(overlap(g), dxScale[i])),
  );
}

interface GlobalParams {
  x: S4;
  seed: number;
}

async function globalPool(p: GlobalParams, bag: Bag): Promise<Mismatch | null> {
  const [N, H, W, C] = p.x;
  const xd = uniformArray(sizeOf(p.x), p.seed);
  const y = bag.add(globalAvgPool(bag.f32(xd, p.x)));
  const dyd = uniformArray(N * C, p.seed + 1);
  const dx = bag.add(globalAvgPoolBackward(bag.f32(dyd, [N, C]), p.x));
  const want = ref.globalAvgPool(xd, p.x),
    scale = ref.globalAvgPool(abs(xd), p.x);
  const dxWant = ref.globalAvgPoolBackward(dyd, p.x);
  return firstOf(
    compare('y', await y.read(), want, (i) => sumTol(H * W, scale[i])),
    compare('dx', await dx.read(), dxWant, (i) => sumTol(1, Math.abs(dxWant[i]))),
  );
}

// biome-ignore lint/suspicious/noExplicitAny: families of different parameter types in one list
export const poolFamilies: Family<any>[] = [
  { name: 'pool.max', draw: drawPool, run: maxPool } satisfies Family<PoolParams>,
  // conv2d takes no empty tensors: this family draws again until the input has cells
  {
    name: 'pool.maxRelu',
    draw: (r) => {
      for (;;) {
        const p = drawPool(r);
        if (!p.x.includes(0)) return p;
      }
    },
    run: maxPoolRelu,
  } satisfies Family<PoolParams>,
  { name: 'pool.avg', draw: drawPool, run: avgPool } satisfies Family<PoolParams>,
  {
    name: 'pool.global',
    draw: (r) => ({
      x: [
        chance(r, 0.04) ? 0 : int(r, 1, 4),
        edgy(r, 1, 20, [1, 2, 7, 16, 17]),
        edgy(r, 1, 20, [1, 2, 7, 16, 17]),
        chance(r, 0.04) ? 0 : edgy(r, 1, 40, [1, 3, 4, 5, 8, 33]),
      ],
      seed: int(r, 0, 2 ** 31),
    }),
    run: globalPool,
  } satisfies Family<GlobalParams>,
];
