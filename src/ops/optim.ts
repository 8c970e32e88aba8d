// Optimizer kernels: SGD (momentum, Nesterov), Adam and AdamW updates, and clipping by global
// gradient norm, all on the GPU with no readback. Kernels: shaders/optim.wgsl.
//
// These are the documented exception to "ops only write tensors they create": the step
// functions update `param` and the optimizer state (velocity, m, v) IN PLACE, and clipScale
// scales gradients in place. One dispatch per parameter tensor, or one for all parameters
// when they live in one flat buffer (the *Flat variants, optional per-element decay mask).
//
// Hyper-parameters live in a small f32 GPU tensor `hyper` [8], not in uniforms: a captured
// training step (queue.beginCapture / replay) re-encodes the same commands with the same
// uniform bytes, so anything that changes between steps (lr schedule, step count for Adam's
// bias correction) must be read from a buffer the host rewrites with `writeHyper`.
//   [0] lr  [1] beta1 | momentum  [2] beta2  [3] eps  [4] weightDecay
//   [5] decoupled (0: L2, wd*p added to the gradient; 1: p -= lr*wd*p, AdamW / SGDW)
//   [6] bc1 = 1 - beta1^t  [7] bc2 = 1 - beta2^t   (t = step, from 1; 1 for SGD)
// Not here: parameter groups, schedules and state management (src/optim).

import { engine } from '../runtime/engine.js';
import type { PooledBuffer } from '../runtime/pool.js';
import { empty, tensor, shapeStr, type Tensor } from '../tensor/tensor.js';
import { checkNumber, checkSameShape, checkTensor } from './check.js';
import { grid1d } from './grid.js';

const WG = 256;
/** Upper bound of workgroups (and so partials) per tensor in the norm reduction. */
const NORM_GROUPS = 256;

/** Number of f32 values in an optimizer's `hyper` tensor (see {@link HYPER} for the slots). */
export const HYPER_SIZE = 8;
/** Slot of each hyper-parameter in the `hyper` tensor. */
export const HYPER = {
  lr: 0,
  beta1: 1,
  momentum: 1,
  beta2: 2,
  eps: 3,
  weightDecay: 4,
  decoupled: 5,
  bc1: 6,
  bc2: 7,
} as const;

/**
 * Settings of one optimizer update, which {@link hyperArray} turns into the floats of `hyper`: lr, and
 * for SGD momentum (default 0) and weight decay, for Adam the step t (from 1), betas (default 0.9,
 * 0.999), eps (default 1e-8) and weight decay (default 0; 'adamw': 0.01, decoupled).
 */
export type HyperParams =
  | { kind: 'sgd'; lr: number; momentum?: number; weightDecay?: number; decoupled?: boolean }
  | {
      kind: 'adam' | 'adamw';
      lr: number;
      step: number;
      beta1?: number;
      beta2?: number;
      eps?: number;
      weightDecay?: number;
    };

/** The 8 floats of `hyper` for these settings ('adamw' = decoupled decay, PyTorch default wd 0.01). */
export function hyperArray(h: HyperParams, op = 'hyperArray'): Float32Array {
  const out = new Float32Array(HYPER_SIZE);
  out[HYPER.lr] = checkNumber(op, 'lr', h.lr, { min: 0 });
  if (h.kind === 'sgd') {
    out[HYPER.momentum] = checkNumber(op, 'momentum', h.momentum ?? 0, { min: 0 });
    out[HYPER.weightDecay] = checkNumber(op, 'weightDecay', h.weightDecay ?? 0, { min: 0 });
    out[HYPER.decoupled] = h.decoupled ? 1 : 0;
    out[HYPER.bc1] = out[HYPER.bc2] = 1;
  } else if (h.kind === 'adam' || h.kind === 'adamw') {
    const b1 = checkNumber(op, 'beta1', h.beta1 ?? 0.9, { min: 0 });
    const b2 = checkNumber(op, 'beta2', h.beta2 ?? 0.999, { min: 0 });
    if (b1 >= 1 || b2 >= 1)
      throw new RangeError(`webgpu-cnn: ${op}: 'beta1' and 'beta2' must be < 1, got ${b1}, ${b2}`);
    const t = checkNumber(op, 'step', h.step, { int: true, min: 1 });
    out[HYPER.beta1] = b1;
    out[HYPER.beta2] = b2;
    out[HYPER.eps] = checkNumber(op, 'eps', h.eps ?? 1e-8, { min: 0 });
    out[HYPER.weightDecay] = checkNumber(op, 'weightDecay', h.weightDecay ?? (h.kind === 'adamw' ? 0.01 : 0), {
      min: 0,
    });
    out[HYPER.decoupled] = h.kind === 'adamw' ? 1 : 0;
    // Computed in float64 on the host: 1 - 0.999^t loses digits in f32 for small t.
    out[HYPER.bc1] = 1 - b1 ** t;
    out[HYPER.bc2] = 1 - b2 ** t;
  } else
    throw new TypeError(
      `webgpu-cnn: ${op}: 'kind' must be 'sgd', 'adam' or 'adamw', got ${JSON.stringify((h as { kind: unknown }).kind)}`,
    );
  return out;
}

