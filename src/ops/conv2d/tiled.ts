// conv2d 'tiled' kernels: shared-memory implicit GEMMs for the three passes, any geometry.
//   forward     shaders/conv2d/tiled_forward.wgsl      y = im2col(x) . w, fused bias + ReLU
//   inputGrad   shaders/conv2d/tiled_input_grad.wgsl   one GEMM per stride phase over dy . w^T
//   weightGrad  shaders/conv2d/tiled_weight_grad.wgsl  split-K GEMM im2col(x)^T . dy (+ the bias
//               as an extra row), then the deterministic split reduction (splits.ts)
// Tile shapes are override constants (shaders/conv2d/tile.wgsl); which kernel and tiles run:
// choose.ts. No argument checks here (index.ts validates).
//
// x: [N,H,W,C]  w: [KH,KW,C,O]  y, dy: [N,OH,OW,O]  dx: [N,H,W,C]  dw: [KH,KW,C,O]  db: [O]

import { engine } from '../../runtime/engine.js';
import { empty, type Tensor } from '../../tensor/tensor.js';
import { foldGrid } from '../grid.js';
import { geometryUniforms, type ConvGeometry } from './geometry.js';
import { reduceWeightSplits } from './splits.js';

/** Workgroup tile: TM x TN outputs, K step TK; (TM/8)·(TN/8) threads with 8x8 outputs each. */
export interface ConvTiles {
  TM: number;
  TN: number;
  TK: number;
}

export const DEFAULT_TILES: Readonly<ConvTiles> = { TM: 64, TN: 64, TK: 16 };

/**
 * Tiles for a GEMM with `cols` output columns (O, or C for the input gradient): narrower
 * column tiles when there are few channels, so little of the tile is padding.
 */
export function pickTiles(cols: number): ConvTiles {
  if (cols <= 16) return { TM: 128, TN: 16, TK: 16 };
  if (cols <= 32) return { TM: 64, TN: 32, TK: 16 };
  return DEFAULT_TILES;
}

/** Throws unless the loaders of all three conv2d GEMMs can use this tile shape. */
export function checkTiles(t: ConvTiles): ConvTiles {
  const { TM, TN, TK } = t;
  const wg = (TM / 8) * (TN / 8);
  const lim = engine().device.limits;
  const shared = 4 * (TM * (TK + 1) + TK * TN);
  const ok =
    [TM, TN, TK].every((v) => Number.isInteger(v) && v > 0) &&
    TM % 8 === 0 &&
    TN % 8 === 0 &&
    wg <= lim.maxComputeInvocationsPerWorkgroup &&
    // forward / backward-input A loaders: whole rows per thread, or TK split evenly per row
    ((wg % TM === 0 && TK % (wg / TM) === 0) || TM % wg === 0) &&
    // backward-input B loader and backward-weight A loader: one k column per thread
    wg % TK === 0 &&
    TM % (wg / TK) === 0 &&
    shared <= lim.maxComputeWorkgroupStorageSize;
  if (!ok)
    throw new RangeError(
      `webgpu-cnn: conv2d: unsupported tile shape ${JSON.stringify(t)} (workgroup ${wg} threads, ${shared} bytes shared)`,
    );
  return t;
}

export function tileConstants(t: ConvTiles): Record<string, number> {
  return { TM: t.TM, TN: t.TN, TK: t.TK };
}

/** Forward into a fresh [N,OH,OW,O] tensor. */
export function tiledForward(
  x: Tensor,
  w: Tensor,
  g: ConvGeometry,
  bias: Tensor | undefined,
  relu: boolean,
  tiles: ConvTiles,
): Tensor {
  checkTiles(tiles);
  const y = empty([g.N, g.OH, g.OW, g.O]);
  const M = g.N * g.OH * g.OW;
  const nTiles = Math.ceil(g.O / tiles.TN),
    mTiles = Math.ceil(M / tiles.TM);
  engine().queue.dispatch({
    shader: 'conv2d/tiled_forward',
    entry: 'forward',
    op: 'conv2d',
    constants: tileConstants(tiles),
    uniforms: {
      ...geometryUniforms(g),
      M,
      K: g.KH * g.KW * g.C,
      n_tiles: nTiles,
      m_tiles: mTiles,
      has_bias: bias ? 1 : 0,
      relu: relu ? 1 : 0,
    },
    // without a bias the kernel never reads `bias`; w stands in for the binding
    buffers: { x: x.buffer, w: w.buffer, bias: (bias ?? w).buffer, y: y.buffer },
    workgroups: foldGrid(nTiles * mTiles),
  });
  return y;
}

