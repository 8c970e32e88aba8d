// Elementwise ops with numpy broadcasting: float64 backward references checked by finite
// differences; GPU forward vs reference over many broadcast patterns (bias rows, per-channel
// NHWC scales, both-sides broadcast, scalars, rank 8); gradients of broadcast operands summed
// back to their shapes; addScalar and scaleBy (a GPU-resident factor); argument errors.
//
// Tolerances: add/sub/mul are single correctly rounded f32 operations, so the result is within
// u = 2^-24 relative of the exact value: rtol 6e-8 (atol only absorbs exact zeros). A gradient
// summed over R broadcast copies is within R*u*sum|terms|: atol from the reference on |values|.
import { suite } from '../harness/define.js';
import { assertClose, assertThrows, randomArray } from '../harness/assert.js';
import { tensor, sizeOf, type Shape } from '../../src/tensor/tensor.js';
import { add, addScalar, full, mul, ref, scale, scaleBy, sub } from '../../src/ops/elementwise.js';
import { U32, checkFd, disposeAll, rand, viaTape, absOf, maxAbs } from './dense.helpers.js';

const ROUNDED = { atol: 1e-30, rtol: 6e-8 };
const OPS = { add, sub, mul } as const;
const PAIRS: [Shape, Shape][] = [
  [[5, 7], [7]], // bias over rows
  [
    [2, 3, 4, 5],
    [1, 1, 1, 5],
  ], // NHWC per-channel
  [
    [3, 1, 5],
    [4, 1],
  ], // both sides broadcast -> [3,4,5]
  [[1], [6, 4]], // one-element tensor
  [[], [3, 2]], // rank-0 scalar
  [
    [65, 33],
    [65, 1],
  ], // per-row
  [
    [2, 3],
    [2, 3],
  ], // same shape (flat kernel)
  [
    [4, 1, 3, 1, 2, 1, 3, 1],
    [1, 2, 1, 3, 1, 2, 1, 3],
  ], // rank 8, alternating: no coalescing
];

