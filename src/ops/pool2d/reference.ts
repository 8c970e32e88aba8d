// Float64 references for pooling: straightforward loops over windows; backward as a scatter.
// They share no indexing with the kernels they check (pool2d.suite.ts, the kernel fuzzer).

import type { Shape } from '../../tensor/tensor.js';
import { poolGeometry, type Pool2dOptions, type PoolGeometry } from './geometry.js';

/** The flat input indices (inside the input) of the window of output element o (c fastest). */
export function poolWindow(g: PoolGeometry, o: number): number[] {
  const c = o % g.C;
  let r = Math.floor(o / g.C);
  const ow = r % g.OW;
  r = Math.floor(r / g.OW);
  const oh = r % g.OH;
  const n = Math.floor(r / g.OH);
  const cells: number[] = [];
  for (let kh = 0; kh < g.KH; kh++) {
    const h = oh * g.SH - g.PT + kh;
    if (h < 0 || h >= g.H) continue;
    for (let kw = 0; kw < g.KW; kw++) {
      const w = ow * g.SW - g.PL + kw;
      if (w >= 0 && w < g.W) cells.push(((n * g.H + h) * g.W + w) * g.C + c);
    }
  }
  return cells;
}

/** Visit every output in order with its flat index and the flat input indices of its window. */
function eachWindow(g: PoolGeometry, f: (o: number, cells: number[]) => void): void {
  const total = g.N * g.OH * g.OW * g.C;
  for (let o = 0; o < total; o++) f(o, poolWindow(g, o));
}

export const ref = {
  maxPool2d(x: ArrayLike<number>, xShape: Shape, opts: Pool2dOptions): { y: Float64Array; argmax: Uint32Array } {
    const g = poolGeometry('ref.maxPool2d', xShape, opts);
    const n = g.N * g.OH * g.OW * g.C;
    const y = new Float64Array(n),
      argmax = new Uint32Array(n);
    eachWindow(g, (o, cells) => {
      let b = cells[0];
      // first maximum in scan order, like the kernel; NaN as PyTorch: the last NaN wins
      for (const j of cells) if (x[j] > x[b] || Number.isNaN(x[j])) b = j;
      y[o] = x[b];
      argmax[o] = b;
    });
    return { y, argmax };
  },
  maxPool2dBackward(dy: ArrayLike<number>, argmax: ArrayLike<number>, xShape: Shape): Float64Array {
    const dx = new Float64Array(xShape.reduce((a, b) => a * b, 1));
    for (let o = 0; o < dy.length; o++) dx[argmax[o]] += dy[o];
    return dx;
  },
  avgPool2d(x: ArrayLike<number>, xShape: Shape, opts: Pool2dOptions): Float64Array {
    const g = poolGeometry('ref.avgPool2d', xShape, opts);
    const y = new Float64Array(g.N * g.OH * g.OW * g.C);
    eachWindow(g, (o, cells) => {
      let s = 0;
      for (const j of cells) s += x[j];
      y[o] = s / (g.countIncludePad ? g.KH * g.KW : cells.length);
    });
    return y;
  },
  avgPool2dBackward(dy: ArrayLike<number>, xShape: Shape, opts: Pool2dOptions): Float64Array {
    const g = poolGeometry('ref.avgPool2dBackward', xShape, opts);
    const dx = new Float64Array(g.N * g.H * g.W * g.C);
    eachWindow(g, (o, cells) => {
      for (const j of cells) dx[j] += dy[o] / (g.countIncludePad ? g.KH * g.KW : cells.length);
    });
    return dx;
  },
  globalAvgPool(x: ArrayLike<number>, [N, H, W, C]: Shape): Float64Array {
    const y = new Float64Array(N * C);
    for (let n = 0; n < N; n++)
      for (let s = 0; s < H * W; s++) for (let c = 0; c < C; c++) y[n * C + c] += x[(n * H * W + s) * C + c] / (H * W);
    return y;
  },
  globalAvgPoolBackward(dy: ArrayLike<number>, [N, H, W, C]: Shape): Float64Array {
    const dx = new Float64Array(N * H * W * C);
    for (let i = 0; i < dx.length; i++) dx[i] = dy[Math.floor(i / (H * W * C)) * C + (i % C)] / (H * W);
    return dx;
  },
};
