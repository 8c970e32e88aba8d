// conv2d: float64 references checked by finite differences; the tiled GPU kernels (forward,
// backward input, backward weight + bias, fused bias + ReLU and its backward through the
// autograd rule) and the naive kernel checked against the references on seeded random data;
// shapes chosen to straddle the 64x64x16 tiles; layout conversion, output shapes, argument
// errors, split-K determinism. GPU cases ask for the 'tiled' kernel explicitly (on CPU
// adapters 'auto' picks 'direct', which conv2d-variants.suite.ts checks).
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { dot, numericGrad } from '../harness/fd.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { beginTape, endTape } from '../../src/autograd/tape.js';
import { engine } from '../../src/runtime/engine.js';
import {
  conv2d,
  conv2dInputGrad,
  conv2dWeightGrad,
  conv2dWeightBiasGrad,
  conv2dOutputShape,
  convGeometry,
  oihwToHwio,
  hwioToOihw,
  ref,
} from '../../src/ops/conv2d/index.js';
import {
  pickTiles,
  tiledForward,
  tiledInputGrad,
  tiledWeightGrad,
  weightSplits,
  type ConvTiles,
} from '../../src/ops/conv2d/tiled.js';
import { conv2dNaive } from '../../bench/naive.js';
import { geom, n4, tolFor, type S4, type Shapes } from './conv2d.helpers.js';

/** Forward, dx, dw, db on GPU vs reference for one shape (optionally with other tiles). */
async function checkAll(label: string, s: Shapes, seed: number, tiles?: ConvTiles): Promise<void> {
  const g = geom(s);
  const xd = randomArray(n4(s.x), seed),
    wd = randomArray(n4(s.w), seed + 1),
    bd = randomArray(g.O, seed + 2);
  const dyd = randomArray(g.N * g.OH * g.OW * g.O, seed + 3);
  const x = tensor(xd, s.x),
    w = tensor(wd, s.w),
    b = tensor(bd, [g.O]),
    dy = tensor(dyd, [g.N, g.OH, g.OW, g.O]);
  const K = g.KH * g.KW * g.C;
  const y = tiles ? tiledForward(x, w, g, b, false, tiles) : conv2d(x, w, { ...s.opts, bias: b, kernel: 'tiled' });
  assertEqual(y.shape, [g.N, g.OH, g.OW, g.O], `${label}: output shape`);
  assertClose(`${label} forward`, await y.read(), ref.forward(xd, wd, g, bd), tolFor(K + 1));
  const dx = tiles
    ? tiledInputGrad(dy, w, g, undefined, tiles)
    : conv2dInputGrad(dy, w, s.x, { ...s.opts, kernel: 'tiled' });
  assertClose(`${label} dx`, await dx.read(), ref.inputGrad(dyd, wd, g), tolFor(g.KH * g.KW * g.O));
  const r = tiles
    ? tiledWeightGrad(x, dy, g, true, undefined, tiles)
    : conv2dWeightBiasGrad(x, dy, s.w, { ...s.opts, kernel: 'tiled' });
  const P = g.N * g.OH * g.OW;
  assertClose(`${label} dw`, await r.dw.read(), ref.weightGrad(xd, dyd, g), tolFor(P));
  assertClose(`${label} db`, await r.db!.read(), ref.biasGrad(dyd, g.O), tolFor(P));
  for (const t of [x, w, b, dy, y, dx, r.dw, r.db!]) t.dispose();
}

