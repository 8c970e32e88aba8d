// The full LeNet training step (forward, loss, backward, SGD-momentum update) at batch 64 and
// 512: ours as a TrainStep (captured: recorded once, replayed with one submit; eager: ops run
// every step; quick, batch 64: captured on the quick kernels, what a tiered start's first steps
// run while the fast kernels compile), tfjs's optimizer.minimize and a jitted jax-js step (lenet-jax.ts) on the same
// network, weights and batch (lenet.ts). Each side's first run (ours after step.prepare(),
// which compiles the step's pipelines at once) is reported as the cold first step ('first ms',
// cold only when the case runs alone in a fresh page or process). All are validated against the float64 step (loss, and every parameter after one step from
// the shared initial weights) before timing. Timed with the wall clock: a step's host work
// (recording, uploads, submit) is part of its cost. Each run uploads the batch.
//
// The finiteness check (TrainStep's default, src/ops/finite.ts) is priced twice: the b64 step
// without it ('captured-nocheck', beside 'captured') and the check's own dispatches alone over
// tensors of LeNet's parameter shapes ('finite-check'), whose time is what a step pays for it
// without the step's noise.

import { lenet } from '../src/nn/presets.js';
import { SGD } from '../src/optim/optimizers.js';
import { TrainStep } from '../src/train/step.js';
import { softmaxCrossEntropy } from '../src/ops/loss/index.js';
import { engine } from '../src/runtime/engine.js';
import { shapeStr, tensor } from '../src/tensor/tensor.js';
import { finiteStatus, recordFinite } from '../src/ops/finite.js';
import { oursImpl } from './impl.js';
import {
  checkStep,
  initParams,
  lenetGrads,
  LR,
  makeBatch,
  MOMENTUM,
  PARAM_NAMES,
  PARAM_SHAPES,
  STEP_OUTPUT_SIZE,
  type Params,
} from './lenet.js';
import { tfjsLenetStep } from './lenet-tfjs.js';
import { jaxLenetStep } from './lenet-jax.js';
import type { BenchCase, Impl } from './types.js';

type Variant = 'captured' | 'captured-nocheck' | 'eager' | 'quick';

function oursLenetStep(B: number, p0: Params, x: Float32Array, labels: Uint32Array, variant: Variant): Impl {
  const model = lenet();
  const params = model.parameters();
  PARAM_NAMES.forEach((name, i) => {
    const want = PARAM_SHAPES[name];
    if (params[i].shape.join() !== want.join())
      throw new Error(
        `bench: lenet parameter ${i} is ${shapeStr(params[i].shape)}, expected ${name} ${shapeStr(want)}`,
      );
    params[i].write(p0[name]);
  });
  const optimizer = new SGD(params, { lr: LR, momentum: MOMENTUM });
  // captured and eager: the fast kernels (the steady state); quick: a tiered start's first
  // steps; captured-nocheck: without the finiteness check (its cost, beside 'captured')
  const step = new TrainStep({
    model,
    optimizer,
    loss: softmaxCrossEntropy,
    inputShape: [B, 28, 28, 1],
    capture: variant !== 'eager',
    coldStart: variant === 'quick' ? 'quick' : 'wait',
    checkFinite: variant !== 'captured-nocheck',
  });
  return {
    prepare: async () => void (await step.prepare()),
    run: () => step.run(x, labels),
    submit: () => engine().flush(),
    async read() {
      const out = new Float32Array(STEP_OUTPUT_SIZE);
      out[0] = await step.readLoss();
      let off = 1;
      for (const p of params) {
        const d = (await p.read()) as Float32Array;
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

/** Useful FLOPs of one step: forward, then backward = 2x forward minus conv1's dX (no input gradient). */
function stepFlops(B: number): number {
  const conv1 = 2 * B * 28 * 28 * 32 * 9,
    conv2 = 2 * B * 14 * 14 * 64 * 9 * 32;
  const fwd = conv1 + conv2 + 2 * B * 3136 * 128 + 2 * B * 128 * 10;
  return fwd + 2 * fwd - conv1;
}

/**
 * The finiteness check alone: its dispatches (src/ops/finite.ts) over a loss and 8 tensors of
 * LeNet's parameter shapes, one of which holds a NaN. Output: the status as numbers.
 */
function finiteCheckCase(): BenchCase {
  const shapes: number[][] = PARAM_NAMES.map((n) => [...PARAM_SHAPES[n]]);
  const values = shapes.reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
  const BAD = PARAM_NAMES.indexOf('b3'); // the tensor that gets the NaN (its last value)
  return {
    id: 'finite-check/op/lenet',
    kernel: 'finite-check',
    variant: 'op',
    shape: `loss + ${shapes.length} tensors, ${values} values (LeNet's gradients)`,
    large: false,
    flops: 0,
    bytes: 4 * (values + 1),
    peer: '',
    setup() {
      const loss = tensor([2.5]);
      const grads = shapes.map((sh, i) => {
        const d = new Float32Array(sh.reduce((a, b) => a * b, 1)).fill(0.25);
        if (i === BAD) d[d.length - 1] = Number.NaN;
        return tensor(d, sh);
      });
      // status words: the loss's bits (2.5 = 0x40200000, exact as a float), its flag, one per tensor
      const want = [0x40200000, 0, ...shapes.map((_, i) => (i === BAD ? 1 : 0))];
      return {
        ours: oursImpl(() => {
          const status = finiteStatus(grads.length);
          recordFinite(status, loss, grads);
          return status;
        }, [loss, ...grads]),
        validate: (out) => {
          const ok = out.length === want.length && want.every((v, i) => out[i] === v);
          return {
            ok,
            against: 'the planted NaN',
            compared: want.length,
            size: out.length,
            maxAbs: ok ? 0 : 1,
            maxRel: 0,
          };
        },
        dispose() {},
      };
    },
  };
}

export function lenetCases(): BenchCase[] {
  const cases: BenchCase[] = [finiteCheckCase()];
  for (const B of [64, 512])
    for (const variant of ['captured', 'captured-nocheck', 'eager', 'quick'] as const) {
      if ((variant === 'quick' || variant === 'captured-nocheck') && B !== 64) continue;
      const capture = variant !== 'eager';
      const peers = variant === 'captured'; // the peers once, beside our steady step
      cases.push({
        id: `lenet-step/${variant}/b${B}`,
        kernel: 'lenet-step',
        variant,
        shape: `batch ${B} (SGD momentum${variant === 'captured-nocheck' ? ', checkFinite: false' : ''})`,
        // batch 512 takes minutes per step on SwiftShader; the eager variant is for comparison
        large: B > 64 || !capture,
        flops: stepFlops(B),
        bytes: 0,
        wallClock: true,
        peer: peers ? 'tf.train.momentum().minimize (same net, fused conv/matMul)' : '',
        jax: peers ? 'jit(valueAndGrad + momentum update) (same net, NCHW)' : undefined,
        setup({ tf, jax }) {
          const p0 = initParams(),
            { x, labels } = makeBatch(B);
          const ref = lenetGrads(p0, x, labels);
          return {
            ours: oursLenetStep(B, p0, x, labels, variant),
            peer: tf && peers ? tfjsLenetStep(tf, B, p0, x, labels) : undefined,
            jax: jax && peers ? jaxLenetStep(jax, B, p0, x, labels) : undefined,
            validate: (out) => checkStep(out, p0, ref),
            dispose() {},
          };
        },
      });
    }
  return cases;
}
