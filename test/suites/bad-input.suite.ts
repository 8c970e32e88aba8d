// Bad input at the public API, as a careless or hostile user would give it (issue #20). One row
// per bad call, imported from the package entry (src/index.ts) only. For every row:
//   - the call throws (or rejects) an error of the expected class (TypeError / RangeError or
//     their subclasses OutOfMemoryError, or FormatError), never a raw JavaScript error;
//   - the message starts with "webgpu-cnn:" and names the public function called (parsers:
//     the format), not an internal helper;
//   - memory (liveTensors and bytesInUse) is back to its level before the call (no leak);
//   - a following valid op still gives the reference result.
// Rows are grouped by class (the group is the first word of the case name); fixtures are small
// and shared, so the whole suite records almost no GPU work.
import { suite } from '../harness/define.js';
import { assert, assertEqual } from '../harness/assert.js';
import {
  Adam,
  AdamW,
  BatchNorm2d,
  Conv2d,
  Evaluator,
  Flatten,
  FormatError,
  Linear,
  AvgPool2d,
  MaxPool2d,
  OutOfMemoryError,
  SGD,
  Sequential,
  TrainStep,
  add,
  avgPool2d,
  batchNorm,
  batches,
  bmm,
  capture,
  computeGradients,
  conv2d,
  dropout,
  empty,
  encodeModel,
  engine,
  fit,
  flush,
  full,
  importPytorchStateDict,
  init,
  loadModel,
  matmul,
  maxPool2d,
  memory,
  mul,
  parseModelSpec,
  readSafetensors,
  scope,
  softmaxCrossEntropy,
  tensor,
  uploadBatch,
  valueAndGrad,
  writeSafetensors,
  type ImageDataset,
  type Tensor,
} from '../../src/index.js';
import { conv2dInputGrad, conv2dWeightGrad } from '../../src/kernels.js';

type ErrorClass = new (...args: never[]) => Error;
interface Row {
  /** "<group>: what" */
  name: string;
  /** the public function (or the parser's format) the message must name */
  fn: string;
  err: ErrorClass;
  call: () => unknown;
  /** extra checks after the error (atomicity: nothing was written) */
  after?: () => Promise<void>;
}

// --- fixtures: made once, kept for the whole suite --------------------------------------------
interface Fixtures {
  a: Tensor;
  b: Tensor;
  x: Tensor; // [1,5,5,2]
  w: Tensor; // [3,3,2,4]
  m23: Tensor;
  m34: Tensor;
  b234: Tensor;
  b243: Tensor;
  dy: Tensor; // [1,3,3,4]
  bn2: Tensor; // [2]
  dropState: Tensor; // [2] u32
  model: Sequential; // [B,2,2,1] -> 3 classes
  sgd: SGD;
  step: TrainStep; // inputShape [2,2,2,1], labels [2] u32
  ds: ImageDataset; // 4 images 2x2x1, labels 0..2
}
let fx: Fixtures | null = null;
function fixtures(): Fixtures {
  if (fx && !fx.a.disposed) return fx;
  const model = new Sequential([new Flatten(), new Linear(4, 3)]);
  const sgd = new SGD(model.parameters(), { lr: 0.1 });
  fx = {
    a: tensor([1, 2, 3]),
    b: tensor([10, 20, 30]),
    x: full([1, 5, 5, 2], 1),
    w: full([3, 3, 2, 4], 1),
    m23: full([2, 3], 1),
    m34: full([3, 4], 1),
    b234: full([2, 3, 4], 1),
    b243: full([2, 4, 3], 1),
    dy: full([1, 3, 3, 4], 1),
    bn2: full([2], 1),
    dropState: tensor([1, 0], [2], 'u32'),
    model,
    sgd,
    step: new TrainStep({ model, optimizer: sgd, loss: softmaxCrossEntropy, inputShape: [2, 2, 2, 1] }),
    ds: dataset(4, [0, 1, 2, 0]),
  };
  return fx;
}

function dataset(count: number, labels: number[]): ImageDataset {
  return {
    images: new Float32Array(count * 4).fill(0.5),
    labels: Uint8Array.from(labels),
    count,
    height: 2,
    width: 2,
    channels: 1,
  };
}

/** Run `fn` with a memory budget of what is allocated now plus `extra` bytes. */
function withBudget<T>(extra: number, fn: () => T): T {
  const e = engine();
  e.flush();
  e.pool.trim();
  const saved = e.pool.budget;
  e.pool.budget = e.memory().bytesAllocated + extra;
  try {
    return fn();
  } finally {
    e.pool.budget = saved;
  }
}

const deep = (n: number, open: string, close: string, inner = '1') => open.repeat(n) + inner + close.repeat(n);
function deepArray(n: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = [v];
  return v;
}
/** A safetensors file whose header is `header` (JSON text). */
function safetensorsWithHeader(header: string): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

// --- the rows ---------------------------------------------------------------------------------
const rows: Row[] = [];
const row = (name: string, fn: string, err: ErrorClass, call: () => unknown, after?: Row['after']) =>
  rows.push({ name, fn, err, call, after });

