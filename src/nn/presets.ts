// Ready-made networks: lenet (MNIST), resnet20 and vgg (32x32x3, CIFAR-sized).

import { Sequential } from './sequential.js';
import { InitRng } from './init.js';
import { Conv2d } from './conv.js';
import { Flatten, Linear } from './linear.js';
import { GlobalAvgPool, MaxPool2d } from './pooling.js';
import { BatchNorm2d } from './batchnorm.js';
import { ReLU } from './activations.js';
import { Residual } from './residual.js';
import { checkNumber, checkOptions } from '../ops/check.js';

/**
 * The LeNet-style MNIST CNN: conv3x3 1→32 + ReLU, maxpool 2, conv3x3 32→64 + ReLU, maxpool 2,
 * flatten, linear 3136→128 + ReLU, linear 128→10 ('same' padding; ReLUs fused into the conv and
 * matmul kernels). Input [N,28,28,1], output logits [N,10]. He-initialised from `seed`.
 * Parameters: 0.*, 2.*, 5.*, 6.* (421,642 scalars).
 */
export function lenet(opts: { seed?: number } = {}): Sequential {
  const rng = new InitRng(opts.seed ?? 0);
  const m = new Sequential([
    new Conv2d(1, 32, 3, { padding: 'same', relu: true, rng }),
    new MaxPool2d(2),
    new Conv2d(32, 64, 3, { padding: 'same', relu: true, rng }),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(7 * 7 * 64, 128, { relu: true, rng }),
    new Linear(128, 10, { init: 'glorot-uniform', rng }),
  ]);
  m.inputShape = [28, 28, 1];
  return m;
}

/** Options of {@link resnet20} and {@link vgg}. Throws on unknown keys, a non-integer seed or numClasses < 1. */
export interface PresetOptions {
  /** outputs of the last layer (default 10) */
  numClasses?: number;
  /** seed of the weight initialisers (default 0) */
  seed?: number;
}

function presetOptions(fn: string, opts: PresetOptions): { numClasses: number; rng: InitRng } {
  checkOptions(fn, 'opts', opts, ['numClasses', 'seed']);
  const numClasses = opts.numClasses ?? 10;
  checkNumber(fn, 'numClasses', numClasses, { int: true, min: 1 });
  if (opts.seed !== undefined) checkNumber(fn, 'seed', opts.seed, { int: true });
  return { numClasses, rng: new InitRng(opts.seed ?? 0) };
}

/** conv 3x3 (padding 1, no bias) + BatchNorm (+ ReLU), the unit of resnet20 and vgg */
const conv3 = (inC: number, outC: number, rng: InitRng, stride = 1) =>
  new Conv2d(inC, outC, 3, { stride, padding: 1, bias: false, rng });

/**
 * The CIFAR ResNet-20 of He et al. 2015 (section 4.2) for [N,32,32,3] input: conv3x3 3→16 + BN +
 * ReLU; three stages of three basic blocks at 16, 32 and 64 channels (a block: conv3x3 + BN +
 * ReLU + conv3x3 + BN, plus the shortcut, then ReLU; the first block of stages 2 and 3 has
 * stride 2 and a 1x1 conv (stride 2, no bias) + BN shortcut); global average pool; linear
 * 64→numClasses. Convolutions pad 1 and have no bias (PyTorch's padding=1).
 * Parameters torchvision-style: conv1.weight, bn1.*, layer1.0.conv1.weight, layer1.0.bn1.*,
 * layer2.0.downsample.0.weight, layer2.0.downsample.1.*, ..., fc.weight, fc.bias:
 * 272,474 trainable scalars for 10 classes (and 19 BatchNorms' running statistics).
 */
export function resnet20(opts: PresetOptions = {}): Sequential {
  const { numClasses, rng } = presetOptions('resnet20', opts);
  const stage = (inC: number, outC: number, stride: number) =>
    new Sequential(
      [0, 1, 2].map((b) => {
        const s = b === 0 ? stride : 1,
          c = b === 0 ? inC : outC;
        const body = new Sequential(
          [conv3(c, outC, rng, s), new BatchNorm2d(outC), new ReLU(), conv3(outC, outC, rng), new BatchNorm2d(outC)],
          { names: ['conv1', 'bn1', 'relu', 'conv2', 'bn2'] },
        );
        const shortcut =
          s !== 1 || c !== outC
            ? new Sequential([new Conv2d(c, outC, 1, { stride: s, bias: false, rng }), new BatchNorm2d(outC)])
            : undefined;
        return new Residual(body, { ...(shortcut && { shortcut }), relu: true });
      }),
    );
  const m = new Sequential(
    [
      conv3(3, 16, rng),
      new BatchNorm2d(16),
      new ReLU(),
      stage(16, 16, 1),
      stage(16, 32, 2),
      stage(32, 64, 2),
      new GlobalAvgPool(),
      new Linear(64, numClasses, { init: 'glorot-uniform', rng }),
    ],
    { names: ['conv1', 'bn1', 'relu', 'layer1', 'layer2', 'layer3', 'avgpool', 'fc'] },
  );
  m.inputShape = [32, 32, 3];
  return m;
}

/**
 * A small VGG-style net for [N,32,32,3] input: [conv3x3 (padding 1, no bias) + BN + ReLU] x2 at
 * 32 channels, maxpool 2; x2 at 64, maxpool 2; x2 at 128, maxpool 2; global average pool;
 * linear 128→numClasses. Parameters 0.weight, 1.* (BN), 3.weight, ..., 22.weight, 22.bias:
 * 288,554 trainable scalars for 10 classes.
 */
export function vgg(opts: PresetOptions = {}): Sequential {
  const { numClasses, rng } = presetOptions('vgg', opts);
  const layers = [];
  let c = 3;
  for (const w of [32, 64, 128]) {
    for (let k = 0; k < 2; k++, c = w) layers.push(conv3(c, w, rng), new BatchNorm2d(w), new ReLU());
    layers.push(new MaxPool2d(2));
  }
  const m = new Sequential([
    ...layers,
    new GlobalAvgPool(),
    new Linear(128, numClasses, { init: 'glorot-uniform', rng }),
  ]);
  m.inputShape = [32, 32, 3];
  return m;
}
