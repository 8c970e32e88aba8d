// Residual networks: the Residual module (forward vs a float64 reference in training and eval
// modes, gradients by finite differences, identity and stride-2 1x1-conv shortcuts), named and
// nested Sequentials, the 'sequential'/'residual' spec layers, the resnet20 and vgg presets
// (parameter counts, torchvision names, the whole ResNet-20 against the benchmark's float64
// reference), model files, and a captured TrainStep on a residual model. The whole-network
// cases run on the quick kernels (withQuickKernels): they test the architecture, names and
// files, and the fast kernels' ~10 compiles for resnet20's shapes would cost SwiftShader ~10 s;
// the block cases run the default kernels.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { dot, numericGrad } from '../harness/fd.js';
import { tensor } from '../../src/tensor/tensor.js';
import { mul } from '../../src/ops/elementwise.js';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Residual } from '../../src/nn/residual.js';
import { Conv2d } from '../../src/nn/conv.js';
import { BatchNorm2d } from '../../src/nn/batchnorm.js';
import { ReLU } from '../../src/nn/activations.js';
import { GlobalAvgPool } from '../../src/nn/pooling.js';
import { Linear } from '../../src/nn/linear.js';
import { InitRng } from '../../src/nn/init.js';
import { resnet20, vgg } from '../../src/nn/presets.js';
import { modelParams, modelShapes, parseModelSpec } from '../../src/nn/spec.js';
import { decodeModel, saveModel } from '../../src/io/model-file.js';
import { softmaxCrossEntropy } from '../../src/ops/loss/index.js';
import { SGD } from '../../src/optim/optimizers.js';
import { TrainStep } from '../../src/train/step.js';
import type { Module } from '../../src/nn/module.js';
import { initResnetParams, makeResnetBatch, resnetGrads } from '../../bench/resnet.js';
import { refLayer, refModel, type Values } from './residual.helpers.js';
import { engine } from '../../src/runtime/engine.js';
import { withQuickKernels } from '../../src/runtime/select.js';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../../src/io/safetensors.js';
import { hwioToPytorch, importPytorchStateDict, linearInOutToOutIn } from '../../src/io/pytorch.js';
import { encodePytorchStateDict } from '../../src/io/pytorch-export.js';
import { pytorchModuleSource } from '../../src/io/pytorch-modules.js';

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A basic block on [N,H,W,inC]: conv3x3(stride) + BN + ReLU + conv3x3 + BN (+ 1x1 conv + BN shortcut), ReLU. */
function block(inC: number, outC: number, stride: number, seed: number): Residual {
  const rng = new InitRng(seed);
  const body = new Sequential(
    [
      new Conv2d(inC, outC, 3, { stride, padding: 1, bias: false, rng }),
      new BatchNorm2d(outC),
      new ReLU(),
      new Conv2d(outC, outC, 3, { padding: 1, rng }),
      new BatchNorm2d(outC),
    ],
    { names: ['conv1', 'bn1', 'relu', 'conv2', 'bn2'] },
  );
  const shortcut =
    stride !== 1 || inC !== outC
      ? new Sequential([new Conv2d(inC, outC, 1, { stride, bias: false, rng }), new BatchNorm2d(outC)])
      : undefined;
  return new Residual(body, { ...(shortcut && { shortcut }), relu: true });
}

/**
 * Random BatchNorm scales near 1, shifts, running statistics and biases (so each of them
 * matters); conv and linear weights keep their He initialisation (activations stay O(1)
 * through 20 layers). Returns every tensor's values by name.
 */
async function randomize(m: Module, seed: number): Promise<Values> {
  const v: Values = new Map();
  const state = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, t] of m.stateDict()) {
    const near1 = t.shape.length === 1 && /weight$|running_var$/.test(k);
    const data =
      t.shape.length > 1
        ? ((await t.read()) as Float32Array)
        : k.endsWith('num_batches_tracked')
          ? new Float32Array(1)
          : randomArray(t.size, seed++, near1 ? 0.6 : -0.5, near1 ? 1.4 : 0.5);
    state.set(k, { shape: [...t.shape], data });
    v.set(k, data);
  }
  m.loadStateDict(state);
  return v;
}