// 1. tensor data: numbers of the dtype's range, no strings, objects, ragged nesting
const notData: [string, unknown][] = [
  ['a string', 'abcd'],
  ['null', null],
  ['undefined', undefined],
  ['a number', 42],
  ['an object', {}],
  ['an array-like object', { length: 2, 0: 1, 1: 2 }],
  ['a boolean', true],
  ['a Map', new Map()],
  ['a function', () => 1],
  ['a DataView', new DataView(new ArrayBuffer(8))],
  ['a BigInt64Array', new BigInt64Array(2)],
  ['a symbol', Symbol('x')],
];
for (const [what, v] of notData) row(`data: tensor(${what})`, 'tensor', TypeError, () => tensor(v as never));
const badElements: [string, unknown[]][] = [
  ["'x'", [1, 'x']],
  ['{}', [1, {}]],
  ['null', [1, null]],
  ['undefined', [1, undefined]],
  ['true', [1, true]],
  ['a bigint', [1, 2n]],
  ["'1' (numeric string)", [1, '1']],
  ['[1,x,{},null] (the issue)', [1, 'x', {}, null]],
];
for (const dtype of ['f32', 'i32', 'u32'] as const)
  for (const [what, v] of badElements)
    row(`data: element ${what} as ${dtype}`, 'tensor', TypeError, () => tensor(v as never, undefined, dtype));
const outOfRange: [string, ArrayLike<number>, 'i32' | 'u32'][] = [
  ['-1 as u32', [-1], 'u32'],
  ['2**32 as u32', [2 ** 32], 'u32'],
  ['2.7 as u32', [2.7], 'u32'],
  ['NaN as u32', [NaN], 'u32'],
  ['Infinity as u32', [Infinity], 'u32'],
  ['-0.5 as u32', [-0.5], 'u32'],
  ['[-1, 2**32, 2.7] as u32 (the issue)', [-1, 2 ** 32, 2.7], 'u32'],
  ['2**31 as i32', [2 ** 31], 'i32'],
  ['-(2**31)-1 as i32', [-(2 ** 31) - 1], 'i32'],
  ['1.5 as i32', [1.5], 'i32'],
  ['NaN as i32', [NaN], 'i32'],
  ['-Infinity as i32', [-Infinity], 'i32'],
  ['Float32Array [1.5] as u32', new Float32Array([1.5]), 'u32'],
  ['Int32Array [-1] as u32', new Int32Array([-1]), 'u32'],
  ['Float64Array [2**32] as u32', new Float64Array([2 ** 32]), 'u32'],
  ['Uint32Array [2**31] as i32', new Uint32Array([2 ** 31]), 'i32'],
];
for (const [what, v, dtype] of outOfRange)
  row(`data: ${what}`, 'tensor', RangeError, () => tensor(v, undefined, dtype));
row('data: ragged [[1,2],[3]]', 'tensor', RangeError, () => tensor([[1, 2], [3]]));
row('data: mixed [[1],2]', 'tensor', RangeError, () => tensor([[1], 2] as never));
row('data: deeper leaf [[1],[[2]]]', 'tensor', RangeError, () => tensor([[1], [[2]]] as never));
row('data: nested 40 levels', 'tensor', RangeError, () => tensor(deepArray(40) as never));
row('data: nested [[1,2],[3,4]] with shape [3]', 'tensor', RangeError, () =>
  tensor(
    [
      [1, 2],
      [3, 4],
    ],
    [3],
  ),
);
row('data: nested with a string leaf', 'tensor', TypeError, () =>
  tensor([
    [1, 2],
    [3, 'x'],
  ] as never),
);
row('data: shape a string', 'tensor', TypeError, () => tensor([1], 'ab' as never));
row('data: shape null', 'tensor', TypeError, () => tensor([1], null as never));
row('data: shape [2,-1]', 'tensor', TypeError, () => tensor([], [2, -1]));
row('data: shape [NaN]', 'tensor', TypeError, () => tensor([1], [NaN]));
row("data: dtype 'f64'", 'tensor', TypeError, () => tensor([1], [1], 'f64' as never));
row('data: dtype 1', 'tensor', TypeError, () => tensor([1], [1], 1 as never));
row('data: length 3 for shape [2,2]', 'tensor', RangeError, () => tensor([1, 2, 3], [2, 2]));
row("data: write('abcd')", 'Tensor.write', TypeError, () => fixtures().a.write('abcd' as never));
row('data: write([1,x,{}])', 'Tensor.write', TypeError, () => fixtures().a.write([1, 'x', {}] as never));
row('data: write(null)', 'Tensor.write', TypeError, () => fixtures().a.write(null as never));
row('data: write wrong length', 'Tensor.write', RangeError, () => fixtures().a.write([1, 2]));
row('data: write -1 into u32', 'Tensor.write', RangeError, () => {
  const t = scope(() => tensor([0, 0], [2], 'u32'));
  try {
    t.write([-1, 0]);
  } finally {
    t.dispose();
  }
});
row('data: empty(shape null)', 'empty', TypeError, () => empty(null as never));
row("data: empty(['2'])", 'empty', TypeError, () => empty(['2'] as never));
row("data: empty dtype 'f16'", 'empty', TypeError, () => empty([2], 'f16' as never));
row('data: full value NaN', 'full', TypeError, () => full([2], NaN));
row("data: full value '1'", 'full', TypeError, () => full([2], '1' as never));
row('data: full shape [-3]', 'full', TypeError, () => full([-3], 1));

