// conv2d cases (compute-bound): forward (naive, tiled implicit GEMM with the op's tiles and
// with tuned tile shapes, direct), backward input (dX) and backward weight (dW), each 'tiled' and
// 'direct' (src/ops/conv2d/choose.ts; the op itself picks direct on CPU adapters, in Node and in
// browsers, tiled elsewhere; direct needs 'subgroups' and is listed only where it can run the
// geometry). NHWC x, HWIO w, 'same' padding, stride 1 (the LeNet layers) plus a large
// 1x64x256x256 -> 128 layer. Large cases also time other direct configs (a tuning sweep), for
// docs/performance.md. Reference: float64 per output element (sampled when large,
// see reference.ts). Peers: tf.conv2d, Conv2DBackpropInput (tf.conv2dTranspose),
// Conv2DBackpropFilter (through tf.engine().runKernel: tfjs has no public op for it); for the
// forward pass ('tiled' and 'direct' cases) also jax-js's lax.conv, in its own layout (x NCHW,
// w OIHW: the inputs are uploaded transposed and its output is transposed back to be validated).

import {
  CONV2D,
  conv2d,
  conv2dInputGrad,
  conv2dWeightGrad,
  convGeometry,
  type Conv2dPass,
  type ConvGeometry,
} from '../src/ops/conv2d/index.js';
import { tiledForward, type ConvTiles } from '../src/ops/conv2d/tiled.js';
import { directForward, type DirectConfig } from '../src/ops/conv2d/direct.js';
import { engine } from '../src/runtime/engine.js';
import { conv2dNaive } from './naive.js';
import { dims, oursImpl, upload } from './impl.js';
import { tfImpl, type TF } from './peer-tfjs.js';
import { hwioToOihw, jaxArray, jaxImpl, nchwToNhwc, nhwcToNchw } from './peer-jax.js';
import { checkOutput, randomData, type ElementRef } from './reference.js';
import type { BenchCase } from './types.js';

interface Layer {
  x: [number, number, number, number];
  O: number;
  k: number;
  note: string;
  large: boolean;
}

const LAYERS: Layer[] = [
  { x: [64, 28, 28, 1], O: 32, k: 3, note: 'LeNet conv1 b64', large: false },
  { x: [64, 14, 14, 32], O: 64, k: 3, note: 'LeNet conv2 b64', large: false },
  { x: [512, 14, 14, 32], O: 64, k: 3, note: 'LeNet conv2 b512', large: true },
  { x: [1, 256, 256, 64], O: 128, k: 3, note: 'large', large: true },
];

/**
 * Tile shapes (TM x TN outputs, K step TK; 8x8 outputs per thread) timed besides the op's own
 * choice (src/ops/conv2d/choose.ts defaultConv2dTiles: by output channels).
 */
const TUNED: { name: string; tiles: ConvTiles; gpuOnly: boolean }[] = [
  { name: 'tiled-32x32x16', tiles: { TM: 32, TN: 32, TK: 16 }, gpuOnly: false },
  { name: 'tiled-128x64x16', tiles: { TM: 128, TN: 64, TK: 16 }, gpuOnly: false },
  { name: 'tiled-128x128x8', tiles: { TM: 128, TN: 128, TK: 8 }, gpuOnly: false },
];

/**
 * Direct-kernel configs (RW pixels x RH rows per thread, WG threads) timed besides the op's own
 * choice (src/ops/conv2d/direct.ts runConfig), forward only: what a CPU implementation prefers differs
 * (Dawn's SwiftShader in Node compiles with Subzero, Chromium's with LLVM). Listed as large
 * cases (a tuning sweep). Measured in Chromium on SwiftShader: the op's 7x2, 64 threads, was
 * the fastest or tied (44 ms on LeNet conv2 b64; 7x1 59 ms, 4x2 65 ms, 7x4 48 ms).
 */
const DIRECT_TUNED: DirectConfig[] = [
  { RW: 7, RH: 1, WG: 64 },
  { RW: 7, RH: 2, WG: 16 },
  { RW: 7, RH: 2, WG: 128 },
  { RW: 7, RH: 3, WG: 64 },
  { RW: 7, RH: 4, WG: 64 },
  { RW: 4, RH: 2, WG: 64 },
  { RW: 5, RH: 2, WG: 64 },
];

const PAD = 'same' as const;

// ---- float64 references, one element at a time (x: NHWC, w: HWIO, y/dy: NHWC) ----

