// ResNet-20 for 32x32x3 (He et al. 2015, the CIFAR variant), used by the training-step
// benchmark and defined once for every side: conv 3x3 3->16 + BN + ReLU; three stages of three
// basic blocks (16, 32, 64 channels; the first block of stages 2 and 3 has stride 2 and a
// 1x1 conv + BN shortcut); global average pool; dense 64->10; softmax cross-entropy (mean);
// SGD with momentum 0.9, lr 0.01. Every 3x3 conv pads 1 on each side (PyTorch's padding=1),
// convolutions have no bias, BatchNorm runs on batch statistics (training mode, eps 1e-5).
// Names are PyTorch's (torchvision-style): conv1.weight, bn1.weight, layer2.0.downsample.0.weight…
// Layouts as everywhere here: x NHWC, conv weights HWIO, dense weight [in, out].
//
// Seeded parameters and batch, and a float64 reference of ONE training step (forward, backward,
// update) that ours and tfjs are validated against before they are timed.

import { checkSgdStep, rng, softmaxCeRef } from './reference.js';
import { convGeometry, ref as convRef, type ConvGeometry } from '../src/ops/conv2d/index.js';
import { ref as matmulRef } from '../src/ops/matmul/index.js';
import type { Check } from './types.js';

export const LR = 0.01;
export const MOMENTUM = 0.9;
export const CLASSES = 10;
export const RESNET_STAGES = [16, 32, 64] as const;
const EPS = 1e-5;

export interface ResnetParams {
  /** every parameter and BatchNorm buffer by name */
  values: Record<string, Float32Array>;
  shapes: Record<string, number[]>;
  /** trainable parameter names, in the order the step's output lists them */
  trainable: string[];
  /** layer name (conv/bn/fc, without the parameter) -> its trainable names, in tfjs's order */
  layerNames: Map<string, string[]>;
}

interface Conv {
  name: string;
  C: number;
  O: number;
  k: number;
  stride: number;
}
interface Block {
  conv1: Conv;
  bn1: string;
  conv2: Conv;
  bn2: string;
  down: { conv: Conv; bn: string } | null;
}

function architecture(): { stem: Conv; blocks: Block[] } {
  const stem = { name: 'conv1', C: 3, O: 16, k: 3, stride: 1 };
  const blocks: Block[] = [];
  let inC = 16;
  RESNET_STAGES.forEach((c, s) => {
    for (let b = 0; b < 3; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const n = `layer${s + 1}.${b}`;
      blocks.push({
        conv1: { name: `${n}.conv1`, C: inC, O: c, k: 3, stride },
        bn1: `${n}.bn1`,
        conv2: { name: `${n}.conv2`, C: c, O: c, k: 3, stride: 1 },
        bn2: `${n}.bn2`,
        down:
          stride !== 1 || inC !== c
            ? { conv: { name: `${n}.downsample.0`, C: inC, O: c, k: 1, stride }, bn: `${n}.downsample.1` }
            : null,
      });
      inC = c;
    }
  });
  return { stem, blocks };
}

/** He-uniform conv and dense weights, BN scales near 1 and shifts near 0 (so both matter); seeded. */
export function initResnetParams(seed = 17): ResnetParams {
  const r = rng(seed);
  const p: ResnetParams = { values: {}, shapes: {}, trainable: [], layerNames: new Map() };
  const add = (name: string, shape: number[], f: () => number, trainable = true) => {
    p.values[name] = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, f);
    p.shapes[name] = shape;
    if (trainable) p.trainable.push(name);
  };
  const conv = (c: Conv) => {
    const lim = Math.sqrt(6 / (c.k * c.k * c.C));
    add(`${c.name}.weight`, [c.k, c.k, c.C, c.O], () => (2 * r() - 1) * lim);
    p.layerNames.set(c.name, [`${c.name}.weight`]);
  };
  const bn = (name: string, C: number) => {
    add(`${name}.weight`, [C], () => 1 + 0.2 * (r() - 0.5));
    add(`${name}.bias`, [C], () => 0.2 * (r() - 0.5));
    add(`${name}.running_mean`, [C], () => 0, false);
    add(`${name}.running_var`, [C], () => 1, false);
    p.layerNames.set(name, [`${name}.weight`, `${name}.bias`]);
  };
  const { stem, blocks } = architecture();
  conv(stem);
  bn('bn1', 16);
  for (const b of blocks) {
    conv(b.conv1);
    bn(b.bn1, b.conv1.O);
    conv(b.conv2);
    bn(b.bn2, b.conv2.O);
    if (b.down) {
      conv(b.down.conv);
      bn(b.down.bn, b.down.conv.O);
    }
  }
  const lim = Math.sqrt(6 / 64);
  add('fc.weight', [64, CLASSES], () => (2 * r() - 1) * lim);
  add('fc.bias', [CLASSES], () => 0.02 * (r() - 0.5));
  p.layerNames.set('fc', ['fc.weight', 'fc.bias']);
  return p;
}

