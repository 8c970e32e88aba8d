// nn: layers' kernels and modules. BatchNorm and Dropout kernels vs float64 references (the
// BatchNorm backward reference checked by finite differences), initialisers, parameter names,
// train/eval mode.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { dot, numericGrad } from '../harness/fd.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { scope } from '../../src/tensor/scope.js';
import { beginTape, endTape, type TapeNode } from '../../src/autograd/tape.js';
import { full } from '../../src/ops/elementwise.js';
import { batchNorm, BatchNorm2d, ref as bnRef } from '../../src/nn/batchnorm.js';
import { dropout, Dropout, ref as dropRef } from '../../src/nn/dropout.js';
import { InitRng, initValues, fans } from '../../src/nn/init.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Flatten, Linear } from '../../src/nn/linear.js';
import { LeakyReLU, ReLU, Sigmoid, Tanh } from '../../src/nn/activations.js';
import { AvgPool2d, GlobalAvgPool, MaxPool2d } from '../../src/nn/pooling.js';
import { lenet } from '../../src/nn/presets.js';
import type { Module } from '../../src/nn/module.js';
import { ref as actRef } from '../../src/ops/activations.js';
import { modelParams, parseModelSpec } from '../../src/nn/spec.js';
import { decodeModel, saveModel } from '../../src/io/model-file.js';

