// Pooling cases (memory-bound): max pooling (inference entry, and the training entry that also
// writes argmax indices), average pooling. NHWC. Reference: float64 max / mean over each window
// (cells inside the input only). Peers: tf.maxPool / tf.avgPool (NHWC, same padding rules); for
// the unpadded 'op' cases also jax-js's lax.reduceWindow with np.max / np.mean over NCHW (its
// input uploaded transposed, its output transposed back to be validated).

import {
  avgPool2d,
  maxPool2d,
  maxPool2dWithIndices,
  poolGeometry,
  poolWindow,
  type Pool2dOptions,
  type PoolGeometry,
} from '../src/ops/pool2d/index.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { dims, oursImpl, upload } from './impl.js';
import { tfImpl } from './peer-tfjs.js';
import { jaxArray, jaxImpl, nchwToNhwc, nhwcToNchw } from './peer-jax.js';
import { checkOutput, randomData, type ElementRef } from './reference.js';
import type { BenchCase } from './types.js';

interface Shape {
  x: [number, number, number, number];
  k: number;
  s: number;
  pad: 'valid' | 'same';
  note: string;
  large: boolean;
}

const SHAPES: Shape[] = [
  { x: [64, 28, 28, 32], k: 2, s: 2, pad: 'valid', note: 'LeNet pool1 b64', large: false },
  { x: [64, 14, 14, 64], k: 2, s: 2, pad: 'valid', note: 'LeNet pool2 b64', large: false },
  { x: [512, 28, 28, 32], k: 2, s: 2, pad: 'valid', note: 'LeNet pool1 b512', large: false },
  { x: [32, 112, 112, 64], k: 3, s: 2, pad: 'same', note: 'ResNet stem', large: true },
];

function maxRef(x: Float32Array, g: PoolGeometry): ElementRef {
  return (o) => {
    let m = -Infinity;
    for (const j of poolWindow(g, o)) m = Math.max(m, x[j]);
    return [m, Math.abs(m)];
  };
}

function avgRef(x: Float32Array, g: PoolGeometry): ElementRef {
  return (o) => {
    const cells = poolWindow(g, o);
    let s = 0,
      a = 0;
    for (const j of cells) (s += x[j]), (a += Math.abs(x[j]));
    return [s / cells.length, a / cells.length];
  };
}

export function poolCases(): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const sh of SHAPES) {
    const opts: Pool2dOptions = { kernel: sh.k, stride: sh.s, padding: sh.pad };
    const g = poolGeometry('bench', sh.x, opts);
    const nIn = sh.x.reduce((a, b) => a * b, 1);
    const nOut = g.N * g.OH * g.OW * g.C;
    const label = `${dims(sh.x)} k${sh.k}s${sh.s}${sh.pad === 'same' ? ' same' : ''}`;
    const variants = [
      { kernel: 'maxpool', variant: 'op', extra: 0, avg: false, fn: maxPool2d },
      { kernel: 'maxpool', variant: 'argmax', extra: 4 * nOut, avg: false, fn: maxWithIndices },
      { kernel: 'avgpool', variant: 'op', extra: 0, avg: true, fn: avgPool2d },
    ];
    for (const v of variants)
      cases.push({
        id: `${v.kernel}/${v.variant}/${dims(sh.x)}-k${sh.k}s${sh.s}`,
        kernel: v.kernel,
        variant: v.variant,
        shape: `${label} (${sh.note})`,
        large: sh.large,
        flops: v.avg ? nOut * g.KH * g.KW : 0,
        bytes: 4 * (nIn + nOut) + v.extra,
        peer: v.avg ? 'tf.avgPool' : 'tf.maxPool',
        jax:
          v.variant === 'op' && sh.pad === 'valid'
            ? `lax.reduceWindow(x, np.${v.avg ? 'mean' : 'max'}, [${sh.k}, ${sh.k}], [${sh.s}, ${sh.s}]) (NCHW)`
            : undefined,
        setup({ tf, jax }) {
          const x = randomData(nIn, 11);
          const tx = upload(tf, x, sh.x);
          const ref = v.avg ? avgRef(x, g) : maxRef(x, g);
          const peerX = tx.peer as import('@tensorflow/tfjs-core').Tensor4D | null;
          return {
            ours: oursImpl(() => v.fn(tx.ours, opts), [tx.ours]),
            peer: tf
              ? tfImpl(
                  () => (v.avg ? tf.avgPool(peerX!, sh.k, sh.s, sh.pad) : tf.maxPool(peerX!, sh.k, sh.s, sh.pad)),
                  [peerX!],
                )
              : undefined,
            jax: jax
              ? (() => {
                  const jx = jaxArray(jax, nhwcToNchw(x, sh.x), [g.N, g.C, sh.x[1], sh.x[2]]);
                  const reduce = v.avg ? (w: typeof jx) => jax.numpy.mean(w) : (w: typeof jx) => jax.numpy.max(w);
                  return jaxImpl(
                    () => jax.lax.reduceWindow(jx.ref, reduce, [sh.k, sh.k], [sh.s, sh.s]),
                    [jx],
                    (d) => nchwToNhwc(d, [g.N, g.OH, g.OW, g.C]),
                  );
                })()
              : undefined,
            validate: (out) => checkOutput(out, nOut, ref, g.KH * g.KW),
            dispose() {},
          };
        },
      });
  }
  return cases;
}

/** The training forward: y and the argmax indices (both freed on the next run). */
function maxWithIndices(x: Tensor, o: Pool2dOptions): [Tensor, Tensor] {
  const r = maxPool2dWithIndices(x, o);
  return [r.y, r.argmax];
}
