// Pooling: float64 references checked by central finite differences; GPU forward and backward
// vs the references on random data (odd sizes, batch 1, strides 1-3, kernels 1-3, padding,
// channels 1/3/5/64); gather backward determinism with ties; autograd rules; argument errors.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray, rng } from '../harness/assert.js';
import { dot, numericGrad } from '../harness/fd.js';
import { tensor, sizeOf, type Shape } from '../../src/tensor/tensor.js';
import { beginTape, endTape } from '../../src/autograd/tape.js';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { conv2d } from '../../src/ops/conv2d/index.js';
import { relu } from '../../src/ops/activations.js';
import { add, mul } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';
import { engine } from '../../src/runtime/engine.js';
import {
  avgPool2d,
  avgPool2dBackward,
  globalAvgPool,
  globalAvgPoolBackward,
  maxPool2d,
  maxPool2dBackward,
  maxPool2dWithIndices,
  poolGeometry,
  ref,
  type Pool2dOptions,
} from '../../src/ops/pool2d/index.js';

/** Distinct values (a shuffled ramp with spacing 0.01): no ties, so max pooling is differentiable. */
function distinct(n: number, seed: number): Float64Array {
  const r = rng(seed);
  const a = Float64Array.from({ length: n }, (_, i) => (i - n / 2) * 0.01);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// GPU cases: shape [N,H,W,C] and options. Windows overlap (stride < kernel), tile the input
// exactly, leave a remainder, and are mostly padding; 'same' pads asymmetrically.
const CASES: { shape: Shape; opts: Pool2dOptions }[] = [
  { shape: [1, 1, 1, 1], opts: { kernel: 2, stride: 1, padding: 'same' } },
  { shape: [1, 3, 3, 5], opts: { kernel: 2, stride: 1 } },
  { shape: [2, 17, 17, 3], opts: { kernel: 3, stride: 2, padding: 1 } },
  { shape: [1, 33, 33, 1], opts: { kernel: 2 } },
  { shape: [2, 7, 9, 64], opts: { kernel: 3, stride: 3, padding: 'same' } },
  { shape: [1, 17, 5, 3], opts: { kernel: [3, 2], stride: [2, 1], padding: [1, 0] } },
  { shape: [3, 8, 8, 5], opts: { kernel: 3, stride: 1, padding: 2 } },
  { shape: [1, 6, 6, 3], opts: { kernel: 3, stride: 2, padding: 'same' } },
  // the vec4 path (C % 4 == 0, stride = kernel, no padding): exact tilings use its backward too,
  // a remainder row/column leaves the backward to the gather kernel
  { shape: [3, 6, 10, 8], opts: { kernel: 2 } },
  { shape: [2, 9, 6, 12], opts: { kernel: 3 } },
  { shape: [1, 4, 6, 4], opts: { kernel: [2, 3], padding: 'same' } },
  { shape: [2, 7, 9, 20], opts: { kernel: 2 } },
  { shape: [5, 3, 4, 4], opts: { kernel: [1, 4] } },
  // 'same' with stride = kernel and H, W not multiples of it: no top/left padding, but the last
  // windows hang over the bottom/right edge (they must not take the vec4 path, which assumes
  // every window lies inside the input)
  { shape: [2, 7, 9, 4], opts: { kernel: 2, padding: 'same' } },
];

const label = (c: (typeof CASES)[number]) => `${JSON.stringify(c.shape)} ${JSON.stringify(c.opts)}`;

suite('pool2d', (test) => {
  test('references: backward of max, avg and global average pooling match central finite differences', () => {
    const geoms: { shape: Shape; opts: Pool2dOptions }[] = [
      { shape: [2, 5, 5, 3], opts: { kernel: 3, stride: 2, padding: 1 } },
      { shape: [1, 4, 6, 2], opts: { kernel: 2, stride: 1 } }, // overlapping windows
      { shape: [1, 5, 4, 2], opts: { kernel: [3, 2], stride: [2, 3], padding: 'same' } },
      // PyTorch's count_include_pad=True: padded cells count in the divisor
      { shape: [2, 5, 5, 3], opts: { kernel: 3, stride: 2, padding: 1, countIncludePad: true } },
      { shape: [1, 5, 4, 2], opts: { kernel: [3, 2], stride: [2, 3], padding: 'same', countIncludePad: true } },
    ];
    for (const { shape, opts } of geoms) {
      const n = sizeOf(shape);
      const x = distinct(n, n);
      const g = poolGeometry('test', shape, opts);
      const wy = randomArray(g.N * g.OH * g.OW * g.C, 7);
      // max: FD steps of 1e-6 never reorder values spaced 0.01 apart
      const { argmax } = ref.maxPool2d(x, shape, opts);
      const fdMax = numericGrad((xx) => dot(ref.maxPool2d(xx, shape, opts).y, wy), x);
      // f64 central differences of a piecewise-linear function: error ~ 1e-16 / 1e-6 = 1e-10
      assertClose(`max ref vs FD ${JSON.stringify(shape)}`, ref.maxPool2dBackward(wy, argmax, shape), fdMax, {
        atol: 1e-8,
        rtol: 1e-8,
      });
      const fdAvg = numericGrad((xx) => dot(ref.avgPool2d(xx, shape, opts), wy), x);
      assertClose(`avg ref vs FD ${JSON.stringify(shape)}`, ref.avgPool2dBackward(wy, shape, opts), fdAvg, {
        atol: 1e-8,
        rtol: 1e-8,
      });
      const [N, , , C] = shape;
      const wg = randomArray(N * C, 9);
      const fdGap = numericGrad((xx) => dot(ref.globalAvgPool(xx, shape), wg), x);
      assertClose(`gap ref vs FD ${JSON.stringify(shape)}`, ref.globalAvgPoolBackward(wg, shape), fdGap, {
        atol: 1e-8,
        rtol: 1e-8,
      });
    }
  });

  test('maxPool2d forward (values, argmax) and backward vs reference', async () => {
    let seed = 100;
    for (const c of CASES) {
      const xs = randomArray(sizeOf(c.shape), seed++);
      const x = tensor(xs, c.shape);
      const { y, argmax } = maxPool2dWithIndices(x, c.opts);
      const want = ref.maxPool2d(xs, c.shape, c.opts);
      // a max selects an input value: exact
      assertClose(`max y ${label(c)}`, await y.read(), want.y, { atol: 0, rtol: 0 });
      assertEqual(Array.from(await argmax.read()), Array.from(want.argmax), `argmax ${label(c)}`);
      const y2 = maxPool2d(x, c.opts); // inference path: no indices
      assertClose(`max (no indices) y ${label(c)}`, await y2.read(), want.y, { atol: 0, rtol: 0 });
      const dys = randomArray(y.size, seed++);
      const dy = tensor(dys, y.shape);
      const dx = maxPool2dBackward(dy, argmax, c.shape, c.opts);
      // each dx sums k <= ceil(K/S)^2 <= 9 dy values in [-1, 1]; a sequential f32 sum errs by at
      // most (k-1) * 2^-24 * sum|terms| <= 8 * 6e-8 * 9 = 4.3e-6
      assertClose(`max dx ${label(c)}`, await dx.read(), ref.maxPool2dBackward(dys, want.argmax, c.shape), {
        atol: 5e-6,
        rtol: 0,
      });
      for (const t of [x, y, argmax, y2, dy, dx]) t.dispose();
    }
  });

  test('avgPool2d forward and backward vs reference, countIncludePad false (default) and true', async () => {
    let seed = 200;
    for (const c0 of CASES)
      for (const countIncludePad of [false, true]) {
        const c = { shape: c0.shape, opts: { ...c0.opts, countIncludePad } };
        const xs = randomArray(sizeOf(c.shape), seed++);
        const x = tensor(xs, c.shape);
        const y = avgPool2d(x, c.opts);
        // mean of k <= 9 values in [-1, 1]: sum error <= (k-1) * 2^-24 * k, divided by k, plus one
        // rounding of the division: <= 9 * 2^-24 = 5.4e-7
        const want = ref.avgPool2d(xs, c.shape, c.opts);
        assertClose(`avg y ${label(c)}`, await y.read(), want, { atol: 1e-6, rtol: 0 });
        if (c.opts.padding === 1 && countIncludePad) {
          const other = ref.avgPool2d(xs, c.shape, c0.opts);
          assert(
            want.some((v, i) => Math.abs(v - other[i]) > 1e-3),
            `countIncludePad changes padded windows ${label(c)}`,
          );
        }
        const dys = randomArray(y.size, seed++);
        const dy = tensor(dys, y.shape);
        const dx = avgPool2dBackward(dy, c.shape, c.opts);
        // up to 9 terms dy/count with |term| <= 1 (a corner window may hold 1 cell): as for max dx
        assertClose(`avg dx ${label(c)}`, await dx.read(), ref.avgPool2dBackward(dys, c.shape, c.opts), {
          atol: 5e-6,
          rtol: 0,
        });
        for (const t of [x, y, dy, dx]) t.dispose();
      }
  });

  test('globalAvgPool forward and backward vs reference', async () => {
    let seed = 300;
    for (const shape of [
      [1, 1, 1, 1],
      [2, 7, 7, 64],
      [3, 5, 3, 33],
      [1, 17, 17, 3],
    ]) {
      const [N, H, W, C] = shape;
      const xs = randomArray(sizeOf(shape), seed++);
      const x = tensor(xs, shape);
      const y = globalAvgPool(x);
      assertEqual(y.shape, [N, C], 'output shape');
      // sequential f32 sum of k = H*W <= 289 values in [-1, 1], then * 1/k: the bound
      // (k-1) * 2^-24 * k / k + 2 roundings ~ 1.7e-5 (observed errors are ~100x smaller)
      assertClose(`gap y ${JSON.stringify(shape)}`, await y.read(), ref.globalAvgPool(xs, shape), {
        atol: 2e-5,
        rtol: 0,
      });
      const dys = randomArray(N * C, seed++);
      const dy = tensor(dys, [N, C]);
      const dx = globalAvgPoolBackward(dy, shape);
      // one multiply by a rounded 1/(H*W): 2 roundings
      assertClose(`gap dx ${JSON.stringify(shape)}`, await dx.read(), ref.globalAvgPoolBackward(dys, shape), {
        atol: 1e-7,
        rtol: 1e-6,
      });
      assertEqual(dx.shape, [N, H, W, C], 'dx shape');
      for (const t of [x, y, dy, dx]) t.dispose();
    }
  });

  test('max pooling: padding is -inf, ties keep the first cell, the gather backward loses nothing and is deterministic', async () => {
    // all inputs < -1: a zero-padded max would return 0 at the borders
    const shape = [1, 5, 5, 3];
    const xs = randomArray(75, 11, -3, -1);
    const x = tensor(xs, shape);
    const y = maxPool2d(x, { kernel: 3, stride: 1, padding: 1 });
    assert(
      (await y.read()).every((v) => v < -1),
      'padded cells never win',
    );
    // all-equal input with overlapping windows: every output ties; each dy must land on exactly
    // one input (the first cell of its window), so dx sums to sum(dy) and two runs agree bitwise
    const opts: Pool2dOptions = { kernel: 3, stride: 1, padding: 1 };
    const z = tensor(new Float32Array(75).fill(0.5), shape);
    const { y: yz, argmax } = maxPool2dWithIndices(z, opts);
    assertEqual(
      Array.from(await argmax.read()),
      Array.from(ref.maxPool2d(new Float32Array(75).fill(0.5), shape, opts).argmax),
      'tie-break',
    );
    const dy = tensor(new Float32Array(75).fill(1), yz.shape);
    const dx1 = maxPool2dBackward(dy, argmax, shape, opts);
    const dx2 = maxPool2dBackward(dy, argmax, shape, opts);
    const a = await dx1.read(),
      b = await dx2.read();
    assertEqual(
      Array.from(a).reduce((s, v) => s + v, 0),
      75,
      'sum of dx = sum of dy',
    );
    assertEqual(Array.from(a), Array.from(b), 'deterministic');
    for (const t of [x, y, z, yz, argmax, dy, dx1, dx2]) t.dispose();
    // the same for the vec4 path: ties keep the first cell of each window, per channel
    const s4 = [2, 4, 6, 8],
      o4: Pool2dOptions = { kernel: 2 };
    const n4 = 2 * 4 * 6 * 8;
    const z4 = tensor(new Float32Array(n4).fill(0.5), s4);
    const r4 = maxPool2dWithIndices(z4, o4);
    assertEqual(
      Array.from(await r4.argmax.read()),
      Array.from(ref.maxPool2d(new Float32Array(n4).fill(0.5), s4, o4).argmax),
      'tie-break (vec4)',
    );
    const dy4 = tensor(new Float32Array(r4.y.size).fill(1), r4.y.shape);
    const dx4 = maxPool2dBackward(dy4, r4.argmax, s4, o4);
    const d4 = await dx4.read();
    assertEqual(
      Array.from(d4).reduce((s, v) => s + v, 0),
      r4.y.size,
      'sum of dx = sum of dy (vec4)',
    );
    for (const t of [z4, r4.y, r4.argmax, dy4, dx4]) t.dispose();
  });

  test('autograd rules: maxPool2d (captured argmax), avgPool2d, globalAvgPool', async () => {
    const shape = [2, 5, 6, 3];
    const opts: Pool2dOptions = { kernel: 3, stride: 2, padding: 1 };
    const xs = randomArray(sizeOf(shape), 21);
    const x = tensor(xs, shape);
    x.requiresGrad = true;
    const prev = beginTape();
    const ym = maxPool2d(x, opts),
      ya = avgPool2d(x, opts),
      yg = globalAvgPool(x);
    const tape = endTape(prev);
    assertEqual(
      tape.map((n) => n.op),
      ['maxPool2d', 'avgPool2d', 'globalAvgPool'],
      'recorded ops',
    );
    const dym = tensor(randomArray(ym.size, 22), ym.shape);
    const dya = tensor(randomArray(ya.size, 23), ya.shape);
    const dyg = tensor(randomArray(yg.size, 24), yg.shape);
    const [gm] = tape[0].backward([dym]),
      [ga] = tape[1].backward([dya]),
      [gg] = tape[2].backward([dyg]);
    const wantM = ref.maxPool2dBackward(await dym.read(), ref.maxPool2d(xs, shape, opts).argmax, shape);
    // same bounds as the direct backward cases (at most 4 terms here)
    assertClose('max rule dx', await gm!.read(), wantM, { atol: 5e-6, rtol: 0 });
    assertClose('avg rule dx', await ga!.read(), ref.avgPool2dBackward(await dya.read(), shape, opts), {
      atol: 5e-6,
      rtol: 0,
    });
    assertClose('gap rule dx', await gg!.read(), ref.globalAvgPoolBackward(await dyg.read(), shape), {
      atol: 1e-7,
      rtol: 1e-6,
    });
    assertEqual(tape[0].backward([null]), [null], 'no gradient in, none out');
    for (const t of [x, ym, ya, yg, dym, dya, dyg, gm!, ga!, gg!]) t.dispose();
  });

  test('ReLU mask folded into the max-pool backward: the same gradients as relu() then pool, one pass fewer', async () => {
    // conv (fused bias + ReLU) -> 2x2 max pool; a negative bias makes many windows all zero
    // after the ReLU (the mask matters there). Also with the conv output used a second time
    // (the summed gradient must be masked again) and for each conv variant that can run.
    const xs = randomArray(2 * 6 * 8 * 3, 31),
      ws = randomArray(3 * 3 * 3 * 8, 32),
      bs = randomArray(8, 33, -0.6, -0.2);
    const x = tensor(xs, [2, 6, 8, 3]),
      w = tensor(ws, [3, 3, 3, 8]),
      b = tensor(bs, [8]);
    const wy = tensor(randomArray(2 * 3 * 4 * 8, 34), [2, 3, 4, 8]),
      wh = tensor(randomArray(2 * 6 * 8 * 8, 35), [2, 6, 8, 8]);
    const e = engine();
    const variants = e.features.has('subgroups') ? (['tiled', 'direct'] as const) : (['tiled'] as const);
    for (const variant of variants)
      for (const twice of [false, true]) {
        const loss = (fused: boolean) => () => {
          const h = fused
            ? conv2d(x, w, { bias: b, relu: true, padding: 'same', kernel: variant })
            : relu(conv2d(x, w, { bias: b, padding: 'same', kernel: variant }));
          const l = sum(mul(maxPool2d(h, { kernel: 2 }), wy));
          return twice ? add(sum(mul(h, wh)), l) : l;
        };
        const ops: string[] = [];
        e.queue.afterDispatch = (cmd) => ops.push(cmd.op);
        let fused: ReturnType<typeof valueAndGrad>;
        try {
          fused = valueAndGrad(loss(true), [x, w, b]);
        } finally {
          e.queue.afterDispatch = undefined;
        }
        const plain = valueAndGrad(loss(false), [x, w, b]);
        const label = `${variant}${twice ? ', conv output used twice' : ''}`;
        // the tiled kernels mask dy as they load it anyway; the direct ones need a pass unless folded
        if (!twice)
          assert(!ops.includes('reluBackward'), `${label}: no separate ReLU backward pass (${ops.join(', ')})`);
        assertClose(`${label}: loss`, await fused.value.read(), await plain.value.read(), { atol: 1e-6, rtol: 1e-6 });
        for (const [i, name] of ['dx', 'dw', 'db'].entries())
          assertClose(`${label}: ${name}`, await fused.grads[i].read(), await plain.grads[i].read(), {
            atol: 1e-5,
            rtol: 1e-5,
          });
        for (const t of [fused.value, plain.value, ...fused.grads, ...plain.grads]) t.dispose();
      }
    for (const t of [x, w, b, wy, wh]) t.dispose();
  });

  test('bad arguments name the op, the argument and the shapes', async () => {
    const x = tensor(new Float32Array(2 * 4 * 4 * 3), [2, 4, 4, 3]);
    const flat = tensor([1, 2, 3]);
    await assertThrows(
      () => maxPool2d(flat, { kernel: 2 }),
      /maxPool2d: argument 'x' must have rank 4, got shape \[3\]/,
    );
    await assertThrows(() => avgPool2d(x, { kernel: 0 }), /avgPool2d: 'kernel' must be an integer >= 1/);
    await assertThrows(
      () => maxPool2d(x, { kernel: 2, padding: 2 }),
      /'padding' \[2,2\] must be smaller than the kernel \[2,2\]/,
    );
    await assertThrows(() => avgPool2d(x, { kernel: 5 }), /kernel \[5,5\] is larger than the padded input/);
    const { y, argmax } = maxPool2dWithIndices(x, { kernel: 2 });
    await assertThrows(
      () => maxPool2dBackward(x, argmax, x.shape, { kernel: 2 }),
      /'dy' must have shape \[2,2,2,3\], got \[2,4,4,3\]/,
    );
    await assertThrows(() => maxPool2dBackward(y, y, x.shape, { kernel: 2 }), /'argmax' must be u32, got f32/);
    await assertThrows(
      () => globalAvgPoolBackward(flat, x.shape),
      /globalAvgPoolBackward: argument 'dy' must have rank 2/,
    );
    for (const t of [x, flat, y, argmax]) t.dispose();
  });
});
