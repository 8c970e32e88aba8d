// Float64 CPU references for conv2d: forward, backward input, backward weight, bias grad and
// the fused-ReLU mask. Written as plain loops in the most direct form (backward ones scatter
// instead of gathering), so they share no indexing tricks with the GPU kernels they check.
// The backward references are themselves checked by finite differences (conv2d.suite.ts).

import type { ConvGeometry } from './geometry.js';

type Arr = ArrayLike<number>;

/** Calls f(x offset of the pixel read, y offset of the output pixel, w offset of the tap) for every in-bounds tap. */
function forEachTap(g: ConvGeometry, f: (xBase: number, yBase: number, wBase: number) => void): void {
  for (let n = 0; n < g.N; n++)
    for (let oh = 0; oh < g.OH; oh++)
      for (let ow = 0; ow < g.OW; ow++) {
        const yBase = ((n * g.OH + oh) * g.OW + ow) * g.O;
        for (let kh = 0; kh < g.KH; kh++) {
          const ih = oh * g.sh - g.pt + kh * g.dh;
          if (ih < 0 || ih >= g.H) continue;
          for (let kw = 0; kw < g.KW; kw++) {
            const iw = ow * g.sw - g.pl + kw * g.dw;
            if (iw < 0 || iw >= g.W) continue;
            f(((n * g.H + ih) * g.W + iw) * g.C, yBase, (kh * g.KW + kw) * g.C * g.O);
          }
        }
      }
}

/** y = conv(x, w) (+ bias) (then ReLU if relu). */
function forward(x: Arr, w: Arr, g: ConvGeometry, bias?: Arr | null, relu = false): Float64Array {
  const y = new Float64Array(g.N * g.OH * g.OW * g.O);
  forEachTap(g, (xb, yb, wb) => {
    for (let c = 0; c < g.C; c++) {
      const xv = x[xb + c];
      const wr = wb + c * g.O;
      for (let o = 0; o < g.O; o++) y[yb + o] += xv * w[wr + o];
    }
  });
  if (bias) for (let i = 0; i < y.length; i++) y[i] += bias[i % g.O];
  if (relu) for (let i = 0; i < y.length; i++) y[i] = Math.max(y[i], 0);
  return y;
}

/** dL/dx given dL/dy (scatter: every tap adds dy*w to the input pixel it read). */
function inputGrad(dy: Arr, w: Arr, g: ConvGeometry): Float64Array {
  const dx = new Float64Array(g.N * g.H * g.W * g.C);
  forEachTap(g, (xb, yb, wb) => {
    for (let c = 0; c < g.C; c++) {
      const wr = wb + c * g.O;
      let s = 0;
      for (let o = 0; o < g.O; o++) s += dy[yb + o] * w[wr + o];
      dx[xb + c] += s;
    }
  });
  return dx;
}

/** dL/dw given x and dL/dy. */
function weightGrad(x: Arr, dy: Arr, g: ConvGeometry): Float64Array {
  const dw = new Float64Array(g.KH * g.KW * g.C * g.O);
  forEachTap(g, (xb, yb, wb) => {
    for (let c = 0; c < g.C; c++) {
      const xv = x[xb + c];
      const wr = wb + c * g.O;
      for (let o = 0; o < g.O; o++) dw[wr + o] += xv * dy[yb + o];
    }
  });
  return dw;
}

/** dL/dbias: dy summed over N, OH, OW. */
function biasGrad(dy: Arr, O: number): Float64Array {
  const db = new Float64Array(O);
  for (let i = 0; i < dy.length; i++) db[i % O] += dy[i];
  return db;
}

/** y <= 0 ? 0 : dy (PyTorch's rule: a NaN y passes dy): the gradient through a fused ReLU. */
function reluMask(dy: Arr, y: Arr): Float64Array {
  return Float64Array.from(dy, (v, i) => (y[i] <= 0 ? 0 : v));
}

export const ref = { forward, inputGrad, weightGrad, biasGrad, reluMask };
