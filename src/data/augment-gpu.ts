// GPU augmentation: warp a batch [N,H,W,C] by per-sample affine matrices with bilinear sampling,
// and optionally jitter its colours (shaders/augment.wgsl). Parameters come from randomAffines()
// (rows of 6) or randomAugment() (rows of 9) in augment.ts, which also documents the convention;
// augment.ts' augmentRef is the reference.
//
// Data augmentation carries no gradient (inputs are data), so nothing is recorded on the tape.

import { engine } from '../runtime/engine.js';
import { shapeStr, type Tensor } from '../tensor/tensor.js';
import { allocateFor, checkNumber, checkTensor } from '../ops/check.js';
import { foldGrid, grid1d } from '../ops/grid.js';
import { AUGMENT_PARAMS } from './augment.js';
import { checkColourChannels } from './colour-jitter.js';

/** Threads per workgroup; a power of two (affine_colour's tree reduction). */
const WG = 64;

/**
 * y[n] = x[n] warped by matrices[n] (bilinear, `fill` outside). x: [N,H,W,C], matrices: [N,6],
 * or [N,9] from randomAugment: warp, then brightness, contrast and saturation, each clamped to
 * [0, 1] (for images in [0, 1] before normalisation; C must be 1 or 3).
 */
export function augment(x: Tensor, matrices: Tensor, opts: { fill?: number } = {}): Tensor {
  checkTensor('augment', 'x', x, 'f32', 4);
  checkTensor('augment', 'matrices', matrices, 'f32', 2);
  const fill = checkNumber('augment', 'fill', opts.fill ?? 0);
  const [n, h, w, c] = x.shape;
  const cols = matrices.shape[1];
  if (matrices.shape[0] !== n || (cols !== 6 && cols !== AUGMENT_PARAMS))
    throw new RangeError(
      `webgpu-cnn: augment: 'matrices' must have shape [${n},6], got ${shapeStr(matrices.shape)} (or [${n},${AUGMENT_PARAMS}] with colour jitter)`,
    );
  const colour = cols === AUGMENT_PARAMS;
  if (colour) checkColourChannels(`augment (x ${shapeStr(x.shape)}, matrices ${shapeStr(matrices.shape)})`, c);
  const y = allocateFor('augment', x.shape);
  engine().queue.dispatch({
    shader: 'augment',
    entry: colour ? 'affine_colour' : 'affine',
    op: 'augment',
    constants: { WG },
    uniforms: { n, h, w, c, fill },
    buffers: { x: x.buffer, m: matrices.buffer, y: y.buffer },
    // affine: one thread per output pixel; affine_colour: one workgroup per image
    workgroups: colour ? foldGrid(n) : grid1d(n * h * w, WG),
  });
  return y;
}
