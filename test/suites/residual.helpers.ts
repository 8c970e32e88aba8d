// A float64 reference network for the residual suite: runs a spec layer (conv2d, batchnorm2d,
// relu, sequential, residual, globalavgpool, linear) on the CPU with parameters looked up by
// their spec names (modelParams), so a reference of a residual block or a whole ResNet is the
// spec itself interpreted plainly. BatchNorm: batch statistics in training mode, the given
// running statistics in eval mode (PyTorch's semantics, eps 1e-5 by default).
import { childName, residualChildren, sides, type LayerSpec } from '../../src/nn/spec.js';
import { ref as convRef } from '../../src/ops/conv2d/index.js';
import { convGeometry } from '../../src/ops/conv2d/geometry.js';
import { ref as bnRef } from '../../src/nn/batchnorm.js';

const join = (prefix: string, n: string) => (prefix ? `${prefix}.${n}` : n);

export type Values = Map<string, ArrayLike<number>>;
export interface Act {
  data: Float64Array;
  /** [N,H,W,C] or [N,F] */
  shape: number[];
}

/** y of layer `l` (parameters "<prefix>.weight" ..., or "weight" for prefix '') on x. */
export function refLayer(l: LayerSpec, prefix: string, x: Act, v: Values, training: boolean): Act {
  const p = (s: string) => {
    const t = v.get(join(prefix, s));
    if (!t) throw new Error(`reference: no value for ${prefix}.${s}`);
    return t;
  };
  switch (l.type) {
    case 'conv2d': {
      const k = typeof l.kernel === 'number' ? [l.kernel, l.kernel] : l.kernel;
      const [[pt, pb], [pl, pr]] = sides(l.padding === 'same' ? undefined : l.padding);
      if (pt !== pb || pl !== pr || l.padding === 'same') throw new Error('reference: symmetric numeric padding only');
      const g = convGeometry('ref', x.shape, [k[0], k[1], l.inC, l.outC], {
        stride: l.stride ?? 1,
        padding: [pt, pl],
      });
      const bias = (l.bias ?? true) ? p('bias') : null;
      return {
        data: convRef.forward(x.data, p('weight'), g, bias, l.activation === 'relu'),
        shape: [g.N, g.OH, g.OW, g.O],
      };
    }
    case 'batchnorm2d': {
      const C = l.channels,
        eps = l.eps ?? 1e-5;
      if (training) return { data: bnRef.batchNorm(x.data, C, p('weight'), p('bias'), eps).y, shape: x.shape };
      const [g, b, m, s] = [p('weight'), p('bias'), p('running_mean'), p('running_var')];
      const y = Float64Array.from(x.data, (t, i) => ((t - m[i % C]) / Math.sqrt(s[i % C] + eps)) * g[i % C] + b[i % C]);
      return { data: y, shape: x.shape };
    }
    case 'relu':
      return { data: x.data.map((t) => Math.max(t, 0)), shape: x.shape };
    case 'sequential':
      return l.layers.reduce((a, c, j) => refLayer(c, join(prefix, childName(l.names, j)), a, v, training), x);
    case 'residual': {
      const { body, shortcut } = residualChildren(l);
      const b = body.reduce((a, [n, c]) => refLayer(c, join(prefix, n), a, v, training), x);
      const s = shortcut ? refLayer(shortcut[1], join(prefix, shortcut[0]), x, v, training) : x;
      if (b.shape.join() !== s.shape.join()) throw new Error('reference: residual shapes differ');
      const y = b.data.map((t, i) => t + s.data[i]);
      return { data: l.relu ? y.map((t) => Math.max(t, 0)) : y, shape: b.shape };
    }
    case 'globalavgpool': {
      const [N, H, W, C] = x.shape;
      const y = new Float64Array(N * C);
      for (let i = 0; i < x.data.length; i++) {
        const n = Math.floor(i / (H * W * C));
        y[n * C + (i % C)] += x.data[i] / (H * W);
      }
      return { data: y, shape: [N, C] };
    }
    case 'linear': {
      const [N, F] = x.shape,
        w = p('weight'),
        y = new Float64Array(N * l.out);
      const bias = (l.bias ?? true) ? p('bias') : null;
      for (let n = 0; n < N; n++)
        for (let o = 0; o < l.out; o++) {
          let s = bias ? bias[o] : 0;
          for (let f = 0; f < F; f++) s += x.data[n * F + f] * w[f * l.out + o];
          y[n * l.out + o] = l.activation === 'relu' ? Math.max(s, 0) : s;
        }
      return { data: y, shape: [N, l.out] };
    }
    default:
      throw new Error(`reference: no ${l.type}`);
  }
}

/** A whole spec's layers (top-level names) on x. */
export function refModel(spec: { layers: LayerSpec[]; names?: string[] }, x: Act, v: Values, training: boolean): Act {
  return spec.layers.reduce((a, l, i) => refLayer(l, childName(spec.names, i), a, v, training), x);
}
