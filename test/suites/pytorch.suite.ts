// io-pytorch: the round trip with PyTorch. Import of hand-built PyTorch state dicts and export of
// our models, both checked against a float64 reference of PyTorch's semantics in its own
// conventions (pytorch.helpers.ts: NCHW, OIHW, (C,H,W) flatten, nn.Sequential indices); exact
// round trips; BatchNorm in training and evaluation modes; matching by forward order and its
// ambiguity error; PyTorch's padding rules. Inputs are non-square everywhere, so a height/width
// swap cannot pass. Each architecture prints its largest logit error relative to the largest
// logit, for import and for export.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { readSafetensors, toFloat32, writeSafetensors, type TensorToWrite } from '../../src/io/safetensors.js';
import { importPytorchStateDict, pytorchToHwio } from '../../src/io/pytorch.js';
import { encodePytorchStateDict, exportPytorchStateDict } from '../../src/io/pytorch-export.js';
import { pytorchModuleSource, torchModules } from '../../src/io/pytorch-modules.js';
import { modelParams, modelShapes, parseModelSpec, type ModelSpec } from '../../src/nn/spec.js';
import { FormatError } from '../../src/io/errors.js';
import { Sequential } from '../../src/nn/sequential.js';
import { lenet } from '../../src/nn/presets.js';
import { tensor } from '../../src/tensor/tensor.js';
import { conv2d, conv2dInputGrad, conv2dWeightGrad, convGeometry, ref as convRef } from '../../src/ops/conv2d/index.js';
import { nchwToNhwc, relToLargest, torchForward, type TorchOp, type TorchState } from './pytorch.helpers.js';

const bitsEqual = (a: ArrayBufferView, b: ArrayBufferView) => {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
    y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
};
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

interface Arch {
  name: string;
  spec: ModelSpec;
  /** the equivalent nn.Sequential, module by module (its indices are the state-dict keys) */
  ops: TorchOp[];
  /** its state dict's tensors in PyTorch's layout, written out by hand */
  shapes: Record<string, number[]>;
}

const ARCHS: Arch[] = [
  {
    name: 'LeNet-like, 10x14 input',
    spec: {
      version: 1,
      input: [10, 14, 2],
      layers: [
        { type: 'conv2d', inC: 2, outC: 4, kernel: 3, padding: 'same', activation: 'relu' },
        { type: 'maxpool2d', kernel: 2 },
        { type: 'conv2d', inC: 4, outC: 6, kernel: [3, 5], padding: [1, 2], activation: 'relu' },
        { type: 'flatten' },
        { type: 'linear', in: 5 * 7 * 6, out: 12, activation: 'relu' },
        { type: 'linear', in: 12, out: 5 },
      ],
    },
    ops: [
      { t: 'conv', p: [1, 1] },
      { t: 'relu' },
      { t: 'maxpool', k: [2, 2] },
      { t: 'conv', p: [1, 2] },
      { t: 'relu' },
      { t: 'flatten' },
      { t: 'linear' },
      { t: 'relu' },
      { t: 'linear' },
    ],
    shapes: {
      '0.weight': [4, 2, 3, 3],
      '0.bias': [4],
      '3.weight': [6, 4, 3, 5],
      '3.bias': [6],
      '6.weight': [12, 210],
      '6.bias': [12],
      '8.weight': [5, 12],
      '8.bias': [5],
    },
  },
  {
    name: "stride 2, BatchNorm, avg pool counting padding, asymmetric 'same', 9x12 input",
    spec: {
      version: 1,
      input: [9, 12, 3],
      layers: [
        { type: 'conv2d', inC: 3, outC: 8, kernel: 3, stride: 2, padding: 1, bias: false },
        { type: 'batchnorm2d', channels: 8 },
        { type: 'relu' },
        { type: 'avgpool2d', kernel: 3, stride: 1, padding: 1, countIncludePad: true },
        { type: 'conv2d', inC: 8, outC: 6, kernel: [3, 5], stride: 2, padding: 'same' },
        { type: 'globalavgpool' },
        { type: 'linear', in: 6, out: 4 },
      ],
    },
    ops: [
      { t: 'conv', s: [2, 2], p: [1, 1], bias: false },
      { t: 'bn' },
      { t: 'relu' },
      { t: 'avgpool', k: [3, 3], s: [1, 1], p: [1, 1], cip: true },
      { t: 'zeropad', p: [1, 2, 1, 1] }, // 'same' on 5x6, stride 2: rows 1+1, columns 1+2
      { t: 'conv', s: [2, 2] },
      { t: 'gap' },
      { t: 'flatten' },
      { t: 'linear' },
    ],
    shapes: {
      '0.weight': [8, 3, 3, 3],
      '1.weight': [8],
      '1.bias': [8],
      '1.running_mean': [8],
      '1.running_var': [8],
      '1.num_batches_tracked': [],
      '5.weight': [6, 8, 3, 5],
      '5.bias': [6],
      '8.weight': [4, 6],
      '8.bias': [4],
    },
  },
  {
    name: 'stem/body/top (equal convs), avg pool excluding padding, 7x9 input',
    spec: {
      version: 1,
      input: [7, 9, 3],
      layers: [
        { type: 'conv2d', inC: 3, outC: 8, kernel: 3, padding: 1, activation: 'relu' },
        { type: 'conv2d', inC: 8, outC: 8, kernel: 3, padding: 1, activation: 'relu' },
        { type: 'conv2d', inC: 8, outC: 8, kernel: 3, padding: 1, activation: 'relu' },
        { type: 'avgpool2d', kernel: 3, stride: 2, padding: 1 },
        { type: 'flatten' },
        { type: 'linear', in: 4 * 5 * 8, out: 3 },
      ],
    },
    ops: [
      { t: 'conv', p: [1, 1] },
      { t: 'relu' },
      { t: 'conv', p: [1, 1] },
      { t: 'relu' },
      { t: 'conv', p: [1, 1] },
      { t: 'relu' },
      { t: 'avgpool', k: [3, 3], s: [2, 2], p: [1, 1], cip: false },
      { t: 'flatten' },
      { t: 'linear' },
    ],
    shapes: {
      '0.weight': [8, 3, 3, 3],
      '0.bias': [8],
      '2.weight': [8, 8, 3, 3],
      '2.bias': [8],
      '4.weight': [8, 8, 3, 3],
      '4.bias': [8],
      '8.weight': [3, 160],
      '8.bias': [3],
    },
  },
];

