// Validation before dispatch: every public op, given a bad shape, dtype or parameter, throws
// before recording anything, with a message that names the op, the argument, what was
// expected and what was given. One table row per bad call.
import { suite } from '../harness/define.js';
import { assertEqual, assertThrows } from '../harness/assert.js';
import { engine } from '../../src/runtime/engine.js';
import { empty, tensor } from '../../src/tensor/tensor.js';
import { endScope, startScope } from '../../src/tensor/scope.js';
import { add, full, mul, scale, sub } from '../../src/ops/elementwise.js';
import { conv2d, conv2dInputGrad, conv2dWeightGrad } from '../../src/ops/conv2d/index.js';
import { bmm, matmul } from '../../src/ops/matmul/index.js';
import { leakyRelu, relu, reluBackward, sigmoid, tanhBackward } from '../../src/ops/activations.js';
import { mean, sum } from '../../src/ops/reduce.js';
import { flatten, reshape } from '../../src/ops/shape.js';
import { accuracy, argmax, softmaxCrossEntropy } from '../../src/ops/loss/index.js';
import {
  avgPool2d,
  avgPool2dBackward,
  globalAvgPool,
  globalAvgPoolBackward,
  maxPool2d,
  maxPool2dBackward,
} from '../../src/ops/pool2d/index.js';
import { adamStep, makeHyper, sgdStep } from '../../src/ops/optim.js';

const f = (...shape: number[]) => empty(shape);
const u = (...shape: number[]) => empty(shape, 'u32');
const hyper = () => makeHyper({ kind: 'sgd', lr: 0.1 });

