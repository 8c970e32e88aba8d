// The LeNet training step in jax-js (the second peer of our captured TrainStep): the network of
// lenet.ts written with jax-js's lax.conv (NCHW, OIHW), lax.reduceWindow max pooling, np.matmul
// and nn.logSoftmax, differentiated with valueAndGrad, SGD with momentum (v = m*v + g,
// p -= lr*v, as tf.train.momentum and ours), the whole step under jit (jax-js fuses and records
// it). Each run uploads the batch, like ours and tfjs.
//
// Layouts: jax-js convolves NCHW with OIHW weights, so w1 and w2 are uploaded transposed, and
// the flatten before dense1 runs over (c, h, w) instead of ours (h, w, c): w3's rows are
// permuted to match, which computes exactly the same function. read() converts everything back
// to our layout for checkStep.

import { CLASSES, LR, MOMENTUM, PARAM_NAMES, PARAM_SHAPES, type ParamName, type Params } from './lenet.js';
import { hwioToOihw, jaxArray, oihwToHwio, type JAX, type JaxArray } from './peer-jax.js';
import type { Impl } from './types.js';

type Tree = Record<ParamName, JaxArray>;

/** dense1 rows: ours (h, w, c) order <-> jax-js (c, h, w) order, for a [7, 7, 64] feature map. */
function w3ToJax(w: Float32Array): Float32Array {
  const out = new Float32Array(w.length),
    N = 128;
  for (let hw = 0; hw < 49; hw++)
    for (let c = 0; c < 64; c++) out.set(w.subarray((hw * 64 + c) * N, (hw * 64 + c + 1) * N), (c * 49 + hw) * N);
  return out;
}

function w3FromJax(w: Float32Array): Float32Array {
  const out = new Float32Array(w.length),
    N = 128;
  for (let hw = 0; hw < 49; hw++)
    for (let c = 0; c < 64; c++) out.set(w.subarray((c * 49 + hw) * N, (c * 49 + hw + 1) * N), (hw * 64 + c) * N);
  return out;
}

const JAX_SHAPE: Record<ParamName, number[]> = {
  w1: [32, 1, 3, 3],
  b1: [32],
  w2: [64, 32, 3, 3],
  b2: [64],
  w3: [3136, 128],
  b3: [128],
  w4: [128, 10],
  b4: [10],
};

function toJax(name: ParamName, d: Float32Array): Float32Array {
  if (name === 'w1' || name === 'w2') return hwioToOihw(d, PARAM_SHAPES[name]);
  return name === 'w3' ? w3ToJax(d) : d;
}

function fromJax(name: ParamName, d: Float32Array): Float32Array {
  if (name === 'w1' || name === 'w2') return oihwToHwio(d, PARAM_SHAPES[name]);
  return name === 'w3' ? w3FromJax(d) : d;
}

export function jaxLenetStep(jax: JAX, B: number, p0: Params, x: Float32Array, labels: Uint32Array): Impl {
  const { numpy: np, lax, nn } = jax;
  const onehot = new Float32Array(B * CLASSES);
  labels.forEach((l, i) => (onehot[i * CLASSES + l] = 1));
  const pool = (h: JaxArray) => lax.reduceWindow(h, (w) => np.max(w), [2, 2], [2, 2]);

  // Every jax-js function takes ownership of its array arguments (see peer-jax.ts).
  const lossOf = (p: Tree, xb: JaxArray, yb: JaxArray): JaxArray => {
    let h = nn.relu(lax.conv(xb, p.w1, [1, 1], 'SAME').add(p.b1.reshape([1, 32, 1, 1])));
    h = pool(h);
    h = nn.relu(lax.conv(h, p.w2, [1, 1], 'SAME').add(p.b2.reshape([1, 64, 1, 1])));
    h = pool(h).reshape([B, 3136]);
    const h3 = nn.relu(np.matmul(h, p.w3).add(p.b3));
    const logits = np.matmul(h3, p.w4).add(p.b4);
    return nn
      .logSoftmax(logits, -1)
      .mul(yb)
      .sum()
      .mul(-1 / B);
  };
  const step = jax.jit((p: Tree, v: Tree, xb: JaxArray, yb: JaxArray): [JaxArray, Tree, Tree] => {
    const kept = Object.fromEntries(PARAM_NAMES.map((n) => [n, p[n].ref])) as Tree;
    const [loss, g] = jax.valueAndGrad(lossOf)(kept, xb, yb) as [JaxArray, Tree];
    const nv = {} as Tree,
      np2 = {} as Tree;
    for (const n of PARAM_NAMES) {
      nv[n] = v[n].mul(MOMENTUM).add(g[n]);
      np2[n] = p[n].sub(nv[n].ref.mul(LR));
    }
    return [loss, np2, nv];
  });

  let params = Object.fromEntries(PARAM_NAMES.map((n) => [n, jaxArray(jax, toJax(n, p0[n]), JAX_SHAPE[n])])) as Tree;
  let vel = Object.fromEntries(PARAM_NAMES.map((n) => [n, np.zeros(JAX_SHAPE[n])])) as Tree;
  let loss: JaxArray | null = null;
  const live = () => [...PARAM_NAMES.map((n) => params[n]), ...PARAM_NAMES.map((n) => vel[n]), ...(loss ? [loss] : [])];

  return {
    run() {
      loss?.dispose();
      const xb = jaxArray(jax, x, [B, 1, 28, 28]); // C = 1: NHWC and NCHW hold the same data
      const yb = jaxArray(jax, onehot, [B, CLASSES]);
      [loss, params, vel] = step(params, vel, xb, yb) as [JaxArray, Tree, Tree];
    },
    submit() {
      // jax-js dispatches lazily: wait() submits and waits.
    },
    async wait() {
      await jax.blockUntilReady(live());
    },
    async read() {
      if (!loss) throw new Error('jax-js LeNet step: read() before run()');
      const parts = [(await loss.ref.data()) as Float32Array];
      for (const n of PARAM_NAMES) parts.push(fromJax(n, (await params[n].ref.data()) as Float32Array));
      const out = new Float32Array(parts.reduce((s, a) => s + a.length, 0));
      let off = 0;
      for (const a of parts) out.set(a, off), (off += a.length);
      return out;
    },
    dispose() {
      for (const a of live()) a.dispose();
      loss = null;
    },
  };
}
