// Kernel fuzzing of conv2d: forward (fused bias / ReLU), input gradient and weight (+ bias)
// gradient, each through the variant switch ('tiled', 'direct', 'auto'; an explicit 'direct'
// falls back to tiled where the direct kernels cannot run) or through the tiled kernels with one
// of the tile shapes the autotuner may remember (choose.ts TILE_CANDIDATES and the
// defaults: the functions the tuner itself times). Geometries: batch 1-3, odd sizes (sometimes
// one image up to 48x48 with 1-4 channels), 1-20 input and 1-40 output channels (around the
// 16-channel blocks and the 16/32/64 column tiles; sometimes up to 70 in, 140 out on a small
// image: the 64/128-wide tiles), square and non-square kernels 1-5,
// strides 1-3, dilation 1-2 (rarely 3: past the direct kernels' strip), 'valid' / 'same' /
// symmetric or per-axis explicit padding.
// Reference: src/ops/conv2d/reference.ts in float64; the error scale is the same reference run on
// |x|, |w|, |dy| (the sum of |terms| of every output).

import { uniformArray, type Rng } from '../../src/data/rng.js';
import {
  conv2d,
  conv2dInputGrad,
  conv2dWeightGrad,
  conv2dWeightBiasGrad,
  convGeometry,
  conv2dKernelFor,
  ref,
  type Conv2dGeomOptions,
  type ConvGeometry,
} from '../../src/ops/conv2d/index.js';
import {
  checkTiles,
  tiledForward,
  tiledInputGrad,
  tiledWeightGrad,
  type ConvTiles,
} from '../../src/ops/conv2d/tiled.js';
import type { Conv2dPass } from '../../src/ops/conv2d/choose.js';
import { sizeOf, type Tensor } from '../../src/tensor/tensor.js';
import { mul } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';
import {
  abs,
  chance,
  compare,
  edgy,
  firstOf,
  gradIn,
  int,
  pick,
  sumTol,
  type Bag,
  type Family,
  type Mismatch,
} from './core.js';

type S4 = [number, number, number, number];
type Padding = 'valid' | 'same' | number | [number, number];

export interface ConvParams {
  x: S4;
  w: S4;
  stride: [number, number];
  dilation: [number, number];
  padding: Padding;
  variant: 'tiled' | 'direct' | 'auto';
  /** tiled only: a tile shape 'TMxTNxTK' instead of the pass's default */
  tiles?: string;
  bias: boolean;
  /** forward: fused ReLU; backward passes: dy masked by a given reluY */
  relu: boolean;
  seed: number;
}

/** The tile shapes conv2d's tuner tries by default (its candidates plus pickTiles' defaults). */
const TILES = ['128x16x16', '64x32x16', '64x64x16', '32x32x16', '128x64x16', '128x128x8'];

/**
 * A tile shape: half the time one of TILES, else any 'TMxTNxTK' (tuneConv2d's `candidates`
 * option takes any shape; checkTiles decides at run time what this device can run).
 */
function drawTiles(r: Rng): string {
  if (chance(r, 0.5)) return pick(r, TILES);
  return `${pick(r, [8, 16, 24, 32, 40, 48, 64, 96, 128, 256])}x${pick(r, [8, 16, 24, 32, 48, 64, 128])}x${pick(r, [1, 2, 4, 8, 16, 32])}`;
}
/** Multiply-adds per case: keeps the float64 reference and SwiftShader well under a second. */
const MAX_MACS = 300_000;

const opts = (p: ConvParams): Conv2dGeomOptions => ({ stride: p.stride, dilation: p.dilation, padding: p.padding });

function drawPair(r: Rng, lo: number, hi: number, same: number): [number, number] {
  const a = int(r, lo, hi);
  return [a, chance(r, same) ? a : int(r, lo, hi)];
}

