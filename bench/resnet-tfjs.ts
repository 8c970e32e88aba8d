// ResNet-20 (CIFAR) in TensorFlow.js, built with tfjs-layers (the peer of our captured
// TrainStep on the resnet20() preset): the same network, weights and batch as bench/resnet.ts.
// 3x3 convolutions pad by 1 on every side (PyTorch's padding=1; tfjs's 'same' would pad only
// bottom/right at stride 2), so they are a ZeroPadding2D + 'valid' conv. BatchNorm with
// epsilon 1e-5 and momentum 0.9 (PyTorch's 0.1). The training step is
// tf.train.momentum().minimize over the model applied with { training: true } (batch
// statistics, moving averages updated), softmax cross-entropy on the logits.

import type * as tfNs from '@tensorflow/tfjs-core';
import { CLASSES, LR, MOMENTUM, RESNET_STAGES, type ResnetParams } from './resnet.js';
import { tfSubmit, type TF } from './peer-tfjs.js';
import type { Impl } from './types.js';

type Layers = typeof import('@tensorflow/tfjs-layers');
type SymbolicTensor = import('@tensorflow/tfjs-layers').SymbolicTensor;

let uid = 0;

/** The tfjs-layers model with our initial parameters (names as in bench/resnet.ts). */
function buildModel(tf: TF, tfl: Layers, p: ResnetParams, B: number): import('@tensorflow/tfjs-layers').LayersModel {
  const tag = `resnet${++uid}`;
  const sets: [{ setWeights(w: tfNs.Tensor[]): void; getWeights(): tfNs.Tensor[] }, string[]][] = [];
  const conv = (x: SymbolicTensor, name: string, filters: number, k: number, stride: number) => {
    const padded = k === 3 ? (tfl.layers.zeroPadding2d({ padding: 1 }).apply(x) as SymbolicTensor) : x;
    const l = tfl.layers.conv2d({
      filters,
      kernelSize: k,
      strides: stride,
      padding: 'valid',
      useBias: false,
      name: `${tag}_${name}`,
    });
    sets.push([l, [`${name}.weight`]]);
    return l.apply(padded) as SymbolicTensor;
  };
  const bn = (x: SymbolicTensor, name: string) => {
    const l = tfl.layers.batchNormalization({ axis: 3, momentum: 0.9, epsilon: 1e-5, name: `${tag}_${name}` });
    sets.push([l, [`${name}.weight`, `${name}.bias`, `${name}.running_mean`, `${name}.running_var`]]);
    return l.apply(x) as SymbolicTensor;
  };
  const relu = (x: SymbolicTensor) => tfl.layers.reLU().apply(x) as SymbolicTensor;

  const input = tfl.input({ batchShape: [B, 32, 32, 3] });
  let h = relu(bn(conv(input, 'conv1', 16, 3, 1), 'bn1'));
  let inC = 16;
  RESNET_STAGES.forEach((c, s) => {
    for (let b = 0; b < 3; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const n = `layer${s + 1}.${b}`;
      let y = relu(bn(conv(h, `${n}.conv1`, c, 3, stride), `${n}.bn1`));
      y = bn(conv(y, `${n}.conv2`, c, 3, 1), `${n}.bn2`);
      const short = stride !== 1 || inC !== c ? bn(conv(h, `${n}.downsample.0`, c, 1, stride), `${n}.downsample.1`) : h;
      h = relu(tfl.layers.add().apply([y, short]) as SymbolicTensor);
      inC = c;
    }
  });
  h = tfl.layers.globalAveragePooling2d({}).apply(h) as SymbolicTensor;
  const fc = tfl.layers.dense({ units: CLASSES, name: `${tag}_fc` });
  sets.push([fc, ['fc.weight', 'fc.bias']]);
  const model = tfl.model({ inputs: input, outputs: fc.apply(h) as SymbolicTensor });
  for (const [layer, names] of sets)
    layer.setWeights(
      names.map((n) => {
        const v = p.values[n];
        if (!v) throw new Error(`tfjs ResNet-20: no initial value for ${n}`);
        return tf.tensor(v, layer.getWeights()[names.indexOf(n)].shape);
      }),
    );
  return model;
}

export async function tfjsResnetStep(
  tf: TF,
  B: number,
  p: ResnetParams,
  x: Float32Array,
  labels: Uint32Array,
): Promise<Impl> {
  const tfl = await import('@tensorflow/tfjs-layers');
  const model = buildModel(tf, tfl, p, B);
  const onehot = new Float32Array(B * CLASSES);
  labels.forEach((l, i) => (onehot[i * CLASSES + l] = 1));
  const opt = tf.train.momentum(LR, MOMENTUM);
  const trainable = model.trainableWeights.map((w) => w.read() as tfNs.Variable);
  let loss: tfNs.Scalar | null = null;
  return {
    run() {
      loss?.dispose();
      const xb = tf.tensor4d(x, [B, 32, 32, 3]);
      const yb = tf.tensor2d(onehot, [B, CLASSES]);
      loss = opt.minimize(
        () => tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true }) as tfNs.Tensor) as tfNs.Scalar,
        true,
        trainable,
      );
      xb.dispose();
      yb.dispose();
    },
    submit: tfSubmit,
    async read() {
      if (!loss) throw new Error('tfjs ResNet-20 step: read() before run()');
      // the loss, then the trainable parameters in bench/resnet.ts's order
      const byName = new Map<string, tfNs.Tensor>();
      for (const l of model.layers) {
        const names = p.layerNames.get(l.name.replace(/^resnet\d+_/, ''));
        if (names) l.trainableWeights.forEach((w, i) => byName.set(names[i], w.read()));
      }
      const parts = [await loss.data()];
      for (const n of p.trainable) {
        const t = byName.get(n);
        if (!t) throw new Error(`tfjs ResNet-20: no parameter ${n}`);
        parts.push((await t.data()) as Float32Array);
      }
      const out = new Float32Array(parts.reduce((s, a) => s + a.length, 0));
      let off = 0;
      for (const a of parts) out.set(a, off), (off += a.length);
      return out;
    },
    dispose() {
      loss?.dispose();
      opt.dispose();
      model.dispose();
    },
  };
}