// 2. labels: host arrays checked for type, integrality, range 0..classes-1 and length
const badLabels: [string, unknown, ErrorClass][] = [
  ['-1', [-1, 0], RangeError],
  ['3 (3 classes)', [0, 3], RangeError],
  ['255', [255, 0], RangeError],
  ['2.7', [2.7, 0], RangeError],
  ['NaN', [NaN, 0], RangeError],
  ['Infinity', [Infinity, 0], RangeError],
  ['2**32', [2 ** 32, 0], RangeError],
  ['too few', [0], RangeError],
  ['too many', [0, 1, 2], RangeError],
  ['a string', 'ab', TypeError],
  ['null', null, TypeError],
  ["'1'", [0, '1'], TypeError],
  ['Float32Array [0.5, 1]', new Float32Array([0.5, 1]), RangeError],
  ['Int32Array [-1, 0]', new Int32Array([-1, 0]), RangeError],
  ['Uint8Array [7, 0]', new Uint8Array([7, 0]), RangeError],
];
const goodX = new Float32Array(8).fill(0.5);
for (const [what, v, E] of badLabels)
  row(`labels: TrainStep.run labels ${what}`, 'TrainStep.run', E, () => fixtures().step.run(goodX, v as never));
row('labels: TrainStep.run x wrong length', 'TrainStep.run', RangeError, () =>
  fixtures().step.run(new Float32Array(7), [0, 1]),
);
row('labels: TrainStep.run x with a string', 'TrainStep.run', TypeError, () =>
  fixtures().step.run([0, 0, 0, 0, 0, 0, 0, 'x'] as never, [0, 1]),
);
row('labels: TrainStep.run x null', 'TrainStep.run', TypeError, () => fixtures().step.run(null as never, [0, 1]));
const fitWith = (o: Record<string, unknown>) => {
  const f = fixtures();
  return fit({ model: f.model, optimizer: f.sgd, train: f.ds, epochs: 1, batchSize: 2, ...o } as never);
};
row('labels: fit train label 3 of 3 classes', 'fit', RangeError, () => fitWith({ train: dataset(4, [0, 1, 3, 0]) }));
row('labels: fit test label 9', 'fit', RangeError, () => fitWith({ test: dataset(2, [0, 9]) }));
row('labels: fit train.labels not Uint8Array', 'fit', RangeError, () =>
  fitWith({ train: { ...dataset(4, [0, 1, 2, 0]), labels: [0, 1, 2, 0] } }),
);
row('labels: fit train count mismatch', 'fit', RangeError, () =>
  fitWith({ train: { ...dataset(4, [0, 1, 2, 0]), count: 5 } }),
);
row('labels: fit train null', 'fit', TypeError, () => fitWith({ train: null }));
const evaluate = (ds: unknown) => {
  const ev = new Evaluator(fixtures().model, { batchSize: 2 });
  return ev.evaluate(ds as ImageDataset).finally(() => ev.dispose());
};
row('labels: Evaluator label 3 of 3 classes', 'Evaluator.evaluate', RangeError, () => evaluate(dataset(2, [3, 0])));
row('labels: Evaluator label 200', 'Evaluator.evaluate', RangeError, () => evaluate(dataset(2, [0, 200])));
row('labels: Evaluator dataset null', 'Evaluator.evaluate', TypeError, () => evaluate(null));
row('labels: Evaluator bad height', 'Evaluator.evaluate', TypeError, () =>
  evaluate({ ...dataset(2, [0, 1]), height: 1.5 }),
);

// 3. options: unknown keys and numbers out of range
const convOpts: [string, unknown, ErrorClass][] = [
  ['{strides: 2} (misspelt)', { strides: 2 }, TypeError],
  ['{pad: 1}', { pad: 1 }, TypeError],
  ['{dilations: 2}', { dilations: 2 }, TypeError],
  ["{activation: 'relu'}", { activation: 'relu' }, TypeError],
  ['{groups: 2}', { groups: 2 }, TypeError],
  ['stride 0', { stride: 0 }, RangeError],
  ['stride -1', { stride: -1 }, RangeError],
  ['stride 1.5', { stride: 1.5 }, RangeError],
  ['stride 2**32', { stride: 2 ** 32 }, RangeError],
  ["stride '2'", { stride: '2' }, TypeError],
  ['stride [1]', { stride: [1] }, TypeError],
  ['stride [1,2,3]', { stride: [1, 2, 3] }, TypeError],
  ['dilation 2**32', { dilation: 2 ** 32 }, RangeError],
  ["dilation 2**32 with 'same'", { dilation: 2 ** 32, padding: 'same' }, RangeError],
  ['dilation 0', { dilation: 0 }, RangeError],
  ['dilation NaN', { dilation: NaN }, RangeError],
  ['dilation 3 (kernel 7 > input 5)', { dilation: 3 }, RangeError],
  ['padding -1', { padding: -1 }, RangeError],
  ['padding 2**32', { padding: 2 ** 32 }, RangeError],
  ["padding 'full'", { padding: 'full' }, TypeError],
  ["relu 'yes'", { relu: 'yes' }, TypeError],
  ['opts a number', 3, TypeError],
  ['opts an array', [1], TypeError],
];
for (const [what, o, E] of convOpts)
  row(`options: conv2d ${what}`, 'conv2d', E, () => conv2d(fixtures().x, fixtures().w, o as never));
