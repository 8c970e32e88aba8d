// GPU augmentation: warp a batch [N,H,W,C] by per-sample affine matrices [N,6] with bilinear
// sampling (shaders/augment.wgsl). Matrices come from randomAffines() (augment.ts), which also
// documents the convention; augment.ts' warpAffine is the reference.
//
// Data augmentation carries no gradient (inputs are data), so nothing is recorded on the tape.

import { engine } from '../runtime/engine.js';
import { empty, shapeStr, type Tensor } from '../tensor/tensor.js';
import { checkNumber, checkTensor } from '../ops/check.js';
import { grid1d } from '../ops/grid.js';

const WG = 64;

/** y[n] = x[n] warped by matrices[n] (bilinear, `fill` outside). x: [N,H,W,C], matrices: [N,6]. */
export function augment(x: Tensor, matrices: Tensor, opts: { fill?: number } = {}): Tensor {
  checkTensor('augment', 'x', x, 'f32', 4);
  checkTensor('augment', 'matrices', matrices, 'f32', 2);
  const fill = checkNumber('augment', 'fill', opts.fill ?? 0);
  const [n, h, w, c] = x.shape;
  if (matrices.shape[0] !== n || matrices.shape[1] !== 6)
    throw new RangeError(`webgpu-cnn: augment: 'matrices' must have shape [${n},6], got ${shapeStr(matrices.shape)}`);
  const y = empty(x.shape);
  engine().queue.dispatch({
    shader: 'augment',
    entry: 'affine',
    op: 'augment',
    constants: { WG },
    uniforms: { n, h, w, c, fill },
    buffers: { x: x.buffer, m: matrices.buffer, y: y.buffer },
    workgroups: grid1d(n * h * w, WG),
  });
  return y;
}
