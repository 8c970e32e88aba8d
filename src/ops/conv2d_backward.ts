// conv2d backward kernels' wrappers: gradient w.r.t. the input (shaders/conv2d_bwd_input.wgsl,
// stride-phase implicit GEMM) and w.r.t. the weights and bias (shaders/conv2d_bwd_weight.wgsl,
// split-K implicit GEMM + deterministic reduction), and the variant switch in front of them
// and the 'direct' kernels (conv2d_direct*.ts, rule in conv2d_variants.ts). The autograd rule
// that calls them lives with the forward op in conv2d.ts.
//
// dy: [N,OH,OW,O]  x, dx: [N,H,W,C]  w, dw: [KH,KW,C,O]  db: [O]

import { engine } from '../runtime/engine.js';
import { empty, shapeStr, type Shape, type Tensor } from '../tensor/tensor.js';
import { checkTensor } from './check.js';
import { convGeometry, geometryUniforms, type Conv2dGeomOptions, type ConvGeometry } from './conv2d_geometry.js';
import { checkTiles, foldGrid, tileConstants, type ConvTiles } from './conv2d_tiles.js';
import { checkVariant, conv2dTilesFor, pickConv2dVariant, type Conv2dVariantChoice } from './conv2d_variants.js';
import { directInputGrad } from './conv2d_direct.js';
import { directWeightGrad } from './conv2d_direct_dw.js';
import { reduceWeightSplits } from './conv2d_splits.js';
import { reluBackward } from './activations.js';

export interface Conv2dBackwardOptions extends Conv2dGeomOptions {
  /** The forward output of a conv2d with `relu: true`: dy is first masked with (reluY > 0). */
  reluY?: Tensor;
  /** kernel variant (see conv2d_variants.ts); default: setConv2dVariant's, normally 'auto' */
  variant?: Conv2dVariantChoice;
}

/** Split-K aims for about this many workgroups in the weight-gradient GEMM. */
const TARGET_WORKGROUPS = 128;
/** ... but gives each split at least this many K steps (partials cost memory and a pass). */
const MIN_STEPS_PER_SPLIT = 4;
const MAX_SPLITS = 256;

function checkDy(op: string, dy: Tensor, g: ConvGeometry, reluY: Tensor | undefined): void {
  checkTensor(op, 'dy', dy, 'f32', 4);
  const want = [g.N, g.OH, g.OW, g.O];
  if (dy.shape.some((d, i) => d !== want[i])) throw new RangeError(`webgpu-cnn: ${op}: 'dy' must have shape ${shapeStr(want)} (the conv2d output), got ${shapeStr(dy.shape)}`);
  if (reluY !== undefined) {
    checkTensor(op, 'reluY', reluY, 'f32', 4);
    if (reluY.shape.some((d, i) => d !== want[i])) throw new RangeError(`webgpu-cnn: ${op}: 'reluY' must have shape ${shapeStr(want)}, got ${shapeStr(reluY.shape)}`);
  }
}

