// conv2d: the public op, its autograd rule and the two gradient ops, one name per pass:
//   forward     conv2d              y = conv(x, w) + bias, then ReLU (fused)
//   inputGrad   conv2dInputGrad     dx from dy and w
//   weightGrad  conv2dWeightGrad    dw (and db: conv2dWeightBiasGrad) from x and dy
// Each pass runs the 'tiled' (tiled.ts), 'direct' (direct.ts) or 'quick' (quick.ts) kernel,
// as choose.ts declares. Geometry, validation and layouts: geometry.ts. Float64 references:
// reference.ts (re-exported as `ref`). Tuning: tune.ts.
//
// x: [N,H,W,C]  w: [KH,KW,C,O] (HWIO)  bias: [O]  y, dy: [N,OH,OW,O]

import { shapeStr, type Shape, type Tensor } from '../../tensor/tensor.js';
import { isReluMasked, needsGrad, record } from '../../autograd/tape.js';
import { checkKernelOption } from '../../runtime/select.js';
import { checkOptions, checkTensor, guarded, optionKeys } from '../check.js';
import { reluBackward } from '../activations.js';
import { convGeometry, type Conv2dGeomOptions, type ConvGeometry } from './geometry.js';
import {
  CONV2D,
  conv2dKernelFor,
  withTiles,
  type Conv2dKernel,
  type Conv2dKernelChoice,
  type Conv2dPass,
} from './choose.js';
import { tiledForward, tiledInputGrad, tiledWeightGrad } from './tiled.js';
import { directForward, directInputGrad, directWeightGrad } from './direct.js';
import { quickForward, quickInputGrad, quickWeightGrad } from './quick.js';

export {
  conv2dOutputShape,
  oihwToHwio,
  hwioToOihw,
  convGeometry,
  type ConvGeometry,
  type Conv2dGeomOptions,
} from './geometry.js';
export { ref } from './reference.js';
export { CONV2D, conv2dKernelFor, type Conv2dKernel, type Conv2dKernelChoice, type Conv2dPass } from './choose.js';

export interface Conv2dOptions extends Conv2dGeomOptions {
  /** [O], added to every output pixel (fused into the kernel's epilogue) */
  bias?: Tensor;
  /** apply ReLU after the bias (fused); the backward pass masks dy with y > 0 */
  relu?: boolean;
  /** the kernel of every pass (choose.ts): 'auto' (default), 'tiled', 'direct', 'quick', 'tiled:TMxTNxTK' */
  kernel?: Conv2dKernelChoice;
}

export interface Conv2dGradOptions extends Conv2dGeomOptions {
  /** The forward output of a conv2d with `relu: true`: dy is first masked with (reluY > 0). */
  reluY?: Tensor;
  /** as Conv2dOptions.kernel */
  kernel?: Conv2dKernelChoice;
}

const KERNEL_NAMES = "'auto', 'tiled', 'direct', 'quick' or 'tiled:TMxTNxTK'";

function checkKernel(op: string, pass: Conv2dPass, k: unknown): void {
  checkKernelOption(op, CONV2D[pass], k, KERNEL_NAMES);
}

/** Checks x, w, bias and the options; returns the geometry. */
const CONV_KEYS = optionKeys<Conv2dOptions>({
  stride: true,
  padding: true,
  dilation: true,
  bias: true,
  relu: true,
  kernel: true,
});
const CONV_GRAD_KEYS = optionKeys<Conv2dGradOptions>({
  stride: true,
  padding: true,
  dilation: true,
  reluY: true,
  kernel: true,
});

function checkArgs(op: string, x: Tensor, w: Tensor, opts: Conv2dOptions): ConvGeometry {
  checkOptions(op, 'opts', opts, CONV_KEYS);
  checkTensor(op, 'x', x, 'f32', 4);
  checkTensor(op, 'w', w, 'f32', 4);
  const g = convGeometry(op, x.shape, w.shape, opts);
  if (opts.bias !== undefined) {
    checkTensor(op, 'bias', opts.bias, 'f32', 1);
    if (opts.bias.shape[0] !== g.O)
      throw new RangeError(
        `webgpu-cnn: ${op}: 'bias' must have shape [${g.O}] (w's O), got ${shapeStr(opts.bias.shape)}`,
      );
  }
  if (opts.relu !== undefined && typeof opts.relu !== 'boolean')
    throw new TypeError(`webgpu-cnn: ${op}: 'relu' must be a boolean, got ${typeof opts.relu}`);
  checkKernel(op, 'forward', opts.kernel);
  return g;
}