function drawConv(r: Rng): ConvParams {
  for (;;) {
    const KH = int(r, 1, 5),
      KW = chance(r, 0.6) ? KH : int(r, 1, 5);
    // stride 1 half the time: the direct input gradient needs it
    const stride: [number, number] = chance(r, 0.5) ? [1, 1] : drawPair(r, 1, 3, 0.7);
    const d = chance(r, 0.05) ? 3 : chance(r, 0.25) ? 2 : 1;
    const dilation: [number, number] = chance(r, 0.8) ? [d, d] : [d, int(r, 1, 2)];
    const mode = pick(r, ['valid', 'same', 'same', 'num', 'pair'] as const);
    const padding: Padding = mode === 'num' ? int(r, 0, 3) : mode === 'pair' ? [int(r, 0, 3), int(r, 0, 3)] : mode;
    // sometimes a large image with few channels (many strips, row pairs and row tiles), or
    // many channels on a small image (the 64- and 128-wide tiles, several 16-channel blocks)
    const shape = pick(r, ['small', 'small', 'small', 'large', 'wide'] as const);
    const x: S4 =
      shape === 'large'
        ? [1, int(r, 12, 48), int(r, 12, 48), int(r, 1, 4)]
        : shape === 'wide'
          ? [int(r, 1, 2), int(r, 1, 6), int(r, 1, 6), edgy(r, 1, 70, [1, 3, 4, 16, 17, 63, 64, 65])]
          : [int(r, 1, 3), int(r, 1, 14), int(r, 1, 14), edgy(r, 1, 20, [1, 2, 3, 4, 5, 8, 15, 16, 17])];
    const O =
      shape === 'large'
        ? edgy(r, 1, 17, [1, 4, 5, 16, 17])
        : shape === 'wide'
          ? edgy(r, 1, 140, [1, 33, 63, 64, 65, 127, 128, 129])
          : edgy(r, 1, 40, [1, 2, 4, 5, 8, 15, 16, 17, 31, 32, 33]);
    const w: S4 = [KH, KW, x[3], O];
    const variant = pick(r, ['tiled', 'direct', 'auto'] as const);
    const p: ConvParams = {
      x,
      w,
      stride,
      dilation,
      padding,
      variant,
      bias: chance(r, 0.5),
      relu: chance(r, 0.5),
      seed: int(r, 0, 2 ** 31),
      ...(variant === 'tiled' && chance(r, 0.5) ? { tiles: drawTiles(r) } : {}),
    };
    let g: ConvGeometry;
    try {
      g = convGeometry('fuzz', x, w, opts(p));
    } catch {
      continue; // kernel larger than the padded input: draw again
    }
    if (g.N * g.OH * g.OW * g.O * g.KH * g.KW * g.C <= MAX_MACS) return p;
  }
}

const parseTiles = (s: string): ConvTiles => {
  const [TM, TN, TK] = s.split('x').map(Number);
  return { TM, TN, TK };
};

/** Whether the tiled kernels accept p.tiles on this device (a refused shape passes the case). */
function tilesRun(p: ConvParams): boolean {
  if (!p.tiles) return true;
  try {
    checkTiles(parseTiles(p.tiles));
    return true;
  } catch (e) {
    if (/unsupported tile shape/.test((e as Error).message)) return false;
    throw e;
  }
}

/** Data of one case: x, w, bias, dy, and reluY with ~10% exact zeros (the mask is y > 0). */
function data(p: ConvParams, g: ConvGeometry) {
  const ny = g.N * g.OH * g.OW * g.O;
  const reluY = uniformArray(ny, p.seed + 4).map((v) => (Math.abs(v) < 0.1 ? 0 : v));
  return {
    x: uniformArray(sizeOf(p.x), p.seed),
    w: uniformArray(sizeOf(p.w), p.seed + 1),
    b: uniformArray(g.O, p.seed + 2),
    dy: uniformArray(ny, p.seed + 3),
    reluY,
  };
}

/** What ran (for the report): the variant the switch picked, or the forced tile shape. */
function ran(p: ConvParams, g: ConvGeometry, pass: Conv2dPass): string {
  return p.tiles ? `tiled ${p.tiles}` : conv2dKernelFor(g, pass, p.variant).variant;
}

async function forward(p: ConvParams, bag: Bag): Promise<Mismatch | null> {
  if (!tilesRun(p)) return null;
  const g = convGeometry('fuzz', p.x, p.w, opts(p));
  const d = data(p, g);
  const x = bag.f32(d.x, p.x),
    w = bag.f32(d.w, p.w),
    b = p.bias ? bag.f32(d.b, [g.O]) : undefined;
  const y = bag.add(
    p.tiles
      ? tiledForward(x, w, g, b, p.relu, parseTiles(p.tiles))
      : conv2d(x, w, { ...opts(p), bias: b, relu: p.relu, kernel: p.variant }),
  );
  const want = ref.forward(d.x, d.w, g, p.bias ? d.b : null, p.relu);
  // ReLU is 1-Lipschitz: the pre-activation's tolerance holds after it
  const scale = ref.forward(abs(d.x), abs(d.w), g, p.bias ? abs(d.b) : null, false);
  const terms = g.KH * g.KW * g.C + 1;
  return note(
    compare('y', await y.read(), want, (i) => sumTol(terms, scale[i])),
    ran(p, g, 'forward'),
  );
}

async function inputGrad(p: ConvParams, bag: Bag): Promise<Mismatch | null> {
  if (!tilesRun(p)) return null;
  const g = convGeometry('fuzz', p.x, p.w, opts(p));
  const d = data(p, g);
  const yShape = [g.N, g.OH, g.OW, g.O];
  const dy = bag.f32(d.dy, yShape),
    w = bag.f32(d.w, p.w),
    reluY = p.relu ? bag.f32(d.reluY, yShape) : undefined;
  const dx = bag.add(
    p.tiles
      ? tiledInputGrad(dy, w, g, reluY, parseTiles(p.tiles))
      : conv2dInputGrad(dy, w, p.x, { ...opts(p), reluY, kernel: p.variant }),
  );
  const dym = p.relu ? ref.reluMask(d.dy, d.reluY) : d.dy;
  const want = ref.inputGrad(dym, d.w, g),
    scale = ref.inputGrad(abs(dym), abs(d.w), g);
  const terms = g.KH * g.KW * g.O;
  return note(
    compare('dx', await dx.read(), want, (i) => sumTol(terms, scale[i])),
    ran(p, g, 'inputGrad'),
  );
}

