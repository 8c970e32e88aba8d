// The MNIST LeNet used by the training-step benchmark, defined once for both sides:
//   conv 3x3 1->32 same + bias + ReLU, maxpool 2, conv 3x3 32->64 same + bias + ReLU, maxpool 2,
//   flatten (NHWC order) 3136, dense 3136->128 + ReLU, dense 128->10, softmax cross-entropy (mean),
//   SGD with momentum 0.9, lr 0.01.
// Seeded initial parameters and batches, and a float64 reference of ONE training step (forward,
// backward, update) that both ours and tfjs are validated against before they are timed.
// Layouts as everywhere here: x NHWC, conv weights HWIO, dense weights [in, out].

import { rng } from './reference.js';
import type { Check } from './types.js';

export const LR = 0.01;
export const MOMENTUM = 0.9;
export const CLASSES = 10;

export const PARAM_SHAPES = {
  w1: [3, 3, 1, 32], b1: [32],
  w2: [3, 3, 32, 64], b2: [64],
  w3: [3136, 128], b3: [128],
  w4: [128, 10], b4: [10],
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

// ---- float64 building blocks (3x3 'same' convolution: padding 1 on each side) ----

function conv3(x: Float64Array, N: number, H: number, W: number, C: number, w: ArrayLike<number>, O: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(N * H * W * O);
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++)
      for (let ww = 0; ww < W; ww++) {
        const yb = ((n * H + h) * W + ww) * O;
        for (let o = 0; o < O; o++) y[yb + o] = b[o];
        for (let kh = 0; kh < 3; kh++) {
          const ih = h + kh - 1;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < 3; kw++) {
            const iw = ww + kw - 1;
            if (iw < 0 || iw >= W) continue;
            const xb = ((n * H + ih) * W + iw) * C, wb = (kh * 3 + kw) * C * O;
            for (let c = 0; c < C; c++) {
              const xv = x[xb + c], wc = wb + c * O;
              for (let o = 0; o < O; o++) y[yb + o] += xv * w[wc + o];
            }
          }
        }
      }
  return y;
}

/** dX and dW of conv3 for upstream dy [N,H,W,O]. */
function conv3Backward(x: Float64Array, N: number, H: number, W: number, C: number, w: ArrayLike<number>, O: number, dy: Float64Array, wantDx: boolean) {
  const dw = new Float64Array(9 * C * O), dx = wantDx ? new Float64Array(N * H * W * C) : null;
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++)
      for (let ww = 0; ww < W; ww++) {
        const yb = ((n * H + h) * W + ww) * O;
        for (let kh = 0; kh < 3; kh++) {
          const ih = h + kh - 1;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < 3; kw++) {
            const iw = ww + kw - 1;
            if (iw < 0 || iw >= W) continue;
            const xb = ((n * H + ih) * W + iw) * C, wb = (kh * 3 + kw) * C * O;
            for (let c = 0; c < C; c++) {
              const xv = x[xb + c], wc = wb + c * O;
              let s = 0;
              for (let o = 0; o < O; o++) {
                dw[wc + o] += xv * dy[yb + o];
                s += dy[yb + o] * w[wc + o];
              }
              if (dx) dx[xb + c] += s;
            }
          }
        }
      }
  return { dw, dx };
}

/** 2x2 stride-2 max pool; argmax = flat input index (first maximum in scan order). */
function pool2(x: Float64Array, N: number, H: number, W: number, C: number) {
  const OH = H >> 1, OW = W >> 1;
  const y = new Float64Array(N * OH * OW * C), arg = new Int32Array(y.length);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let c = 0; c < C; c++) {
          let best = -Infinity, bi = 0;
          for (let kh = 0; kh < 2; kh++)
            for (let kw = 0; kw < 2; kw++) {
              const i = ((n * H + 2 * oh + kh) * W + 2 * ow + kw) * C + c;
              if (x[i] > best) (best = x[i]), (bi = i);
            }
          const o = ((n * OH + oh) * OW + ow) * C + c;
          y[o] = best;
          arg[o] = bi;
        }
  return { y, arg };
}

function dense(x: Float64Array, B: number, K: number, w: ArrayLike<number>, N: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(B * N);
  for (let i = 0; i < B; i++) {
    for (let n = 0; n < N; n++) y[i * N + n] = b[n];
    for (let k = 0; k < K; k++) {
      const xv = x[i * K + k];
      for (let n = 0; n < N; n++) y[i * N + n] += xv * w[k * N + n];
    }
  }
  return y;
}

function denseBackward(x: Float64Array, B: number, K: number, w: ArrayLike<number>, N: number, dz: Float64Array) {
  const dw = new Float64Array(K * N), db = new Float64Array(N), dx = new Float64Array(B * K);
  for (let i = 0; i < B; i++) {
    for (let n = 0; n < N; n++) db[n] += dz[i * N + n];
    for (let k = 0; k < K; k++) {
      const xv = x[i * K + k];
      let s = 0;
      for (let n = 0; n < N; n++) {
        dw[k * N + n] += xv * dz[i * N + n];
        s += dz[i * N + n] * w[k * N + n];
      }
      dx[i * K + k] = s;
    }
  }
  return { dw, db, dx };
}