suite('elementwise', (test) => {
  test('reference backward = finite differences (broadcast add, sub, mul)', () => {
    for (const op of ['add', 'sub', 'mul'] as const)
      for (const [as, bs] of [
        [
          [3, 1, 4],
          [2, 1],
        ],
        [[2, 3], [3]],
        [[1], [2, 2]],
      ] as [Shape, Shape][]) {
        const a = randomArray(sizeOf(as), 1),
          b = randomArray(sizeOf(bs), 2);
        const n = ref.binary(op, a, as, b, bs).y.length;
        const tag = `${op} ${JSON.stringify(as)} ${JSON.stringify(bs)}`;
        checkFd(
          `d${tag} / da`,
          (x) => ref.binary(op, x, as, b, bs).y,
          a,
          (w) => ref.binaryBackward(op, w, a, as, b, bs).da,
          n,
        );
        checkFd(
          `d${tag} / db`,
          (x) => ref.binary(op, a, as, x, bs).y,
          b,
          (w) => ref.binaryBackward(op, w, a, as, b, bs).db,
          n,
        );
      }
  });

  test('add, sub, mul broadcast like numpy (bias, NHWC channel, both sides, scalar, rank 8)', async () => {
    let seed = 10;
    for (const [as, bs] of PAIRS) {
      const A = rand(as, seed++),
        B = rand(bs, seed++);
      for (const [name, f] of Object.entries(OPS)) {
        const want = ref.binary(name as keyof typeof OPS, A.d, as, B.d, bs);
        const y = f(A.t, B.t);
        if (JSON.stringify(y.shape) !== JSON.stringify(want.shape))
          throw new Error(`${name}: shape ${y.shape}, want ${want.shape}`);
        assertClose(`${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}`, await y.read(), want.y, {
          ...ROUNDED,
          log: name === 'mul',
        });
        y.dispose();
      }
      disposeAll(A.t, B.t);
    }
  });

  test('gradients of broadcast operands are summed back to their shapes (tape rules)', async () => {
    let seed = 40;
    for (const [as, bs] of PAIRS.slice(0, 6)) {
      const A = rand(as, seed++),
        B = rand(bs, seed++);
      for (const [name, f] of Object.entries(OPS)) {
        const op = name as keyof typeof OPS;
        const outShape = ref.binary(op, A.d, as, B.d, bs).shape;
        const gy = rand(outShape, seed++);
        const { y, grads } = viaTape(() => f(A.t, B.t), [A.t, B.t], gy.t);
        const want = ref.binaryBackward(op, gy.d, A.d, as, B.d, bs);
        const mag = ref.binaryBackward('mul', absOf(gy.d), absOf(A.d), as, absOf(B.d), bs);
        const magAdd = ref.binaryBackward('add', absOf(gy.d), A.d, as, B.d, bs);
        // each gradient element sums R = size(result) / size(operand) broadcast copies
        const tol = (m: Float64Array) => ({
          atol: (sizeOf(outShape) / m.length) * U32 * maxAbs(m) + 1e-30,
          rtol: 0,
          log: op === 'mul',
        });
        const tag = `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}`;
        if (
          JSON.stringify(grads[0]!.shape) !== JSON.stringify([...as]) ||
          JSON.stringify(grads[1]!.shape) !== JSON.stringify([...bs])
        )
          throw new Error(`${tag}: gradient shapes ${grads[0]!.shape} / ${grads[1]!.shape}`);
        assertClose(`d/da ${tag}`, await grads[0]!.read(), want.da, tol(op === 'mul' ? mag.da : magAdd.da));
        assertClose(`d/db ${tag}`, await grads[1]!.read(), want.db, tol(op === 'mul' ? mag.db : magAdd.db));
        disposeAll(y, gy.t, grads);
      }
      disposeAll(A.t, B.t);
    }
  });

  test('addScalar, scale, full and scaleBy (factor read on the GPU), with their tape rules', async () => {
    const x = rand([3, 33], 60),
      gy = rand([3, 33], 61),
      s = tensor([-1.75]);
    const y1 = addScalar(x.t, 0.5),
      y2 = scale(x.t, -3),
      y3 = scaleBy(x.t, s),
      f = full([2, 5], 2.25);
    assertClose('addScalar', await y1.read(), ref.addScalar(x.d, 0.5), ROUNDED);
    assertClose('scale', await y2.read(), ref.scale(x.d, -3), ROUNDED);
    assertClose('scaleBy', await y3.read(), ref.scale(x.d, -1.75), ROUNDED);
    assertClose('full', await f.read(), new Float64Array(10).fill(2.25), { atol: 0, rtol: 0 });
    const r1 = viaTape(() => addScalar(x.t, 0.5), [x.t], gy.t);
    assertClose('addScalar backward', await r1.grads[0]!.read(), Float64Array.from(gy.d), { atol: 0, rtol: 0 });
    const r2 = viaTape(() => scaleBy(x.t, s), [x.t, s], gy.t);
    assertClose('scaleBy backward (x)', await r2.grads[0]!.read(), ref.scale(gy.d, -1.75), ROUNDED);
    const ds = gy.d.reduce((acc, g, i) => acc + g * x.d[i], 0);
    const dsMag = gy.d.reduce((acc, g, i) => acc + Math.abs(g * x.d[i]), 0);
    // a sum of 99 products: within 99 u sum|terms|
    assertClose('scaleBy backward (s)', await r2.grads[1]!.read(), [ds], { atol: 99 * U32 * dsMag, rtol: 0 });
    disposeAll(x.t, gy.t, s, y1, y2, y3, f, r1.y, r2.y, r2.grads);
  });

  test('bad arguments name the op and the shapes', async () => {
    const a = tensor(new Float32Array(6), [2, 3]),
      b = tensor(new Float32Array(8), [2, 4]),
      s2 = tensor([1, 2]);
    const u = tensor([1, 2, 3], [3], 'u32');
    await assertThrows(
      () => add(a, b),
      /add: 'a' \[2,3\] and 'b' \[2,4\] must have the same shape or be broadcastable/,
    );
    await assertThrows(() => mul(a, u), /mul: argument 'b' must be f32, got u32/);
    await assertThrows(() => scaleBy(a, s2), /scaleBy: 's' must have one element, got shape \[2\]/);
    await assertThrows(() => addScalar(a, Infinity), /addScalar: 's' must be a finite number/);
    // 9 dimensions that alternate between the operands cannot be coalesced below 9
    const r9 = tensor(new Float32Array(32), [2, 1, 2, 1, 2, 1, 2, 1, 2]),
      r9b = tensor(new Float32Array(16), [1, 2, 1, 2, 1, 2, 1, 2, 1]);
    await assertThrows(() => sub(r9, r9b), /sub: .* broadcast over 9 separate dimensions; at most 8/);
    // ...while a rank-9 pair that coalesces is fine
    const c9 = tensor(new Float32Array(512), [2, 2, 2, 2, 2, 2, 2, 2, 2]),
      c9b = tensor(new Float32Array(2), [2, 1, 1, 1, 1, 1, 1, 1, 1]);
    const y9 = add(c9, c9b);
    disposeAll(a, b, s2, u, r9, r9b, c9, c9b, y9);
  });
});