row('options: conv2d bias wrong shape', 'conv2d', RangeError, () =>
  conv2d(fixtures().x, fixtures().w, { bias: fixtures().a }),
);
row('options: conv2dInputGrad {strides}', 'conv2dInputGrad', TypeError, () =>
  conv2dInputGrad(fixtures().dy, fixtures().w, [1, 5, 5, 2], { strides: 1 } as never),
);
row('options: conv2dWeightGrad {relu}', 'conv2dWeightGrad', TypeError, () =>
  conv2dWeightGrad(fixtures().x, fixtures().dy, [3, 3, 2, 4], { relu: true } as never),
);
const mmOpts: [string, unknown, ErrorClass][] = [
  ['{transpose: true}', { transpose: true }, TypeError],
  ['{trans_a: true}', { trans_a: true }, TypeError],
  ["transA 'yes'", { transA: 'yes' }, TypeError],
  ['transB 1', { transB: 1 }, TypeError],
  ['relu null', { relu: null }, TypeError],
  ['bias [3] for N=4', { bias: 'bias3' }, RangeError],
  ['opts a string', 'T', TypeError],
];
for (const [what, o, E] of mmOpts)
  row(`options: matmul ${what}`, 'matmul', E, () => {
    const f = fixtures();
    return matmul(f.m23, f.m34, (o as { bias?: string }).bias === 'bias3' ? { bias: f.a } : (o as never));
  });
row('options: bmm {batch: 2}', 'bmm', TypeError, () => bmm(fixtures().b234, fixtures().b234, { batch: 2 } as never));
const p = () => fixtures().model.parameters();
const adamBad: [string, unknown, ErrorClass][] = [
  ["lr '0.01' (a string)", { lr: '0.01' }, TypeError],
  ['lr NaN', { lr: NaN }, TypeError],
  ['lr Infinity', { lr: Infinity }, TypeError],
  ['lr -1', { lr: -1 }, RangeError],
  ['no lr', {}, TypeError],
  ['lr null', { lr: null }, TypeError],
  ['beta1 1', { lr: 0.1, beta1: 1 }, RangeError],
  ['beta1 -0.1', { lr: 0.1, beta1: -0.1 }, RangeError],
  ['beta2 1.5', { lr: 0.1, beta2: 1.5 }, RangeError],
  ['eps 0', { lr: 0.1, eps: 0 }, RangeError],
  ["eps '1e-8'", { lr: 0.1, eps: '1e-8' }, TypeError],
  ['weightDecay -1', { lr: 0.1, weightDecay: -1 }, RangeError],
  ['clipNorm 0', { lr: 0.1, clipNorm: 0 }, RangeError],
  ['{learningRate} (unknown)', { learningRate: 0.1 }, TypeError],
  ['{betas} (PyTorch spelling)', { lr: 0.1, betas: [0.9, 0.999] }, TypeError],
  ['{momentum} (an SGD option)', { lr: 0.1, momentum: 0.9 }, TypeError],
  ['opts undefined', undefined, TypeError],
];
for (const [what, o, E] of adamBad) row(`options: Adam ${what}`, 'Adam', E, () => new Adam(p(), o as never));
row('options: Adam params a Tensor', 'Adam', TypeError, () => new Adam(fixtures().a as never, { lr: 0.1 }));
row('options: Adam params []', 'Adam', RangeError, () => new Adam([], { lr: 0.1 }));
row('options: Adam params [1]', 'Adam', TypeError, () => new Adam([1] as never, { lr: 0.1 }));
row('options: Adam params u32 tensor', 'Adam', TypeError, () => {
  const t = scope(() => tensor([1], [1], 'u32'));
  try {
    return new Adam([t], { lr: 0.1 });
  } finally {
    t.dispose();
  }
});
row('options: AdamW lr -0.5', 'AdamW', RangeError, () => new AdamW(p(), { lr: -0.5 }));
row('options: AdamW {weight_decay}', 'AdamW', TypeError, () => new AdamW(p(), { lr: 0.1, weight_decay: 0 } as never));
row("options: AdamW lr 'x'", 'AdamW', TypeError, () => new AdamW(p(), { lr: 'x' } as never));
const sgdBad: [string, unknown, ErrorClass][] = [
  ['nesterov without momentum', { lr: 0.1, nesterov: true }, RangeError],
  ['nesterov with momentum 0', { lr: 0.1, nesterov: true, momentum: 0 }, RangeError],
  ['momentum 1.5', { lr: 0.1, momentum: 1.5 }, RangeError],
  ['momentum -0.1', { lr: 0.1, momentum: -0.1 }, RangeError],
  ["momentum '0.9'", { lr: 0.1, momentum: '0.9' }, TypeError],
  ['{moment: 0.9} (misspelt)', { lr: 0.1, moment: 0.9 }, TypeError],
  ["nesterov 'yes'", { lr: 0.1, momentum: 0.9, nesterov: 'yes' }, TypeError],
  ['decoupled 1', { lr: 0.1, decoupled: 1 }, TypeError],
  ['lr -0.1', { lr: -0.1 }, RangeError],
  ['lr NaN', { lr: NaN }, TypeError],
  ['{beta1} (an Adam option)', { lr: 0.1, beta1: 0.9 }, TypeError],
];
for (const [what, o, E] of sgdBad) row(`options: SGD ${what}`, 'SGD', E, () => new SGD(p(), o as never));
const initBad: [string, unknown, ErrorClass][] = [
  ['memoryBudget NaN', { memoryBudget: NaN }, RangeError],
  ['memoryBudget -1', { memoryBudget: -1 }, RangeError],
  ['memoryBudget 0', { memoryBudget: 0 }, RangeError],
  ['memoryBudget Infinity', { memoryBudget: Infinity }, RangeError],
  ["memoryBudget '1e6'", { memoryBudget: '1e6' }, TypeError],
  ['{memBudget} (misspelt)', { memBudget: 1e6 }, TypeError],
  ["debug 'yes'", { debug: 'yes' }, TypeError],
  ["disableFeatures 'f16'", { disableFeatures: 'f16' }, TypeError],
  ['opts null', null, TypeError],
];
for (const [what, o, E] of initBad) row(`options: init ${what}`, 'init', E, () => init(o as never));
const fitBad: [string, Record<string, unknown>, ErrorClass][] = [
  ['epochs NaN', { epochs: NaN }, RangeError],
  ['epochs 0', { epochs: 0 }, RangeError],
  ['epochs 1.5', { epochs: 1.5 }, RangeError],
  ['epochs -1', { epochs: -1 }, RangeError],
  ["epochs '1'", { epochs: '1' }, TypeError],
  ['batchSize 0', { batchSize: 0 }, RangeError],
  ['batchSize 2.5', { batchSize: 2.5 }, RangeError],
  ['batchSize 5 > 4 images (zero steps)', { batchSize: 5 }, RangeError],
  ['{epoch: 1} (misspelt)', { epoch: 1 }, TypeError],
  ['lossEvery 0', { lossEvery: 0 }, RangeError],
  ['seed -1', { seed: -1 }, RangeError],
  ["onStep 'x'", { onStep: 'x' }, TypeError],
  ['model null', { model: null }, TypeError],
  ['optimizer {}', { optimizer: {} }, TypeError],
];
fitBad.push(
  ['resume past the last epoch (zero steps)', { resume: { seed: 0, epoch: 1, batch: 0 } }, RangeError],
  ['resume at the end of the only epoch', { resume: { seed: 0, epoch: 0, batch: 2 } }, RangeError],
  ['resume null', { resume: null }, TypeError],
  ["resume {epoch: '1'}", { resume: { seed: 0, epoch: '1', batch: 0 } }, TypeError],
  ['augment {crop: 1.5}', { augment: { crop: 1.5 } }, RangeError],
  ['augment {flp: true} (misspelt)', { augment: { flp: true } }, TypeError],
  ['augment {saturation: 2}', { augment: { saturation: 2 } }, RangeError],
);
for (const [what, o, E] of fitBad) row(`options: fit ${what}`, 'fit', E, () => fitWith(o));
row('options: fit opts null', 'fit', TypeError, () => fit(null as never));
const stepWith = (o: Record<string, unknown>) => {
  const f = fixtures();
  return new TrainStep({
    model: f.model,
    optimizer: f.sgd,
    loss: softmaxCrossEntropy,
    inputShape: [2, 2, 2, 1],
    ...o,
  } as never);
};
const stepBad: [string, Record<string, unknown>, ErrorClass][] = [
  ["labelDtype 'f64'", { labelDtype: 'f64' }, TypeError],
  ["labelDtype 'int'", { labelDtype: 'int' }, TypeError],
  ['inputShape [0,2,2,1]', { inputShape: [0, 2, 2, 1] }, RangeError],
  ["inputShape 'x'", { inputShape: 'x' }, TypeError],
  ['labelShape [-1]', { labelShape: [-1] }, TypeError],
  ['{input} (misspelt)', { input: [2, 2, 2, 1] }, TypeError],
  ['loss not a function', { loss: 'xent' }, TypeError],
  ['model null', { model: null }, TypeError],
  ['optimizer {}', { optimizer: {} }, TypeError],
];
for (const [what, o, E] of stepBad) row(`options: TrainStep ${what}`, 'TrainStep', E, () => stepWith(o));
row('options: Evaluator batchSize 0', 'Evaluator', RangeError, () => new Evaluator(fixtures().model, { batchSize: 0 }));
row(
  'options: Evaluator {batch: 2}',
  'Evaluator',
  TypeError,
  () => new Evaluator(fixtures().model, { batch: 2 } as never),
);
row('options: Evaluator model null', 'Evaluator', TypeError, () => new Evaluator(null as never));
row('options: computeGradients {accumulte}', 'computeGradients', TypeError, () =>
  computeGradients(() => fixtures().a, [fixtures().a], { accumulte: true } as never),
);

