// The ResNet-20 training step (bench/resnet.ts) at batch 128 on 32x32x3: forward, softmax
// cross-entropy, backward, SGD-momentum update, BatchNorm on batch statistics. Ours: the
// `resnet20()` preset as a captured TrainStep (one submit per step); tfjs: the same network
// built with tfjs-layers (resnet-tfjs.ts), optimizer.minimize. Both load the same seeded
// parameters by their torchvision names and run the same batch; both are validated against
// the float64 step before timing (the loss and every trainable parameter after one step).
// Timed with the wall clock, each run uploading the batch. Large: one step is ~5 GFLOP, minutes
// on SwiftShader — this is the workload for real GPUs.

import { resnet20 } from '../src/nn/presets.js';
import { SGD } from '../src/optim/optimizers.js';
import { TrainStep } from '../src/train/step.js';
import { softmaxCrossEntropy } from '../src/ops/loss/index.js';
import { engine } from '../src/runtime/engine.js';
import { shapeStr } from '../src/tensor/tensor.js';
import {
  checkResnetStep,
  initResnetParams,
  LR,
  makeResnetBatch,
  MOMENTUM,
  RESNET_STAGES,
  resnetGrads,
  resnetOutputSize,
  type ResnetParams,
} from './resnet.js';
import { tfjsResnetStep } from './resnet-tfjs.js';
import type { BenchCase, Impl } from './types.js';

const B = 128;

function oursResnetStep(p: ResnetParams, x: Float32Array, labels: Uint32Array): Impl {
  const model = resnet20();
  const named = new Map([...model.namedParameters(), ...model.namedBuffers()]);
  for (const [name, v] of Object.entries(p.values)) {
    const t = named.get(name);
    if (!t) throw new Error(`bench: resnet20() has no tensor ${name}`);
    if (t.shape.join() !== p.shapes[name].join())
      throw new Error(`bench: resnet20() ${name} is ${shapeStr(t.shape)}, expected ${shapeStr(p.shapes[name])}`);
    t.write(v);
  }
  const params = model.parameters();
  const optimizer = new SGD(params, { lr: LR, momentum: MOMENTUM });
  const step = new TrainStep({
    model,
    optimizer,
    loss: softmaxCrossEntropy,
    inputShape: [B, 32, 32, 3],
    coldStart: 'wait',
  });
  return {
    prepare: async () => void (await step.prepare()),
    run: () => step.run(x, labels),
    submit: () => engine().flush(),
    async read() {
      const out = new Float32Array(resnetOutputSize(p));
      out[0] = await step.readLoss();
      let off = 1;
      for (const name of p.trainable) {
        const t = named.get(name);
        if (!t) throw new Error(`bench: resnet20() has no parameter ${name}`);
        const d = (await t.read()) as Float32Array;
        out.set(d, off);
        off += d.length;
      }
      return out;
    },
    dispose() {
      step.dispose();
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** Useful FLOPs of one step: forward convs + dense, backward 2x forward minus the stem's dX. */
function stepFlops(): number {
  let fwd = 2 * B * 32 * 32 * 16 * 27; // stem
  const stem = fwd;
  let H = 32,
    C = 16;
  RESNET_STAGES.forEach((c, s) => {
    for (let b = 0; b < 3; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const Ho = H / stride;
      fwd += 2 * B * Ho * Ho * c * 9 * C + 2 * B * Ho * Ho * c * 9 * c;
      if (C !== c) fwd += 2 * B * Ho * Ho * c * C;
      (H = Ho), (C = c);
    }
  });
  fwd += 2 * B * 64 * 10;
  return 3 * fwd - stem;
}

export function resnetCases(): BenchCase[] {
  return [
    {
      id: `resnet20-step/captured/b${B}`,
      kernel: 'resnet20-step',
      variant: 'captured',
      shape: `batch ${B}, 32x32x3 (SGD momentum, BatchNorm training)`,
      large: true,
      flops: stepFlops(),
      bytes: 0,
      wallClock: true,
      peer: 'tfjs-layers ResNet-20, optimizer.minimize (same net and weights)',
      async setup({ tf }) {
        const p = initResnetParams(),
          { x, labels } = makeResnetBatch(B);
        const ref = resnetGrads(p, x, labels);
        return {
          ours: oursResnetStep(p, x, labels),
          peer: tf ? await tfjsResnetStep(tf, B, p, x, labels) : undefined,
          validate: (out) => checkResnetStep(out, p, ref),
          dispose() {},
        };
      },
    },
  ];
}
