// conv2d 'direct' kernels: register-blocked direct convolution with quad-shared operands, no
// workgroup memory, no barriers: built for CPU implementations (SwiftShader), where loads and
// barriers dominate. Needs the 'subgroups' feature (quad swaps).
//   forward     shaders/conv2d/direct.wgsl, quad-shared weights
//   inputGrad   the same kernel over dy with the flipped filter (stride 1 only)
//   weightGrad  shaders/conv2d/direct_weight_grad.wgsl, quad-shared dy, split-K, then the
//               deterministic split reduction shared with the tiled kernel (splits.ts)
// Which kernel runs: choose.ts. No argument checks here (index.ts validates).
//
// x: [N,H,W,C]  w: [KH,KW,C,O]  y, dy: [N,OH,OW,O]  dx: [N,H,W,C]  dw: [KH,KW,C,O]  db: [O]

import { engine } from '../../runtime/engine.js';
import { empty, type Tensor } from '../../tensor/tensor.js';
import { foldGrid } from '../grid.js';
import { reduceWeightSplits } from './splits.js';
import type { ConvGeometry } from './geometry.js';

/** Output pixels per thread along a row, and threads per workgroup. */
export interface DirectConfig {
  RW: number;
  /** output rows per thread (1..4; > 1 needs stride and dilation 1 along H) */
  RH: number;
  WG: number;
}

/** Limits of the hand-unrolled kernel: strip, filter, rows per block, input rows per block. */
const MAX_RW = 8,
  MAX_K = 5,
  MAX_STRIP = 16,
  MAX_RH = 4,
  MAX_ROWS = 10;
const CHANNEL_BLOCK = 16; // output channels per thread (4 per lane of a quad)

const stripLen = (RW: number, KW: number, sw: number, dw: number) => (RW - 1) * sw + (KW - 1) * dw + 1;

/**
 * Strip width for an output row of `OW` pixels: the RW that minimises a napkin cost per row
 * and input channel, strips · (loads + FMAs), with SwiftShader's prices per quad of lanes as
 * measured on a 2-core EPYC (a computed-index load ~10 ns, a vec4 multiply-add ~1.5 ns
 * in this kernel). Also used by the weight-gradient kernel. Null when no RW fits the kernel.
 */
export function pickStrip(OW: number, KW: number, sw: number, dw: number): number | null {
  let best: number | null = null,
    bestCost = Infinity;
  for (let RW = 1; RW <= Math.min(MAX_RW, OW); RW++) {
    const L = stripLen(RW, KW, sw, dw);
    if (L > MAX_STRIP) break;
    const cost = Math.ceil(OW / RW) * (10 * (L + 4 * KW) + 1.5 * 4 * RW * KW);
    if (cost < bestCost) (best = RW), (bestCost = cost);
  }
  return best;
}

/** Geometry of one run of the kernel: `inp` [N,IH,IW,CI] -> `out` [N,OH,OW,CO]. */
interface DirectRun {
  N: number;
  IH: number;
  IW: number;
  CI: number;
  OH: number;
  OW: number;
  CO: number;
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  DH: number;
  DW: number;
  pad_t: number;
  pad_l: number;
  // filter view: index = w_base + kh·w_kh + kw·w_kw + ci·w_ci + co·w_co
  w_base: number;
  w_kh: number;
  w_kw: number;
  w_ci: number;
  w_co: number;
}

function forwardRun(g: ConvGeometry): DirectRun {
  return {
    N: g.N,
    IH: g.H,
    IW: g.W,
    CI: g.C,
    OH: g.OH,
    OW: g.OW,
    CO: g.O,
    KH: g.KH,
    KW: g.KW,
    SH: g.sh,
    SW: g.sw,
    DH: g.dh,
    DW: g.dw,
    pad_t: g.pt,
    pad_l: g.pl,
    w_base: 0,
    w_kh: g.KW * g.C * g.O,
    w_kw: g.C * g.O,
    w_ci: g.O,
    w_co: 1,
  };
}