const layerBad: [string, string, () => unknown, ErrorClass][] = [
  ['Conv2d {strides: 2}', 'Conv2d', () => new Conv2d(1, 2, 3, { strides: 2 } as never), TypeError],
  ['Conv2d kernel 0', 'Conv2d', () => new Conv2d(1, 2, 0), RangeError],
  ["Conv2d kernel 'x'", 'Conv2d', () => new Conv2d(1, 2, 'x' as never), TypeError],
  ['Conv2d kernel [3]', 'Conv2d', () => new Conv2d(1, 2, [3] as never), TypeError],
  ["Conv2d relu 'yes'", 'Conv2d', () => new Conv2d(1, 2, 3, { relu: 'yes' } as never), TypeError],
  ['Conv2d inChannels 0', 'Conv2d', () => new Conv2d(0, 2, 3), RangeError],
  ['Linear {activation}', 'Linear', () => new Linear(2, 2, { activation: 'relu' } as never), TypeError],
  ['Linear bias 0', 'Linear', () => new Linear(2, 2, { bias: 0 } as never), TypeError],
  ['Linear outFeatures 1.5', 'Linear', () => new Linear(2, 1.5), TypeError],
  [
    'uploadBatch labels -1',
    'uploadBatch',
    () => {
      const f = fixtures();
      uploadBatch({ images: new Float32Array(8), labels: [-1, 0] as never, size: 2 } as never, f.step.x, f.step.labels);
    },
    RangeError,
  ],
  [
    'uploadBatch images strings',
    'uploadBatch',
    () => {
      const f = fixtures();
      uploadBatch(
        { images: new Array(8).fill('a'), labels: new Uint32Array(2), size: 2 } as never,
        f.step.x,
        f.step.labels,
      );
    },
    TypeError,
  ],
];
const bn = (o: unknown) => {
  const f = fixtures();
  return batchNorm(f.x, f.bn2, f.bn2, f.bn2, f.bn2, o as never);
};
layerBad.push(
  ['batchNorm {momentun: 0.1}', 'batchNorm', () => bn({ training: true, momentun: 0.1 }), TypeError],
  ['batchNorm no training flag', 'batchNorm', () => bn({}), TypeError],
  ["batchNorm training 'yes'", 'batchNorm', () => bn({ training: 'yes' }), TypeError],
  ['batchNorm eps -1', 'batchNorm', () => bn({ training: false, eps: -1 }), RangeError],
  ['BatchNorm2d {momentun}', 'BatchNorm2d', () => new BatchNorm2d(2, { momentun: 0.1 } as never), TypeError],
  ['BatchNorm2d eps NaN', 'BatchNorm2d', () => new BatchNorm2d(2, { eps: NaN }), TypeError],
  ['dropout rate 1', 'dropout', () => dropout(fixtures().x, 1, fixtures().dropState), RangeError],
  ["dropout rate '0.5'", 'dropout', () => dropout(fixtures().x, '0.5' as never, fixtures().dropState), TypeError],
  ['batches {batch_size}', 'batches', () => batches(fixtures().ds, { batch_size: 2 } as never), TypeError],
  ['batches opts undefined', 'batches', () => batches(fixtures().ds, undefined as never), TypeError],
  ['batches batchSize 0', 'batches', () => batches(fixtures().ds, { batchSize: 0 }), RangeError],
);
// pooling: the ops and the layers refuse unknown keys and a non-boolean countIncludePad
layerBad.push(
  ['maxPool2d {strides: 2}', 'maxPool2d', () => maxPool2d(fixtures().x, { kernel: 2, strides: 2 } as never), TypeError],
  [
    'avgPool2d {count_include_pad}',
    'avgPool2d',
    () => avgPool2d(fixtures().x, { kernel: 2, count_include_pad: true } as never),
    TypeError,
  ],
  [
    "avgPool2d countIncludePad 'yes'",
    'avgPool2d',
    () => avgPool2d(fixtures().x, { kernel: 2, countIncludePad: 'yes' } as never),
    TypeError,
  ],
  ['maxPool2d opts null', 'maxPool2d', () => maxPool2d(fixtures().x, null as never), TypeError],
  ['MaxPool2d {size: 2}', 'MaxPool2d', () => new MaxPool2d({ kernel: 2, size: 2 } as never), TypeError],
  [
    'AvgPool2d countIncludePad 1',
    'AvgPool2d',
    () => new AvgPool2d({ kernel: 2, countIncludePad: 1 } as never),
    TypeError,
  ],
);
for (const [what, fn, call, E] of layerBad) row(`options: ${what}`, fn, E, call);