/** A new `hyper` tensor [8] holding these settings. */
export function makeHyper(h: HyperParams): Tensor {
  return tensor(hyperArray(h, 'makeHyper'), [HYPER_SIZE]);
}

/** Rewrite `hyper` (e.g. each step: new lr, step count). Flushes recorded work that reads it. */
export function writeHyper(hyper: Tensor, h: HyperParams): void {
  checkHyper('writeHyper', hyper);
  hyper.write(hyperArray(h, 'writeHyper'));
}

function checkHyper(op: string, hyper: Tensor): void {
  checkTensor(op, 'hyper', hyper, 'f32');
  if (hyper.size !== HYPER_SIZE)
    throw new RangeError(`webgpu-cnn: ${op}: 'hyper' must have ${HYPER_SIZE} elements, got ${shapeStr(hyper.shape)}`);
}

function checkState(op: string, param: Tensor, named: Record<string, Tensor | null | undefined>): void {
  checkTensor(op, 'param', param, 'f32');
  for (const [k, t] of Object.entries(named)) {
    if (!t) continue;
    checkTensor(op, k, t, 'f32');
    checkSameShape(op, param, t, 'param', k);
    if (t.buffer === param.buffer) throw new Error(`webgpu-cnn: ${op}: '${k}' must not share its buffer with 'param'`);
  }
}

function checkFlat(op: string, param: Tensor, named: Record<string, Tensor | null | undefined>): void {
  checkTensor(op, 'flatParams', param, 'f32', 1);
  checkState(op, param, named);
}

/** An update over n elements, 4 per thread (vec4 views of the buffers: see shaders/optim.wgsl). */
function run(op: string, entry: string, n: number, nesterov: boolean, buffers: Record<string, PooledBuffer>): void {
  const n4 = Math.ceil(n / 4);
  engine().queue.dispatch({
    shader: 'optim',
    entry,
    op,
    constants: { WG },
    buffers,
    workgroups: grid1d(n4, WG),
    uniforms: { n: n4, nesterov: nesterov ? 1 : 0 },
  });
}

/** Options of {@link sgdStep} and {@link sgdStepFlat}: Nesterov momentum (default false; needs a velocity tensor). */
export interface SgdOptions {
  nesterov?: boolean;
}

function sgdRun(
  op: string,
  param: Tensor,
  grad: Tensor,
  velocity: Tensor | null,
  hyper: Tensor,
  nesterov: boolean,
  wdScale?: Tensor,
): void {
  if (nesterov && !velocity) throw new Error(`webgpu-cnn: ${op}: Nesterov momentum needs a 'velocity' tensor`);
  const buffers: Record<string, PooledBuffer> = { hyper: hyper.buffer, param: param.buffer, grad: grad.buffer };
  if (velocity) buffers.vel = velocity.buffer;
  if (wdScale) buffers.wd_scale = wdScale.buffer;
  const entry = (velocity ? 'sgd' : 'sgd_plain') + (wdScale ? '_masked' : '');
  run(op, entry, param.size, nesterov, buffers);
}