function checkDy(op: string, dy: Tensor, g: ConvGeometry, reluY: Tensor | undefined): void {
  checkTensor(op, 'dy', dy, 'f32', 4);
  const want = [g.N, g.OH, g.OW, g.O];
  if (dy.shape.some((d, i) => d !== want[i]))
    throw new RangeError(
      `webgpu-cnn: ${op}: 'dy' must have shape ${shapeStr(want)} (the conv2d output), got ${shapeStr(dy.shape)}`,
    );
  if (reluY !== undefined) {
    checkTensor(op, 'reluY', reluY, 'f32', 4);
    if (reluY.shape.some((d, i) => d !== want[i]))
      throw new RangeError(
        `webgpu-cnn: ${op}: 'reluY' must have shape ${shapeStr(want)}, got ${shapeStr(reluY.shape)}`,
      );
  }
}

function forwardWith(
  k: Conv2dKernel,
  x: Tensor,
  w: Tensor,
  g: ConvGeometry,
  bias: Tensor | undefined,
  relu: boolean,
): Tensor {
  if (k.variant === 'quick') return quickForward(x, w, g, bias, relu);
  return k.variant === 'direct' ? directForward(x, w, g, bias, relu) : tiledForward(x, w, g, bias, relu, k.tiles!);
}

/** dx with kernel k. `dyMasked`: dy already multiplied by any fused ReLU's mask. */
function inputGradWith(
  k: Conv2dKernel,
  dy: Tensor,
  w: Tensor,
  g: ConvGeometry,
  reluY: Tensor | undefined,
  dyMasked?: Tensor,
): Tensor {
  if (k.variant === 'tiled')
    return dyMasked ? tiledInputGrad(dyMasked, w, g, undefined, k.tiles!) : tiledInputGrad(dy, w, g, reluY, k.tiles!);
  // direct and quick take dy masked
  const run = k.variant === 'quick' ? quickInputGrad : directInputGrad;
  if (dyMasked || !reluY) return run(dyMasked ?? dy, w, g);
  const m = reluBackward(dy, reluY);
  const dx = run(m, w, g);
  m.dispose();
  return dx;
}

/** dw (and db) with kernel k; `dyMasked` as for inputGradWith. */
function weightGradWith(
  k: Conv2dKernel,
  x: Tensor,
  dy: Tensor,
  g: ConvGeometry,
  withBias: boolean,
  reluY: Tensor | undefined,
  dyMasked?: Tensor,
): { dw: Tensor; db: Tensor | null } {
  if (k.variant === 'tiled')
    return dyMasked
      ? tiledWeightGrad(x, dyMasked, g, withBias, undefined, k.tiles!)
      : tiledWeightGrad(x, dy, g, withBias, reluY, k.tiles!);
  const run = k.variant === 'quick' ? quickWeightGrad : directWeightGrad;
  if (dyMasked || !reluY) return run(x, dyMasked ?? dy, g, withBias);
  const m = reluBackward(dy, reluY);
  const r = run(x, m, g, withBias);
  m.dispose();
  return r;
}

/**
 * 2-D convolution (cross-correlation, like PyTorch and TensorFlow) of NHWC `x` with HWIO `w`,
 * with optional fused bias and ReLU. Records its backward rule when autograd is on.
 */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  const g = checkArgs('conv2d', x, w, opts);
  const { bias, kernel } = opts;
  const relu = opts.relu ?? false;
  // out of memory (or any failure) in the kernel: its temporaries are freed, the error names conv2d
  const y = guarded('conv2d', () => forwardWith(conv2dKernelFor(g, 'forward', kernel), x, w, g, bias, relu));
  const inputs = bias ? [x, w, bias] : [x, w];
  if (needsGrad(inputs))
    record(
      'conv2d',
      inputs,
      [y],
      ([gy]) => {
        if (!gy) return inputs.map(() => null);
        const wantDx = x.requiresGrad,
          wantDw = w.requiresGrad || !!bias?.requiresGrad;
        const kx = wantDx ? conv2dKernelFor(g, 'inputGrad', kernel) : null;
        const kw = wantDw ? conv2dKernelFor(g, 'weightGrad', kernel) : null;
        // gy may come already masked by the ReLU (a max pool folded the mask in: tape.ts)
        const premasked = relu && isReluMasked(gy, y);
        const reluY = relu && !premasked ? y : undefined;
        // The direct and quick kernels take dy pre-masked by the ReLU: mask once when both use it.
        const takesMasked = (kx && kx.variant !== 'tiled') || (kw && kw.variant !== 'tiled');
        const masked = premasked ? gy : reluY && takesMasked ? reluBackward(gy, reluY) : undefined;
        const dx = kx ? inputGradWith(kx, gy, w, g, reluY, masked) : null;
        let dw: Tensor | null = null,
          db: Tensor | null = null;
        if (kw) {
          const r = weightGradWith(kw, x, gy, g, !!bias?.requiresGrad, reluY, masked);
          if (w.requiresGrad) dw = r.dw;
          else r.dw.dispose();
          db = r.db;
        }
        if (masked !== gy) masked?.dispose();
        return bias ? [dx, dw, db] : [dx, dw];
      },
      { reluOutputs: relu },
    );
  return y;
}