// 4. messages: no raw JavaScript TypeError escapes; the public function is named
row('message: valueAndGrad params a Tensor', 'valueAndGrad', TypeError, () =>
  valueAndGrad(() => fixtures().a, fixtures().a as never),
);
row('message: valueAndGrad params null', 'valueAndGrad', TypeError, () =>
  valueAndGrad(() => fixtures().a, null as never),
);
row('message: valueAndGrad fn a string', 'valueAndGrad', TypeError, () => valueAndGrad('f' as never, []));
row('message: computeGradients fn null', 'computeGradients', TypeError, () => computeGradients(null as never, []));
row('message: importPytorchStateDict given bytes', 'importPytorchStateDict', TypeError, () =>
  importPytorchStateDict(new Uint8Array(16) as never, { version: 1, layers: [] } as never),
);
row('message: importPytorchStateDict spec null', 'importPytorchStateDict', TypeError, () =>
  importPytorchStateDict(readSafetensors(writeSafetensors({})), null as never),
);
row('message: scope(null)', 'scope', TypeError, () => scope(null as never));
row('message: capture(42)', 'capture', TypeError, () => capture(42 as never));
row('message: Adam lr a string (the issue)', 'Adam', TypeError, () => new Adam(p(), { lr: '0.01' } as never));
row('message: TrainStep labelDtype names TrainStep, not empty', 'TrainStep', TypeError, () =>
  stepWith({ labelDtype: 'u8' }),
);
row('message: TrainStep.run labels name TrainStep.run, not write', 'TrainStep.run', RangeError, () =>
  fixtures().step.run(goodX, [0, -1]),
);
row('message: loadStateDict null', 'loadStateDict', TypeError, () => fixtures().model.loadStateDict(null as never));
row('message: loadStateDict data of strings', 'loadStateDict', TypeError, () => {
  const own = fixtures().model.stateDict();
  const state = Object.fromEntries(
    [...own].map(([k, t]) => [k, { shape: t.shape, data: new Array(t.size).fill('1') }]),
  );
  fixtures().model.loadStateDict(state);
});
row('message: loadStateDict unknown name', 'loadStateDict', RangeError, () =>
  fixtures().model.loadStateDict({ nope: { shape: [1], data: [1] } }),
);
// atomic: one wrong-length tensor after a good one writes nothing (the partial load)
row(
  'atomic: loadStateDict with one wrong-length tensor writes nothing',
  'loadStateDict',
  RangeError,
  () => {
    const own = [...fixtures().model.stateDict()];
    const state = Object.fromEntries(
      own.map(([k, t], i) => [
        k,
        { shape: t.shape, data: new Float32Array(i === own.length - 1 ? t.size - 1 : t.size).fill(7) },
      ]),
    );
    fixtures().model.loadStateDict(state);
  },
  async () => {
    const [first] = fixtures().model.parameters();
    const v = await first.read();
    assert(!v.every((x) => x === 7), 'the first parameter was overwritten by a rejected loadStateDict');
  },
);
row('atomic: loadStateDict with a NaN-length data object writes nothing', 'loadStateDict', TypeError, () => {
  const own = [...fixtures().model.stateDict()];
  const state = Object.fromEntries(
    own.map(([k, t], i) => [k, { shape: t.shape, data: i ? { length: t.size } : new Float32Array(t.size) }]),
  );
  fixtures().model.loadStateDict(state as never);
});