/** dx for a validated geometry. */
export function backwardInputGeom(dy: Tensor, w: Tensor, g: ConvGeometry, reluY?: Tensor, tiles: ConvTiles = conv2dTilesFor(g, 'inputGrad')): Tensor {
  checkTiles(tiles);
  const dx = empty([g.N, g.H, g.W, g.C]);
  // Rows of the largest stride phase; smaller phases skip their spare row tiles.
  const mTiles = Math.ceil((g.N * Math.ceil(g.H / g.sh) * Math.ceil(g.W / g.sw)) / tiles.TM);
  const nTiles = Math.ceil(g.C / tiles.TN);
  engine().queue.dispatch({
    shader: 'conv2d_bwd_input',
    entry: 'backward_input',
    op: 'conv2dBackwardInput',
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
export function backwardWeightGeom(
  x: Tensor, dy: Tensor, g: ConvGeometry, withBias: boolean, reluY?: Tensor, tiles: ConvTiles = conv2dTilesFor(g, 'weightGrad'),
): { dw: Tensor; db: Tensor | null } {
  checkTiles(tiles);
  const Mw = g.KH * g.KW * g.C;
  const M = Mw + (withBias ? 1 : 0);
  const P = g.N * g.OH * g.OW;
  const { splits, chunk } = weightSplits(g, M, tiles);
  const mTiles = Math.ceil(M / tiles.TM), nTiles = Math.ceil(g.O / tiles.TN);
  const parts = empty([splits, M, g.O]);
  engine().queue.dispatch({
    shader: 'conv2d_bwd_weight',
    entry: 'backward_weight',
    op: 'conv2dBackwardWeight',
    constants: tileConstants(tiles),
    uniforms: { ...geometryUniforms(g), M, Mw, P, chunk, splits, n_tiles: nTiles, m_tiles: mTiles, relu_mask: reluY ? 1 : 0 },
    buffers: { x: x.buffer, dy: dy.buffer, yact: (reluY ?? dy).buffer, part_out: parts.buffer },
    workgroups: foldGrid(nTiles * mTiles * splits),
  });
  return reduceWeightSplits(parts, g, splits, withBias);
}

/** dx through the chosen variant. `dyMasked`: dy already multiplied by any fused ReLU's mask. */
export function inputGradFor(dy: Tensor, w: Tensor, g: ConvGeometry, reluY: Tensor | undefined, variant?: Conv2dVariantChoice, dyMasked?: Tensor): Tensor {
  if (pickConv2dVariant(g, 'inputGrad', variant) === 'tiled') return dyMasked ? backwardInputGeom(dyMasked, w, g) : backwardInputGeom(dy, w, g, reluY);
  if (dyMasked || !reluY) return directInputGrad(dyMasked ?? dy, w, g);
  const m = reluBackward(dy, reluY); // the direct kernels take dy already masked
  const dx = directInputGrad(m, w, g);
  m.dispose();
  return dx;
}

/** dw (and db) through the chosen variant; `dyMasked` as for inputGradFor. */
export function weightGradFor(
  x: Tensor, dy: Tensor, g: ConvGeometry, withBias: boolean, reluY: Tensor | undefined, variant?: Conv2dVariantChoice, dyMasked?: Tensor,
): { dw: Tensor; db: Tensor | null } {
  if (pickConv2dVariant(g, 'weightGrad', variant) === 'tiled')
    return dyMasked ? backwardWeightGeom(x, dyMasked, g, withBias) : backwardWeightGeom(x, dy, g, withBias, reluY);
  if (dyMasked || !reluY) return directWeightGrad(x, dyMasked ?? dy, g, withBias);
  const m = reluBackward(dy, reluY);
  const r = directWeightGrad(x, m, g, withBias);
  m.dispose();
  return r;
}

/** `names`: which of x / w the caller passes as a shape (the error names that argument). */
function checkBackward(op: string, xShape: Shape, wShape: Shape, dy: Tensor, opts: Conv2dBackwardOptions, names: { x: string; w: string }): ConvGeometry {
  checkVariant(op, opts.variant);
  const g = convGeometry(op, xShape, wShape, opts, names);
  checkDy(op, dy, g, opts.reluY);
  return g;
}

/** Gradient of conv2d w.r.t. x ([N,H,W,C] = xShape), given dy and the weights. */
export function conv2dBackwardInput(dy: Tensor, w: Tensor, xShape: Shape, opts: Conv2dBackwardOptions = {}): Tensor {
  checkTensor('conv2dBackwardInput', 'w', w, 'f32', 4);
  const g = checkBackward('conv2dBackwardInput', xShape, w.shape, dy, opts, { x: 'xShape', w: 'w' });
  return inputGradFor(dy, w, g, opts.reluY, opts.variant);
}

/** Gradient of conv2d w.r.t. w ([KH,KW,C,O] = wShape), given x and dy. */
export function conv2dBackwardWeight(x: Tensor, dy: Tensor, wShape: Shape, opts: Conv2dBackwardOptions = {}): Tensor {
  checkTensor('conv2dBackwardWeight', 'x', x, 'f32', 4);
  const g = checkBackward('conv2dBackwardWeight', x.shape, wShape, dy, opts, { x: 'x', w: 'wShape' });
  return weightGradFor(x, dy, g, false, opts.reluY, opts.variant).dw;
}

/** Gradients w.r.t. w and the bias in one pass (the bias is an extra GEMM row). */
export function conv2dBackwardWeightBias(x: Tensor, dy: Tensor, wShape: Shape, opts: Conv2dBackwardOptions = {}): { dw: Tensor; db: Tensor } {
  checkTensor('conv2dBackwardWeightBias', 'x', x, 'f32', 4);
  const g = checkBackward('conv2dBackwardWeightBias', x.shape, wShape, dy, opts, { x: 'x', w: 'wShape' });
  const r = weightGradFor(x, dy, g, true, opts.reluY, opts.variant);
  return { dw: r.dw, db: r.db! };
}