/** dx = the stride-1 conv of dy with w flipped in space and transposed in channels. */
function inputGradRun(g: ConvGeometry): DirectRun {
  const CO = g.C * g.O;
  return {
    N: g.N,
    IH: g.OH,
    IW: g.OW,
    CI: g.O,
    OH: g.H,
    OW: g.W,
    CO: g.C,
    KH: g.KH,
    KW: g.KW,
    SH: 1,
    SW: 1,
    DH: g.dh,
    DW: g.dw,
    pad_t: (g.KH - 1) * g.dh - g.pt,
    pad_l: (g.KW - 1) * g.dw - g.pl,
    w_base: ((g.KH - 1) * g.KW + g.KW - 1) * CO,
    w_kh: -g.KW * CO,
    w_kw: -CO,
    w_ci: 1,
    w_co: g.O,
  };
}

const inputRows = (RH: number, r: DirectRun) => (RH - 1) * r.SH + (r.KH - 1) * r.DH + 1;

/**
 * Two output rows per thread when they share input rows (stride and dilation 1 along H: the
 * second row costs one more input row per channel instead of KH), else one.
 */
function runConfig(r: DirectRun): DirectConfig | null {
  if (r.KH > MAX_K || r.KW > MAX_K) return null;
  const RW = pickStrip(r.OW, r.KW, r.SW, r.DW);
  const RH = r.SH === 1 && r.DH === 1 && r.OH > 1 ? 2 : 1;
  if (RW === null || inputRows(RH, r) > MAX_ROWS) return null;
  return { RW, RH, WG: 64 };
}

/** The forward config this variant would use, or null when it cannot run this geometry. */
export function directForwardConfig(g: ConvGeometry): DirectConfig | null {
  if (!engine().features.has('subgroups')) return null;
  return runConfig(forwardRun(g));
}

/** The input-gradient config, or null (stride > 1, or a filter the kernel does not unroll). */
export function directInputGradConfig(g: ConvGeometry): DirectConfig | null {
  if (!engine().features.has('subgroups') || g.sh !== 1 || g.sw !== 1) return null;
  return runConfig(inputGradRun(g));
}

function dispatch(
  r: DirectRun,
  cfg: DirectConfig,
  inp: Tensor,
  w: Tensor,
  bias: Tensor | undefined,
  relu: boolean,
  out: Tensor,
  op: string,
): void {
  const L = stripLen(cfg.RW, r.KW, r.SW, r.DW);
  const ok =
    Number.isInteger(cfg.RW) &&
    Number.isInteger(cfg.RH) &&
    cfg.RW >= 1 &&
    cfg.RW <= MAX_RW &&
    cfg.RH >= 1 &&
    cfg.RH <= MAX_RH &&
    r.KH <= MAX_K &&
    r.KW <= MAX_K &&
    L <= MAX_STRIP &&
    inputRows(cfg.RH, r) <= MAX_ROWS &&
    cfg.WG % 4 === 0 &&
    cfg.WG >= 4;
  if (!ok)
    throw new RangeError(
      `webgpu-cnn: ${op}: direct kernel cannot run RW=${cfg.RW} RH=${cfg.RH} WG=${cfg.WG} with a ${r.KH}x${r.KW} filter ` +
        `(strip ${L} <= ${MAX_STRIP}, input rows ${inputRows(cfg.RH, r)} <= ${MAX_ROWS})`,
    );
  const strips = Math.ceil(r.OW / cfg.RW);
  const rgroups = Math.ceil(r.OH / cfg.RH);
  const oblocks = Math.ceil(r.CO / CHANNEL_BLOCK);
  const nunits = r.N * rgroups * strips;
  const nquads = oblocks * Math.ceil(nunits / 4);
  const { KH, KW, SH, SW, DH, DW, ...u } = r;
  engine().queue.dispatch({
    shader: 'conv2d/direct',
    entry: 'direct',
    op,
    constants: {
      RW: cfg.RW,
      RH: cfg.RH,
      KH,
      KW,
      SH,
      SW,
      DH,
      DW,
      WG: cfg.WG,
      HAS_BIAS: bias ? 1 : 0,
      RELU: relu ? 1 : 0,
    },
    uniforms: { ...u, strips, rgroups, oblocks, nunits, nquads },
    // without a bias the kernel never reads `bias`; w stands in for the binding
    buffers: { inp: inp.buffer, wt: w.buffer, bias: (bias ?? w).buffer, outp: out.buffer },
    workgroups: foldGrid(Math.ceil(nquads / (cfg.WG / 4))),
  });
}