const disposed = () => {
  const t = scope(() => tensor([1, 2, 3]));
  t.dispose();
  return t;
};
row('message: add with a disposed tensor', 'add', TypeError, () => add(disposed(), fixtures().a));
row('message: conv2d with a disposed weight', 'conv2d', TypeError, () => {
  const w = scope(() => full([3, 3, 2, 4], 1));
  w.dispose();
  return conv2d(fixtures().x, w);
});
row('message: matmul with a disposed operand', 'matmul', TypeError, () => {
  const m = scope(() => full([3, 4], 1));
  m.dispose();
  return matmul(fixtures().m23, m);
});

// 5. parsers: deep nesting is a FormatError, not "Maximum call stack size exceeded"
row('parser: safetensors shape nested 100,000 deep', 'safetensors', FormatError, () =>
  readSafetensors(
    safetensorsWithHeader(`{"t":{"dtype":"F32","shape":${deep(100000, '[', ']')},"data_offsets":[0,4]}}`),
  ),
);
row('parser: safetensors header nested 65 deep', 'safetensors', FormatError, () =>
  readSafetensors(safetensorsWithHeader(`{"t":${deep(64, '{"a":', '}')}}`)),
);
row('parser: safetensors metadata nested deep', 'safetensors', FormatError, () =>
  readSafetensors(safetensorsWithHeader(`{"__metadata__":${deep(1000, '[', ']')}}`)),
);
row('parser: model spec string nested 100,000 deep', 'model spec', FormatError, () =>
  parseModelSpec(`{"version":1,"layers":${deep(100000, '[', ']')}}`),
);
row('parser: model spec value nested 100,000 deep', 'model spec', FormatError, () =>
  parseModelSpec({ version: 1, layers: [deepArray(100000)] }),
);
row('parser: model spec kernel nested 100,000 deep', 'model spec', FormatError, () =>
  parseModelSpec({ version: 1, layers: [{ type: 'conv2d', filters: 2, kernel: deepArray(100000) }] }),
);
row('parser: loadModel header nested 100,000 deep', 'safetensors', FormatError, () =>
  loadModel(safetensorsWithHeader(deep(100000, '[', ']'))),
);
row('parser: model spec version nested 100,000 deep', 'model spec', FormatError, () =>
  parseModelSpec({ version: deepArray(100000), layers: [] }),
);

// 6. out of memory (a budget just above what is allocated): the op is named, nothing is left
row('memory: conv2d out of memory names conv2d', 'conv2d', OutOfMemoryError, () =>
  withBudget(64, () => conv2d(fixtures().x, fixtures().w)),
);
row('memory: matmul out of memory names matmul', 'matmul', OutOfMemoryError, () =>
  withBudget(64, () => matmul(fixtures().m23, fixtures().m34)),
);
row('memory: bmm out of memory names bmm', 'bmm', OutOfMemoryError, () =>
  withBudget(64, () => bmm(fixtures().b234, fixtures().b243)),
);
row('memory: add out of memory names add', 'add', OutOfMemoryError, () =>
  withBudget(64, () => add(fixtures().a, fixtures().b)),
);
row('memory: loadModel out of memory frees what it uploaded', 'loadModel', OutOfMemoryError, () => {
  const bytes = encodeModel(null, {
    first: { shape: [256, 256], data: new Float32Array(65536) },
    second: { shape: [256, 256], data: new Float32Array(65536) },
  });
  return withBudget(300_000, () => loadModel(bytes));
});
row('memory: SGD momentum state out of memory frees its state', 'SGD', OutOfMemoryError, () => {
  const big = scope(() => full([256, 256], 1));
  try {
    return withBudget(300_000, () => new SGD([big, big, big], { lr: 0.1, momentum: 0.9 }));
  } finally {
    big.dispose();
  }
});
row('memory: Adam state out of memory frees its state', 'Adam', OutOfMemoryError, () => {
  const big = scope(() => full([256, 256], 1));
  try {
    return withBudget(300_000, () => new Adam([big, big], { lr: 0.1 }));
  } finally {
    big.dispose();
  }
});
row('memory: TrainStep labels out of memory frees its input', 'TrainStep', OutOfMemoryError, () => {
  const f = fixtures();
  return withBudget(
    1024 * 1024 + 256,
    () =>
      new TrainStep({
        model: f.model,
        optimizer: f.sgd,
        loss: softmaxCrossEntropy,
        inputShape: [262144, 1],
        labelShape: [262144],
      }),
  );
});
row('memory: tensor beyond the budget names tensor', 'tensor', OutOfMemoryError, () =>
  withBudget(1024, () => tensor(new Float32Array(4096))),
);
row('memory: broadcasting beyond the rank limit leaves nothing', 'add', RangeError, () => {
  const [s1, s2] = [
    [2, 1, 2, 1, 2, 1, 2, 1, 2, 1],
    [1, 2, 1, 2, 1, 2, 1, 2, 1, 2],
  ];
  const [u, v] = scope(() => [full(s1, 1), full(s2, 1)]);
  try {
    return add(u, v);
  } finally {
    u.dispose();
    v.dispose();
  }
});
row('memory: mul beyond the rank limit leaves nothing', 'mul', RangeError, () => {
  const [u, v] = scope(() => [full([2, 1, 2, 1, 2, 1, 2, 1, 2], 1), full([1, 2, 1, 2, 1, 2, 1, 2, 1], 1)]);
  try {
    return scope(() => mul(u, v));
  } finally {
    u.dispose();
    v.dispose();
  }
});