const reluInPlace = (a: Float64Array) => { for (let i = 0; i < a.length; i++) if (a[i] < 0) a[i] = 0; return a; };
const maskInPlace = (d: Float64Array, y: Float64Array) => { for (let i = 0; i < d.length; i++) if (!(y[i] > 0)) d[i] = 0; return d; };
function biasGrad(d: Float64Array, C: number): Float64Array {
  const g = new Float64Array(C);
  for (let i = 0; i < d.length; i++) g[i % C] += d[i];
  return g;
}
function unpool(d: Float64Array, arg: Int32Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < d.length; i++) out[arg[i]] += d[i];
  return out;
}

/** Loss and gradients of one batch, in float64. */
export function lenetGrads(p: Params, x: Float32Array, labels: Uint32Array): { loss: number; grads: Record<ParamName, Float64Array> } {
  const B = labels.length;
  const x0 = Float64Array.from(x);
  const r1 = reluInPlace(conv3(x0, B, 28, 28, 1, p.w1, 32, p.b1));
  const p1 = pool2(r1, B, 28, 28, 32);
  const r2 = reluInPlace(conv3(p1.y, B, 14, 14, 32, p.w2, 64, p.b2));
  const p2 = pool2(r2, B, 14, 14, 64); // [B,7,7,64] = [B,3136] in NHWC order
  const h3 = reluInPlace(dense(p2.y, B, 3136, p.w3, 128, p.b3));
  const logits = dense(h3, B, 128, p.w4, CLASSES, p.b4);
  let loss = 0;
  const dlogits = new Float64Array(B * CLASSES);
  for (let i = 0; i < B; i++) {
    let mx = -Infinity;
    for (let k = 0; k < CLASSES; k++) mx = Math.max(mx, logits[i * CLASSES + k]);
    let s = 0;
    for (let k = 0; k < CLASSES; k++) s += Math.exp(logits[i * CLASSES + k] - mx);
    loss += (mx + Math.log(s) - logits[i * CLASSES + labels[i]]) / B;
    for (let k = 0; k < CLASSES; k++) dlogits[i * CLASSES + k] = (Math.exp(logits[i * CLASSES + k] - mx) / s - (k === labels[i] ? 1 : 0)) / B;
  }
  const d4 = denseBackward(h3, B, 128, p.w4, CLASSES, dlogits);
  const d3 = denseBackward(p2.y, B, 3136, p.w3, 128, maskInPlace(d4.dx, h3));
  const dz2 = maskInPlace(unpool(d3.dx, p2.arg, r2.length), r2);
  const c2 = conv3Backward(p1.y, B, 14, 14, 32, p.w2, 64, dz2, true);
  const dz1 = maskInPlace(unpool(c2.dx!, p1.arg, r1.length), r1);
  const c1 = conv3Backward(x0, B, 28, 28, 1, p.w1, 32, dz1, false);
  return {
    loss,
    grads: { w1: c1.dw, b1: biasGrad(dz1, 32), w2: c2.dw, b2: biasGrad(dz2, 64), w3: d3.dw, b3: d3.db, w4: d4.dw, b4: d4.db },
  };
}

/** Number of values a step's output holds: the loss, then every parameter after the update. */
export const STEP_OUTPUT_SIZE = 1 + PARAM_NAMES.reduce((s, n) => s + size(PARAM_SHAPES[n]), 0);

/**
 * Check [loss, parameters after one SGD step (in PARAM_NAMES order)] against the float64 step.
 * From zero velocity one step is p1 = p0 - lr*g, so the gradient the implementation used is
 * recovered as (p0 - p1)/lr and compared per parameter tensor:
 *   |g - g_ref| <= 2e-3 * max|g_ref| (over the tensor) + 2e-3 * |g_ref| + 2^-23 * |p0| / lr
 * (the last term: rounding of p1 itself). Gradients reduce up to B*H*W terms in f32, so they are
 * compared relative to the tensor's scale; a wrong kernel is off by O(max|g|). Loss: rtol 1e-4.
 */
export function checkStep(out: Float32Array, p0: Params, ref: { loss: number; grads: Record<ParamName, Float64Array> }): Check {
  const c: Check = { ok: true, against: 'float64 LeNet step', compared: 0, size: STEP_OUTPUT_SIZE, maxAbs: 0, maxRel: 0 };
  if (out.length !== STEP_OUTPUT_SIZE) {
    c.ok = false;
    c.worst = { index: -1, got: out.length, want: STEP_OUTPUT_SIZE, tol: 0 };
    return c;
  }
  const note = (i: number, got: number, want: number, tol: number) => {
    const d = Math.abs(got - want);
    c.compared++;
    if (d > c.maxAbs || Number.isNaN(d)) c.maxAbs = d;
    if (Math.abs(want) > 1e-6 && d / Math.abs(want) > c.maxRel) c.maxRel = d / Math.abs(want);
    if (!(d <= tol) && (c.ok || !c.worst)) (c.ok = false), (c.worst = { index: i, got, want, tol });
  };
  note(0, out[0], ref.loss, 1e-4 * Math.abs(ref.loss) + 1e-6);
  let off = 1;
  for (const name of PARAM_NAMES) {
    const g = ref.grads[name], w0 = p0[name];
    let gmax = 0;
    for (const v of g) gmax = Math.max(gmax, Math.abs(v));
    for (let i = 0; i < g.length; i++) {
      const used = (w0[i] - out[off + i]) / LR;
      note(off + i, used, g[i], 2e-3 * gmax + 2e-3 * Math.abs(g[i]) + (2 ** -23 * Math.abs(w0[i])) / LR);
    }
    off += g.length;
  }
  return c;
}
