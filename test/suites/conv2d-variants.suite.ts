// conv2d kernels: the 'direct' kernels (forward, input gradient, weight + bias gradient,
// shaders/conv2d/direct*.wgsl) against the float64 references on seeded random data, and the
// declaration that picks a kernel (src/ops/conv2d/choose.ts, runtime/select.ts). The references themselves are checked by finite
// differences in conv2d.suite.ts; the tiled kernels are checked there too.
// Few shapes on purpose: each (shape, pass) compiles its own pipeline (~1-2 s on SwiftShader).
// The shapes: Cin 1/3/5/8/64, widths and channel counts that are not multiples of the strip or
// the 16-channel block, stride 2, explicit/asymmetric padding, dilation 2, 1x1 / 3x3 / 3x5 / 5x5,
// batch 1, and the demo's LeNet convolutions.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { beginTape, endTape } from '../../src/autograd/tape.js';
import { engine } from '../../src/runtime/engine.js';
import { conv2d, conv2dInputGrad, conv2dWeightBiasGrad, ref, type ConvGeometry } from '../../src/ops/conv2d/index.js';
import {
  directForward,
  directForwardConfig,
  directInputGrad,
  directInputGradConfig,
  directWeightGrad,
} from '../../src/ops/conv2d/direct.js';
import { tuneConv2d, tuneConv2dIn } from '../../src/ops/conv2d/tune.js';
import {
  CONV2D,
  conv2dKernelFor,
  conv2dTilesFor,
  defaultConv2dTiles,
  type Conv2dKernelChoice,
  type Conv2dPass,
} from '../../src/ops/conv2d/choose.js';
import { getKernel, isCpuAdapter, runnableCandidates, setKernel, tuneKeyOf } from '../../src/runtime/select.js';
import { clearTuning, memoryStore, remember, setTuneStore, tuneStore } from '../../src/runtime/autotune.js';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { sum } from '../../src/ops/reduce.js';
import { geom, n4, tolFor, type Shapes } from './conv2d.helpers.js';

const hasSubgroups = () => engine().features.has('subgroups');
/** 'tiled' or 'direct': the kernel conv2d's rule picks for this pass. */
const pick = (g: ConvGeometry, pass: Conv2dPass, k?: Conv2dKernelChoice) => conv2dKernelFor(g, pass, k).variant;
/** The variants among the family's runnable candidates. */
const variants = (g: ConvGeometry, pass: Conv2dPass) =>
  [...new Set(runnableCandidates(CONV2D[pass], g).map((k) => k.variant))].sort().reverse();

const CASES: [string, Shapes][] = [
  ['Cin 1, 3x3 same, 9x11 -> O=5, batch 2', { x: [2, 9, 11, 1], w: [3, 3, 1, 5], opts: { padding: 'same' } }],
  [
    'Cin 3, stride 2, padding [1,2], 17x17 -> O=33',
    { x: [2, 17, 17, 3], w: [3, 3, 3, 33], opts: { stride: 2, padding: [1, 2] } },
  ],
  [
    'Cin 5, 5x5 dilation 2 same, 13x12 -> O=7',
    { x: [1, 13, 12, 5], w: [5, 5, 5, 7], opts: { padding: 'same', dilation: 2 } },
  ],
  ['Cin 64, 1x1 valid, 5x6 -> O=17, batch 3', { x: [3, 5, 6, 64], w: [1, 1, 64, 17], opts: {} }],
  [
    'Cin 3, 3x5 kernel, stride [2,1] same, 9x7 -> O=20',
    { x: [2, 9, 7, 3], w: [3, 5, 3, 20], opts: { stride: [2, 1], padding: 'same' } },
  ],
  // The demo's LeNet as its inspection runs it (one image; the gradient view walks back through
  // conv2's input gradient): the geometries of the once-blank gradient view, in Node and Chromium.
  [
    'demo conv1: Cin 1, 5x5 same, 28x28 -> O=8, batch 1',
    { x: [1, 28, 28, 1], w: [5, 5, 1, 8], opts: { padding: 'same' } },
  ],
  [
    'demo conv2: Cin 8, 5x5 same, 14x14 -> O=16, batch 1',
    { x: [1, 14, 14, 8], w: [5, 5, 8, 16], opts: { padding: 'same' } },
  ],
];