// --- the runner -------------------------------------------------------------------------------
async function check(r: Row): Promise<void> {
  const f = fixtures();
  flush();
  const before = memory();
  let err: unknown = null;
  try {
    await r.call();
  } catch (e) {
    err = e;
  }
  assert(err !== null, `${r.name}: no error was thrown`);
  const e = err as Error;
  assert(
    e instanceof r.err,
    `${r.name}: expected ${r.err.name}, got ${e?.constructor?.name}: ${e?.message ?? String(err)}`,
  );
  assert(e.message.startsWith('webgpu-cnn: '), `${r.name}: not a library message: ${e.message}`);
  const fn = r.fn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert(
    new RegExp(`^webgpu-cnn: ${fn}[:( ]|\\(in ${fn}\\b`).test(e.message),
    `${r.name}: the message does not name '${r.fn}': ${e.message}`,
  );
  await r.after?.();
  flush();
  const after = memory();
  assertEqual(
    [after.liveTensors, after.bytesInUse],
    [before.liveTensors, before.bytesInUse],
    `${r.name}: [liveTensors, bytesInUse] after vs before`,
  );
  const y = add(f.a, f.b);
  assertEqual([...(await y.read())], [11, 22, 33], `${r.name}: a valid op after the error`);
  y.dispose();
}

suite('bad-input', (test) => {
  for (const r of rows) test(r.name, () => check(r), { timeoutMs: 5000 });

  test('scope(async) rejects clearly and leaves no unhandled rejection', async () => {
    let unhandled = 0;
    const onNode = () => unhandled++;
    const onBrowser = (ev: Event) => {
      unhandled++;
      ev.preventDefault();
    };
    type Listener = (...a: unknown[]) => void;
    const proc = (globalThis as { process?: { on(e: string, f: Listener): void; off(e: string, f: Listener): void } })
      .process;
    proc?.on('unhandledRejection', onNode);
    globalThis.addEventListener?.('unhandledrejection', onBrowser);
    try {
      let err: unknown = null;
      try {
        scope((async () => {
          await null;
          throw new Error('inside the async body');
        }) as never);
      } catch (e) {
        err = e;
      }
      assert(err instanceof TypeError && /scope: takes a synchronous function/.test(err.message), `got ${err}`);
      await new Promise((r) => setTimeout(r, 50));
      assertEqual(unhandled, 0, 'unhandled rejections');
    } finally {
      proc?.off('unhandledRejection', onNode);
      globalThis.removeEventListener?.('unhandledrejection', onBrowser);
    }
  });

  test('under a budget, a released buffer is free at once (empty; dispose; empty)', async () => {
    const n = 16384; // 64 KiB
    await withBudget(n * 4 + 256, async () => {
      const t1 = empty([n]);
      t1.dispose();
      const t2 = empty([n]); // threw OutOfMemoryError before: the first buffer was pending
      t2.dispose();
      // with recorded work that used the released buffer: it is submitted to make room
      const t3 = full([n], 2);
      t3.dispose();
      const t4 = full([n], 3);
      assertEqual((await t4.read())[n - 1], 3, 'the reused buffer holds the new values');
      t4.dispose();
    });
  });

  test('at least 200 bad-input rows', () => {
    assert(rows.length >= 200, `only ${rows.length} rows`);
    const groups = new Map<string, number>();
    for (const r of rows) groups.set(r.name.split(':')[0], (groups.get(r.name.split(':')[0]) ?? 0) + 1);
    console.log(`bad-input: ${rows.length} rows, per group ${JSON.stringify(Object.fromEntries(groups))}`);
  });

  test('fixtures are freed', () => {
    if (!fx) return;
    const f = fx;
    for (const t of [f.a, f.b, f.x, f.w, f.m23, f.m34, f.b234, f.b243, f.dy, f.bn2, f.dropState]) t.dispose();
    f.step.dispose();
    f.sgd.dispose();
    f.model.dispose();
    fx = null;
  });
});
