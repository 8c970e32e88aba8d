// The quick kernels (shaders/conv2d/quick.wgsl, shaders/matmul/quick.wgsl): what the first
// steps of a tiered start run while the fast kernels compile (src/train/step.ts). Checked like
// every kernel, against the float64 references (themselves checked by finite differences in
// conv2d.suite.ts and matmul.suite.ts) on seeded random data, with shapes that are not
// multiples of the 4 x 4 blocks: stride 2 (the input gradient too: quick has no stride limit),
// dilation, asymmetric padding, 3x5 and 7x7 filters, batch 1, transposes, a broadcast batch.
// Then the rule (withQuickKernels) and autograd through the quick kernels.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, randomArray } from '../harness/assert.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { conv2d, conv2dKernelFor, ref, type ConvGeometry } from '../../src/ops/conv2d/index.js';
import { quickForward, quickInputGrad, quickWeightGrad } from '../../src/ops/conv2d/quick.js';
import { bmm, matmul, ref as mref } from '../../src/ops/matmul/index.js';
import { MATMUL, matmulKernelFor } from '../../src/ops/matmul/choose.js';
import { chooseKernel, withQuickKernels } from '../../src/runtime/select.js';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { mul } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';
import { reshape } from '../../src/ops/shape.js';
import { geom, n4, tolFor, type Shapes } from './conv2d.helpers.js';

const CASES: [string, Shapes][] = [
  ['Cin 1, 3x3 same, 9x11 -> O=5, batch 2', { x: [2, 9, 11, 1], w: [3, 3, 1, 5], opts: { padding: 'same' } }],
  [
    'Cin 3, stride 2, padding [1,2], 17x15 -> O=6',
    { x: [2, 17, 15, 3], w: [3, 3, 3, 6], opts: { stride: 2, padding: [1, 2] } },
  ],
  [
    'Cin 5, 3x5 kernel, stride [2,1], dilation [1,2] same, 10x13 -> O=7, batch 1',
    { x: [1, 10, 13, 5], w: [3, 5, 5, 7], opts: { stride: [2, 1], dilation: [1, 2], padding: 'same' } },
  ],
  ['Cin 6, 7x7 valid stride 3, 15x16 -> O=9', { x: [2, 15, 16, 6], w: [7, 7, 6, 9], opts: { stride: 3 } }],
  ['Cin 32, 3x3 same (LeNet conv2), 7x7 -> O=12', { x: [2, 7, 7, 32], w: [3, 3, 32, 12], opts: { padding: 'same' } }],
];