suite('conv2d-variants', (test) => {
  CASES.forEach(([name, s], i) =>
    test(`direct kernels vs reference: ${name}`, async () => {
      const g = geom(s);
      if (!hasSubgroups()) {
        // No quad operations: the direct variant cannot run, the rule must never pick it.
        assertEqual(variants(g, 'forward'), ['tiled', 'quick'], 'variants without subgroups');
        await assertThrows(
          () =>
            directForward(
              tensor(new Float32Array(n4(s.x)), s.x),
              tensor(new Float32Array(n4(s.w)), s.w),
              g,
              undefined,
              false,
            ),
          /direct variant cannot run/,
        );
        return;
      }
      const seed = 300 + 10 * i;
      const xd = randomArray(n4(s.x), seed),
        wd = randomArray(n4(s.w), seed + 1),
        bd = randomArray(g.O, seed + 2);
      const dyd = randomArray(g.N * g.OH * g.OW * g.O, seed + 3);
      const x = tensor(xd, s.x),
        w = tensor(wd, s.w),
        b = tensor(bd, [g.O]),
        dy = tensor(dyd, [g.N, g.OH, g.OW, g.O]);
      const K = g.KH * g.KW * g.C,
        P = g.N * g.OH * g.OW;
      const made: Tensor[] = [x, w, b, dy];

      assert(directForwardConfig(g) !== null, 'the direct forward runs this shape');
      const y = directForward(x, w, g, b, true);
      made.push(y);
      assertClose(`${name} forward (bias + relu)`, await y.read(), ref.forward(xd, wd, g, bd, true), tolFor(K + 1));

      const dwr = directWeightGrad(x, dy, g, true);
      made.push(dwr.dw, dwr.db!);
      assertClose(`${name} dw`, await dwr.dw.read(), ref.weightGrad(xd, dyd, g), tolFor(P));
      assertClose(`${name} db`, await dwr.db!.read(), ref.biasGrad(dyd, g.O), tolFor(P));

      if (g.sh === 1 && g.sw === 1) {
        assert(directInputGradConfig(g) !== null, 'the direct input gradient runs stride 1');
        const dx = directInputGrad(dy, w, g);
        made.push(dx);
        assertClose(`${name} dx`, await dx.read(), ref.inputGrad(dyd, wd, g), tolFor(g.KH * g.KW * g.O));
      } else {
        assert(directInputGradConfig(g) === null, 'no direct input gradient for stride > 1');
        assertEqual(pick(g, 'inputGrad', 'direct'), 'tiled', 'stride 2 input gradient falls back to tiled');
      }
      for (const t of made) t.dispose();
    }),
  );

  test('autograd through the direct variant: fused bias + ReLU, mask applied once for both gradients', async () => {
    const s: Shapes = { x: [2, 14, 14, 32], w: [3, 3, 32, 64], opts: { padding: 'same' } }; // LeNet conv2, batch 2
    const g = geom(s);
    const xd = randomArray(n4(s.x), 7),
      wd = randomArray(n4(s.w), 8),
      bd = randomArray(g.O, 9),
      dyd = randomArray(g.N * g.OH * g.OW * g.O, 10);
    const x = tensor(xd, s.x),
      w = tensor(wd, s.w),
      b = tensor(bd, [g.O]),
      dy = tensor(dyd, [g.N, g.OH, g.OW, g.O]);
    for (const t of [x, w, b]) t.requiresGrad = true;
    const prev = beginTape();
    const y = conv2d(x, w, { ...s.opts, bias: b, relu: true, kernel: 'direct' });
    const tape = endTape(prev);
    const yd = await y.read();
    const K = g.KH * g.KW * g.C,
      P = g.N * g.OH * g.OW;
    assertClose('forward', yd, ref.forward(xd, wd, g, bd, true), tolFor(K + 1));
    const live = engine().liveTensors;
    const [dx, dw, db] = tape[0].backward([dy]) as Tensor[];
    assertEqual(engine().liveTensors, live + 3, 'only dx, dw, db stay alive (the masked dy is freed)');
    const dm = ref.reluMask(dyd, yd); // the GPU's own y decides the mask
    assertClose('dx', await dx.read(), ref.inputGrad(dm, wd, g), tolFor(g.KH * g.KW * g.O));
    assertClose('dw', await dw.read(), ref.weightGrad(xd, dm, g), tolFor(P));
    assertClose('db', await db.read(), ref.biasGrad(dm, g.O), tolFor(P));
    // the public backward functions with reluY take the same path
    const dx2 = conv2dInputGrad(dy, w, s.x, { ...s.opts, reluY: y, kernel: 'direct' });
    const r2 = conv2dWeightBiasGrad(x, dy, s.w, { ...s.opts, reluY: y, kernel: 'direct' });
    assertClose('dx (conv2dInputGrad)', await dx2.read(), ref.inputGrad(dm, wd, g), tolFor(g.KH * g.KW * g.O));
    assertClose('dw (conv2dWeightBiasGrad)', await r2.dw.read(), ref.weightGrad(xd, dm, g), tolFor(P));
    for (const t of [x, w, b, dy, y, dx, dw, db, dx2, r2.dw, r2.db]) t.dispose();
  });

  test('kernel rule: explicit choice, fallback, family-wide choice, errors', async () => {
    const g1 = geom({ x: [1, 8, 8, 3], w: [3, 3, 3, 4], opts: { padding: 'same' } });
    const g2 = geom({ x: [1, 8, 8, 3], w: [7, 7, 3, 4], opts: { padding: 'same' } }); // 7x7: not unrolled
    assertEqual(pick(g1, 'forward', 'tiled'), 'tiled', 'explicit tiled');
    assertEqual(pick(g2, 'forward', 'direct'), 'tiled', '7x7 falls back to tiled');
    assertEqual(variants(g2, 'weightGrad'), ['tiled', 'quick'], '7x7: tiled (and quick) only');
    assert(
      CONV2D.weightGrad.problem({ variant: 'direct' }, g2, engine()) !== null,
      '7x7: the declaration says why direct does not apply',
    );
    const direct = hasSubgroups() ? 'direct' : 'tiled';
    assertEqual(pick(g1, 'forward', 'direct'), direct, 'explicit direct (needs subgroups)');
    assertEqual(
      variants(g1, 'forward'),
      hasSubgroups() ? ['tiled', 'quick', 'direct'] : ['tiled', 'quick'],
      'candidates that run',
    );
    // 'auto': direct exactly on CPU implementations (SwiftShader here) with subgroups, in Node
    // and in browsers alike
    assertEqual(pick(g1, 'weightGrad', 'auto'), isCpuAdapter() ? direct : 'tiled', 'auto rule');
    assertEqual(
      conv2dKernelFor(g1, 'forward', 'tiled:32x32x16'),
      { variant: 'tiled', tiles: { TM: 32, TN: 32, TK: 16 } },
      'explicit tiles',
    );
    const before = getKernel(CONV2D.forward);
    try {
      setKernel(CONV2D.forward, 'tiled');
      assertEqual(pick(g1, 'forward'), 'tiled', 'family-wide tiled');
      setKernel(CONV2D.forward, 'direct');
      assertEqual(pick(g1, 'forward'), direct, 'family-wide direct');
      assertEqual(pick(g1, 'forward', 'tiled'), 'tiled', "the op's own choice wins");
    } finally {
      setKernel(CONV2D.forward, before);
    }
    await assertThrows(() => setKernel(CONV2D.forward, 'fast'), /setKernel: "fast" is not a kernel of conv2d.forward/);
    const x = tensor(new Float32Array(64 * 3), [1, 8, 8, 3]),
      w = tensor(new Float32Array(9 * 12), [3, 3, 3, 4]);
    await assertThrows(
      () => conv2d(x, w, { kernel: 'gemm' as 'auto' }),
      /conv2d: 'kernel' must be 'auto' or a conv2d.forward kernel \('auto', 'tiled', 'direct', 'quick' or 'tiled:TMxTNxTK'\), got "gemm"/,
    );
    // a kernel object is not a conv2d option (it once passed the check and crashed in the dispatch)
    await assertThrows(
      () => conv2d(x, w, { kernel: {} as never }),
      /conv2d: 'kernel' must be 'auto' or a conv2d.forward kernel .*, got \{\}/,
    );
    x.dispose();
    w.dispose();
  });

  test('autotuning: candidates validated, the fastest remembered, auto follows it, explicit choices win', async () => {
    const prev = tuneStore();
    clearTuning();
    setTuneStore(memoryStore());
    try {
      const s: Shapes = { x: [2, 9, 7, 8], w: [3, 3, 8, 12], opts: { padding: 'same' } };
      const g = geom(s);
      const cands = ['direct', 'tiled:32x32x16'];
      const res = await tuneConv2d(s.x, s.w, { ...s.opts, samples: 2, candidates: cands });
      assertEqual(
        res.map((r) => r.pass),
        ['forward', 'inputGrad', 'weightGrad'],
        'one result per pass',
      );
      for (const r of res) {
        assert(!r.cached && r.timings.length >= 2, `${r.pass}: candidates timed: ${JSON.stringify(r.timings)}`);
        assert(
          r.timings.every((t) => t.ms !== undefined && t.ms > 0),
          `${r.pass}: every candidate validated: ${JSON.stringify(r.timings)}`,
        );
        const best = r.timings.reduce((a, b) => (b.ms! < a.ms! ? b : a));
        assertEqual(r.kernel, best.kernel, `${r.pass}: the fastest is remembered`);
        assertEqual(
          pick(g, r.pass),
          r.kernel === 'direct' ? 'direct' : 'tiled',
          `${r.pass}: 'auto' follows the choice`,
        );
        if (r.kernel !== 'direct')
          assertEqual(
            `tiled:${Object.values(conv2dTilesFor(g, r.pass)).join('x')}`,
            r.kernel,
            `${r.pass}: tiles follow the choice`,
          );
      }
      assert(
        (await tuneConv2d(s.x, s.w, { ...s.opts, passes: ['forward'] }))[0].cached,
        'a remembered choice is not timed again',
      );
      // a remembered tile shape is used by the op, and the op stays correct with it
      await remember(tuneKeyOf(CONV2D.forward, g), 'tiled:32x32x16');
      assertEqual(pick(g, 'forward'), 'tiled', 'tiled chosen');
      assertEqual(conv2dTilesFor(g, 'forward'), { TM: 32, TN: 32, TK: 16 }, 'remembered tiles');
      const xs = randomArray(n4(s.x), 61),
        ws = randomArray(n4(s.w), 62);
      const x = tensor(xs, s.x),
        w = tensor(ws, s.w);
      const y = conv2d(x, w, s.opts);
      assertClose(
        'conv2d with remembered tiles',
        await y.read(),
        ref.forward(Float64Array.from(xs), Float64Array.from(ws), g),
        tolFor(9 * 8),
      );
      // explicit choices win over the remembered one; a choice that cannot run is ignored
      if (hasSubgroups()) {
        await remember(tuneKeyOf(CONV2D.forward, g), 'direct');
        assertEqual(pick(g, 'forward'), 'direct', 'remembered direct');
        assertEqual(pick(g, 'forward', 'tiled'), 'tiled', 'explicit tiled wins');
      }
      await remember(tuneKeyOf(CONV2D.forward, g), 'tiled:7x7x7');
      assertEqual(conv2dTilesFor(g, 'forward'), defaultConv2dTiles(g, 'forward'), 'unrunnable tiles ignored');
      assertEqual(
        pick(g, 'forward'),
        isCpuAdapter() && hasSubgroups() ? 'direct' : 'tiled',
        'unrunnable choice: the rule',
      );
      await assertThrows(
        () => tuneConv2d(s.x, s.w, { ...s.opts, force: true, candidates: ['winograd'] }),
        /tuneConv2d: candidate "winograd" is not 'direct', 'quick' or 'tiled:TMxTNxTK'/,
      );
      // tuneConv2dIn finds every pass a training step runs
      clearTuning();
      x.requiresGrad = true;
      w.requiresGrad = true;
      const found = await tuneConv2dIn(
        () => {
          const r = valueAndGrad(() => sum(conv2d(x, w, { ...s.opts, relu: true })), [x, w]);
          for (const t of [r.value, ...r.grads]) t.dispose();
        },
        { samples: 1, candidates: cands },
      );
      assertEqual(found.map((r) => r.pass).sort(), ['forward', 'inputGrad', 'weightGrad'], 'passes of a step');
      for (const t of [x, w, y]) t.dispose();
    } finally {
      clearTuning();
      setTuneStore(prev);
    }
  });
});