/** [call, expected message]: every message starts with "webgpu-cnn: <op>:" */
const CASES: [string, () => unknown, RegExp][] = [
  // tensor creation
  [
    'tensor: data/shape mismatch',
    () => tensor([1, 2, 3], [2, 2]),
    /tensor: shape \[2,2\] holds 4 elements, data has 3/,
  ],
  ['tensor: negative dim', () => tensor([], [2, -1]), /tensor: 'shape' must be a list of integers >= 0, got \[2,-1\]/],
  [
    'tensor: unknown dtype',
    () => tensor([1], [1], 'f64' as never),
    /tensor: 'dtype' must be 'f32', 'i32' or 'u32', got "f64"/,
  ],
  ['empty: fractional dim', () => empty([2.5]), /empty: 'shape' must be a list of integers >= 0, got \[2\.5\]/],
  ['full: bad value', () => full([2], NaN), /full: 'value' must be a finite number, got number NaN/],
  ['full: bad shape', () => full([-3], 1), /full: 'shape' must be a list of integers >= 0, got \[-3\]/],
  ['write: wrong length', () => f(3).write([1]), /Tensor\.write: tensor \[3\] has 3 elements, 'data' has 1/],
  // conv2d and its backward functions
  [
    'conv2d: x rank',
    () => conv2d(f(4, 4, 1), f(3, 3, 1, 2)),
    /conv2d: argument 'x' must have rank 4, got shape \[4,4,1\]/,
  ],
  ['conv2d: x dtype', () => conv2d(u(1, 4, 4, 1), f(3, 3, 1, 2)), /conv2d: argument 'x' must be f32, got u32/],
  [
    'conv2d: w channels',
    () => conv2d(f(1, 5, 5, 3), f(3, 3, 4, 8)),
    /conv2d: 'w' must have shape \[KH,KW,3,O\] to match x's 3 channels, got \[3,3,4,8\]/,
  ],
  [
    'conv2d: bias shape',
    () => conv2d(f(1, 5, 5, 3), f(3, 3, 3, 8), { bias: f(7) }),
    /conv2d: 'bias' must have shape \[8\] \(w's O\), got \[7\]/,
  ],
  [
    'conv2d: stride 0',
    () => conv2d(f(1, 5, 5, 3), f(3, 3, 3, 8), { stride: 0 }),
    /conv2d: 'stride' must be a positive integer <= 65535 \(or a pair of them\), got 0/,
  ],
  [
    'conv2d: padding',
    () => conv2d(f(1, 5, 5, 3), f(3, 3, 3, 8), { padding: 'full' as never }),
    /conv2d: 'padding' must be 'valid', 'same', a number, \[ph, pw\] or \[\[top, bottom\], \[left, right\]\], got 'full'/,
  ],
  [
    'conv2d: kernel too large',
    () => conv2d(f(1, 2, 2, 1), f(3, 3, 1, 1)),
    /conv2d: kernel 3x3 is larger than the padded input 2x2/,
  ],
  [
    'conv2d: not a tensor',
    () => conv2d(new Float32Array(4) as never, f(3, 3, 1, 1)),
    /conv2d: argument 'x' must be a Tensor, got a Float32Array of length 4/,
  ],
  [
    'conv2dInputGrad: dy shape',
    () => conv2dInputGrad(f(1, 4, 4, 2), f(3, 3, 1, 2), [1, 8, 8, 1]),
    /conv2dInputGrad: 'dy' must have shape \[1,6,6,2\] \(the conv2d output\), got \[1,4,4,2\]/,
  ],
  [
    'conv2dInputGrad: xShape rank',
    () => conv2dInputGrad(f(1, 4, 4, 2), f(3, 3, 1, 2), [6, 6, 1]),
    /conv2dInputGrad: 'xShape' must have rank 4 \[N,H,W,C\], got shape \[6,6,1\]/,
  ],
  [
    'conv2dWeightGrad: wShape',
    () => conv2dWeightGrad(f(1, 6, 6, 1), f(1, 4, 4, 2), [3, 3, 2, 2]),
    /conv2dWeightGrad: 'wShape' must have shape \[KH,KW,1,O\] to match x's 1 channels, got \[3,3,2,2\]/,
  ],
  // matmul, bmm
  [
    'matmul: inner dims',
    () => matmul(f(2, 3), f(4, 5)),
    /matmul: inner dimensions differ: op\(a\) is \[2,3\] \(a \[2,3\]\), op\(b\) is \[4,5\]/,
  ],
  ['matmul: rank', () => matmul(f(2, 2, 3), f(3, 5)), /matmul: argument 'a' must have rank 2, got shape \[2,2,3\]/],
  ['matmul: bias', () => matmul(f(2, 3), f(3, 5), { bias: f(4) }), /matmul: 'bias' must have shape \[5\], got \[4\]/],
  ['matmul: dtype', () => matmul(f(2, 3), u(3, 5)), /matmul: argument 'b' must be f32, got u32/],
  ['bmm: batch', () => bmm(f(2, 3, 4), f(3, 4, 5)), /bmm: batch sizes of 'a' \[2,3,4\] and 'b' \[3,4,5\] differ/],
  ['bmm: rank', () => bmm(f(3, 4), f(4, 5)), /bmm: argument 'a' must have rank 3, got shape \[3,4\]/],
  // activations
  ['relu: dtype', () => relu(u(3)), /relu: argument 'x' must be f32, got u32/],
  [
    'reluBackward: shapes',
    () => reluBackward(f(2, 3), f(3, 2)),
    /reluBackward: 'dy' \[2,3\] and 'y' \[3,2\] must have the same shape/,
  ],
  ['leakyRelu: slope', () => leakyRelu(f(3), NaN), /leakyRelu: 'slope' must be a finite number, got number NaN/],
  [
    'sigmoid: not a tensor',
    () => sigmoid([1, 2] as never),
    /sigmoid: argument 'x' must be a Tensor, got an array of length 2/,
  ],
  [
    'tanhBackward: shapes',
    () => tanhBackward(f(4), f(5)),
    /tanhBackward: 'dy' \[4\] and 'y' \[5\] must have the same shape/,
  ],
  // elementwise with broadcasting
  [
    'add: broadcast',
    () => add(f(2, 3), f(4)),
    /add: 'a' \[2,3\] and 'b' \[4\] must have the same shape or be broadcastable .*dimension 1 of the result: 3 vs 4/,
  ],
  [
    'sub: broadcast',
    () => sub(f(5, 1, 3), f(2, 4)),
    /sub: 'a' \[5,1,3\] and 'b' \[2,4\] must have the same shape or be broadcastable/,
  ],
  ['mul: dtype', () => mul(f(3), u(3)), /mul: argument 'b' must be f32, got u32/],
  [
    'add: disposed',
    () => {
      const t = f(3);
      t.dispose();
      return add(t, f(3));
    },
    /add: argument 'a' \[3\] was already disposed/,
  ],
  ['scale: alpha', () => scale(f(3), Infinity), /scale: 'alpha' must be a finite number, got number Infinity/],
  // reductions, reshape
  ['sum: axis range', () => sum(f(2, 3), 2), /sum: axis 2 is out of range for rank 2/],
  ['mean: repeated axis', () => mean(f(2, 3), [1, -1]), /mean: repeated axis in \[1,-1\]/],
  ['sum: dtype', () => sum(u(4)), /sum: argument 'x' must be f32, got u32/],
  [
    'reshape: count',
    () => reshape(f(2, 3), [4, 2]),
    /reshape: cannot reshape \[2,3\] \(6 elements\) to \[4,2\] \(8 elements\)/,
  ],
  ['reshape: two -1', () => reshape(f(2, 3), [-1, -1]), /reshape: at most one -1 in shape \[-1,-1\]/],
  ['flatten: rank 0', () => flatten(f()), /flatten: 'x' needs rank >= 1, got shape \[\]/],
  // loss, argmax, accuracy
  [
    'softmaxCrossEntropy: labels dtype',
    () => softmaxCrossEntropy(f(4, 3), f(4)),
    /softmaxCrossEntropy: argument 'labels' must be u32, got f32/,
  ],
  [
    'softmaxCrossEntropy: labels count',
    () => softmaxCrossEntropy(f(4, 3), u(3)),
    /softmaxCrossEntropy: 'labels' must have shape \[4\] \(one per row of logits\), got \[3\]/,
  ],
  [
    'softmaxCrossEntropy: logits rank',
    () => softmaxCrossEntropy(f(4, 3, 1), u(4)),
    /softmaxCrossEntropy: argument 'logits' must have rank 2, got shape \[4,3,1\]/,
  ],
  ['argmax: rank', () => argmax(f(4)), /argmax: argument 'x' must have rank 2, got shape \[4\]/],
  ['accuracy: labels', () => accuracy(f(4, 3), u(5)), /accuracy: 'labels' must have shape \[4\]/],
  // pooling
  ['maxPool2d: kernel missing', () => maxPool2d(f(1, 4, 4, 1), {} as never), /maxPool2d: option 'kernel' is required/],
  [
    'maxPool2d: kernel 0',
    () => maxPool2d(f(1, 4, 4, 1), { kernel: 0 }),
    /maxPool2d: 'kernel' must be an integer >= 1 or a pair of them, got 0/,
  ],
  [
    'maxPool2d: kernel too large',
    () => maxPool2d(f(1, 4, 4, 1), { kernel: 5 }),
    /maxPool2d: kernel \[5,5\] is larger than the padded input \[1,4,4,1\]/,
  ],
  [
    'avgPool2d: padding',
    () => avgPool2d(f(1, 4, 4, 1), { kernel: 2, padding: 2 }),
    /avgPool2d: 'padding' \[2,2\] must be smaller than the kernel \[2,2\]/,
  ],
  [
    'globalAvgPool: rank',
    () => globalAvgPool(f(2, 3)),
    /globalAvgPool: argument 'x' must have rank 4, got shape \[2,3\]/,
  ],
  [
    'maxPool2dBackward: argmax dtype',
    () => maxPool2dBackward(f(1, 2, 2, 1), f(1, 2, 2, 1), [1, 4, 4, 1], { kernel: 2 }),
    /maxPool2dBackward: argument 'argmax' must be u32, got f32/,
  ],
  [
    'maxPool2dBackward: xShape',
    () => maxPool2dBackward(f(1, 2, 2, 1), u(1, 2, 2, 1), [4, 4, 1], { kernel: 2 }),
    /maxPool2dBackward: 'xShape' must have shape \[N,H,W,C\], got \[4,4,1\]/,
  ],
  [
    'avgPool2dBackward: dy',
    () => avgPool2dBackward(f(1, 3, 3, 1), [1, 4, 4, 1], { kernel: 2 }),
    /avgPool2dBackward: 'dy' must have shape \[1,2,2,1\], got \[1,3,3,1\]/,
  ],
  [
    'globalAvgPoolBackward: dy',
    () => globalAvgPoolBackward(f(2, 4), [2, 3, 3, 5]),
    /globalAvgPoolBackward: 'dy' must have shape \[2,5\], got \[2,4\]/,
  ],
  // optimizer kernels
  [
    'sgdStep: grad shape',
    () => sgdStep(f(3), f(4), null, hyper()),
    /sgdStep: 'param' \[3\] and 'grad' \[4\] must have the same shape/,
  ],
  ['sgdStep: hyper size', () => sgdStep(f(3), f(3), null, f(4)), /sgdStep: 'hyper' must have 8 elements, got \[4\]/],
  [
    'sgdStep: nesterov',
    () => sgdStep(f(3), f(3), null, hyper(), { nesterov: true }),
    /sgdStep: Nesterov momentum needs a 'velocity' tensor/,
  ],
  [
    'sgdStep: aliasing',
    () => {
      const p = f(3);
      return sgdStep(p, f(3), p, hyper());
    },
    /sgdStep: 'velocity' must not share its buffer with 'param'/,
  ],
  [
    'adamStep: m is v',
    () => {
      const m = f(3);
      return adamStep(f(3), f(3), m, m, hyper());
    },
    /adamStep: 'm' and 'v' must be different tensors/,
  ],
  ['adamStep: v dtype', () => adamStep(f(3), f(3), f(3), u(3), hyper()), /adamStep: argument 'v' must be f32, got u32/],
  [
    'makeHyper: beta',
    () => makeHyper({ kind: 'adam', lr: 0.1, step: 1, beta1: 1 }),
    /makeHyper: 'beta1' and 'beta2' must be < 1, got 1, 0\.999/,
  ],
  ['makeHyper: lr', () => makeHyper({ kind: 'sgd', lr: -1 }), /makeHyper: 'lr' must be >= 0, got -1/],
];

suite('validation', (test) => {
  for (const [name, call, re] of CASES)
    test(name, async () => {
      const e = engine();
      e.flush();
      const before = e.queue.pendingCommands;
      startScope(); // frees the case's input tensors
      try {
        await assertThrows(call, new RegExp(`^webgpu-cnn: ${re.source}`), name);
      } finally {
        endScope();
      }
      // the rejected call recorded nothing (its inputs are uninitialised tensors, never read)
      assertEqual(e.queue.pendingCommands, before, 'commands recorded by the rejected call');
    });

  test('a bad call inside a model names the layer and its input shape', async () => {
    const { Sequential } = await import('../../src/nn/sequential.js');
    const { Linear, Flatten } = await import('../../src/nn/linear.js');
    const m = new Sequential([new Flatten(), new Linear(10, 2)]);
    const x = f(2, 3, 3, 1);
    await assertThrows(
      () => m.forward(x),
      /matmul: inner dimensions differ.*\(in layer 1 Linear\(10→2\) with input \[2,9\]\)/,
    );
    x.dispose();
    m.dispose();
  });
});
