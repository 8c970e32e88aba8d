// The MNIST LeNet used by the training-step benchmark, defined once for both sides:
//   conv 3x3 1->32 same + bias + ReLU, maxpool 2, conv 3x3 32->64 same + bias + ReLU, maxpool 2,
//   flatten (NHWC order) 3136, dense 3136->128 + ReLU, dense 128->10, softmax cross-entropy (mean),
//   SGD with momentum 0.9, lr 0.01.
// Seeded initial parameters and batches, and a float64 reference of ONE training step (forward,
// backward, update) that both ours and tfjs are validated against before they are timed.
// Layouts as everywhere here: x NHWC, conv weights HWIO, dense weights [in, out].

import { checkSgdStep, rng, softmaxCeRef } from './reference.js';
import { convGeometry, ref as convRef } from '../src/ops/conv2d/index.js';
import { ref as poolRef } from '../src/ops/pool2d/index.js';
import { ref as matmulRef } from '../src/ops/matmul/index.js';
import type { Check } from './types.js';

export const LR = 0.01;
export const MOMENTUM = 0.9;
export const CLASSES = 10;

export const PARAM_SHAPES = {
  w1: [3, 3, 1, 32],
  b1: [32],
  w2: [3, 3, 32, 64],
  b2: [64],
  w3: [3136, 128],
  b3: [128],
  w4: [128, 10],
  b4: [10],
} as const;
export type ParamName = keyof typeof PARAM_SHAPES;
export const PARAM_NAMES = Object.keys(PARAM_SHAPES) as ParamName[];
export type Params = Record<ParamName, Float32Array>;

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** He-uniform weights (fan-in), small uniform biases; seeded. */
export function initParams(seed = 7): Params {
  const r = rng(seed);
  const out = {} as Params;
  for (const name of PARAM_NAMES) {
    const shape = PARAM_SHAPES[name];
    const fanIn = shape.length === 4 ? shape[0] * shape[1] * shape[2] : shape.length === 2 ? shape[0] : 0;
    const lim = fanIn ? Math.sqrt(6 / fanIn) : 0.01;
    out[name] = Float32Array.from({ length: size(shape) }, () => (2 * r() - 1) * lim);
  }
  return out;
}

/** A batch of B images in [0, 1) and labels in [0, 10). */
export function makeBatch(B: number, seed = 8): { x: Float32Array; labels: Uint32Array } {
  const r = rng(seed);
  const x = Float32Array.from({ length: B * 28 * 28 }, () => r());
  const labels = Uint32Array.from({ length: B }, () => Math.floor(r() * CLASSES));
  return { x, labels };
}

// ---- float64 building blocks: the library's references (checked by finite differences in
// the test suites), for 3x3 'same' convolutions, 2x2 max pools and dense layers ----

const convGeom = (N: number, H: number, W: number, C: number, O: number) =>
  convGeometry('bench', [N, H, W, C], [3, 3, C, O], { padding: 'same' });
const POOL = { kernel: 2 } as const;
const mat = (rows: number, cols: number) => [1, rows, cols];

const maskInPlace = (d: Float64Array, y: Float64Array) => {
  for (let i = 0; i < d.length; i++) if (!(y[i] > 0)) d[i] = 0;
  return d;
};

/** Loss and gradients of one batch, in float64. */
export function lenetGrads(
  p: Params,
  x: Float32Array,
  labels: Uint32Array,
): { loss: number; grads: Record<ParamName, Float64Array> } {
  const B = labels.length;
  const x0 = Float64Array.from(x);
  const g1 = convGeom(B, 28, 28, 1, 32),
    g2 = convGeom(B, 14, 14, 32, 64);
  const r1 = convRef.forward(x0, p.w1, g1, p.b1, true);
  const p1 = poolRef.maxPool2d(r1, [B, 28, 28, 32], POOL);
  const r2 = convRef.forward(p1.y, p.w2, g2, p.b2, true);
  const p2 = poolRef.maxPool2d(r2, [B, 14, 14, 64], POOL); // [B,7,7,64] = [B,3136] in NHWC order
  const h3 = matmulRef.matmul(p2.y, mat(B, 3136), p.w3, mat(3136, 128), { bias: p.b3, relu: true });
  const logits = matmulRef.matmul(h3, mat(B, 128), p.w4, mat(128, CLASSES), { bias: p.b4 });
  const { loss, dlogits } = softmaxCeRef(logits, labels, CLASSES);
  // dense layer y = x.w + b, x [B,K], w [K,N]: dw = x^T.dz, dx = dz.w^T, db = column sums of dz
  const denseBackward = (xin: Float64Array, K: number, w: ArrayLike<number>, N: number, dz: Float64Array) => ({
    dw: matmulRef.matmul(xin, mat(B, K), dz, mat(B, N), { transA: true }),
    dx: matmulRef.matmul(dz, mat(B, N), w, mat(K, N), { transB: true }),
    db: convRef.biasGrad(dz, N),
  });
  const d4 = denseBackward(h3, 128, p.w4, CLASSES, dlogits);
  const d3 = denseBackward(p2.y, 3136, p.w3, 128, maskInPlace(d4.dx, h3));
  const dz2 = maskInPlace(poolRef.maxPool2dBackward(d3.dx, p2.argmax, [B, 14, 14, 64]), r2);
  const dz1 = maskInPlace(poolRef.maxPool2dBackward(convRef.inputGrad(dz2, p.w2, g2), p1.argmax, [B, 28, 28, 32]), r1);
  return {
    loss,
    grads: {
      w1: convRef.weightGrad(x0, dz1, g1),
      b1: convRef.biasGrad(dz1, 32),
      w2: convRef.weightGrad(p1.y, dz2, g2),
      b2: convRef.biasGrad(dz2, 64),
      w3: d3.dw,
      b3: d3.db,
      w4: d4.dw,
      b4: d4.db,
    },
  };
}

/** Number of values a step's output holds: the loss, then every parameter after the update. */
export const STEP_OUTPUT_SIZE = 1 + PARAM_NAMES.reduce((s, n) => s + size(PARAM_SHAPES[n]), 0);

/**
 * Check [loss, parameters after one SGD step (in PARAM_NAMES order)] against the float64 step
 * (reference.ts checkSgdStep, gradient tolerance 2e-3 of each tensor's largest).
 */
export function checkStep(
  out: Float32Array,
  p0: Params,
  ref: { loss: number; grads: Record<ParamName, Float64Array> },
): Check {
  const tensors = PARAM_NAMES.map((name) => ({ p0: p0[name], grad: ref.grads[name] }));
  return checkSgdStep(out, 'float64 LeNet step', { loss: ref.loss, tensors }, LR, 2e-3);
}