/** `names`: which of x / w the caller passes as a shape (the error names that argument). */
function checkGrad(
  op: string,
  pass: Conv2dPass,
  xShape: Shape,
  wShape: Shape,
  dy: Tensor,
  opts: Conv2dGradOptions,
  names: { x: string; w: string },
): ConvGeometry {
  checkOptions(op, 'opts', opts, CONV_GRAD_KEYS);
  checkKernel(op, pass, opts.kernel);
  const g = convGeometry(op, xShape, wShape, opts, names);
  checkDy(op, dy, g, opts.reluY);
  return g;
}

/** Gradient of conv2d w.r.t. x ([N,H,W,C] = xShape), given dy and the weights. */
export function conv2dInputGrad(dy: Tensor, w: Tensor, xShape: Shape, opts: Conv2dGradOptions = {}): Tensor {
  checkTensor('conv2dInputGrad', 'w', w, 'f32', 4);
  const g = checkGrad('conv2dInputGrad', 'inputGrad', xShape, w.shape, dy, opts, { x: 'xShape', w: 'w' });
  return guarded('conv2dInputGrad', () =>
    inputGradWith(conv2dKernelFor(g, 'inputGrad', opts.kernel), dy, w, g, opts.reluY),
  );
}

/** Gradient of conv2d w.r.t. w ([KH,KW,C,O] = wShape), given x and dy. */
export function conv2dWeightGrad(x: Tensor, dy: Tensor, wShape: Shape, opts: Conv2dGradOptions = {}): Tensor {
  checkTensor('conv2dWeightGrad', 'x', x, 'f32', 4);
  const g = checkGrad('conv2dWeightGrad', 'weightGrad', x.shape, wShape, dy, opts, { x: 'x', w: 'wShape' });
  return guarded('conv2dWeightGrad', () => {
    const r = weightGradWith(conv2dKernelFor(g, 'weightGrad', opts.kernel), x, dy, g, false, opts.reluY);
    r.db?.dispose();
    return r.dw;
  });
}

/** Gradients w.r.t. w and the bias in one pass (the bias is an extra GEMM row). */
export function conv2dWeightBiasGrad(
  x: Tensor,
  dy: Tensor,
  wShape: Shape,
  opts: Conv2dGradOptions = {},
): { dw: Tensor; db: Tensor } {
  checkTensor('conv2dWeightBiasGrad', 'x', x, 'f32', 4);
  const g = checkGrad('conv2dWeightBiasGrad', 'weightGrad', x.shape, wShape, dy, opts, { x: 'x', w: 'wShape' });
  return guarded('conv2dWeightBiasGrad', () => {
    const r = weightGradWith(conv2dKernelFor(g, 'weightGrad', opts.kernel), x, dy, g, true, opts.reluY);
    return { dw: r.dw, db: r.db! };
  });
}

/** Runs one pass of g with kernel k on fresh outputs (tuner, benchmark, tests): y, dx or dw. */
export function runConv2dPass(
  k: Conv2dKernel,
  pass: Conv2dPass,
  g: ConvGeometry,
  x: Tensor,
  w: Tensor,
  dy: Tensor,
): Tensor {
  k = withTiles(k, g, pass);
  if (pass === 'forward') return forwardWith(k, x, w, g, undefined, false);
  if (pass === 'inputGrad') return inputGradWith(k, dy, w, g, undefined);
  return weightGradWith(k, x, dy, g, false, undefined).dw;
}
