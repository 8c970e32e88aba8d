// conv2d 'direct' variant of the weight (and bias) gradient: register-blocked direct loop
// with quad-shared dy and split-K (shaders/conv2d_direct_dw.wgsl), then the deterministic
// split reduction shared with the tiled kernel (reduce_splits in conv2d_bwd_weight.wgsl).
// Needs the 'subgroups' feature. Selection between variants: conv2d_variants.ts.
//
// x: [N,H,W,C]  dy: [N,OH,OW,O]  dw: [KH,KW,C,O]  db: [O]

import { engine } from '../runtime/engine.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { foldGrid } from './conv2d_tiles.js';
import { pickStrip } from './conv2d_direct.js';
import { reduceWeightSplits } from './conv2d_splits.js';
import type { ConvGeometry } from './conv2d_geometry.js';

/** Pixels per strip, split count, threads per workgroup. */
export interface DirectDwConfig {
  RW: number;
  splits: number;
  WG: number;
  /** fused multiply-adds into the accumulators (default true; false for comparison runs) */
  fma?: boolean;
}

const MAX_K = 5;
/** Aim for about this many threads in all (2 CPU cores: plenty; real GPUs want more). */
const TARGET_THREADS = 2048;

/** Quad lanes share dy over 4 input channels; below 4 channels they walk 4 splits instead. */
const shares = (g: ConvGeometry) => g.C >= 4;

/** Config for this geometry, or null when the kernel cannot run it. */
export function directWeightGradConfig(g: ConvGeometry): DirectDwConfig | null {
  if (!engine().features.has('subgroups') || g.KH > MAX_K || g.KW > MAX_K) return null;
  const RW = pickStrip(g.OW, g.KW, g.sw, g.dw);
  if (RW === null) return null;
  const nstrips = g.N * g.OH * Math.ceil(g.OW / RW);
  const perSplit = (shares(g) ? 4 * Math.ceil(g.C / 4) : g.C) * Math.ceil(g.O / 16);
  const M = g.KH * g.KW * g.C + 1;
  // Enough threads, but each split walks >= 4 strips, and the partial sums (splits · M · O
  // stores, and as many loads in the reduction) stay well below the N·OH·OW·O dy loads.
  const want = Math.ceil(TARGET_THREADS / perSplit);
  const cap = Math.min(Math.floor(nstrips / 4), Math.ceil((g.N * g.OH * g.OW) / (2 * M)), 1024);
  return { RW, splits: Math.max(1, Math.min(want, cap)), WG: 64 };
}

/** dw (and db when withBias) for a validated geometry; dy already masked by any fused ReLU. */
export function directWeightGrad(x: Tensor, dy: Tensor, g: ConvGeometry, withBias: boolean, cfg?: DirectDwConfig): { dw: Tensor; db: Tensor | null } {
  const c = cfg ?? directWeightGradConfig(g);
  if (!c) throw new RangeError('webgpu-cnn: conv2dBackwardWeight: the direct variant needs subgroups and KH, KW <= 5');
  const L = (c.RW - 1) * g.sw + (g.KW - 1) * g.dw + 1;
  if (c.RW < 1 || c.RW > 8 || L > 16 || g.KH > MAX_K || g.KW > MAX_K || c.WG % 4 !== 0 || c.splits < 1)
    throw new RangeError(`webgpu-cnn: conv2dBackwardWeight: direct kernel cannot run ${JSON.stringify(c)} with KH=${g.KH} KW=${g.KW} (strip ${L})`);
  const strips = Math.ceil(g.OW / c.RW);
  const nstrips = g.N * g.OH * strips;
  const chunk = Math.ceil(nstrips / c.splits);
  const splits = Math.ceil(nstrips / chunk);
  const share = shares(g);
  const cquads = share ? Math.ceil(g.C / 4) : g.C, oblocks = Math.ceil(g.O / 16);
  const nquads = (share ? splits : Math.ceil(splits / 4)) * cquads * oblocks;
  const M = g.KH * g.KW * g.C + (withBias ? 1 : 0);
  const parts = empty([splits, M, g.O]);
  engine().queue.dispatch({
    shader: 'conv2d_direct_dw',
    entry: 'direct_dw',
    op: 'conv2dBackwardWeight',
    constants: { RW: c.RW, KH: g.KH, KW: g.KW, SH: g.sh, SW: g.sw, DH: g.dh, DW: g.dw, WG: c.WG, HAS_BIAS: withBias ? 1 : 0, SHARE: share ? 1 : 0, USE_FMA: c.fma === false ? 0 : 1 },
    uniforms: {
      N: g.N, H: g.H, W: g.W, C: g.C, O: g.O, OH: g.OH, OW: g.OW, pad_t: g.pt, pad_l: g.pl,
      strips, nstrips, chunk, splits, cquads, oblocks, nquads, M,
    },
    buffers: { x: x.buffer, dy: dy.buffer, part: parts.buffer },
    workgroups: foldGrid(Math.ceil(nquads / (c.WG / 4))),
  });
  return reduceWeightSplits(parts, g, splits, withBias);
}