// Shapes covering H=W in {1,3,5,17}, O in {1,3,5,33,65}, C in {1,3,5,64}, batch 1 and > 1,
// stride 1/2, padding valid/same/explicit, dilation 2, kernels 1x1, 3x3, 5x5 and rectangular.
const CASES: [string, Shapes][] = [
  ['1x1x1 input, 1x1 kernel, C=1 -> O=1', { x: [1, 1, 1, 1], w: [1, 1, 1, 1], opts: {} }],
  ['3x3 same, C=3 -> O=5, batch 2', { x: [2, 3, 3, 3], w: [3, 3, 3, 5], opts: { padding: 'same' } }],
  [
    '5x5 kernel, stride 2 same (asymmetric pad), C=5 -> O=3',
    { x: [1, 5, 5, 5], w: [5, 5, 5, 3], opts: { padding: 'same', stride: 2 } },
  ],
  [
    '17x17 stride 2 padding [1,2], C=3 -> O=33, batch 2',
    { x: [2, 17, 17, 3], w: [3, 3, 3, 33], opts: { stride: 2, padding: [1, 2] } },
  ],
  ['17x17 valid dilation 2, C=64 -> O=65', { x: [1, 17, 17, 64], w: [3, 3, 64, 65], opts: { dilation: 2 } }],
  [
    '9x7, 3x5 kernel, stride [2,1] same, C=5 -> O=65, batch 3',
    { x: [3, 9, 7, 5], w: [3, 5, 5, 65], opts: { stride: [2, 1], padding: 'same' } },
  ],
  ['1x1 kernel stride 2, C=64 -> O=1, batch 2', { x: [2, 5, 5, 64], w: [1, 1, 64, 1], opts: { stride: 2 } }],
  [
    'stride 2 + dilation 2: a stride phase with no taps',
    { x: [1, 7, 7, 3], w: [3, 3, 3, 4], opts: { stride: 2, dilation: 2, padding: 1 } },
  ],
  ['2x2 kernel stride 3: pixels no output reads', { x: [2, 8, 8, 1], w: [2, 2, 1, 3], opts: { stride: 3 } }],
  [
    'LeNet conv2 shape, batch 2: 14x14x32 -> 64, 3x3 same',
    { x: [2, 14, 14, 32], w: [3, 3, 32, 64], opts: { padding: 'same' } },
  ],
];

/** Loss sum(conv(x,w,b) (relu'd) * r) and its gradients from the references. */
function refLossAndGrads(
  xd: Float64Array,
  wd: Float64Array,
  bd: Float64Array,
  r: Float64Array,
  s: Shapes,
  relu: boolean,
) {
  const g = geom(s);
  const loss = (x: Float64Array, w: Float64Array, b: Float64Array) => dot(ref.forward(x, w, g, b, relu), r);
  const dy = relu ? ref.reluMask(r, ref.forward(xd, wd, g, bd, true)) : r;
  return { loss, dx: ref.inputGrad(dy, wd, g), dw: ref.weightGrad(xd, dy, g), db: ref.biasGrad(dy, g.O) };
}

