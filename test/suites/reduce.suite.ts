// Reductions (sum, mean, biasGrad, sumTo, broadcastTo) and shape ops (reshape, flatten):
// float64 backward references checked by finite differences; GPU vs reference over axis sets
// that keep or drop dimensions, single-stage and multi-stage (large row counts) reductions,
// bit-for-bit determinism; tape rules; argument errors.
//
// Tolerance: any summation order of R f32 terms is within R * u * sum|x| of the exact sum
// (u = 2^-24); atol is that bound with sum|x| from the reference on |x|; rtol 0.
import { suite } from '../harness/define.js';
import { assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { tensor, sizeOf, type Shape } from '../../src/tensor/tensor.js';
import { biasGrad, broadcastTo, mean, ref, sum, sumTo } from '../../src/ops/reduce.js';
import { flatten, reshape } from '../../src/ops/shape.js';
import { U32, absOf, checkFd, disposeAll, maxAbs, rand, viaTape } from './dense.helpers.js';

function tol(x: ArrayLike<number>, shape: Shape, axes: number[], alpha = 1, log = true) {
  const R = sizeOf(axes.map((a) => shape[a]));
  return { atol: R * U32 * maxAbs(ref.sum(absOf(x), shape, axes, Math.abs(alpha))) + 1e-30, rtol: 0, log };
}

suite('reduce', (test) => {
  test('reference backward = finite differences (sum, mean, sumTo, broadcast)', () => {
    const shape = [3, 4, 2],
      x = randomArray(24, 1);
    for (const axes of [[0], [1], [0, 2], [0, 1, 2]]) {
      const n = ref.sum(x, shape, axes).length;
      checkFd(
        `sum axes [${axes}]`,
        (v) => ref.sum(v, shape, axes),
        x,
        (w) => ref.sumBackward(w, shape, axes),
        n,
      );
      checkFd(
        `mean axes [${axes}]`,
        (v) => ref.sum(v, shape, axes, 1 / sizeOf(axes.map((a) => shape[a]))),
        x,
        (w) => ref.sumBackward(w, shape, axes, 1 / sizeOf(axes.map((a) => shape[a]))),
        n,
      );
    }
    const small = randomArray(4, 2);
    checkFd(
      'broadcast [4,1] -> [3,4,2]',
      (v) => ref.broadcast(v, [4, 1], shape),
      small,
      (w) => ref.sumTo(w, shape, [4, 1]),
      24,
    );
  });

  test('sum and mean over axes = reference (keepDims, negative axes, all axes)', async () => {
    const cases: [Shape, number[] | undefined, boolean][] = [
      [[7], [0], false],
      [[3, 4, 5], [1], false],
      [[3, 4, 5], [0, 2], true],
      [[3, 4, 5], [-1], false],
      [[3, 4, 5], undefined, false],
      [[2, 3, 4, 5, 6], [1, 3], true],
      [[1, 17, 1], [0, 2], false],
      [[65, 33], [0], false],
    ];
    let seed = 10;
    for (const [shape, axes, keepDims] of cases) {
      const x = rand(shape, seed++);
      const ax = (axes ?? [...shape.keys()]).map((a) => (a < 0 ? a + shape.length : a)).sort();
      const R = sizeOf(ax.map((a) => shape[a]));
      const s = sum(x.t, axes, keepDims),
        m = mean(x.t, axes, keepDims);
      const want = keepDims ? shape.map((d, i) => (ax.includes(i) ? 1 : d)) : shape.filter((_, i) => !ax.includes(i));
      assertEqual(s.shape, want, `sum shape ${JSON.stringify(shape)} axes ${JSON.stringify(axes)}`);
      const tag = `${JSON.stringify(shape)} axes ${JSON.stringify(axes)}${keepDims ? ' keepDims' : ''}`;
      assertClose(`sum ${tag}`, await s.read(), ref.sum(x.d, shape, ax), tol(x.d, shape, ax));
      assertClose(`mean ${tag}`, await m.read(), ref.sum(x.d, shape, ax, 1 / R), tol(x.d, shape, ax, 1 / R, false));
      disposeAll(x.t, s, m);
    }
  });

  test('multi-stage reductions (large row counts) are exact on integer data and reproducible', async () => {
    // Small integers: every partial sum is an integer below 2^24, so any summation order is exact
    // in f32 and the result must equal the reference exactly (a lost or doubled element shows).
    const ints = (n: number, seed: number) => randomArray(n, seed, -8, 9).map(Math.floor);
    for (const shape of [
      [5000, 3],
      [100, 37, 33],
      [70001, 1],
      [2, 300, 5],
    ] as Shape[]) {
      const d = ints(sizeOf(shape), sizeOf(shape));
      const x = tensor(d, shape);
      const ax = [...Array(shape.length - 1).keys()];
      const g1 = biasGrad(x),
        g2 = biasGrad(x);
      const a = await g1.read(),
        b = await g2.read();
      assertClose(`biasGrad ${JSON.stringify(shape)} (integers, exact)`, a, ref.sum(d, shape, ax), {
        atol: 0,
        rtol: 0,
      });
      assertEqual(Array.from(a), Array.from(b), `biasGrad ${JSON.stringify(shape)} is deterministic`);
      disposeAll(x, g1, g2);
    }
    const d = ints(210000, 3);
    const big = tensor(d, [300, 700]);
    const all = sum(big),
      cols = mean(big, [0]);
    assertClose('sum of 210000 integers (exact)', await all.read(), ref.sum(d, [300, 700], [0, 1]), {
      atol: 0,
      rtol: 0,
    });
    // exact column sums, then one rounding for the 1/300 scale
    assertClose('mean over 300 rows', await cols.read(), ref.sum(d, [300, 700], [0], 1 / 300), {
      atol: 1e-30,
      rtol: 1.2e-7,
    });
    // random floats through the multi-stage path, with the worst-case bound
    const f = rand([5000, 3], 4);
    const gf = biasGrad(f.t);
    assertClose('biasGrad [5000,3] (floats)', await gf.read(), ref.sum(f.d, [5000, 3], [0]), tol(f.d, [5000, 3], [0]));
    disposeAll(big, all, cols, f.t, gf);
  });

  test('tape rules: sum, mean, biasGrad broadcast back; sumTo and broadcastTo are adjoint', async () => {
    const shape = [4, 5, 6],
      x = rand(shape, 40);
    for (const [name, f, axes, alpha, gyShape] of [
      ['sum', () => sum(x.t, [0, 2]), [0, 2], 1, [5]],
      ['mean', () => mean(x.t, [1], true), [1], 1 / 5, [4, 1, 6]],
      ['biasGrad', () => biasGrad(x.t), [0, 1], 1, [6]],
    ] as const) {
      const gy = rand(gyShape, 41);
      const { y, grads } = viaTape(f, [x.t], gy.t);
      assertClose(`${name} backward`, await grads[0]!.read(), ref.sumBackward(gy.d, shape, [...axes], alpha), {
        atol: 1e-30,
        rtol: 6e-8,
      });
      disposeAll(y, gy.t, grads);
    }
    const b = rand([5, 1], 42),
      gy = rand(shape, 43);
    const r1 = viaTape(() => broadcastTo(b.t, shape), [b.t], gy.t);
    assertClose('broadcastTo forward', await r1.y.read(), ref.broadcast(b.d, [5, 1], shape), { atol: 0, rtol: 0 });
    assertClose('broadcastTo backward = sumTo', await r1.grads[0]!.read(), ref.sumTo(gy.d, shape, [5, 1]), {
      atol: 24 * U32 * 24,
      rtol: 0,
    });
    const r2 = viaTape(() => sumTo(x.t, [5, 1]), [x.t], b.t);
    assertClose('sumTo forward', await r2.y.read(), ref.sumTo(x.d, shape, [5, 1]), { atol: 24 * U32 * 24, rtol: 0 });
    assertClose('sumTo backward = broadcast', await r2.grads[0]!.read(), ref.broadcast(b.d, [5, 1], shape), {
      atol: 0,
      rtol: 0,
    });
    disposeAll(x.t, b.t, gy.t, r1.y, r1.grads, r2.y, r2.grads);
  });

  test('reshape and flatten copy the data; -1 is inferred; the gradient is reshaped back', async () => {
    const x = rand([2, 3, 4], 50),
      gy = rand([6, 4], 51);
    const f = flatten(x.t),
      r = reshape(x.t, [4, -1]);
    assertEqual(f.shape, [2, 12], 'flatten shape');
    assertEqual(r.shape, [4, 6], 'reshape -1 inferred');
    assertClose('flatten data', await f.read(), x.d, { atol: 0, rtol: 0 });
    assertClose('reshape data', await r.read(), x.d, { atol: 0, rtol: 0 });
    const { y, grads } = viaTape(() => reshape(x.t, [6, 4]), [x.t], gy.t);
    assertEqual(grads[0]!.shape, [2, 3, 4], 'reshape gradient shape');
    assertClose('reshape backward', await grads[0]!.read(), gy.d, { atol: 0, rtol: 0 });
    const labels = tensor([3, 1, 4, 1], [2, 2], 'u32');
    const lf = reshape(labels, [4]);
    assertEqual(Array.from(await lf.read()), [3, 1, 4, 1], 'u32 reshape');
    await assertThrows(
      () => reshape(x.t, [5, 5]),
      /reshape: cannot reshape \[2,3,4\] \(24 elements\) to \[5,5\] \(25 elements\)/,
    );
    await assertThrows(() => reshape(x.t, [-1, -1]), /reshape: at most one -1/);
    await assertThrows(() => reshape(x.t, [7, -1]), /reshape: cannot reshape \[2,3,4\] \(24 elements\) to \[7,-1\]/);
    disposeAll(x.t, gy.t, f, r, y, grads, labels, lf);
  });

  test('bad arguments name the op and the axes', async () => {
    const x = tensor(new Float32Array(6), [2, 3]);
    await assertThrows(() => sum(x, [2]), /sum: axis 2 is out of range for rank 2/);
    await assertThrows(() => mean(x, [0, -2]), /mean: repeated axis/);
    await assertThrows(() => sumTo(x, [4]), /sumTo: .*must have the same shape or be broadcastable/);
    await assertThrows(
      () => broadcastTo(x, [3]),
      /broadcastTo: .*must have the same shape or be broadcastable|does not broadcast/,
    );
    const s = tensor([1], []);
    await assertThrows(() => biasGrad(s), /biasGrad: 'dy' needs rank >= 1/);
    disposeAll(x, s);
  });
});