function forwardRef(g: ConvGeometry, x: Float32Array, w: Float32Array): ElementRef {
  return (i) => {
    const o = i % g.O;
    let r = Math.floor(i / g.O);
    const ow = r % g.OW;
    r = Math.floor(r / g.OW);
    const oh = r % g.OH,
      n = Math.floor(r / g.OH);
    let s = 0,
      a = 0;
    for (let kh = 0; kh < g.KH; kh++) {
      const h = oh * g.sh - g.pt + kh * g.dh;
      if (h < 0 || h >= g.H) continue;
      for (let kw = 0; kw < g.KW; kw++) {
        const ww = ow * g.sw - g.pl + kw * g.dw;
        if (ww < 0 || ww >= g.W) continue;
        const xb = ((n * g.H + h) * g.W + ww) * g.C,
          wb = (kh * g.KW + kw) * g.C * g.O + o;
        for (let c = 0; c < g.C; c++) {
          const t = x[xb + c] * w[wb + c * g.O];
          s += t;
          a += Math.abs(t);
        }
      }
    }
    return [s, a];
  };
}

function inputGradRef(g: ConvGeometry, dy: Float32Array, w: Float32Array): ElementRef {
  return (i) => {
    const c = i % g.C;
    let r = Math.floor(i / g.C);
    const ww = r % g.W;
    r = Math.floor(r / g.W);
    const h = r % g.H,
      n = Math.floor(r / g.H);
    let s = 0,
      a = 0;
    for (let kh = 0; kh < g.KH; kh++) {
      const ohs = h + g.pt - kh * g.dh;
      if (ohs < 0 || ohs % g.sh) continue;
      const oh = ohs / g.sh;
      if (oh >= g.OH) continue;
      for (let kw = 0; kw < g.KW; kw++) {
        const ows = ww + g.pl - kw * g.dw;
        if (ows < 0 || ows % g.sw) continue;
        const ow = ows / g.sw;
        if (ow >= g.OW) continue;
        const db = ((n * g.OH + oh) * g.OW + ow) * g.O,
          wb = ((kh * g.KW + kw) * g.C + c) * g.O;
        for (let o = 0; o < g.O; o++) {
          const t = dy[db + o] * w[wb + o];
          s += t;
          a += Math.abs(t);
        }
      }
    }
    return [s, a];
  };
}

function weightGradRef(g: ConvGeometry, x: Float32Array, dy: Float32Array): ElementRef {
  return (i) => {
    const o = i % g.O;
    let r = Math.floor(i / g.O);
    const c = r % g.C;
    r = Math.floor(r / g.C);
    const kw = r % g.KW,
      kh = Math.floor(r / g.KW);
    let s = 0,
      a = 0;
    for (let n = 0; n < g.N; n++)
      for (let oh = 0; oh < g.OH; oh++) {
        const h = oh * g.sh - g.pt + kh * g.dh;
        if (h < 0 || h >= g.H) continue;
        for (let ow = 0; ow < g.OW; ow++) {
          const ww = ow * g.sw - g.pl + kw * g.dw;
          if (ww < 0 || ww >= g.W) continue;
          const t = x[((n * g.H + h) * g.W + ww) * g.C + c] * dy[((n * g.OH + oh) * g.OW + ow) * g.O + o];
          s += t;
          a += Math.abs(t);
        }
      }
    return [s, a];
  };
}

// ---- cases ----

type Pass = 'forward' | 'dX' | 'dW';
const PASS: Record<Pass, Conv2dPass> = { forward: 'forward', dX: 'inputGrad', dW: 'weightGrad' };

/**
 * variant: 'naive' | 'tiled' | 'direct' | a tuned tile name (then `tiles` is set) | a direct
 * config name (then `direct` is set; forward only).
 */