/**
 * One SGD step in place (PyTorch semantics, dampening 0): d = g + wd*p; v = mu*v + d;
 * p -= lr * (nesterov ? d + mu*v : v). `velocity` starts at zero; pass null for plain SGD
 * (momentum in `hyper` is then ignored).
 */
export function sgdStep(
  param: Tensor,
  grad: Tensor,
  velocity: Tensor | null,
  hyper: Tensor,
  opts: SgdOptions = {},
): void {
  checkState('sgdStep', param, { grad, velocity });
  checkHyper('sgdStep', hyper);
  sgdRun('sgdStep', param, grad, velocity, hyper, !!opts.nesterov);
}

/** Adam / AdamW step in place (which one: `hyper`'s decoupled flag). m, v start at zero. */
export function adamStep(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, hyper: Tensor): void {
  checkState('adamStep', param, { grad, m, v });
  if (m.buffer === v.buffer) throw new Error(`webgpu-cnn: adamStep: 'm' and 'v' must be different tensors`);
  checkHyper('adamStep', hyper);
  run('adamStep', 'adam', param.size, false, {
    hyper: hyper.buffer,
    param: param.buffer,
    grad: grad.buffer,
    m: m.buffer,
    v: v.buffer,
  });
}

/** Options of the flat-buffer optimizer kernels ({@link sgdStepFlat}, {@link adamStepFlat}). */
export interface FlatOptions {
  /** per-element multiplier of weightDecay (f32, same length), e.g. 0 for biases, 1 for weights */
  wdScale?: Tensor;
}

/** SGD over all parameters packed in one flat buffer: one dispatch. */
export function sgdStepFlat(
  flatParams: Tensor,
  flatGrads: Tensor,
  velocity: Tensor | null,
  hyper: Tensor,
  opts: SgdOptions & FlatOptions = {},
): void {
  checkFlat('sgdStepFlat', flatParams, { flatGrads, velocity, wdScale: opts.wdScale });
  checkHyper('sgdStepFlat', hyper);
  sgdRun('sgdStepFlat', flatParams, flatGrads, velocity, hyper, !!opts.nesterov, opts.wdScale);
}

/** Adam / AdamW over all parameters packed in one flat buffer: one dispatch. */
export function adamStepFlat(
  flatParams: Tensor,
  flatGrads: Tensor,
  m: Tensor,
  v: Tensor,
  hyper: Tensor,
  opts: FlatOptions = {},
): void {
  checkFlat('adamStepFlat', flatParams, { flatGrads, m, v, wdScale: opts.wdScale });
  if (m.buffer === v.buffer) throw new Error(`webgpu-cnn: adamStepFlat: 'm' and 'v' must be different tensors`);
  checkHyper('adamStepFlat', hyper);
  const buffers: Record<string, PooledBuffer> = {
    hyper: hyper.buffer,
    param: flatParams.buffer,
    grad: flatGrads.buffer,
    m: m.buffer,
    v: v.buffer,
  };
  if (opts.wdScale) buffers.wd_scale = opts.wdScale.buffer;
  run('adamStepFlat', opts.wdScale ? 'adam_masked' : 'adam', flatParams.size, false, buffers);
}

/**
 * Sum of squares of every element of every tensor, as a GPU tensor [1]. Two stages with a
 * fixed reduction order (deterministic for fixed shapes): per-tensor workgroup partials, then
 * one workgroup sums the partials.
 */
export function globalNormSq(grads: readonly Tensor[]): Tensor {
  if (!Array.isArray(grads)) throw new TypeError(`webgpu-cnn: globalNormSq: 'grads' must be an array of tensors`);
  grads.forEach((t, i) => checkTensor('globalNormSq', `grads[${i}]`, t, 'f32'));
  const groups = grads.map((t) => Math.min(Math.ceil(t.size / WG), NORM_GROUPS));
  const count = groups.reduce((a, b) => a + b, 0);
  const q = engine().queue;
  const partials = empty([Math.max(count, 1)]);
  let offset = 0;
  grads.forEach((t, i) => {
    q.dispatch({
      shader: 'optim',
      entry: 'norm_partials',
      op: 'globalNormSq',
      constants: { WG },
      uniforms: { n: t.size, offset },
      buffers: { src: t.buffer, partials: partials.buffer },
      workgroups: [groups[i]],
    });
    offset += groups[i];
  });
  const normSq = empty([1]);
  q.dispatch({
    shader: 'optim',
    entry: 'norm_final',
    op: 'globalNormSq',
    constants: { WG },
    uniforms: { count },
    buffers: { partials: partials.buffer, norm_sq: normSq.buffer },
    workgroups: [1],
  });
  partials.dispose(); // back to the pool after the next submit, so the dispatches above still see it
  return normSq;
}