/** A batch of B 32x32x3 images in [0, 1) and labels in [0, 10). */
export function makeResnetBatch(B: number, seed = 18): { x: Float32Array; labels: Uint32Array } {
  const r = rng(seed);
  return {
    x: Float32Array.from({ length: B * 32 * 32 * 3 }, () => r()),
    labels: Uint32Array.from({ length: B }, () => Math.floor(r() * CLASSES)),
  };
}

// ---- float64: batch-statistics BatchNorm over the channel (last) axis, and the step ----

function bnForward(x: Float64Array, gamma: ArrayLike<number>, beta: ArrayLike<number>, C: number) {
  const m = x.length / C;
  const mean = new Float64Array(C),
    varc = new Float64Array(C);
  for (let i = 0; i < x.length; i++) mean[i % C] += x[i] / m;
  for (let i = 0; i < x.length; i++) varc[i % C] += (x[i] - mean[i % C]) ** 2 / m;
  const inv = Float64Array.from(varc, (v) => 1 / Math.sqrt(v + EPS));
  const xhat = Float64Array.from(x, (v, i) => (v - mean[i % C]) * inv[i % C]);
  const y = Float64Array.from(xhat, (v, i) => gamma[i % C] * v + beta[i % C]);
  return { y, xhat, inv };
}

/** dx, dgamma, dbeta of y = gamma * xhat + beta with batch statistics. */
function bnBackward(
  dy: Float64Array,
  s: { xhat: Float64Array; inv: Float64Array },
  gamma: ArrayLike<number>,
  C: number,
) {
  const m = dy.length / C;
  const dg = new Float64Array(C),
    db = new Float64Array(C);
  for (let i = 0; i < dy.length; i++) (dg[i % C] += dy[i] * s.xhat[i]), (db[i % C] += dy[i]);
  const dx = Float64Array.from(
    dy,
    (v, i) => (gamma[i % C] * s.inv[i % C] * (m * v - db[i % C] - s.xhat[i] * dg[i % C])) / m,
  );
  return { dx, dg, db };
}

const relu = (x: Float64Array) => x.map((v) => Math.max(v, 0));
const reluBack = (dy: Float64Array, y: Float64Array) => dy.map((v, i) => (y[i] > 0 ? v : 0));

/**
 * Loss and gradients (by trainable name) of one batch, in float64 (parameters are read as
 * numbers: Float64Array values work too, for finite differences). `lossOnly` skips the backward.
 */