suite('conv2d', (test) => {
  test('references: backward input, weight, bias (plain and through ReLU) match finite differences', () => {
    const shapes: Shapes[] = [
      { x: [2, 5, 4, 3], w: [3, 2, 3, 2], opts: { stride: [2, 1], padding: [1, 0], dilation: [1, 2] } },
      { x: [1, 6, 5, 2], w: [3, 3, 2, 3], opts: { stride: 2, padding: 'same', dilation: 2 } },
      { x: [2, 3, 3, 1], w: [1, 1, 1, 2], opts: {} },
    ];
    shapes.forEach((s, i) => {
      for (const relu of [false, true]) {
        const g = geom(s);
        const xd = Float64Array.from(randomArray(n4(s.x), 10 + i)),
          wd = Float64Array.from(randomArray(n4(s.w), 20 + i));
        const bd = Float64Array.from(randomArray(g.O, 30 + i)),
          r = Float64Array.from(randomArray(g.N * g.OH * g.OW * g.O, 40 + i));
        const a = refLossAndGrads(xd, wd, bd, r, s, relu);
        // Conv is linear in each argument, so central differences are exact up to float64
        // rounding (~1e-16·|loss|/h = 1e-10); ReLU kinks are never within h = 1e-6 here.
        const tol = { atol: 1e-7, rtol: 1e-7 };
        const tag = `fd #${i}${relu ? ' relu' : ''}`;
        assertClose(
          `${tag} dx`,
          a.dx,
          numericGrad((x) => a.loss(x, wd, bd), xd),
          tol,
        );
        assertClose(
          `${tag} dw`,
          a.dw,
          numericGrad((w) => a.loss(xd, w, bd), wd),
          tol,
        );
        assertClose(
          `${tag} db`,
          a.db,
          numericGrad((b) => a.loss(xd, wd, b), bd),
          tol,
        );
      }
    });
  });

  CASES.forEach(([name, s], i) =>
    test(`GPU forward + backward vs reference: ${name}`, () => checkAll(name, s, 100 + 10 * i)),
  );

  // The shape-picked tiles (64x64x16, 64x32x16, 128x16x16) give each thread one or more whole
  // A rows; a tile wider than 64 columns splits rows between threads: check that path too.
  test('a 32x128x16 tile (two threads per A row) gives the same results', async () => {
    const s: Shapes = { x: [2, 9, 9, 5], w: [3, 3, 5, 33], opts: { stride: 2, padding: 'same' } };
    await checkAll('tiles 32x128x16', s, 7, { TM: 32, TN: 128, TK: 16 });
  });

  test('fused bias + ReLU: forward and the autograd rule (mask applied inside the backward kernels)', async () => {
    const shapes: Shapes[] = [
      { x: [3, 5, 5, 5], w: [3, 3, 5, 33], opts: { stride: 2, padding: 1 } },
      { x: [2, 14, 14, 32], w: [3, 3, 32, 64], opts: { padding: 'same' } },
    ];
    for (const [i, s] of shapes.entries()) {
      const g = geom(s);
      const xd = randomArray(n4(s.x), 50 + i),
        wd = randomArray(n4(s.w), 60 + i),
        bd = randomArray(g.O, 70 + i);
      const dyd = randomArray(g.N * g.OH * g.OW * g.O, 80 + i);
      const x = tensor(xd, s.x),
        w = tensor(wd, s.w),
        b = tensor(bd, [g.O]),
        dy = tensor(dyd, [g.N, g.OH, g.OW, g.O]);
      for (const t of [x, w, b]) t.requiresGrad = true;
      const prev = beginTape();
      const y = conv2d(x, w, { ...s.opts, bias: b, relu: true, kernel: 'tiled' });
      const tape = endTape(prev);
      assertEqual(
        tape.map((n) => n.op),
        ['conv2d'],
        'one tape node',
      );
      const yd = await y.read();
      assertClose(`relu #${i} forward`, yd, ref.forward(xd, wd, g, bd, true), tolFor(g.KH * g.KW * g.C + 1));
      assert(yd.some((v) => v === 0) && yd.some((v) => v > 0), 'ReLU clips some outputs and passes others');
      const [dx, dw, db] = tape[0].backward([dy]) as Tensor[];
      // The mask comes from the GPU's own y (a value within rounding of 0 could flip sign).
      const dm = ref.reluMask(dyd, yd);
      const P = g.N * g.OH * g.OW;
      assertClose(`relu #${i} dx`, await dx.read(), ref.inputGrad(dm, wd, g), tolFor(g.KH * g.KW * g.O));
      assertClose(`relu #${i} dw`, await dw.read(), ref.weightGrad(xd, dm, g), tolFor(P));
      assertClose(`relu #${i} db`, await db.read(), ref.biasGrad(dm, g.O), tolFor(P));
      for (const t of [x, w, b, dy, y, dx, dw, db]) t.dispose();
    }
  });

  test('autograd rule without bias returns [dx, dw]; only requested gradients are computed', async () => {
    const s: Shapes = { x: [1, 4, 4, 3], w: [3, 3, 3, 2], opts: { padding: 'same' } };
    const g = geom(s);
    const xd = randomArray(n4(s.x), 1),
      wd = randomArray(n4(s.w), 2),
      dyd = randomArray(g.N * g.OH * g.OW * g.O, 3);
    const x = tensor(xd, s.x),
      w = tensor(wd, s.w),
      dy = tensor(dyd, [1, 4, 4, 2]);
    w.requiresGrad = true;
    const prev = beginTape();
    const y = conv2d(x, w, { ...s.opts, kernel: 'tiled' });
    const tape = endTape(prev);
    const grads = tape[0].backward([dy]);
    assertEqual(grads.length, 2, 'two inputs, two gradients');
    assert(grads[0] === null, 'x does not require grad: no dx');
    assertClose('dw', await grads[1]!.read(), ref.weightGrad(xd, dyd, g), tolFor(16));
    for (const t of [x, w, dy, y, grads[1]!]) t.dispose();
  });

  test('naive kernel matches the reference (with and without bias + ReLU)', async () => {
    const shapes: Shapes[] = [CASES[3][1], CASES[5][1], CASES[7][1]];
    for (const [i, s] of shapes.entries()) {
      const g = geom(s);
      const xd = randomArray(n4(s.x), 90 + i),
        wd = randomArray(n4(s.w), 95 + i),
        bd = randomArray(g.O, 99 + i);
      const x = tensor(xd, s.x),
        w = tensor(wd, s.w),
        b = tensor(bd, [g.O]);
      const y1 = conv2dNaive(x, w, s.opts),
        y2 = conv2dNaive(x, w, { ...s.opts, bias: b, relu: true });
      const tol = tolFor(g.KH * g.KW * g.C + 1);
      assertClose(`naive #${i}`, await y1.read(), ref.forward(xd, wd, g), tol);
      assertClose(`naive #${i} bias+relu`, await y2.read(), ref.forward(xd, wd, g, bd, true), tol);
      for (const t of [x, w, b, y1, y2]) t.dispose();
    }
  });

  test('weight gradient: split-K is used and deterministic; temporaries are freed', async () => {
    const s: Shapes = { x: [4, 17, 17, 3], w: [3, 3, 3, 5], opts: {} };
    const g = geom(s);
    const { splits } = weightSplits(g, 27, pickTiles(g.O));
    assert(splits > 1, `expected several K splits, got ${splits}`);
    const xd = randomArray(n4(s.x), 5),
      dyd = randomArray(g.N * g.OH * g.OW * g.O, 6);
    const x = tensor(xd, s.x),
      dy = tensor(dyd, [g.N, g.OH, g.OW, g.O]);
    const live = engine().liveTensors;
    const to = { ...s.opts, kernel: 'tiled' as const };
    const dw1 = conv2dWeightGrad(x, dy, s.w, to),
      dw2 = conv2dWeightGrad(x, dy, s.w, to);
    assertEqual(engine().liveTensors, live + 2, 'only the two results stay alive');
    const a = await dw1.read(),
      b = await dw2.read();
    assert(
      a.every((v, i) => Object.is(v, b[i])),
      'two runs are bitwise identical',
    );
    assertClose(`dw (${splits} splits)`, a, ref.weightGrad(xd, dyd, g), tolFor(g.N * g.OH * g.OW));
    for (const t of [x, dy, dw1, dw2]) t.dispose();
  });

  test('oihwToHwio / hwioToOihw: known element positions and round trip', () => {
    const shape: S4 = [2, 3, 2, 2]; // O,I,KH,KW
    const oihw = Float32Array.from({ length: 24 }, (_, i) => i);
    const hwio = oihwToHwio(oihw, shape);
    // w_oihw[o=1,i=2,kh=0,kw=1] = ((1*3+2)*2+0)*2+1 = 21 lands at hwio[kh=0,kw=1,i=2,o=1] = ((0*2+1)*3+2)*2+1 = 11
    assertEqual(hwio[11], 21, 'element [o=1,i=2,kh=0,kw=1]');
    assertEqual(Array.from(hwioToOihw(hwio, [2, 2, 3, 2])), Array.from(oihw), 'round trip');
  });

  test('conv2dOutputShape follows PyTorch/TensorFlow conventions', () => {
    assertEqual(conv2dOutputShape([64, 28, 28, 1], [5, 5, 1, 6], {}), [64, 24, 24, 6], 'valid 5x5');
    assertEqual(conv2dOutputShape([64, 14, 14, 32], [3, 3, 32, 64], { padding: 'same' }), [64, 14, 14, 64], 'same 3x3');
    assertEqual(
      conv2dOutputShape([1, 7, 8, 3], [3, 3, 3, 4], { padding: 'same', stride: 2 }),
      [1, 4, 4, 4],
      'same stride 2: ceil(H/s)',
    );
    assertEqual(
      conv2dOutputShape([1, 17, 17, 3], [3, 3, 3, 4], { padding: [1, 2], stride: 2 }),
      [1, 9, 10, 4],
      'explicit padding',
    );
    assertEqual(conv2dOutputShape([1, 17, 17, 3], [3, 3, 3, 4], { dilation: 2 }), [1, 13, 13, 4], 'dilation 2');
    const g = convGeometry('t', [1, 5, 6, 1], [4, 3, 1, 1], { padding: 'same', stride: 2 });
    assertEqual([g.pt, g.pl], [1, 0], 'same: odd total padding goes bottom/right (TensorFlow)');
  });

  test('argument errors name the op, the argument and the shapes', async () => {
    const x = tensor(new Float32Array(2 * 5 * 5 * 3), [2, 5, 5, 3]),
      w = tensor(new Float32Array(3 * 3 * 4 * 8), [3, 3, 4, 8]);
    const w3 = tensor(new Float32Array(3 * 3 * 3 * 8), [3, 3, 3, 8]),
      x3 = tensor(new Float32Array(75), [5, 5, 3]);
    await assertThrows(
      () => conv2d(x, w),
      /conv2d: 'w' must have shape \[KH,KW,3,O\] to match x's 3 channels, got \[3,3,4,8\]/,
    );
    await assertThrows(() => conv2d(x3, w3), /conv2d: argument 'x' must have rank 4, got shape \[5,5,3\]/);
    await assertThrows(() => conv2d(x, w3, { stride: 1.5 }), /conv2d: 'stride' must be a positive integer/);
    await assertThrows(() => conv2d(x, w3, { stride: 0 }), /conv2d: 'stride' must be a positive integer/);
    await assertThrows(
      () => conv2d(x, w3, { dilation: 3 }),
      /conv2d: kernel 3x3 \(dilated to 7x7\) is larger than the padded input 5x5/,
    );
    await assertThrows(() => conv2d(x, w3, { padding: 'full' as 'same' }), /conv2d: 'padding' must be 'valid', 'same'/);
    await assertThrows(() => conv2d(x, w3, { padding: -1 }), /conv2d: 'padding' must be a non-negative integer/);
    const b3 = tensor([1, 2, 3]);
    await assertThrows(() => conv2d(x, w3, { bias: b3 }), /conv2d: 'bias' must have shape \[8\]/);
    const dy = tensor(new Float32Array(2 * 3 * 3 * 7), [2, 3, 3, 7]);
    await assertThrows(
      () => conv2dInputGrad(dy, w3, [2, 5, 5, 3]),
      /conv2dInputGrad: 'dy' must have shape \[2,3,3,8\]/,
    );
    await assertThrows(
      () => conv2dWeightGrad(x, dy, [3, 3, 3, 8]),
      /conv2dWeightGrad: 'dy' must have shape \[2,3,3,8\]/,
    );
    await assertThrows(
      () =>
        tiledForward(x, w3, geom({ x: [2, 5, 5, 3], w: [3, 3, 3, 8], opts: {} }), undefined, false, {
          TM: 64,
          TN: 64,
          TK: 3,
        }),
      /unsupported tile shape/,
    );
    for (const t of [x, w, w3, x3, b3, dy]) t.dispose();
  });
});