/** grads *= min(1, maxNorm / sqrt(normSq[0])) in place, reading the norm on the GPU. */
export function clipScale(grads: readonly Tensor[], normSq: Tensor, maxNorm: number): void {
  checkTensor('clipScale', 'normSq', normSq, 'f32');
  if (normSq.size !== 1)
    throw new RangeError(`webgpu-cnn: clipScale: 'normSq' must have 1 element, got ${shapeStr(normSq.shape)}`);
  checkNumber('clipScale', 'maxNorm', maxNorm, { min: 0 });
  grads.forEach((t, i) => checkTensor('clipScale', `grads[${i}]`, t, 'f32'));
  for (const t of grads)
    engine().queue.dispatch({
      shader: 'optim',
      entry: 'clip_scale',
      op: 'clipScale',
      constants: { WG },
      workgroups: grid1d(t.size, WG),
      uniforms: { n: t.size, max_norm: maxNorm },
      buffers: { g: t.buffer, norm_sq: normSq.buffer },
    });
}

/** Clip gradients in place by their global L2 norm (PyTorch clip_grad_norm_, no epsilon); returns normSq [1]. */
export function clipByGlobalNorm(grads: readonly Tensor[], maxNorm: number): Tensor {
  const normSq = globalNormSq(grads);
  clipScale(grads, normSq, maxNorm);
  return normSq;
}

/** Float64 references: one step each, returning new arrays (inputs untouched). */
export const ref = {
  sgd(
    p: ArrayLike<number>,
    g: ArrayLike<number>,
    vel: ArrayLike<number> | null,
    h: ArrayLike<number>,
    nesterov = false,
    wdScale?: ArrayLike<number>,
  ) {
    const [lr, mu, , , wd0, dec] = Array.from(h);
    const pn = new Float64Array(p.length),
      vn = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const wd = wd0 * (wdScale ? wdScale[i] : 1);
      let pi = p[i],
        d = g[i];
      if (dec) pi *= 1 - lr * wd;
      else d += wd * pi;
      vn[i] = vel ? mu * vel[i] + d : d;
      pn[i] = pi - lr * (vel && nesterov ? d + mu * vn[i] : vn[i]);
    }
    return { p: pn, vel: vn };
  },
  adam(
    p: ArrayLike<number>,
    g: ArrayLike<number>,
    m: ArrayLike<number>,
    v: ArrayLike<number>,
    h: ArrayLike<number>,
    wdScale?: ArrayLike<number>,
  ) {
    const [lr, b1, b2, eps, wd0, dec, bc1, bc2] = Array.from(h);
    const n = p.length;
    const pn = new Float64Array(n),
      mn = new Float64Array(n),
      vn = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const wd = wd0 * (wdScale ? wdScale[i] : 1);
      let pi = p[i],
        d = g[i];
      if (dec) pi *= 1 - lr * wd;
      else d += wd * pi;
      mn[i] = b1 * m[i] + (1 - b1) * d;
      vn[i] = b2 * v[i] + (1 - b2) * d * d;
      pn[i] = pi - (lr * (mn[i] / bc1)) / (Math.sqrt(vn[i] / bc2) + eps);
    }
    return { p: pn, m: mn, v: vn };
  },
  globalNormSq(grads: readonly ArrayLike<number>[]): number {
    let s = 0;
    for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
    return s;
  },
  clip(grads: readonly ArrayLike<number>[], maxNorm: number): Float64Array[] {
    const norm = Math.sqrt(ref.globalNormSq(grads));
    const s = norm > maxNorm ? maxNorm / norm : 1;
    return grads.map((g) => Float64Array.from(g, (x) => x * s));
  },
};
