// The split-K reduction shared by both conv2d weight-gradient kernels (tiled: tiled.ts,
// direct: direct.ts): each wrote partial sums part[z, m, o] for its splits z; this
// sums them in a fixed order (reduce_splits in shaders/conv2d/tiled_weight_grad.wgsl), so the result
// is bitwise reproducible. Row m = KH·KW·C of part, when present, is the bias gradient.

import { engine } from '../../runtime/engine.js';
import { empty, type Tensor } from '../../tensor/tensor.js';
import { grid1d } from '../grid.js';
import type { ConvGeometry } from './geometry.js';

const RWG = 256;

/** dw [KH,KW,C,O] (and db [O] when withBias) from `parts` [splits, M, O]; disposes `parts`. */
export function reduceWeightSplits(
  parts: Tensor,
  g: ConvGeometry,
  splits: number,
  withBias: boolean,
): { dw: Tensor; db: Tensor | null } {
  const Mw = g.KH * g.KW * g.C;
  const M = Mw + (withBias ? 1 : 0);
  const dw = empty([g.KH, g.KW, g.C, g.O]);
  const db = withBias ? empty([g.O]) : null;
  const scratch = db ? null : empty([1]); // the reduction's db binding when there is no bias
  engine().queue.dispatch({
    shader: 'conv2d/tiled_weight_grad',
    entry: 'reduce_splits',
    op: 'conv2dWeightGrad',
    constants: { RWG },
    uniforms: { total: M * g.O, dw_len: Mw * g.O, splits },
    buffers: { parts: parts.buffer, dwt: dw.buffer, dbt: (db ?? scratch)!.buffer },
    workgroups: grid1d(M * g.O, RWG),
  });
  parts.dispose(); // reusable only after the submit that runs these commands (pool rule)
  scratch?.dispose();
  return { dw, db };
}