/** A random PyTorch state dict of those shapes (BatchNorm: positive variances, a batch count). */
function randomState(shapes: Record<string, number[]>, seed: number): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  for (const [k, shape] of Object.entries(shapes)) {
    const r = randomArray(numel(shape), seed++);
    if (k.endsWith('num_batches_tracked')) out[k] = { shape, data: BigInt64Array.of(7n) };
    else if (k.endsWith('running_var')) out[k] = { shape, data: r.map((v) => 0.5 + Math.abs(v)) };
    else if (/\.\d+\.weight$|^\d+\.weight$/.test(k) && shape.length === 1)
      out[k] = { shape, data: r.map((v) => 1 + 0.3 * v) };
    else out[k] = { shape, data: r };
  }
  return out;
}

/** The reference's view of a state dict (I64 as numbers). */
const asRef = (s: Record<string, TensorToWrite>): TorchState =>
  Object.fromEntries(
    Object.entries(s).map(([k, t]) => [
      k,
      { shape: [...t.shape], data: Array.from(t.data as ArrayLike<number | bigint>, Number) },
    ]),
  );

const fileState = (bytes: Uint8Array): TorchState =>
  Object.fromEntries([...readSafetensors(bytes).tensors].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t) }]));

/** Our forward on NCHW input x (transposed to NHWC), logits read back. */
async function ours(model: Sequential, x: Float32Array, [N, C, H, W]: number[]): Promise<Float32Array> {
  const xt = tensor(nchwToNhwc(x, [N, C, H, W]), [N, H, W, C]);
  const y = model.forward(xt);
  const out = (await y.read()) as Float32Array;
  xt.dispose();
  y.dispose();
  return out;
}

const N = 3;
const inputShape = (a: Arch) => [N, a.spec.input![2], a.spec.input![0], a.spec.input![1]];