suite('quick', (test) => {
  CASES.forEach(([name, s], i) =>
    test(`conv2d quick kernels vs reference: ${name}`, async () => {
      const g: ConvGeometry = geom(s);
      const seed = 700 + 10 * i;
      const xd = randomArray(n4(s.x), seed),
        wd = randomArray(n4(s.w), seed + 1),
        bd = randomArray(g.O, seed + 2),
        dyd = randomArray(g.N * g.OH * g.OW * g.O, seed + 3);
      const x = tensor(xd, s.x),
        w = tensor(wd, s.w),
        b = tensor(bd, [g.O]),
        dy = tensor(dyd, [g.N, g.OH, g.OW, g.O]);
      const made: Tensor[] = [x, w, b, dy];
      const K = g.KH * g.KW * g.C,
        P = g.N * g.OH * g.OW;
      for (const relu of [false, true]) {
        const y = quickForward(x, w, g, relu ? b : undefined, relu);
        made.push(y);
        const want = ref.forward(xd, wd, g, relu ? bd : undefined, relu);
        assertClose(`${name} forward${relu ? ' (bias + relu)' : ''}`, await y.read(), want, tolFor(K + 1));
      }
      const dx = quickInputGrad(dy, w, g);
      made.push(dx);
      assertClose(`${name} dx`, await dx.read(), ref.inputGrad(dyd, wd, g), tolFor(g.KH * g.KW * g.O));
      for (const withBias of [true, false]) {
        const r = quickWeightGrad(x, dy, g, withBias);
        made.push(r.dw, ...(r.db ? [r.db] : []));
        assertClose(`${name} dw (bias ${withBias})`, await r.dw.read(), ref.weightGrad(xd, dyd, g), tolFor(P));
        if (withBias) assertClose(`${name} db`, await r.db!.read(), ref.biasGrad(dyd, g.O), tolFor(P));
        else assertEqual(r.db, null, 'no bias gradient asked');
      }
      for (const t of made) t.dispose();
    }),
  );

  test('conv2d quick: a NaN at the edge does not leak into the padding of other outputs', async () => {
    // x: 1x4x5x1 with NaN in the last column; 3x3 'same': the outputs of columns 0-2 never read
    // column 4, so they must stay finite (the kernel clamps loads past the edge: a product with
    // 0 would turn the clamped NaN into NaN)
    const s: Shapes = { x: [1, 4, 5, 1], w: [3, 3, 1, 2], opts: { padding: 'same' } };
    const g = geom(s);
    const xd = randomArray(20, 5);
    for (let h = 0; h < 4; h++) xd[h * 5 + 4] = Number.NaN;
    const x = tensor(xd, s.x),
      w = tensor(randomArray(18, 6), s.w);
    const y = quickForward(x, w, g, undefined, false);
    const got = await y.read();
    for (let h = 0; h < 4; h++)
      for (let c = 0; c < 5; c++)
        for (let o = 0; o < 2; o++) {
          const v = got[(h * 5 + c) * 2 + o];
          assert(c >= 3 ? Number.isNaN(v) : Number.isFinite(v), `y[${h},${c},${o}] = ${v}`);
        }
    for (const t of [x, w, y]) t.dispose();
  });

  const GEMMS: [string, number[], number[], { transA?: boolean; transB?: boolean }][] = [
    ['5x3 . 3x7', [1, 5, 3], [1, 3, 7], {}],
    ['aT: 65x33 stored, bT: 17x65 stored', [1, 65, 33], [1, 17, 65], { transA: true, transB: true }],
    ['bT, batch 3 broadcasting a', [1, 6, 9], [3, 10, 9], { transB: true }],
    ['aT, batch 2', [2, 9, 13], [2, 9, 5], { transA: true }],
  ];
  GEMMS.forEach(([name, as, bs, o], i) =>
    test(`matmul quick kernel vs reference: ${name}`, async () => {
      const ad = randomArray(as[0] * as[1] * as[2], 800 + i),
        bd = randomArray(bs[0] * bs[1] * bs[2], 810 + i);
      const N = o.transB ? bs[1] : bs[2],
        K = o.transA ? as[1] : as[2];
      const biasd = randomArray(N, 820 + i);
      const batched = as[0] > 1 || bs[0] > 1;
      const a = tensor(ad, batched ? as : as.slice(1)),
        b = tensor(bd, batched ? bs : bs.slice(1)),
        bias = tensor(biasd, [N]);
      const kernel = MATMUL.quick!(null as never, null as never);
      for (const relu of [false, true]) {
        const opts = { ...o, kernel, ...(relu ? { bias, relu } : {}) };
        const c = batched ? bmm(a, b, opts) : matmul(a, b, opts);
        const want = mref.matmul(ad, as, bd, bs, { ...o, ...(relu ? { bias: biasd, relu } : {}) });
        assertClose(`${name}${relu ? ' (bias + relu)' : ''}`, await c.read(), want, tolFor(K + 1));
        c.dispose();
      }
      for (const t of [a, b, bias]) t.dispose();
    }),
  );

  test('rule: withQuickKernels picks the quick kernels; an explicit choice still wins', async () => {
    const g = geom({ x: [2, 8, 8, 3], w: [3, 3, 3, 4], opts: { padding: 'same' } });
    const gemm = { M: 8, N: 8, K: 8, batch: 1, ta: false, tb: false };
    assert(conv2dKernelFor(g, 'forward').variant !== 'quick', 'outside: the default');
    assert(matmulKernelFor(gemm).kind !== 'quick', 'outside: the default matmul');
    withQuickKernels(() => {
      for (const pass of ['forward', 'inputGrad', 'weightGrad'] as const)
        assertEqual(conv2dKernelFor(g, pass).variant, 'quick', `inside: ${pass}`);
      assertEqual(chooseKernel(MATMUL, gemm).kind, 'quick', 'inside: matmul');
      assertEqual(conv2dKernelFor(g, 'forward', 'tiled').variant, 'tiled', 'an explicit request wins');
    });
    assert(conv2dKernelFor(g, 'forward').variant !== 'quick', 'after: the default again');
  });

  test('autograd through the quick kernels: conv (bias + ReLU) then dense, gradients vs reference', async () => {
    const s: Shapes = { x: [2, 6, 5, 3], w: [3, 3, 3, 4], opts: { padding: 'same' } };
    const g = geom(s);
    const xd = randomArray(n4(s.x), 900),
      wd = randomArray(n4(s.w), 901),
      bd = randomArray(4, 902);
    const F = g.OH * g.OW * g.O;
    const vd = randomArray(F * 3, 903); // dense weights [F, 3]
    const gyd = randomArray(2 * 3, 904); // weighting of the outputs
    const x = tensor(xd, s.x),
      w = tensor(wd, s.w),
      b = tensor(bd, [4]),
      v = tensor(vd, [F, 3]),
      gy = tensor(gyd, [2, 3]);
    for (const t of [w, b, v]) t.requiresGrad = true;
    const { value, grads } = withQuickKernels(() =>
      valueAndGrad(() => {
        const y = conv2d(x, w, { ...s.opts, bias: b, relu: true });
        return sum(mul(matmul(reshape(y, [2, F]), v), gy));
      }, [w, b, v]),
    );
    // reference: y = relu(conv + b); out = y . v; loss = sum(out * gy)
    const y = ref.forward(xd, wd, g, bd, true);
    const out = mref.matmul(y, [1, 2, F], vd, [1, F, 3]);
    const loss = out.reduce((s2, o, i) => s2 + o * gyd[i], 0);
    const dense = mref.matmulBackward(gyd, y, [1, 2, F], vd, [1, F, 3]);
    const dyMasked = dense.da.map((d, i) => (y[i] > 0 ? d : 0));
    assertClose('loss', await value.read(), [loss], tolFor(F * 3));
    assertClose('dv', await grads[2].read(), dense.db, tolFor(2 * F));
    assertClose('dw', await grads[0].read(), ref.weightGrad(xd, dyMasked, g), tolFor(2 * F));
    assertClose('db', await grads[1].read(), ref.biasGrad(dyMasked, g.O), tolFor(2 * F));
    for (const t of [x, w, b, v, gy, value, ...grads]) t.dispose();
  });
});
