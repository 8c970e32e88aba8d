// Soak test: 10,000 replayed training steps of a small model, printing memory and queue stats
// as one JSON object per line every --every steps. Exits 1 if GPU memory, live tensors, buffer
// creations or bind-group creations grew after the first (capturing) steps.
//
//   npm run soak -- [--steps 10000] [--every 1000] [--batch 8]

import { parseArgs } from 'node:util';
import { initNodeGPU } from '../test/harness/node-gpu.js';
import { Sequential } from '../src/nn/sequential.js';
import { BatchNorm2d } from '../src/nn/batchnorm.js';
import { Dropout } from '../src/nn/dropout.js';
import { MaxPool2d } from '../src/nn/pooling.js';
import { Conv2d } from '../src/nn/conv.js';
import { Flatten, Linear } from '../src/nn/linear.js';
import { softmaxCrossEntropy } from '../src/ops/loss.js';
import { Adam } from '../src/optim/optimizers.js';
import { cosineLr } from '../src/optim/schedule.js';
import { TrainStep } from '../src/train/step.js';
import { InitRng } from '../src/nn/init.js';

const { values } = parseArgs({
  options: { steps: { type: 'string', default: '10000' }, every: { type: 'string', default: '1000' }, batch: { type: 'string', default: '8' } },
});
const steps = Number(values.steps), every = Number(values.every), B = Number(values.batch);

const e = await initNodeGPU();
// A small CNN with every kind of layer state: conv (fused ReLU), BatchNorm running stats,
// dropout's GPU counter, Adam moments, clipping.
const H = 12, C = 8, K = 10;
const rng = new InitRng(1);
const model = new Sequential([
  new Conv2d(1, C, 3, { padding: 'same', relu: true, rng }), new BatchNorm2d(C), new MaxPool2d(2), new Dropout(0.1),
  new Flatten(), new Linear((H / 2) ** 2 * C, K, { rng }),
]);
const optimizer = new Adam(model.parameters(), { lr: cosineLr(1e-3, { totalSteps: steps }), clipNorm: 1 });
const step = new TrainStep({ model, optimizer, loss: softmaxCrossEntropy, inputShape: [B, H, H, 1] });

const x = Float32Array.from({ length: B * H * H }, () => rng.normal());
const y = Uint32Array.from({ length: B }, (_, i) => i % K);

function stats(k: number, t0: number) {
  const m = e.memory();
  return {
    step: k, ms: Math.round(performance.now() - t0), ...m,
    submits: e.queue.counters.submits, bindGroupsCreated: e.queue.counters.bindGroupsCreated, pipelines: e.queue.pipelines.compiled,
  };
}

const t0 = performance.now();
step.run(x, y); // capture
step.run(x, y); // first replay
await step.readLoss();
const first = stats(2, t0);
console.log(JSON.stringify({ ...first, planBytes: step.planBytes }));
for (let k = 3; k <= steps; k++) {
  step.run(x, y);
  if (k % every === 0 || k === steps) {
    const loss = await step.readLoss(); // waits for the GPU: bounds the queue
    console.log(JSON.stringify({ ...stats(k, t0), loss }));
  }
}
const last = stats(steps, t0);
const grew = (['bytesAllocated', 'bytesInUse', 'liveTensors', 'createCount', 'bindGroupsCreated', 'pipelines'] as const)
  .filter((k) => last[k] !== first[k]);
step.dispose();
optimizer.dispose();
model.dispose();
const perStep = (last.ms - first.ms) / (steps - 2);
console.log(JSON.stringify({ done: true, steps, msPerStep: Number(perStep.toFixed(3)), grew }));
e.destroy();
process.exit(grew.length ? 1 : 0);