function conv(
  l: Layer,
  pass: Pass,
  variant: string,
  tiles: ConvTiles | null,
  large: boolean,
  direct?: DirectConfig,
): BenchCase {
  const wShape: [number, number, number, number] = [l.k, l.k, l.x[3], l.O];
  const g = convGeometry('bench', l.x, wShape, { padding: PAD });
  const yShape: [number, number, number, number] = [g.N, g.OH, g.OW, g.O];
  const nx = l.x.reduce((a, b) => a * b, 1),
    nw = wShape.reduce((a, b) => a * b, 1),
    ny = yShape.reduce((a, b) => a * b, 1);
  const flops = 2 * ny * g.KH * g.KW * g.C;
  const kernel = pass === 'forward' ? 'conv2d' : `conv2d-${pass}`;
  const v = variant.startsWith('direct') ? ('direct' as const) : ('tiled' as const);
  return {
    id: `${kernel}/${variant}/${dims(l.x)}-${l.O}`,
    kernel,
    variant,
    shape: `${dims(l.x)} ${l.k}x${l.k} -> ${l.O} (${l.note})`,
    large,
    requires: v === 'direct' ? 'subgroups' : undefined,
    available:
      v === 'direct' ? () => CONV2D[PASS[pass]].problem({ variant: 'direct' }, g, engine()) === null : undefined,
    flops,
    bytes: 4 * (nx + nw + ny),
    peer:
      pass === 'forward'
        ? 'tf.conv2d'
        : pass === 'dX'
          ? 'tf.conv2dTranspose (Conv2DBackpropInput)'
          : 'Conv2DBackpropFilter kernel',
    jax:
      pass === 'forward' && (variant === 'tiled' || variant === 'direct')
        ? "lax.conv(x, w, [1, 1], 'SAME') (NCHW, OIHW)"
        : undefined,
    setup({ tf, jax }) {
      const x = randomData(nx, 31),
        w = randomData(nw, 32),
        dy = randomData(ny, 33);
      if (pass === 'forward') {
        const tx = upload(tf, x, l.x),
          tw = upload(tf, w, wShape);
        const run =
          variant === 'naive'
            ? () => conv2dNaive(tx.ours, tw.ours, { padding: PAD })
            : tiles
              ? () => tiledForward(tx.ours, tw.ours, g, undefined, false, tiles)
              : direct
                ? () => directForward(tx.ours, tw.ours, g, undefined, false, direct)
                : () => conv2d(tx.ours, tw.ours, { padding: PAD, kernel: v });
        return {
          ours: oursImpl(run, [tx.ours, tw.ours]),
          peer: tf
            ? tfImpl(() => tf.conv2d(tx.peer as never, tw.peer as never, 1, PAD), [tx.peer!, tw.peer!])
            : undefined,
          jax: jax
            ? (() => {
                const jx = jaxArray(jax, nhwcToNchw(x, l.x), [l.x[0], l.x[3], l.x[1], l.x[2]]);
                const jw = jaxArray(jax, hwioToOihw(w, wShape), [l.O, l.x[3], l.k, l.k]);
                return jaxImpl(
                  () => jax.lax.conv(jx.ref, jw.ref, [1, 1], 'SAME'),
                  [jx, jw],
                  (d) => nchwToNhwc(d, yShape),
                );
              })()
            : undefined,
          validate: (out) => checkOutput(out, ny, forwardRef(g, x, w), g.KH * g.KW * g.C),
          dispose() {},
        };
      }
      if (pass === 'dX') {
        const tdy = upload(tf, dy, yShape),
          tw = upload(tf, w, wShape);
        return {
          ours: oursImpl(
            () => conv2dInputGrad(tdy.ours, tw.ours, l.x, { padding: PAD, kernel: v }),
            [tdy.ours, tw.ours],
          ),
          peer: tf
            ? tfImpl(() => tf.conv2dTranspose(tdy.peer as never, tw.peer as never, l.x, 1, PAD), [tdy.peer!, tw.peer!])
            : undefined,
          validate: (out) => checkOutput(out, nx, inputGradRef(g, dy, w), g.KH * g.KW * g.O),
          dispose() {},
        };
      }
      const tx = upload(tf, x, l.x),
        tdy = upload(tf, dy, yShape);
      return {
        ours: oursImpl(
          () => conv2dWeightGrad(tx.ours, tdy.ours, wShape, { padding: PAD, kernel: v }),
          [tx.ours, tdy.ours],
        ),
        peer: tf ? tfImpl(() => backpropFilter(tf, tx.peer!, tdy.peer!, wShape), [tx.peer!, tdy.peer!]) : undefined,
        validate: (out) => checkOutput(out, nw, weightGradRef(g, x, dy), g.N * g.OH * g.OW),
        dispose() {},
      };
    },
  };
}

function backpropFilter(
  tf: TF,
  x: import('@tensorflow/tfjs-core').Tensor,
  dy: import('@tensorflow/tfjs-core').Tensor,
  filterShape: number[],
) {
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
    strides: [1, 1],
    pad: PAD,
    dataFormat: 'NHWC',
    filterShape,
  } as never) as import('@tensorflow/tfjs-core').Tensor;
}

export function convCases(): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const l of LAYERS) {
    cases.push(conv(l, 'forward', 'naive', null, l.large));
    for (const pass of ['forward', 'dX', 'dW'] as const) {
      cases.push(conv(l, pass, 'tiled', null, l.large));
      cases.push(conv(l, pass, 'direct', null, l.large));
      // tile tuning on the layers with channels to tile over (not conv1's C = 1)
      if (pass === 'forward' && l.x[3] >= 32)
        for (const t of TUNED) cases.push(conv(l, 'forward', t.name, t.tiles, l.large || t.gpuOnly));
      if (pass === 'forward' && l.x[3] >= 32)
        for (const d of DIRECT_TUNED) cases.push(conv(l, 'forward', `direct-${d.RW}x${d.RH}-wg${d.WG}`, null, true, d)); // --large: a tuning sweep
    }
  }
  return cases;
}
