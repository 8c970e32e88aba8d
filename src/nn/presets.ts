// Ready-made networks.

import { Sequential } from './sequential.js';
import { InitRng } from './init.js';
import { Conv2d } from './conv.js';
import { Flatten, Linear } from './linear.js';
import { MaxPool2d } from './pooling.js';

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