/** Split-K aims for about this many workgroups in the weight-gradient GEMM. */
const TARGET_WORKGROUPS = 128;
/** ... but gives each split at least this many K steps (partials cost memory and a pass). */
const MIN_STEPS_PER_SPLIT = 4;
const MAX_SPLITS = 256;

/** dx for a validated geometry; dy is first masked by (reluY > 0) when reluY is given. */
export function tiledInputGrad(
  dy: Tensor,
  w: Tensor,
  g: ConvGeometry,
  reluY: Tensor | undefined,
  tiles: ConvTiles,
): Tensor {
  checkTiles(tiles);
  const dx = empty([g.N, g.H, g.W, g.C]);
  // Rows of the largest stride phase; smaller phases skip their spare row tiles.
  const mTiles = Math.ceil((g.N * Math.ceil(g.H / g.sh) * Math.ceil(g.W / g.sw)) / tiles.TM);
  const nTiles = Math.ceil(g.C / tiles.TN);
  engine().queue.dispatch({
    shader: 'conv2d/tiled_input_grad',
    entry: 'input_grad',
    op: 'conv2dInputGrad',
    constants: tileConstants(tiles),
    uniforms: { ...geometryUniforms(g), n_tiles: nTiles, m_tiles: mTiles, relu_mask: reluY ? 1 : 0 },
    buffers: { dy: dy.buffer, w: w.buffer, yact: (reluY ?? dy).buffer, dx: dx.buffer },
    workgroups: foldGrid(nTiles * mTiles * g.sh * g.sw),
  });
  return dx;
}

/** Number of K splits and the K chunk of each, for the weight-gradient GEMM. */
export function weightSplits(g: ConvGeometry, M: number, tiles: ConvTiles): { splits: number; chunk: number } {
  const P = g.N * g.OH * g.OW;
  const outTiles = Math.ceil(M / tiles.TM) * Math.ceil(g.O / tiles.TN);
  const maxSplits = Math.max(1, Math.min(MAX_SPLITS, Math.floor(P / (MIN_STEPS_PER_SPLIT * tiles.TK))));
  const want = Math.min(maxSplits, Math.max(1, Math.ceil(TARGET_WORKGROUPS / outTiles)));
  const chunk = Math.ceil(P / want / tiles.TK) * tiles.TK;
  return { splits: Math.ceil(P / chunk), chunk };
}

/** dw (and db when withBias) for a validated geometry. */
export function tiledWeightGrad(
  x: Tensor,
  dy: Tensor,
  g: ConvGeometry,
  withBias: boolean,
  reluY: Tensor | undefined,
  tiles: ConvTiles,
): { dw: Tensor; db: Tensor | null } {
  checkTiles(tiles);
  const Mw = g.KH * g.KW * g.C;
  const M = Mw + (withBias ? 1 : 0);
  const P = g.N * g.OH * g.OW;
  const { splits, chunk } = weightSplits(g, M, tiles);
  const mTiles = Math.ceil(M / tiles.TM),
    nTiles = Math.ceil(g.O / tiles.TN);
  const parts = empty([splits, M, g.O]);
  engine().queue.dispatch({
    shader: 'conv2d/tiled_weight_grad',
    entry: 'weight_grad',
    op: 'conv2dWeightGrad',
    constants: tileConstants(tiles),
    uniforms: {
      ...geometryUniforms(g),
      M,
      Mw,
      P,
      chunk,
      splits,
      n_tiles: nTiles,
      m_tiles: mTiles,
      relu_mask: reluY ? 1 : 0,
    },
    buffers: { x: x.buffer, dy: dy.buffer, yact: (reluY ?? dy).buffer, part_out: parts.buffer },
    workgroups: foldGrid(nTiles * mTiles * splits),
  });
  return reduceWeightSplits(parts, g, splits, withBias);
}
