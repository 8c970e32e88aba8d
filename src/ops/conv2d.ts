// conv2d: the public op. Forward (tiled implicit GEMM, shaders/conv2d.wgsl, or the 'direct'
// variant, conv2d_direct.ts; both with a fused bias + ReLU epilogue; which one runs:
// conv2d_variants.ts), the naive forward kept for benchmarks (shaders/conv2d_naive.wgsl),
// and the autograd rule. Backward kernels: conv2d_backward.ts. Geometry, validation and
// layout conversion: conv2d_geometry.ts. Float64 references: conv2d_ref.ts (re-exported
// here as `ref`).
//
// x: [N,H,W,C]  w: [KH,KW,C,O] (HWIO)  bias: [O]  y: [N,OH,OW,O]

import { engine } from '../runtime/engine.js';
import { empty, shapeStr, type Tensor } from '../tensor/tensor.js';
import { isReluMasked, needsGrad, record } from '../autograd/tape.js';
import { checkTensor } from './check.js';
import { grid1d } from './grid.js';
import { convGeometry, geometryUniforms, type Conv2dGeomOptions, type ConvGeometry } from './conv2d_geometry.js';
import { checkTiles, foldGrid, tileConstants, type ConvTiles } from './conv2d_tiles.js';
import { inputGradFor, weightGradFor } from './conv2d_backward.js';
import { checkVariant, conv2dTilesFor, pickConv2dVariant, type Conv2dVariantChoice } from './conv2d_variants.js';
import { directForward } from './conv2d_direct.js';
import { reluBackward } from './activations.js';

export { conv2dOutputShape, oihwToHwio, hwioToOihw, convGeometry, type ConvGeometry, type Conv2dGeomOptions } from './conv2d_geometry.js';
export { conv2dBackwardInput, conv2dBackwardWeight, conv2dBackwardWeightBias, type Conv2dBackwardOptions } from './conv2d_backward.js';
export { pickTiles as conv2dTiles, type ConvTiles } from './conv2d_tiles.js';
export { ref } from './conv2d_ref.js';
export {
  setConv2dVariant, getConv2dVariant, pickConv2dVariant, conv2dVariantsFor, isCpuAdapter,
  type Conv2dVariant, type Conv2dVariantChoice, type Conv2dPass, type Conv2dKernel,
} from './conv2d_variants.js';

export interface Conv2dOptions extends Conv2dGeomOptions {
  /** [O], added to every output pixel (fused into the kernel's epilogue) */
  bias?: Tensor;
  /** apply ReLU after the bias (fused); the backward pass masks dy with y > 0 */
  relu?: boolean;
  /** kernel variant (see conv2d_variants.ts); default: setConv2dVariant's, normally 'auto' */
  variant?: Conv2dVariantChoice;
}

/** Checks x, w, bias and the options; returns the geometry. */
function checkArgs(op: string, x: Tensor, w: Tensor, opts: Conv2dOptions): ConvGeometry {
  checkTensor(op, 'x', x, 'f32', 4);
  checkTensor(op, 'w', w, 'f32', 4);
  const g = convGeometry(op, x.shape, w.shape, opts);
  if (opts.bias !== undefined) {
    checkTensor(op, 'bias', opts.bias, 'f32', 1);
    if (opts.bias.shape[0] !== g.O) throw new RangeError(`webgpu-cnn: ${op}: 'bias' must have shape [${g.O}] (w's O), got ${shapeStr(opts.bias.shape)}`);
  }
  if (opts.relu !== undefined && typeof opts.relu !== 'boolean') throw new TypeError(`webgpu-cnn: ${op}: 'relu' must be a boolean, got ${typeof opts.relu}`);
  checkVariant(op, opts.variant);
  return g;
}