suite('nn', (test) => {
  test('batchNorm backward reference matches finite differences', () => {
    const C = 3,
      xs = Float64Array.from(randomArray(5 * C, 11, -2, 2)),
      w = randomArray(5 * C, 12);
    const gamma = randomArray(C, 13, 0.5, 1.5),
      eps = 1e-3;
    const { dx, dgamma } = bnRef.batchNormBackward(xs, w, C, gamma, eps);
    const fdx = numericGrad((x) => dot(bnRef.batchNorm(x, C, gamma, new Float64Array(C), eps).y, w), xs);
    const fdg = numericGrad((g) => dot(bnRef.batchNorm(xs, C, g, new Float64Array(C), eps).y, w), gamma);
    // float64 central differences with h = 1e-6: truncation ~h^2, rounding ~1e-16/h ≈ 1e-10.
    assertClose('ref dx vs FD', dx, fdx, { atol: 1e-7, rtol: 1e-6 });
    assertClose('ref dgamma vs FD', dgamma, fdg, { atol: 1e-7, rtol: 1e-6 });
  });

  test('batchNorm forward/backward match the reference ([1,3,3,5], [2,5,7,17], [65,33]) and update running stats', async () => {
    for (const shape of [
      [1, 3, 3, 5],
      [2, 5, 7, 17],
      [65, 33],
    ]) {
      const C = shape[shape.length - 1],
        n = shape.reduce((a, b) => a * b, 1),
        M = n / C;
      const xs = randomArray(n, n, -3, 3),
        dys = randomArray(n, n + 1);
      const gs = randomArray(C, 7, 0.5, 1.5),
        bs = randomArray(C, 8);
      const x = tensor(xs, shape),
        g = tensor(gs),
        b = tensor(bs),
        rm = full([C], 0.5),
        rv = full([C], 2);
      const dyT = tensor(dys, shape);
      const eps = 1e-5,
        momentum = 0.1;
      const { y: value, grads } = vjp(
        () => batchNorm(x, g, b, rm, rv, { training: true, eps, momentum }),
        [x, g, b],
        dyT,
      );
      const want = bnRef.batchNorm(xs, C, gs, bs, eps);
      const wb = bnRef.batchNormBackward(xs, dys, C, gs, eps);
      // Sums over M <= 105 rows in f32: relative error ~M·2^-24 ≈ 1e-5 on mean and variance;
      // normalised values are O(1) so atol ~1e-4 covers it, gradients scale with sum |dy|.
      assertClose(`y ${shape}`, await value.read(), want.y, { atol: 1e-4, rtol: 1e-4 });
      assertClose(`dx ${shape}`, await grads[0]!.read(), wb.dx, { atol: 2e-4, rtol: 1e-3 });
      assertClose(`dgamma ${shape}`, await grads[1]!.read(), wb.dgamma, { atol: 2e-4, rtol: 1e-4 });
      assertClose(`dbeta ${shape}`, await grads[2]!.read(), wb.dbeta, { atol: 2e-4, rtol: 1e-4 });
      const wantRm = Float64Array.from(want.mean, (m) => 0.9 * 0.5 + 0.1 * m);
      const wantRv = Float64Array.from(want.variance, (v) => 0.9 * 2 + (0.1 * v * M) / (M - 1));
      assertClose(`running_mean ${shape}`, await rm.read(), wantRm, { atol: 1e-5, rtol: 1e-5 });
      assertClose(`running_var ${shape}`, await rv.read(), wantRv, { atol: 1e-5, rtol: 1e-5 });
      for (const t of [x, g, b, rm, rv, dyT, value, ...grads]) t?.dispose();
    }
  });

  test('loadStateDict: a BatchNorm file without num_batches_tracked (older files) loads with a count of 0', async () => {
    const m = new Sequential([new Conv2d(2, 3, 3, { rng: new InitRng(1) }), new BatchNorm2d(3)]);
    const state = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, t] of m.stateDict())
      if (!k.endsWith('num_batches_tracked'))
        state.set(k, { shape: [...t.shape], data: Float32Array.from({ length: t.size }, (_, i) => i + 1) });
    m.loadStateDict(state);
    const count = m.stateDict().get('1.num_batches_tracked')!;
    assertEqual(Array.from(await count.read()), [0], 'num_batches_tracked');
    assertEqual(Array.from(await m.stateDict().get('1.running_var')!.read()), [1, 2, 3], 'running_var loaded');
    // any other missing tensor is still an error
    state.delete('1.running_mean');
    await assertThrows(() => m.loadStateDict(state), /'1.running_mean' \[3\] is missing/);
    m.dispose();
  });

  test('BatchNorm2d in eval mode uses the running statistics and leaves them unchanged', async () => {
    const bn = new BatchNorm2d(4).eval();
    bn.runningMean.write([1, 2, 3, 4]);
    bn.runningVar.write([1, 4, 9, 16]);
    const x = tensor([2, 4, 6, 8, 0, 0, 0, 0], [2, 1, 1, 4]);
    const y = bn.forward(x);
    const s = (v: number) => 1 / Math.sqrt(v + 1e-5);
    assertClose(
      'eval y',
      await y.read(),
      [1 * s(1), 2 * s(4), 3 * s(9), 4 * s(16), -1 * s(1), -2 * s(4), -3 * s(9), -4 * s(16)],
      { atol: 1e-6, rtol: 1e-6 },
    );
    assertClose('running mean unchanged', await bn.runningMean.read(), [1, 2, 3, 4], { atol: 0, rtol: 0 });
    assertClose('no batch counted in eval mode', await bn.numBatchesTracked.read(), [0], { atol: 0, rtol: 0 });
    assertEqual(
      bn.namedBuffers().map(([n]) => n),
      ['running_mean', 'running_var', 'num_batches_tracked'],
      'buffer names',
    );
    for (const t of [x, y]) t.dispose();
    bn.dispose();
  });

  test('dropout mask matches the hash reference, changes per forward, and backward applies it', async () => {
    const n = 1000,
      rate = 0.3,
      seed = 77;
    const xs = randomArray(n, 3);
    const x = tensor(xs),
      state = tensor([seed, 0], [2], 'u32'),
      dy = tensor(randomArray(n, 4));
    const { y: value, grads } = vjp(() => dropout(x, rate, state), [x], dy);
    const m0 = dropRef.mask(seed, 0, n, rate);
    const dys = await dy.read();
    // exact: one f32 multiply by 1/(1-rate), rounded the same way on both sides up to 1 ulp
    assertClose(
      'y = x * mask',
      await value.read(),
      Float64Array.from(xs, (v, i) => v * m0[i]),
      { atol: 1e-6, rtol: 1e-6 },
    );
    assertClose(
      'dx = dy * mask',
      await grads[0]!.read(),
      Float64Array.from(dys, (v, i) => v * m0[i]),
      { atol: 1e-6, rtol: 1e-6 },
    );
    const kept = m0.filter((v) => v > 0).length / n;
    assert(Math.abs(kept - (1 - rate)) < 0.05, `keep fraction ${kept} ≈ ${1 - rate}`);
    assertEqual(Array.from(await state.read()), [seed, 1], 'counter advanced on the GPU');
    const y2 = dropout(x, rate, state);
    const m1 = dropRef.mask(seed, 1, n, rate);
    assertClose(
      'second forward uses mask k=1',
      await y2.read(),
      Float64Array.from(xs, (v, i) => v * m1[i]),
      { atol: 1e-6, rtol: 1e-6 },
    );
    assert(
      m0.some((v, i) => v !== m1[i]),
      'masks differ between forwards',
    );
    for (const t of [x, state, dy, value, y2, ...grads]) t?.dispose();
  });

  test('Dropout is the identity in eval mode', async () => {
    const d = new Dropout(0.5, { seed: 1 }).eval();
    const x = tensor([1, 2, 3]);
    assert(d.forward(x) === x, 'eval forward returns its input');
    x.dispose();
    d.dispose();
  });

  test('initialisers: seeded, reproducible, with the He / Glorot variance', () => {
    const shape = [3, 3, 32, 64];
    const { fanIn, fanOut } = fans(shape);
    assertEqual([fanIn, fanOut], [288, 576], 'HWIO fans');
    assertEqual(fans([3136, 128]), { fanIn: 3136, fanOut: 128 }, 'Linear fans');
    const a = initValues('he-normal', shape, new InitRng(5)),
      b = initValues('he-normal', shape, new InitRng(5));
    assertEqual(Array.from(a.slice(0, 8)), Array.from(b.slice(0, 8)), 'same seed, same weights');
    const variance = (v: Float32Array) => v.reduce((s, x) => s + x * x, 0) / v.length;
    // 18,432 samples: the sample variance is within ~3·sqrt(2/n) ≈ 3% of the true one.
    assertClose('he-normal variance', [variance(a)], [2 / fanIn], { atol: 0, rtol: 0.04 });
    assertClose('he-uniform variance', [variance(initValues('he-uniform', shape, new InitRng(6)))], [2 / fanIn], {
      atol: 0,
      rtol: 0.04,
    });
    assertClose(
      'glorot-uniform variance',
      [variance(initValues('glorot-uniform', shape, new InitRng(7)))],
      [2 / (fanIn + fanOut)],
      { atol: 0, rtol: 0.04 },
    );
  });

  test('Sequential names parameters and buffers by position; loadStateDict; train/eval propagate', async () => {
    const m = new Sequential([new BatchNorm2d(2), new Dropout(0.1), new BatchNorm2d(3)]);
    assertEqual(
      m.namedParameters().map(([n]) => n),
      ['0.weight', '0.bias', '2.weight', '2.bias'],
      'parameter names',
    );
    assertEqual(
      [...m.stateDict().keys()].slice(4),
      [
        '0.running_mean',
        '0.running_var',
        '0.num_batches_tracked',
        '2.running_mean',
        '2.running_var',
        '2.num_batches_tracked',
      ],
      "buffer names (PyTorch's, num_batches_tracked included)",
    );
    assertEqual(m.parameterCount(), 10, 'parameter count');
    assertEqual(m.parameters()[2].name, '2.weight', 'tensors carry their names');
    const state = new Map(
      [...m.stateDict()].map(([k, t]) => [k, { shape: t.shape, data: new Float32Array(t.size).fill(k.length) }]),
    );
    m.loadStateDict(state);
    assertClose('loaded 2.running_var', await m.stateDict().get('2.running_var')!.read(), [13, 13, 13], {
      atol: 0,
      rtol: 0,
    }); // filled with the name's length
    state.set('0.weight', { shape: [3], data: new Float32Array(3) });
    await assertThrows(() => m.loadStateDict(state), /'0.weight' has shape \[3\], the model needs \[2\]/);
    state.delete('0.weight');
    await assertThrows(() => m.loadStateDict(state), /'0.weight' \[2\] is missing/);
    m.eval();
    assert(
      m.layers.every((l) => !l.training),
      'eval propagates',
    );
    m.train();
    assert(
      m.layers.every((l) => l.training),
      'train propagates',
    );
    m.dispose();
  });

  test('layer output shapes: forward matches outputShape (batch 1 and 3, stride 2, valid/same, odd sizes)', async () => {
    const cases: [Module, number[]][] = [
      [new Conv2d(3, 5, 3, { stride: 2 }), [3, 9, 7, 3]],
      [new Conv2d(3, 5, [3, 1], { padding: 'same', relu: true }), [1, 5, 4, 3]],
      [new Conv2d(2, 4, 5, { padding: 2, bias: false }), [3, 6, 6, 2]],
      [new Linear(17, 3, { relu: true }), [3, 17]],
      [new Flatten(), [3, 4, 5, 2]],
      [new MaxPool2d(2), [1, 7, 5, 3]],
      [new AvgPool2d({ kernel: 3, stride: 2, padding: 1 }), [3, 7, 7, 2]],
      [new GlobalAvgPool(), [3, 4, 4, 6]],
      [new ReLU(), [3, 5]],
      [new LeakyReLU(0.1), [3, 5]],
      [new Sigmoid(), [1, 5]],
      [new Tanh(), [1, 5]],
    ];
    for (const [m, shape] of cases) {
      const x = tensor(
        randomArray(
          shape.reduce((a, b) => a * b, 1),
          shape.length,
        ),
        shape,
      );
      const y = m.forward(x);
      assertEqual(y.shape, m.outputShape(shape), `${m} on [${shape}]`);
      for (const t of [x, y]) t.dispose();
      m.dispose();
    }
    const net = lenet();
    for (const B of [1, 3]) {
      const x = tensor(randomArray(B * 784, B), [B, 28, 28, 1]);
      const y = net.forward(x);
      assertEqual(y.shape, [B, 10], `lenet output, batch ${B}`);
      assertEqual(net.outputShape([B, 28, 28, 1]), [B, 10], 'lenet outputShape');
      assert((await y.read()).every(Number.isFinite), 'finite logits');
      x.dispose();
      y.dispose();
    }
    net.dispose();
  });

  test('activation layers match the float64 references', async () => {
    const xs = randomArray(33, 5, -3, 3);
    const x = tensor(xs);
    const cases: [Module, Float64Array][] = [
      [new ReLU(), actRef.relu(xs)],
      [new LeakyReLU(0.2), actRef.leakyRelu(xs, 0.2)],
      [new Sigmoid(), actRef.sigmoid(xs)],
      [new Tanh(), actRef.tanh(xs)],
    ];
    // one f32 transcendental per element: a few ulps
    for (const [m, want] of cases) {
      const y = m.forward(x);
      assertClose(String(m), await y.read(), want, { atol: 1e-6, rtol: 1e-5 });
      y.dispose();
    }
    x.dispose();
  });

  test('lenet: 421,642 parameters named like its ModelSpec; spec and model-file round trips give the same outputs', async () => {
    const a = lenet({ seed: 3 });
    assertEqual(a.parameterCount(), 421_642, 'parameter count');
    const spec = a.toSpec();
    assertEqual(
      modelParams(spec).map((p) => `${p.name}:${p.shape}`),
      a.namedParameters().map(([n, t]) => `${n}:${t.shape}`),
      'names and shapes = modelParams(spec)',
    );
    assertEqual(
      spec.layers.map((l) => l.type),
      ['conv2d', 'maxpool2d', 'conv2d', 'maxpool2d', 'flatten', 'linear', 'linear'],
      'layer types',
    );
    assertEqual(spec.input, [28, 28, 1], 'input shape');
    // A fresh model from the (re-parsed) spec, with the weights loaded from a model file.
    const file = decodeModel(await saveModel(spec, a.stateDict()));
    const b = Sequential.fromSpec(parseModelSpec(JSON.stringify(file.spec)), { seed: 99 });
    assertEqual(b.toSpec(), spec, 'spec round trip');
    b.loadStateDict(file.params);
    const x = tensor(randomArray(2 * 784, 8), [2, 28, 28, 1]);
    const ya = a.forward(x),
      yb = b.forward(x);
    assertClose('same logits', await yb.read(), await ya.read(), { atol: 0, rtol: 0 });
    const bn = new Sequential([new BatchNorm2d(2, { eps: 1e-3 })]);
    assertEqual(bn.toSpec([3, 5, 2]).layers, [{ type: 'batchnorm2d', channels: 2, eps: 1e-3 }], 'BatchNorm2d spec');
    assertEqual(
      modelParams(bn.toSpec()).map((p) => p.name),
      [...bn.stateDict().keys()],
      "a batchnorm2d spec lists the layer's parameters and buffers",
    );
    await assertThrows(() => new Sequential([new BatchNorm2d(2)]).toSpec([3, 5, 4]), /channels is 2 but the input/);
    for (const t of [x, ya, yb]) t.dispose();
    for (const m of [a, b, bn]) m.dispose();
  });

  test('initialisation is reproducible: same seed, same weights; different seed, different weights', async () => {
    const [a, b, c] = [lenet({ seed: 1 }), lenet({ seed: 1 }), lenet({ seed: 2 })];
    const wa = await a.parameters()[4].read(),
      wb = await b.parameters()[4].read(),
      wc = await c.parameters()[4].read();
    assertClose('same seed', wb, wa, { atol: 0, rtol: 0, log: false });
    assert(
      wa.some((v, i) => v !== wc[i]),
      'different seeds differ',
    );
    for (const m of [a, b, c]) m.dispose();
  });
});

/**
 * Vector-Jacobian product of a single op: run `fn` on a tape, then call the recorded backward
 * rule with the given output gradient (checks a rule against a reference for arbitrary dy).
 */
function vjp(fn: () => Tensor, inputs: Tensor[], dy: Tensor): { y: Tensor; grads: (Tensor | null)[] } {
  return scope(() => vjpUnscoped(fn, inputs, dy)); // frees what the rule saved
}

function vjpUnscoped(fn: () => Tensor, inputs: Tensor[], dy: Tensor): { y: Tensor; grads: (Tensor | null)[] } {
  for (const t of inputs) t.requiresGrad = true;
  const prev = beginTape();
  let y: Tensor;
  try {
    y = fn();
  } finally {
    endTape(prev);
  }
  const node = y.node as TapeNode;
  const grads = node.backward([dy]);
  y.node = null;
  for (const t of [...inputs, y]) t.requiresGrad = false;
  return { y, grads };
}