export function resnetGrads(p: ResnetParams, x: Float32Array, labels: Uint32Array, lossOnly = false) {
  const B = labels.length;
  const v = p.values;
  const grads: Record<string, Float64Array> = {};
  const tape: (() => void)[] = [];
  let H = 32;
  // each layer returns its output and pushes its backward closure, which reads and writes `d`
  const d = new Map<Float64Array, Float64Array>();
  const acc = (t: Float64Array, g: Float64Array) => {
    const cur = d.get(t);
    if (cur) for (let i = 0; i < g.length; i++) cur[i] += g[i];
    else d.set(t, g);
  };
  const conv = (xin: Float64Array, c: Conv, h: number) => {
    const pad = c.k === 3 ? 1 : 0;
    const g: ConvGeometry = convGeometry('resnet ref', [B, h, h, c.C], [c.k, c.k, c.C, c.O], {
      stride: c.stride,
      padding: [pad, pad],
    });
    const w = v[`${c.name}.weight`];
    const y = convRef.forward(xin, w, g);
    tape.push(() => {
      const dy = d.get(y)!;
      grads[`${c.name}.weight`] = convRef.weightGrad(xin, dy, g);
      acc(xin, convRef.inputGrad(dy, w, g));
    });
    return { y, h: g.OH };
  };
  const bn = (xin: Float64Array, name: string, C: number) => {
    const gamma = v[`${name}.weight`];
    const s = bnForward(xin, gamma, v[`${name}.bias`], C);
    tape.push(() => {
      const r = bnBackward(d.get(s.y)!, s, gamma, C);
      grads[`${name}.weight`] = r.dg;
      grads[`${name}.bias`] = r.db;
      acc(xin, r.dx);
    });
    return s.y;
  };
  const act = (xin: Float64Array) => {
    const y = relu(xin);
    tape.push(() => acc(xin, reluBack(d.get(y)!, y)));
    return y;
  };
  const { stem, blocks } = architecture();
  const x0 = Float64Array.from(x);
  let h = act(bn(conv(x0, stem, H).y, 'bn1', 16)); // (conv1's input gradient is computed and unused)
  for (const b of blocks) {
    const a = conv(h, b.conv1, H);
    const y1 = act(bn(a.y, b.bn1, b.conv1.O));
    const y2 = bn(conv(y1, b.conv2, a.h).y, b.bn2, b.conv2.O);
    const short = b.down ? bn(conv(h, b.down.conv, H).y, b.down.bn, b.down.conv.O) : h;
    const sum = Float64Array.from(y2, (val, i) => val + short[i]);
    tape.push(() => {
      const ds = d.get(sum)!;
      acc(y2, ds.slice());
      acc(short, ds.slice());
    });
    h = act(sum);
    H = a.h;
  }
  // global average pool [B,H,H,64] -> [B,64], dense -> logits
  const C = 64,
    HW = H * H;
  const pooled = new Float64Array(B * C);
  for (let i = 0; i < h.length; i++) pooled[Math.floor(i / (HW * C)) * C + (i % C)] += h[i] / HW;
  const logits = matmulRef.matmul(pooled, [1, B, C], v['fc.weight'], [1, C, CLASSES], { bias: v['fc.bias'] });
  const { loss, dlogits } = softmaxCeRef(logits, labels, CLASSES);
  if (lossOnly) return { loss, grads };
  grads['fc.weight'] = matmulRef.matmul(pooled, [1, B, C], dlogits, [1, B, CLASSES], { transA: true });
  grads['fc.bias'] = convRef.biasGrad(dlogits, CLASSES);
  const dpooled = matmulRef.matmul(dlogits, [1, B, CLASSES], v['fc.weight'], [1, C, CLASSES], { transB: true });
  d.set(
    h,
    Float64Array.from(h, (_, i) => dpooled[Math.floor(i / (HW * C)) * C + (i % C)] / HW),
  );
  for (let i = tape.length - 1; i >= 0; i--) tape[i]();
  return { loss, grads };
}

/** Values a step's output holds: the loss, then every trainable parameter after the update. */
export function resnetOutputSize(p: ResnetParams): number {
  return 1 + p.trainable.reduce((s, n) => s + p.values[n].length, 0);
}

/**
 * Check [loss, trainable parameters after one SGD step (p.trainable order)] against the float64
 * step (reference.ts checkSgdStep). BatchNorm's backward subtracts sums over B*H*W values, and
 * 20 layers compound it: at batch 128 both our f32 step and tfjs's leave single gradient elements
 * off by more than 5e-3 of their tensor's largest (first such element: ours 5.2e-5, tfjs 1.35e-4;
 * largest differences 1.8e-4 and 4.2e-4). So each tensor must match in norm,
 * |g - g_ref| <= 5e-2 |g_ref| (a wrong kernel is off by O(1)), and every element within 0.1 of
 * the tensor's largest gradient. Loss: rtol 1e-4.
 */
export function checkResnetStep(
  out: Float32Array,
  p: ResnetParams,
  ref: { loss: number; grads: Record<string, Float64Array> },
): Check {
  const tensors = p.trainable.map((name) => {
    const grad = ref.grads[name];
    if (!grad) throw new Error(`resnet reference: no gradient for ${name}`);
    return { p0: p.values[name], grad };
  });
  return checkSgdStep(out, 'float64 ResNet-20 step', { loss: ref.loss, tensors }, LR, 0.1, 5e-2);
}
