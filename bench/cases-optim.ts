// Optimizer update cases (memory-bound, in place): Adam and SGD with momentum, per tensor (the
// LeNet dense1 weight) and flat over all LeNet parameters. Validation: the parameters after ONE
// step from a known state (m = v = velocity = 0, step 1) against float64; timing then keeps
// stepping (same work per step). Peer: tf.train.adam / tf.train.momentum applyGradients on a
// tf.variable (several elementwise kernels per step in tfjs).

import { adamStep, makeHyper, sgdStep } from '../src/ops/optim.js';
import { engine } from '../src/runtime/engine.js';
import { zeros } from '../src/ops/elementwise.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { upload } from './impl.js';
import { tfSubmit, type TF } from './peer-tfjs.js';
import { checkOutput, randomData } from './reference.js';
import type { BenchCase, Impl } from './types.js';

const LR = 0.01,
  B1 = 0.9,
  B2 = 0.999,
  EPS = 1e-8,
  MU = 0.9;
/** LeNet (conv 3x3 1->32, conv 3x3 32->64, dense 3136->128, dense 128->10) parameter count */
const LENET_PARAMS = 9 * 32 + 32 + 9 * 32 * 64 + 64 + 3136 * 128 + 128 + 128 * 10 + 10;

const SIZES = [
  { n: 3136 * 128, label: '401408 (LeNet dense1 W)', large: false },
  { n: LENET_PARAMS, label: `${LENET_PARAMS} (all LeNet params, flat)`, large: false },
  { n: 1 << 24, label: '16M', large: true },
];

/** In-place Impl: `step` updates `param`; read() returns param. */
function inPlace(step: () => void, param: Tensor, owned: Tensor[]): Impl {
  return {
    run: step,
    submit: () => engine().flush(),
    read: () => param.read() as Promise<Float32Array>,
    dispose: () => owned.forEach((t) => t.dispose()),
  };
}

let variables = 0;

function tfInPlace(tf: TF, p0: Float32Array, g: Float32Array, kind: 'adam' | 'sgd'): Impl {
  const name = `bench_param_${kind}_${++variables}`;
  const v = tf.variable(tf.tensor1d(p0), true, name);
  const grad = tf.tensor1d(g);
  const opt = kind === 'adam' ? tf.train.adam(LR, B1, B2, EPS) : tf.train.momentum(LR, MU);
  return {
    run: () => opt.applyGradients([{ name, tensor: grad }]),
    submit: tfSubmit,
    read: async () => Float32Array.from(await v.data()),
    dispose() {
      opt.dispose();
      v.dispose();
      grad.dispose();
    },
  };
}

export function optimCases(): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const { n, label, large } of SIZES) {
    cases.push({
      id: `adam/op/${n}`,
      kernel: 'adam',
      variant: 'op',
      shape: label,
      large,
      flops: 0,
      bytes: 7 * 4 * n, // read p, g, m, v; write p, m, v
      peer: 'tf.train.adam().applyGradients',
      setup({ tf }) {
        const p0 = randomData(n, 21),
          g = randomData(n, 22);
        const p = upload(null, p0, [n]).ours,
          gr = upload(null, g, [n]).ours;
        const m = zeros([n]),
          v = zeros([n]),
          hyper = makeHyper({ kind: 'adam', lr: LR, step: 1, beta1: B1, beta2: B2, eps: EPS });
        return {
          ours: inPlace(() => adamStep(p, gr, m, v, hyper), p, [p, gr, m, v, hyper]),
          peer: tf ? tfInPlace(tf, p0, g, 'adam') : undefined,
          // step 1 from m = v = 0: m = (1-b1) g, v = (1-b2) g^2, p -= lr * (m/(1-b1)) / (sqrt(v/(1-b2)) + eps)
          validate: (out) =>
            checkOutput(
              out,
              n,
              (i) => {
                const mm = (1 - B1) * g[i],
                  vv = (1 - B2) * g[i] * g[i];
                const upd = (LR * (mm / (1 - B1))) / (Math.sqrt(vv / (1 - B2)) + EPS);
                return [p0[i] - upd, Math.abs(p0[i]) + Math.abs(upd)];
              },
              8,
            ),
          dispose() {},
        };
      },
    });
    cases.push({
      id: `sgd-momentum/op/${n}`,
      kernel: 'sgd-momentum',
      variant: 'op',
      shape: label,
      large,
      flops: 0,
      bytes: 5 * 4 * n, // read p, g, vel; write p, vel
      peer: 'tf.train.momentum().applyGradients',
      setup({ tf }) {
        const p0 = randomData(n, 23),
          g = randomData(n, 24);
        const p = upload(null, p0, [n]).ours,
          gr = upload(null, g, [n]).ours;
        const vel = zeros([n]),
          hyper = makeHyper({ kind: 'sgd', lr: LR, momentum: MU });
        return {
          ours: inPlace(() => sgdStep(p, gr, vel, hyper), p, [p, gr, vel, hyper]),
          peer: tf ? tfInPlace(tf, p0, g, 'sgd') : undefined,
          // step 1 from vel = 0: vel = g, p -= lr * g
          validate: (out) => checkOutput(out, n, (i) => [p0[i] - LR * g[i], Math.abs(p0[i]) + Math.abs(LR * g[i])], 4),
          dispose() {},
        };
      },
    });
  }
  return cases;
}