/** Tiled forward into a fresh [N,OH,OW,O] tensor. `tiles` is for benchmarks and tests. */
export function conv2dForwardGeom(x: Tensor, w: Tensor, g: ConvGeometry, bias: Tensor | undefined, relu: boolean, tiles: ConvTiles = conv2dTilesFor(g, 'forward')): Tensor {
  checkTiles(tiles);
  const y = empty([g.N, g.OH, g.OW, g.O]);
  const M = g.N * g.OH * g.OW;
  const nTiles = Math.ceil(g.O / tiles.TN), mTiles = Math.ceil(M / tiles.TM);
  engine().queue.dispatch({
    shader: 'conv2d',
    entry: 'forward',
    op: 'conv2d',
    constants: tileConstants(tiles),
    uniforms: { ...geometryUniforms(g), M, K: g.KH * g.KW * g.C, n_tiles: nTiles, m_tiles: mTiles, has_bias: bias ? 1 : 0, relu: relu ? 1 : 0 },
    // without a bias the kernel never reads `bias`; w stands in for the binding
    buffers: { x: x.buffer, w: w.buffer, bias: (bias ?? w).buffer, y: y.buffer },
    workgroups: foldGrid(nTiles * mTiles),
  });
  return y;
}

/**
 * 2-D convolution (cross-correlation, like PyTorch and TensorFlow) of NHWC `x` with HWIO `w`,
 * with optional fused bias and ReLU. Records its backward rule when autograd is on.
 */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  const g = checkArgs('conv2d', x, w, opts);
  const bias = opts.bias;
  const relu = opts.relu ?? false;
  const variant = opts.variant;
  const y = pickConv2dVariant(g, 'forward', variant) === 'direct' ? directForward(x, w, g, bias, relu) : conv2dForwardGeom(x, w, g, bias, relu);
  const inputs = bias ? [x, w, bias] : [x, w];
  if (needsGrad(inputs))
    record('conv2d', inputs, [y], ([gy]) => {
      if (!gy) return inputs.map(() => null);
      const wantDx = x.requiresGrad, wantDw = w.requiresGrad || !!bias?.requiresGrad;
      // gy may come already masked by the ReLU (a max pool folded the mask in: tape.ts)
      const premasked = relu && isReluMasked(gy, y);
      const reluY = relu && !premasked ? y : undefined;
      // The direct kernels take dy pre-masked by the ReLU: mask once when both use it.
      const direct = (wantDx && pickConv2dVariant(g, 'inputGrad', variant) === 'direct') || (wantDw && pickConv2dVariant(g, 'weightGrad', variant) === 'direct');
      const masked = premasked ? gy : reluY && direct ? reluBackward(gy, reluY) : undefined;
      const dx = wantDx ? inputGradFor(gy, w, g, reluY, variant, masked) : null;
      let dw: Tensor | null = null, db: Tensor | null = null;
      if (wantDw) {
        const r = weightGradFor(x, gy, g, !!bias?.requiresGrad, reluY, variant, masked);
        if (w.requiresGrad) dw = r.dw;
        else r.dw.dispose();
        db = r.db;
      }
      if (masked !== gy) masked?.dispose();
      return bias ? [dx, dw, db] : [dx, dw];
    }, { reluOutputs: relu });
  return y;
}

/** Naive forward (one thread per output), same semantics as conv2d; for benchmarks. No autograd. */
export function conv2dNaive(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  const g = checkArgs('conv2dNaive', x, w, opts);
  const y = empty([g.N, g.OH, g.OW, g.O]);
  const WG = 256;
  engine().queue.dispatch({
    shader: 'conv2d_naive',
    entry: 'forward_naive',
    op: 'conv2dNaive',
    constants: { WG },
    uniforms: { ...geometryUniforms(g), total: y.size, has_bias: opts.bias ? 1 : 0, relu: opts.relu ? 1 : 0 },
    buffers: { x: x.buffer, w: w.buffer, bias: (opts.bias ?? w).buffer, y: y.buffer },
    workgroups: grid1d(y.size, WG),
  });
  return y;
}
