// Soak test: 10,000 replayed training steps of a small CNN, printing one JSON object per line
// every --every steps: GPU memory (pool stats, live tensors), queue counters (submits, bind
// groups, pipelines), the JS heap after a forced GC, and the size of a training checkpoint
// saved at that point (its size varies by a few bytes: the JSON header holds lr and position).
// Exits 1 if, after the first (capturing) steps, GPU memory, live tensors,
// buffer creations, bind-group or pipeline creations changed at any report, if the JS heap grew
// by more than --heap-slack MB, or if disposing the model, optimizer and step did not give every
// byte back.
//
//   npm run soak -- [--steps 10000] [--every 1000] [--batch 8] [--heap-slack 8]

import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { initNodeGPU } from '../test/harness/node-gpu.js';
import { Sequential } from '../src/nn/sequential.js';
import { BatchNorm2d } from '../src/nn/batchnorm.js';
import { Dropout } from '../src/nn/dropout.js';
import { MaxPool2d } from '../src/nn/pooling.js';
import { Conv2d } from '../src/nn/conv.js';
import { Flatten, Linear } from '../src/nn/linear.js';
import { softmaxCrossEntropy } from '../src/ops/loss/index.js';
import { Adam } from '../src/optim/optimizers.js';
import { cosineLr } from '../src/optim/schedule.js';
import { TrainStep } from '../src/train/step.js';
import { saveCheckpoint } from '../src/train/checkpoint.js';
import { InitRng } from '../src/nn/init.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '10000' },
    every: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '8' },
    'heap-slack': { type: 'string', default: '8' },
  },
});
const steps = Number(values.steps),
  every = Number(values.every),
  B = Number(values.batch),
  heapSlackMB = Number(values['heap-slack']);

// A forced GC makes heap figures comparable between reports (allowed at run time, no CLI flag).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heapMB = () => (gc(), Number((process.memoryUsage().heapUsed / 2 ** 20).toFixed(2)));

const e = await initNodeGPU();
e.flush();
const baseline = e.memory();
// A small CNN with every kind of layer state: conv (fused ReLU), BatchNorm running stats,
// dropout's GPU counter, Adam moments, clipping, an lr schedule.
const H = 12,
  C = 8,
  K = 10,
  BATCHES = 4;
const rng = new InitRng(1);
const model = new Sequential([
  new Conv2d(1, C, 3, { padding: 'same', relu: true, rng }),
  new BatchNorm2d(C),
  new MaxPool2d(2),
  new Dropout(0.1),
  new Flatten(),
  new Linear((H / 2) ** 2 * C, K, { rng }),
]);
const optimizer = new Adam(model.parameters(), { lr: cosineLr(1e-3, { totalSteps: steps }), clipNorm: 1 });
const step = new TrainStep({ model, optimizer, loss: softmaxCrossEntropy, inputShape: [B, H, H, 1] });

// a few fixed batches, cycled (each step writes a new batch into the step's input tensors)
const xs = Array.from({ length: BATCHES }, () => Float32Array.from({ length: B * H * H }, () => rng.normal()));
const ys = Array.from({ length: BATCHES }, (_, b) => Uint32Array.from({ length: B }, (_, i) => (i + b) % K));
const run = (k: number) => step.run(xs[k % BATCHES], ys[k % BATCHES]);

async function stats(k: number, t0: number) {
  const m = e.memory();
  const checkpointBytes = (await saveCheckpoint({ model, optimizer, data: { seed: 0, epoch: 0, batch: k } }))
    .byteLength;
  return {
    step: k,
    ms: Math.round(performance.now() - t0),
    ...m,
    submits: e.queue.counters.submits,
    bindGroupsCreated: e.queue.counters.bindGroupsCreated,
    pipelines: e.queue.pipelines.compiled,
    heapMB: heapMB(),
    rssMB: Number((process.memoryUsage().rss / 2 ** 20).toFixed(1)),
    checkpointBytes,
  };
}

const t0 = performance.now();
run(1); // capture
run(2); // first replay
await step.readLoss();
const first = await stats(2, t0);
console.log(JSON.stringify({ ...first, planBytes: step.planBytes }));
const FLAT = ['bytesAllocated', 'bytesInUse', 'liveTensors', 'createCount', 'bindGroupsCreated', 'pipelines'] as const;
const grew = new Set<string>();
let last = first,
  tLast = first.ms,
  kLast = 2;
for (let k = 3; k <= steps; k++) {
  run(k);
  if (k % every === 0 || k === steps) {
    const loss = await step.readLoss(); // waits for the GPU: bounds the queue
    last = await stats(k, t0);
    for (const f of FLAT) if (last[f] !== first[f]) grew.add(f);
    const msPerStep = Number(((last.ms - tLast) / (k - kLast)).toFixed(3));
    console.log(JSON.stringify({ ...last, loss, msPerStep }));
    (tLast = last.ms), (kLast = k);
  }
}
const heapGrowthMB = Number((last.heapMB - first.heapMB).toFixed(2));
if (heapGrowthMB > heapSlackMB) grew.add('heapMB');
step.dispose();
optimizer.dispose();
model.dispose();
e.flush();
const after = e.memory();
const leaked = (['bytesInUse', 'liveTensors'] as const).filter((f) => after[f] !== baseline[f]);
const perStep = (last.ms - first.ms) / (steps - 2);
console.log(
  JSON.stringify({
    done: true,
    steps,
    msPerStep: Number(perStep.toFixed(3)),
    heapGrowthMB,
    grew: [...grew],
    leakedAfterDispose: leaked,
    afterDispose: { bytesInUse: after.bytesInUse, liveTensors: after.liveTensors },
  }),
);
e.destroy();
process.exit(grew.size || leaked.length ? 1 : 0);