suite('io-pytorch', (test) => {
  test('ModelSpec: batchnorm2d, padding [[top, bottom], [left, right]], countIncludePad', async () => {
    const spec = parseModelSpec({
      version: 1,
      input: [9, 12, 3],
      layers: [
        {
          type: 'conv2d',
          inC: 3,
          outC: 4,
          kernel: [3, 5],
          padding: [
            [0, 2],
            [3, 1],
          ],
          stride: 2,
        },
        { type: 'batchnorm2d', channels: 4, eps: 1e-3, momentum: 0.2 },
        { type: 'avgpool2d', kernel: 3, stride: 1, padding: 1, countIncludePad: true },
        { type: 'flatten' },
        { type: 'batchnorm2d', channels: 120 },
      ],
    });
    // rows (9 + 0 + 2 - 3) / 2 + 1 = 5, columns (12 + 3 + 1 - 5) / 2 + 1 = 6
    assertEqual(modelShapes(spec), [[5, 6, 4], [5, 6, 4], [5, 6, 4], [120], [120]], 'shapes');
    await assertThrows(() => torchModules(spec), /layers\[4\] \(batchnorm2d\): .*flattened from a map .*not supported/);
    assertEqual(
      modelParams(spec).map((p) => `${p.name}:${p.shape}${p.buffer ? ' (buffer)' : ''}`),
      [
        '0.weight:3,5,3,4',
        '0.bias:4',
        '1.weight:4',
        '1.bias:4',
        '1.running_mean:4 (buffer)',
        '1.running_var:4 (buffer)',
        '1.num_batches_tracked: (buffer)',
        '4.weight:120',
        '4.bias:120',
        '4.running_mean:120 (buffer)',
        '4.running_var:120 (buffer)',
        '4.num_batches_tracked: (buffer)',
      ],
      'tensors of the spec',
    );
    for (const [layer, re] of [
      [{ type: 'maxpool2d', kernel: 2, countIncludePad: true }, /maxpool2d\): unknown field "countIncludePad"/],
      [
        { type: 'conv2d', inC: 3, outC: 4, kernel: 3, padding: [[0, 2], [3]] },
        /padding\[1\] must be a number or \[h, w\]/,
      ],
      [{ type: 'batchnorm2d', channels: 5 }, /channels is 5 but the input \[9,12,3\] has 3 channels/],
      [{ type: 'batchnorm2d', channels: 3, momentum: 2 }, /momentum must be a number in \[0, 1\]/],
    ] as const) {
      const e = await assertThrows(() => parseModelSpec({ version: 1, input: [9, 12, 3], layers: [layer] }), re);
      assert(e instanceof FormatError, `FormatError: ${e.message}`);
    }
  });

  test('export names: lenet is 0/3/7/9 in PyTorch; the generated module lists the same modules', () => {
    const spec = lenet().toSpec();
    const { layers, modules } = torchModules(spec);
    assertEqual(
      layers.map((l) => l.index),
      [0, 3, 7, 9],
      'nn.Sequential indices of the conv and linear modules',
    );
    assertEqual(modules.length, 10, 'conv relu pool conv relu pool flatten linear relu linear');
    const state = new Map(
      modelParams(spec).map((p, i) => [p.name, { shape: p.shape, data: randomArray(numel(p.shape), i) }]),
    );
    const file = readSafetensors(encodePytorchStateDict(spec, state));
    assertEqual(
      [...file.tensors.keys()].sort(),
      ['0.bias', '0.weight', '3.bias', '3.weight', '7.bias', '7.weight', '9.bias', '9.weight'],
      'exported keys',
    );
    assertEqual(file.tensors.get('7.weight')!.shape, [128, 3136], 'linear [out,in]');
    assertEqual(file.metadata.format, 'pt', "metadata format 'pt', as safetensors.torch writes");
    const py = pytorchModuleSource(spec);
    for (const line of [
      'nn.Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), dilation=(1, 1), bias=True),  # 0: layers[0] conv2d',
      'nn.MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0)),  # 2: layers[1] maxpool2d',
      'nn.Flatten(),  # 6: layers[4] flatten',
      'nn.Linear(3136, 128, bias=True),  # 7: layers[5] linear',
      'nn.Linear(128, 10, bias=True),  # 9: layers[6] linear',
    ])
      assert(py.includes(line), `module source has ${line}:\n${py}`);
    const b = pytorchModuleSource(ARCHS[1].spec);
    assert(b.includes('nn.ZeroPad2d((1, 2, 1, 1)),  # 4: layers[4] conv2d'), `asymmetric 'same' padding:\n${b}`);
    assert(b.includes('nn.BatchNorm2d(8, eps=0.00001, momentum=0.1)'), `BatchNorm:\n${b}`);
    assert(b.includes('count_include_pad=True'), `count_include_pad:\n${b}`);
  });

  for (const [ai, a] of ARCHS.entries())
    test(`${a.name}: import and export match PyTorch's float64 semantics; round trips are exact`, async () => {
      const torch = randomState(a.shapes, 100 * ai + 1);
      const xs = inputShape(a);
      const x = randomArray(numel(xs), 100 * ai + 50);
      // import: a hand-built PyTorch state dict, our forward vs the NCHW float64 reference
      const bytes = writeSafetensors(torch);
      const imported = importPytorchStateDict(readSafetensors(bytes), a.spec);
      const model = Sequential.fromSpec(a.spec, { seed: 1 });
      model.loadStateDict(imported);
      model.eval();
      const want = torchForward(a.ops, asRef(torch), { shape: xs, data: x }).y.data;
      const got = await ours(model, x, xs);
      const errImport = relToLargest(got, want);
      console.log(`  [${a.name}] import: max logit error ${errImport.toExponential(2)} of the largest logit`);
      assertClose('import logits', got, want, { atol: 1e-5 * Math.max(...want.map(Math.abs)), rtol: 0, log: false });
      // export of what was imported gives the file back, bit for bit
      const back = readSafetensors(await exportPytorchStateDict(model));
      assertEqual([...back.tensors.keys()].sort(), Object.keys(a.shapes).sort(), 'exported keys = PyTorch keys');
      for (const [k, t] of Object.entries(torch)) {
        const e = back.tensors.get(k)!;
        assertEqual(e.dtype, t.data instanceof BigInt64Array ? 'I64' : 'F32', `${k} dtype`);
        assertEqual(e.shape, [...t.shape], `${k} shape`);
        assert(bitsEqual(e.bytes, t.data), `${k}: import then export gives the same bits`);
      }
      // export: our own weights (BatchNorm statistics moved by one training forward)
      const mine = Sequential.fromSpec(a.spec, { seed: 9 + ai });
      await ours(mine, randomArray(numel(xs), 7), xs); // training mode: updates running stats
      mine.eval();
      const exported = await exportPytorchStateDict(mine);
      const ref2 = torchForward(a.ops, fileState(exported), { shape: xs, data: x }).y.data;
      const got2 = await ours(mine, x, xs);
      const errExport = relToLargest(got2, ref2);
      console.log(`  [${a.name}] export: max logit error ${errExport.toExponential(2)} of the largest logit`);
      assertClose('export logits', got2, ref2, { atol: 1e-5 * Math.max(...ref2.map(Math.abs)), rtol: 0, log: false });
      // and its import gives our tensors back, bit for bit
      const again = importPytorchStateDict(readSafetensors(exported), a.spec);
      for (const [k, t] of mine.stateDict()) {
        const h = again.get(k)!;
        assertEqual(h.shape, [...t.shape], `${k} shape`);
        assert(bitsEqual(h.data, await t.read()), `${k}: export then import gives the same bits`);
      }
      model.dispose();
      mine.dispose();
    });

  test('BatchNorm in training mode: batch statistics, PyTorch running-stat update, num_batches_tracked', async () => {
    const a = ARCHS[1];
    const torch = randomState(a.shapes, 77);
    const xs = inputShape(a);
    const x = randomArray(numel(xs), 78);
    const model = Sequential.fromSpec(a.spec, { seed: 1 });
    model.loadStateDict(importPytorchStateDict(readSafetensors(writeSafetensors(torch)), a.spec));
    model.train();
    const { y, updates } = torchForward(a.ops, asRef(torch), { shape: xs, data: x }, true);
    const got = await ours(model, x, xs);
    console.log(`  training-mode logits: max error ${relToLargest(got, y.data).toExponential(2)} of the largest`);
    assertClose('training-mode logits', got, y.data, { atol: 1e-5 * Math.max(...y.data.map(Math.abs)), rtol: 0 });
    const st = model.stateDict();
    assertClose('running_mean', await st.get('1.running_mean')!.read(), updates['1.running_mean'].data, {
      atol: 1e-6,
      rtol: 1e-5,
    });
    assertClose(
      'running_var (unbiased batch variance)',
      await st.get('1.running_var')!.read(),
      updates['1.running_var'].data,
      {
        atol: 1e-6,
        rtol: 1e-5,
      },
    );
    assertEqual(Array.from(await st.get('1.num_batches_tracked')!.read()), [8], 'num_batches_tracked 7 + 1');
    const file = readSafetensors(await exportPytorchStateDict(model));
    const nbt = file.tensors.get('1.num_batches_tracked')!;
    assertEqual([nbt.dtype, nbt.shape.length, Array.from(toFloat32(nbt))], ['I64', 0, [8]], 'exported as int64 []');
    model.eval(); // evaluation: the running statistics, no update
    await ours(model, x, xs);
    assertEqual(Array.from(await st.get('1.num_batches_tracked')!.read()), [8], 'eval counts no batch');
    model.dispose();
  });

  test("BatchNorm momentum null: the cumulative average of PyTorch's momentum=None, twice", async () => {
    const spec: ModelSpec = {
      version: 1,
      input: [5, 7, 3],
      layers: [{ type: 'batchnorm2d', channels: 3, momentum: null }, { type: 'globalavgpool' }],
    };
    assert(pytorchModuleSource(spec).includes('nn.BatchNorm2d(3, eps=0.00001, momentum=None)'), 'momentum=None');
    let torch: TorchState = asRef(
      randomState(
        { '0.weight': [3], '0.bias': [3], '0.running_mean': [3], '0.running_var': [3], '0.num_batches_tracked': [] },
        500,
      ),
    );
    const ops: TorchOp[] = [{ t: 'bn', momentum: null }, { t: 'gap' }, { t: 'flatten' }];
    const model = Sequential.fromSpec(spec);
    model.loadStateDict(
      new Map(Object.entries(torch).map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }])),
    );
    for (const step of [1, 2]) {
      const xs = [4, 3, 5, 7],
        x = randomArray(numel(xs), 500 + step);
      const { updates } = torchForward(ops, torch, { shape: xs, data: x }, true);
      await ours(model, x, xs);
      const st = model.stateDict();
      for (const k of ['0.running_mean', '0.running_var', '0.num_batches_tracked'])
        assertClose(`step ${step}: ${k}`, await st.get(k)!.read(), updates[k].data, { atol: 1e-6, rtol: 1e-5 });
      torch = { ...torch, ...updates };
    }
    assertEqual(Array.from(await model.stateDict().get('0.num_batches_tracked')!.read()), [9], '7 + 2 batches');
    model.dispose();
  });

  test('forward order: equal shapes under names without order fail and say how to map; prefixes and map fix it', async () => {
    const a = ARCHS[2];
    const torch = randomState(a.shapes, 300);
    const rename: Record<string, string> = { '0': 'stem', '2': 'body', '4': 'top', '8': 'fc' };
    const named: Record<string, TensorToWrite> = {};
    for (const [k, t] of Object.entries(torch)) named[k.replace(/^\d+/, (d) => rename[d])] = t;
    // sorted keys are body, fc, stem, top: sorting would put body first
    const file = readSafetensors(writeSafetensors(Object.fromEntries(Object.entries(named).sort())));
    const e = await assertThrows(
      () => importPytorchStateDict(file, a.spec),
      /cannot place .*layers\[1\] \(conv2d weight \[8,8,3,3\] \+ bias\) could be any of "body\.weight", "top\.weight".*prefixes.*map/,
    );
    assert(!/stem/.test(e.message.split('could be')[0]), 'the unique stem conv is not reported');
    const xs = inputShape(a);
    const x = randomArray(numel(xs), 301);
    const want = torchForward(a.ops, asRef(torch), { shape: xs, data: x }).y.data;
    const byMap: Record<string, string> = {};
    for (const [k, i] of [
      ['stem', 0],
      ['body', 1],
      ['top', 2],
      ['fc', 5],
    ] as const)
      for (const s of ['weight', 'bias']) byMap[`${k}.${s}`] = `${i}.${s}`;
    for (const opts of [
      { prefixes: ['stem', 'body', 'top', 'fc'] },
      { map: byMap },
      { map: { 'body.weight': '1.weight', 'body.bias': '1.bias', 'top.weight': '2.weight', 'top.bias': '2.bias' } },
    ]) {
      const model = Sequential.fromSpec(a.spec);
      model.loadStateDict(importPytorchStateDict(file, a.spec, opts));
      model.eval();
      const got = await ours(model, x, xs);
      assertClose(`logits with ${JSON.stringify(opts).slice(0, 40)}`, got, want, {
        atol: 1e-5 * Math.max(...want.map(Math.abs)),
        rtol: 0,
      });
      model.dispose();
    }
    // shapes alone place modules when they are unique (names without order: conv1, fc)
    const spec: ModelSpec = {
      version: 1,
      input: [4, 6, 2],
      layers: [
        { type: 'conv2d', inC: 2, outC: 8, kernel: 3, padding: 1 },
        { type: 'flatten' },
        { type: 'linear', in: 192, out: 3 },
      ],
    };
    const un = readSafetensors(
      writeSafetensors({
        'head.weight': { shape: [3, 192], data: randomArray(576, 1) },
        'head.bias': { shape: [3], data: randomArray(3, 2) },
        'conv.weight': { shape: [8, 2, 3, 3], data: randomArray(144, 3) },
        'conv.bias': { shape: [8], data: randomArray(8, 4) },
      }),
    );
    assertEqual(
      [...importPytorchStateDict(un, spec).keys()].sort(),
      ['0.bias', '0.weight', '2.bias', '2.weight'],
      'unique shapes',
    );
    await assertThrows(
      () => importPytorchStateDict(file, a.spec, { map: { 'body.weight': '9.weight' } }),
      /map: "body\.weight" -> "9\.weight": the spec has no tensor "9\.weight"/,
    );
  });

  test("conv padding [[top, bottom], [left, right]] = nn.ZeroPad2d + conv; 'same' at stride 2 is not PyTorch's padding=1", async () => {
    const [Nn, C, H, W, O] = [2, 3, 8, 10, 4];
    const xs = randomArray(Nn * C * H * W, 400),
      ws = randomArray(O * C * 3 * 5, 401);
    const x = tensor(nchwToNhwc(xs, [Nn, C, H, W]), [Nn, H, W, C]);
    const w = tensor(pytorchToHwio(ws, [O, C, 3, 5]), [3, 5, C, O]);
    const wRef = { shape: [O, C, 3, 5], data: ws };
    const run = (ops: TorchOp[]) =>
      torchForward(ops, { [`${ops.length - 1}.weight`]: wRef }, { shape: [Nn, C, H, W], data: xs }).y;
    const toNhwc = (y: { shape: number[]; data: Float64Array }) => nchwToNhwc(y.data, y.shape);
    const side = conv2d(x, w, {
      stride: 2,
      padding: [
        [0, 2],
        [3, 1],
      ],
    });
    const want = run([
      { t: 'zeropad', p: [3, 1, 0, 2] },
      { t: 'conv', s: [2, 2], bias: false },
    ]);
    assertEqual(side.shape, [Nn, want.shape[2], want.shape[3], O], 'output shape');
    assertClose('asymmetric padding vs ZeroPad2d + conv', await side.read(), toNhwc(want), { atol: 1e-5, rtol: 1e-5 });
    // backward with asymmetric padding vs the float64 reference
    const g = convGeometry('test', x.shape, w.shape, {
      stride: 2,
      padding: [
        [0, 2],
        [3, 1],
      ],
    });
    const dys = randomArray(side.size, 402);
    const dy = tensor(dys, side.shape);
    const dx = conv2dInputGrad(dy, w, x.shape, {
      stride: 2,
      padding: [
        [0, 2],
        [3, 1],
      ],
    });
    assertClose('input grad', await dx.read(), convRef.inputGrad(dys, await w.read(), g), { atol: 1e-5, rtol: 1e-5 });
    const dw = conv2dWeightGrad(x, dy, w.shape, {
      stride: 2,
      padding: [
        [0, 2],
        [3, 1],
      ],
    });
    assertClose('weight grad', await dw.read(), convRef.weightGrad(await x.read(), dys, g), { atol: 1e-4, rtol: 1e-5 });
    // PyTorch's padding=1 at stride 2 on an even input is symmetric; TensorFlow's 'same' is not
    const one = conv2d(x, w, { stride: 2, padding: [1, 2] });
    assertClose(
      'padding [1,2] = PyTorch padding=(1, 2)',
      await one.read(),
      toNhwc(run([{ t: 'conv', s: [2, 2], p: [1, 2], bias: false }])),
      {
        atol: 1e-5,
        rtol: 1e-5,
      },
    );
    const same = conv2d(x, w, { stride: 2, padding: 'same' });
    const sameRef = run([
      { t: 'zeropad', p: [1, 2, 0, 1] },
      { t: 'conv', s: [2, 2], bias: false },
    ]);
    assertClose("'same' = ZeroPad2d((1, 2, 0, 1)) + conv", await same.read(), toNhwc(sameRef), {
      atol: 1e-5,
      rtol: 1e-5,
    });
    const a = await one.read(),
      b = await same.read();
    assert(
      a.length === b.length && a.some((v, i) => Math.abs(v - b[i]) > 1e-3),
      "'same' differs from padding=(1, 2) here",
    );
    for (const t of [x, w, side, dy, dx, dw, one, same]) t.dispose();
  });
});
