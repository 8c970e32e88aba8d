// conv2d's quick kernels (shaders/conv2d/quick.wgsl): the three passes as small loops that
// compile in tens of milliseconds, for the first steps of a tiered start (src/train/step.ts)
// while the fast kernels compile. Any geometry; one pipeline per pass for every layer (the
// geometry is all uniforms). Like the direct kernels they take dy already masked by a fused
// ReLU. Not tuned: the blocking is fixed (4 x 8 per invocation: shaders/conv2d/quick.wgsl).
//
// x: [N,H,W,C]  w: [KH,KW,C,O]  y, dy: [N,OH,OW,O]

import { engine } from '../../runtime/engine.js';
import { empty, type Tensor } from '../../tensor/tensor.js';
import { foldGrid } from '../grid.js';
import { geometryUniforms, type ConvGeometry } from './geometry.js';
import { reduceWeightSplits } from './splits.js';

const WG = 64;
/** Aim for about this many weight-gradient invocations (splits of the pixels fill the rest). */
const TARGET_THREADS = 4096;

function run(
  entry: string,
  op: string,
  g: ConvGeometry,
  u: Record<string, number>,
  bufs: Record<string, Tensor>,
): void {
  engine().queue.dispatch({
    shader: 'conv2d/quick',
    entry,
    op,
    constants: { WG },
    uniforms: { ...geometryUniforms(g), has_bias: 0, relu: 0, M: 0, chunk: 0, ...u },
    buffers: {
      src: bufs.src.buffer,
      wt: bufs.wt.buffer,
      // only the forward pass binds `bias`, read only when has_bias: w stands in otherwise
      ...(entry === 'forward' ? { bias: (bufs.bias ?? bufs.wt).buffer } : {}),
      dst: bufs.dst.buffer,
    },
    workgroups: foldGrid(Math.ceil(u.total / WG)),
  });
}

/** y = relu?(conv(x, w) + bias?) into a fresh [N,OH,OW,O] tensor. */
export function quickForward(x: Tensor, w: Tensor, g: ConvGeometry, bias: Tensor | undefined, relu: boolean): Tensor {
  const y = empty([g.N, g.OH, g.OW, g.O]);
  const pblocks = Math.ceil(g.OW / 4),
    cblocks = Math.ceil(g.O / 8);
  const total = g.N * g.OH * pblocks * cblocks;
  run(
    'forward',
    'conv2d',
    g,
    { total, pblocks, cblocks, has_bias: bias ? 1 : 0, relu: +relu },
    {
      src: x,
      wt: w,
      ...(bias ? { bias } : {}),
      dst: y,
    },
  );
  return y;
}

/** dx from dy (already masked by any fused ReLU) and w, any stride. */
export function quickInputGrad(dy: Tensor, w: Tensor, g: ConvGeometry): Tensor {
  const dx = empty([g.N, g.H, g.W, g.C]);
  const pblocks = Math.ceil(g.W / 4),
    cblocks = Math.ceil(g.C / 8);
  const total = g.N * g.H * pblocks * cblocks;
  run('input_grad', 'conv2dInputGrad', g, { total, pblocks, cblocks }, { src: dy, wt: w, dst: dx });
  return dx;
}

/** dw (and db when withBias) from x and dy (already masked by any fused ReLU). */
export function quickWeightGrad(
  x: Tensor,
  dy: Tensor,
  g: ConvGeometry,
  withBias: boolean,
): { dw: Tensor; db: Tensor | null } {
  const M = g.KH * g.KW * g.C + (withBias ? 1 : 0);
  // blocks of rows: each tap's channels by 4, then the bias row
  const pblocks = g.KH * g.KW * Math.ceil(g.C / 4) + (withBias ? 1 : 0),
    cblocks = Math.ceil(g.O / 8);
  const pixels = g.N * g.OH * g.OW;
  // split the pixels so that there are enough invocations, each summing at least 64 pixels
  const want = Math.ceil(TARGET_THREADS / (pblocks * cblocks));
  const chunk = Math.ceil(pixels / Math.max(1, Math.min(want, Math.floor(pixels / 64))));
  const splits = Math.ceil(pixels / chunk);
  const parts = empty([splits, M, g.O]);
  const total = splits * pblocks * cblocks;
  run('weight_grad', 'conv2dWeightGrad', g, { total, pblocks, cblocks, M, chunk }, { src: x, wt: dy, dst: parts });
  return reduceWeightSplits(parts, g, splits, withBias);
}
