// The LeNet training step in TensorFlow.js (the peer of our captured TrainStep): the network of
// lenet.ts with tfjs's fused conv2d / matMul (bias + ReLU epilogues, as tfjs-layers uses them),
// tf.losses.softmaxCrossEntropy and tf.train.momentum().minimize over tf.variables. Each run
// uploads the batch (like ours, which writes it into the step's input tensors) and keeps the
// loss on the GPU.

import type * as tfNs from '@tensorflow/tfjs-core';
import { CLASSES, LR, MOMENTUM, PARAM_NAMES, PARAM_SHAPES, type Params } from './lenet.js';
import { tfSubmit, type TF } from './peer-tfjs.js';
import type { Impl } from './types.js';

let uid = 0;

export function tfjsLenetStep(tf: TF, B: number, p0: Params, x: Float32Array, labels: Uint32Array): Impl {
  const tag = `lenet${++uid}`;
  const v = {} as Record<(typeof PARAM_NAMES)[number], tfNs.Variable>;
  for (const name of PARAM_NAMES)
    v[name] = tf.variable(tf.tensor(p0[name], [...PARAM_SHAPES[name]]), true, `${tag}_${name}`);
  const onehot = new Float32Array(B * CLASSES);
  labels.forEach((l, i) => (onehot[i * CLASSES + l] = 1));
  const opt = tf.train.momentum(LR, MOMENTUM);
  const varList = PARAM_NAMES.map((n) => v[n]);
  let loss: tfNs.Scalar | null = null;

  const lossOf = (xb: tfNs.Tensor4D, yb: tfNs.Tensor2D): tfNs.Scalar => {
    let h = tf.fused.conv2d({
      x: xb,
      filter: v.w1 as tfNs.Tensor4D,
      strides: 1,
      pad: 'same',
      bias: v.b1,
      activation: 'relu',
    });
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.fused.conv2d({
      x: h,
      filter: v.w2 as tfNs.Tensor4D,
      strides: 1,
      pad: 'same',
      bias: v.b2,
      activation: 'relu',
    });
    h = tf.maxPool(h, 2, 2, 'valid');
    const flat = tf.reshape(h, [B, 3136]) as tfNs.Tensor2D;
    const h3 = tf.fused.matMul({ a: flat, b: v.w3 as tfNs.Tensor2D, bias: v.b3, activation: 'relu' });
    const logits = tf.fused.matMul({ a: h3, b: v.w4 as tfNs.Tensor2D, bias: v.b4 });
    return tf.losses.softmaxCrossEntropy(yb, logits) as tfNs.Scalar;
  };

  return {
    run() {
      loss?.dispose();
      const xb = tf.tensor4d(x, [B, 28, 28, 1]);
      const yb = tf.tensor2d(onehot, [B, CLASSES]);
      loss = opt.minimize(() => lossOf(xb, yb), true, varList);
      xb.dispose();
      yb.dispose();
    },
    submit: tfSubmit,
    async read() {
      if (!loss) throw new Error('tfjs LeNet step: read() before run()');
      const parts = [await loss.data(), ...(await Promise.all(PARAM_NAMES.map((n) => v[n].data())))];
      const out = new Float32Array(parts.reduce((s, a) => s + a.length, 0));
      let off = 0;
      for (const a of parts) out.set(a, off), (off += a.length);
      return out;
    },
    dispose() {
      loss?.dispose();
      opt.dispose();
      for (const t of varList) t.dispose();
    },
  };
}