async function weightGrad(p: ConvParams, bag: Bag): Promise<Mismatch | null> {
  if (!tilesRun(p)) return null;
  const g = convGeometry('fuzz', p.x, p.w, opts(p));
  const d = data(p, g);
  const yShape = [g.N, g.OH, g.OW, g.O];
  const x = bag.f32(d.x, p.x),
    dy = bag.f32(d.dy, yShape),
    reluY = p.relu ? bag.f32(d.reluY, yShape) : undefined;
  let dw: Tensor,
    db: Tensor | null = null;
  if (p.tiles) {
    const r = tiledWeightGrad(x, dy, g, p.bias, reluY, parseTiles(p.tiles));
    (dw = bag.add(r.dw)), (db = bag.add(r.db));
  } else if (p.bias) {
    const r = conv2dWeightBiasGrad(x, dy, p.w, { ...opts(p), reluY, kernel: p.variant });
    (dw = bag.add(r.dw)), (db = bag.add(r.db));
  } else dw = bag.add(conv2dWeightGrad(x, dy, p.w, { ...opts(p), reluY, kernel: p.variant }));
  const dym = p.relu ? ref.reluMask(d.dy, d.reluY) : d.dy;
  const P = g.N * g.OH * g.OW;
  const want = ref.weightGrad(d.x, dym, g),
    scale = ref.weightGrad(abs(d.x), abs(dym), g);
  const dbWant = ref.biasGrad(dym, g.O),
    dbScale = ref.biasGrad(abs(dym), g.O);
  return note(
    firstOf(
      compare('dw', await dw.read(), want, (i) => sumTol(P, scale[i])),
      db ? compare('db', await db.read(), dbWant, (i) => sumTol(P, dbScale[i])) : null,
    ),
    ran(p, g, 'weightGrad'),
  );
}

/**
 * dx, dw and db of sum(conv2d(x, w, {bias, relu}) * gy) through conv2d's autograd rule (which
 * masks dy once for the direct kernels, or lets the tiled ones mask as they load). The ReLU mask
 * comes from the GPU's own y (same kernel, same data: bitwise the y the rule sees).
 */
async function autograd(p: ConvParams, bag: Bag): Promise<Mismatch | null> {
  const g = convGeometry('fuzz', p.x, p.w, opts(p));
  const d = data(p, g);
  const x = bag.f32(d.x, p.x),
    w = bag.f32(d.w, p.w),
    b = p.bias ? bag.f32(d.b, [g.O]) : undefined;
  const o = { ...opts(p), bias: b, relu: p.relu, kernel: p.variant };
  const yd = await bag.add(conv2d(x, w, o)).read();
  const gy = bag.f32(d.dy, [g.N, g.OH, g.OW, g.O]);
  const { grads } = gradIn(bag, () => sum(mul(conv2d(x, w, o), gy)), b ? [x, w, b] : [x, w]);
  const gm = Float64Array.from(d.dy, (v, i) => (p.relu && !(yd[i] > 0) ? 0 : v));
  const dx = ref.inputGrad(gm, d.w, g),
    dxs = ref.inputGrad(abs(gm), abs(d.w), g);
  const dw = ref.weightGrad(d.x, gm, g),
    dws = ref.weightGrad(abs(d.x), abs(gm), g);
  const db = ref.biasGrad(gm, g.O),
    dbs = ref.biasGrad(abs(gm), g.O);
  const P = g.N * g.OH * g.OW;
  const passes = `dx ${conv2dKernelFor(g, 'inputGrad', p.variant).variant}, dw ${conv2dKernelFor(g, 'weightGrad', p.variant).variant}`;
  return note(
    firstOf(
      compare('dx', await grads[0].read(), dx, (i) => sumTol(g.KH * g.KW * g.O, dxs[i])),
      compare('dw', await grads[1].read(), dw, (i) => sumTol(P, dws[i])),
      b ? compare('db', await grads[2].read(), db, (i) => sumTol(P, dbs[i])) : null,
    ),
    passes,
  );
}

function note(m: Mismatch | null, ran: string): Mismatch | null {
  return m && { ...m, what: `${m.what} (${ran})` };
}

export const convFamilies: Family<ConvParams>[] = [
  { name: 'conv.forward', draw: drawConv, run: forward },
  { name: 'conv.inputGrad', draw: drawConv, run: inputGrad },
  { name: 'conv.weightGrad', draw: drawConv, run: weightGrad },
  // autograd through conv2d: tile shapes are not an option of the op
  { name: 'conv.autograd', draw: (r) => ((p) => ({ ...p, tiles: undefined }))(drawConv(r)), run: autograd },
];