/** Forward into a fresh [N,OH,OW,O] tensor. Throws when `cfg` does not fit the geometry. */
export function directForward(
  x: Tensor,
  w: Tensor,
  g: ConvGeometry,
  bias: Tensor | undefined,
  relu: boolean,
  cfg?: DirectConfig,
): Tensor {
  const c = cfg ?? directForwardConfig(g);
  if (!c)
    throw new RangeError(
      'webgpu-cnn: conv2d: the direct variant cannot run this geometry (needs subgroups, filters up to 5x5)',
    );
  const y = empty([g.N, g.OH, g.OW, g.O]);
  dispatch(forwardRun(g), c, x, w, bias, relu, y, 'conv2d');
  return y;
}

/** dx for stride 1 (dy already masked by any fused ReLU). */
export function directInputGrad(dy: Tensor, w: Tensor, g: ConvGeometry, cfg?: DirectConfig): Tensor {
  const c = cfg ?? directInputGradConfig(g);
  if (!c)
    throw new RangeError(
      'webgpu-cnn: conv2dInputGrad: the direct variant cannot run this geometry (needs subgroups, stride 1, filters up to 5x5)',
    );
  const dx = empty([g.N, g.H, g.W, g.C]);
  dispatch(inputGradRun(g), c, dy, w, undefined, false, dx, 'conv2dInputGrad');
  return dx;
}

// ---- weight gradient ----

/** Pixels per strip, split count, threads per workgroup. */
export interface DirectDwConfig {
  RW: number;
  splits: number;
  WG: number;
}

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
export function directWeightGrad(
  x: Tensor,
  dy: Tensor,
  g: ConvGeometry,
  withBias: boolean,
  cfg?: DirectDwConfig,
): { dw: Tensor; db: Tensor | null } {
  const c = cfg ?? directWeightGradConfig(g);
  if (!c) throw new RangeError('webgpu-cnn: conv2dWeightGrad: the direct variant needs subgroups and KH, KW <= 5');
  const L = (c.RW - 1) * g.sw + (g.KW - 1) * g.dw + 1;
  if (c.RW < 1 || c.RW > 8 || L > 16 || g.KH > MAX_K || g.KW > MAX_K || c.WG % 4 !== 0 || c.splits < 1)
    throw new RangeError(
      `webgpu-cnn: conv2dWeightGrad: direct kernel cannot run ${JSON.stringify(c)} with KH=${g.KH} KW=${g.KW} (strip ${L})`,
    );
  const strips = Math.ceil(g.OW / c.RW);
  const nstrips = g.N * g.OH * strips;
  const chunk = Math.ceil(nstrips / c.splits);
  const splits = Math.ceil(nstrips / chunk);
  const share = shares(g);
  const cquads = share ? Math.ceil(g.C / 4) : g.C,
    oblocks = Math.ceil(g.O / 16);
  const nquads = (share ? splits : Math.ceil(splits / 4)) * cquads * oblocks;
  const M = g.KH * g.KW * g.C + (withBias ? 1 : 0);
  const parts = empty([splits, M, g.O]);
  engine().queue.dispatch({
    shader: 'conv2d/direct_weight_grad',
    entry: 'weight_grad',
    op: 'conv2dWeightGrad',
    constants: {
      RW: c.RW,
      KH: g.KH,
      KW: g.KW,
      SH: g.sh,
      SW: g.sw,
      DH: g.dh,
      DW: g.dw,
      WG: c.WG,
      HAS_BIAS: withBias ? 1 : 0,
      SHARE: share ? 1 : 0,
    },
    uniforms: {
      N: g.N,
      H: g.H,
      W: g.W,
      C: g.C,
      O: g.O,
      OH: g.OH,
      OW: g.OW,
      pad_t: g.pt,
      pad_l: g.pl,
      strips,
      nstrips,
      chunk,
      splits,
      cquads,
      oblocks,
      nquads,
      M,
    },
    buffers: { x: x.buffer, dy: dy.buffer, part: parts.buffer },
    workgroups: foldGrid(Math.ceil(nquads / (c.WG / 4))),
  });
  return reduceWeightSplits(parts, g, splits, withBias);
}