const CASES = [
  { what: 'identity shortcut', shape: [2, 5, 7, 5], inC: 5, outC: 5, stride: 1 },
  { what: '1x1 stride-2 downsample shortcut', shape: [2, 5, 7, 3], inC: 3, outC: 6, stride: 2 },
];

suite('residual', (test) => {
  for (const c of CASES)
    test(`block (${c.what}, ${JSON.stringify(c.shape)}) forward matches float64 in train and eval modes`, async () => {
      const m = block(c.inC, c.outC, c.stride, 1);
      const v = await randomize(m, 10);
      const xs = randomArray(numel(c.shape), 3, -2, 2);
      const x = tensor(xs, c.shape);
      const spec = m.toSpec();
      const xin = { data: Float64Array.from(xs), shape: c.shape };
      const yTrain = m.forward(x);
      const want = refLayer(spec, '', xin, v, true);
      assertEqual([...yTrain.shape], want.shape, 'output shape');
      assertClose('train y', await yTrain.read(), want.data, { atol: 1e-4, rtol: 1e-4 });
      m.eval();
      for (const [k, t] of m.namedBuffers()) v.set(k, await t.read()); // the running stats the train step left
      assertClose(
        'num_batches_tracked',
        await m
          .namedBuffers()
          .find(([k]) => k === 'bn1.num_batches_tracked')![1]
          .read(),
        [1],
        { atol: 0 },
      );
      const yEval = m.forward(x);
      assertClose('eval y', await yEval.read(), refLayer(spec, '', xin, v, false).data, { atol: 1e-4, rtol: 1e-4 });
      m.dispose();
    });

  test('block backward (stride 2, downsample): input and parameter gradients = finite differences', async () => {
    const c = CASES[1];
    const m = block(c.inC, c.outC, c.stride, 2);
    const v = await randomize(m, 20);
    const xs = randomArray(numel(c.shape), 4, -2, 2);
    const spec = m.toSpec();
    const yShape = m.outputShape(c.shape);
    const ws = randomArray(numel(yShape), 5);
    const x = tensor(xs, c.shape);
    x.requiresGrad = true;
    const wT = tensor(ws, yShape);
    const named = m.namedParameters();
    const { value, grads } = valueAndGrad(() => mul(m.forward(x), wT), [x, ...named.map(([, t]) => t)]);
    const loss = (vv: Values, xx: ArrayLike<number>) =>
      dot(refLayer(spec, '', { data: Float64Array.from(xx), shape: c.shape }, vv, true).data, ws);
    // float64 FD with h = 1e-6 against float32 GPU gradients
    const tol = { atol: 2e-3, rtol: 2e-3 };
    assertClose(
      'dx',
      await grads[0].read(),
      numericGrad((xx) => loss(v, xx), xs),
      tol,
    );
    for (const [i, [k]] of named.entries()) {
      const fd = numericGrad((p) => loss(new Map([...v, [k, p]]), xs), v.get(k)!);
      assertClose(`d ${k}`, await grads[i + 1].read(), fd, tol);
    }
    value.dispose();
    m.dispose();
  });

  test('shape mismatches name the shapes; bad names are refused', async () => {
    const rng = new InitRng(0);
    const r = new Residual(new Conv2d(3, 4, 3, { padding: 1, rng }));
    await assertThrows(
      () => r.forward(tensor(new Float32Array(2 * 5 * 7 * 3), [2, 5, 7, 3])),
      /Residual: for input \[2,5,7,3\] the body gives \[2,5,7,4\] but the identity shortcut gives \[2,5,7,3\]/,
    );
    await assertThrows(
      () => parseModelSpec({ version: 1, input: [5, 7, 3], layers: [r.toSpec()] }),
      /layers\[0\] \(residual\): the body gives \[5,7,4\] but the identity shortcut gives \[5,7,3\]/,
    );
    const s = new Residual(new Conv2d(3, 4, 3, { padding: 1, rng }), {
      shortcut: new Conv2d(3, 4, 1, { stride: 2, rng }),
    });
    await assertThrows(() => s.outputShape([2, 5, 7, 3]), /body gives \[2,5,7,4\] but the shortcut gives \[2,3,4,4\]/);
    await assertThrows(
      () => new Sequential([new ReLU(), new ReLU()], { names: ['a', 'a'] }),
      /the name 'a' is used twice/,
    );
    await assertThrows(() => new Sequential([new ReLU()], { names: ['a.b'] }), /names\[0\] must be an identifier/);
    const body = new Sequential([new ReLU()], { names: ['downsample'] });
    await assertThrows(() => new Residual(body, { shortcut: new ReLU() }), /child named 'downsample'/);
    await assertThrows(
      () => parseModelSpec([{ type: 'sequential', layers: [{ type: 'relu' }], names: ['a', 'b'] }]),
      /layers\[0\].names has 2 names for 1 layers/,
    );
    const net = new Sequential([new Sequential([block(3, 3, 1, 0)])], { names: ['layer1'] });
    await assertThrows(
      () => net.forward(tensor(new Float32Array(2 * 4 * 4 * 4), [2, 4, 4, 4])),
      /in layer 0 Residual\(identity, relu\) with input \[2,4,4,4\]\).*\(in layer layer1 Sequential\(1 layers\) with input \[2,4,4,4\]\)$/,
    );
    await assertThrows(
      () =>
        parseModelSpec([{ type: 'residual', body: { type: 'relu' }, shortcut: { type: 'conv2d', inC: 1, outC: 1 } }]),
      /layers\[0\].shortcut.kernel must be an integer/,
    );
    await assertThrows(
      () => parseModelSpec([{ type: 'sequential', layers: [{ type: 'relu', slope: 1 }] }]),
      /layers\[0\].layers\[0\] \(relu\): unknown field "slope"/,
    );
    let deep: object = { type: 'relu' };
    for (let k = 0; k < 20; k++) deep = { type: 'sequential', layers: [deep] };
    await assertThrows(() => parseModelSpec([deep]), /nest deeper than 16/);
    r.dispose();
    s.dispose();
    net.dispose();
  });

  test('named, nested Sequentials: dotted names, default "0", "1"; spec round trip; train/eval reach every layer', async () => {
    const m = new Sequential(
      [
        new Sequential([new Conv2d(3, 4, 1), new BatchNorm2d(4)]),
        block(4, 4, 1, 3),
        new GlobalAvgPool(),
        new Linear(4, 2),
      ],
      { names: ['stem', 'layer1', 'pool', 'fc'] },
    );
    const names = m.stateDict();
    assertEqual(
      [...names.keys()].slice(0, 4),
      ['stem.0.weight', 'stem.0.bias', 'stem.1.weight', 'stem.1.bias'],
      'first names',
    );
    assert(
      names.has('layer1.conv2.bias') && names.has('layer1.bn2.running_var') && names.has('fc.weight'),
      'block names',
    );
    assertEqual(names.get('layer1.bn1.weight')!.name, 'layer1.bn1.weight', 'tensor names are the paths');
    const spec = m.toSpec([6, 5, 3]);
    assertEqual(spec.names, ['stem', 'layer1', 'pool', 'fc'], 'spec names');
    assertEqual(modelShapes(spec), [[6, 5, 4], [6, 5, 4], [4], [2]], 'shapes');
    assertEqual(
      modelParams(spec)
        .map((p) => `${p.name}:${p.shape}${p.buffer ? ' (buffer)' : ''}`)
        .sort(),
      [...names].map(([k, t]) => `${k}:${t.shape}${t.requiresGrad ? '' : ' (buffer)'}`).sort(),
      'modelParams = stateDict names and shapes',
    );
    const again = Sequential.fromSpec(JSON.parse(JSON.stringify(spec)));
    assertEqual(again.toSpec(), spec, 'fromSpec(toSpec()) round trip');
    m.eval();
    assert(
      m.namedModules().every(([, x]) => !x.training),
      'eval everywhere',
    );
    assertEqual(new Sequential([new ReLU(), new Conv2d(1, 1, 1)]).stateDict().has('1.weight'), true, 'default names');
    m.dispose();
    again.dispose();
  });

  test('presets: resnet20 has 272,474 parameters named as the benchmark; vgg 288,746', async () => {
    const r = resnet20({ seed: 1 });
    assertEqual(r.parameterCount(), 272_474, 'resnet20 parameters');
    const bench = initResnetParams(1);
    assertEqual(
      r.namedParameters().map(([k]) => k),
      bench.trainable,
      'trainable names and order = bench/resnet.ts',
    );
    assertEqual(
      r
        .namedBuffers()
        .filter(([k]) => !k.endsWith('num_batches_tracked'))
        .map(([k]) => k),
      Object.keys(bench.values).filter((k) => /running_/.test(k)),
      'buffers',
    );
    for (const [k, t] of r.stateDict()) if (bench.shapes[k]) assertEqual([...t.shape], bench.shapes[k], `${k} shape`);
    assertEqual(resnet20({ numClasses: 100 }).parameterCount(), 272_474 + 64 * 90 + 90, 'numClasses 100');
    const v = vgg();
    assertEqual(v.parameterCount(), 288_746, 'vgg parameters');
    assertEqual(modelShapes(v.toSpec()).at(-1), [10], 'vgg logits');
    await assertThrows(() => resnet20({ numClasses: 0 }), /resnet20: 'numClasses'/);
    r.dispose();
    v.dispose();
  });

  test('resnet20 (batch 2, train mode): the loss = the benchmark float64 reference with its weights', async () => {
    const m = resnet20();
    const p = initResnetParams(7);
    // the benchmark's file has no num_batches_tracked: loadStateDict reads it as 0, as PyTorch does
    m.loadStateDict(Object.fromEntries(Object.entries(p.values).map(([k, d]) => [k, { shape: p.shapes[k], data: d }])));
    const { x, labels } = makeResnetBatch(2, 8);
    const ref = resnetGrads(p, x, labels, true); // gradients: the block test above (FD) and the bench
    const xT = tensor(x, [2, 32, 32, 3]),
      yT = tensor(labels, [2], 'u32');
    const loss = withQuickKernels(() => softmaxCrossEntropy(m.forward(xT), yT));
    assertClose('loss', await loss.read(), [ref.loss], { atol: 1e-5, rtol: 1e-4 });
    m.dispose();
  });

  test('save/load: resnet20 and vgg give the same logits after a round trip (eval mode)', async () => {
    for (const make of [resnet20, vgg]) {
      const m = make({ seed: 3 });
      await randomize(m, 40);
      m.eval();
      const x = tensor(randomArray(2 * 32 * 32 * 3, 9, 0, 1), [2, 32, 32, 3]);
      const before = await withQuickKernels(() => m.forward(x)).read();
      if (make === resnet20) {
        const v: Values = new Map();
        for (const [k, t] of m.stateDict()) v.set(k, await t.read());
        const want = refModel(m.toSpec(), { data: Float64Array.from(await x.read()), shape: [...x.shape] }, v, false);
        assertClose('resnet20 eval logits vs float64', before, want.data, { atol: 1e-4, rtol: 1e-3 });
      }
      const file = decodeModel(await saveModel(m.toSpec(), m.stateDict()));
      const back = Sequential.fromSpec(file.spec!, { seed: 99 });
      back.loadStateDict(file.params);
      back.eval();
      assertClose(`${make.name} logits`, await withQuickKernels(() => back.forward(x)).read(), before, {
        atol: 0,
        rtol: 0,
      });
      m.dispose();
      back.dispose();
    }
  });

  test('PyTorch: a torchvision-style resnet20 state dict imports to the same logits; export and module source', async () => {
    const m = resnet20({ seed: 5 });
    const v = await randomize(m, 60);
    m.eval();
    // the dict PyTorch would save: torchvision names, OIHW conv and [out,in] linear weights, I64 counts
    const torch = new Map<string, TensorToWrite>();
    for (const [k, t] of m.stateDict()) {
      const d = v.get(k)!;
      const s = [...t.shape];
      if (s.length === 4)
        torch.set(k, {
          shape: [s[3], s[2], s[0], s[1]],
          data: hwioToPytorch(d, s as [number, number, number, number]),
        });
      else if (s.length === 2)
        torch.set(k, { shape: [s[1], s[0]], data: linearInOutToOutIn(d, s as [number, number]) });
      else if (k.endsWith('num_batches_tracked')) torch.set(k, { shape: [], data: BigInt64Array.of(3n) });
      else torch.set(k, { shape: s, data: Float32Array.from(d) });
    }
    const spec = m.toSpec();
    const imported = importPytorchStateDict(readSafetensors(writeSafetensors(torch)), spec);
    const fresh = resnet20({ seed: 6 });
    fresh.loadStateDict(imported);
    fresh.eval();
    const x = tensor(randomArray(2 * 32 * 32 * 3, 61, 0, 1), [2, 32, 32, 3]);
    const [got, want] = withQuickKernels(() => [fresh.forward(x), m.forward(x)]);
    assertClose('logits after import', await got.read(), await want.read(), { atol: 0, rtol: 0 });
    // the export writes that same dict (keys, shapes and bytes; counts as read back: 0)
    const state = new Map([...m.stateDict()].map(([k, t]) => [k, { shape: t.shape, data: v.get(k)! }]));
    const exported = readSafetensors(encodePytorchStateDict(spec, state));
    assertEqual([...exported.tensors.keys()].sort(), [...torch.keys()].sort(), 'export keys = torchvision names');
    assertEqual(exported.tensors.get('layer2.0.downsample.0.weight')!.shape, [32, 16, 1, 1], 'OIHW 1x1 shortcut');
    const src = pytorchModuleSource(spec);
    for (const want of [
      'class Residual(nn.Module):',
      '("layer2", nn.Sequential(',
      '("conv1", nn.Conv2d(16, 32, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(1, 1), bias=False)),',
      'downsample=nn.Sequential(',
      '("fc", nn.Linear(64, 10, bias=True)),',
    ])
      assert(src.includes(want), `module source has ${want}`);
    assertEqual(src.split('nn.Conv2d(').length - 1, 21, '21 convolutions');
    assertEqual(src.split('nn.BatchNorm2d(').length - 1, 21, '21 BatchNorms');
    assertEqual(src.split('Residual(\n').length - 1, 9, '9 residual blocks');
    m.dispose();
    fresh.dispose();
  });

  test('a captured TrainStep on a residual model = the uncaptured one after 3 steps (one submit each)', async () => {
    const make = (capture: boolean) => {
      const rng = new InitRng(4);
      const model = new Sequential([block(3, 6, 2, 6), new GlobalAvgPool(), new Linear(6, 3, { rng })]);
      const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
      // both on the quick kernels (one tier: bit-identical; they compile in milliseconds)
      const step = new TrainStep({
        model,
        optimizer,
        loss: softmaxCrossEntropy,
        inputShape: [2, 6, 5, 3],
        capture,
        coldStart: 'quick',
      });
      return { model, step, dispose: () => (step.dispose(), optimizer.dispose(), model.dispose()) };
    };
    const a = make(false),
      b = make(true);
    const w0 = await a.model.parameters()[0].read();
    for (let k = 0; k < 3; k++) {
      const xs = randomArray(2 * 6 * 5 * 3, 50 + k, -2, 2),
        ys = [k % 3, (k + 1) % 3];
      withQuickKernels(() => a.step.run(xs, ys));
      engine().flush();
      const sub0 = engine().queue.counters.submits;
      b.step.run(xs, ys);
      if (k > 0) assertEqual(engine().queue.counters.submits - sub0, 1, `replayed step ${k}: one submit`);
    }
    for (const [k, t] of a.model.stateDict())
      assertClose(k, await b.model.stateDict().get(k)!.read(), await t.read(), { atol: 0, rtol: 0, log: false });
    const w3 = await a.model.parameters()[0].read();
    assert(
      w3.some((v, i) => v !== w0[i]),
      'the steps moved the parameters',
    );
    a.dispose();
    b.dispose();
  });
});
