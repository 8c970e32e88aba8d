// matmul / bmm: float64 reference checked by finite differences; tiled and naive GPU kernels vs
// the reference on shapes that are not multiples of the tiles, all transposes, vec4 and scalar
// load paths, several tile configurations, batches (incl. broadcast); backward rule vs reference.
// "Tiled" is the kernel matmul() picks by default on this adapter (src/ops/matmul/choose.ts);
// matmul-variants.suite.ts forces every variant one by one.
//
// Tolerance: a dot product of K f32 terms computed in any order is within K * u * sum|a_k b_k|
// of the exact value (u = 2^-24), so each comparison uses atol = K * u * max_ij (|A| |B|)_ij,
// computed from the same reference on absolute values; rtol 0.
import { suite } from '../harness/define.js';
import { assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { tensor } from '../../src/tensor/tensor.js';
import { bmm, matmul, ref, type RefMatmulOptions } from '../../src/ops/matmul/index.js';
import { matmulNaive } from '../../bench/naive.js';
import { U32, checkFd, disposeAll, rand, viaTape, absOf, maxAbs } from './dense.helpers.js';

/** atol for a result whose elements each sum `terms` products, bounded by absRef. */
function tol(terms: number, absRef: ArrayLike<number>) {
  return { atol: Math.max(terms, 1) * U32 * maxAbs(absRef) + 1e-30, rtol: 0 };
}

/** Stored shapes [batch, rows, cols] of a and b for op(a) [M,K], op(b) [K,N]. */
function shapes(M: number, K: number, N: number, ta: boolean, tb: boolean, ba = 1, bb = 1) {
  return { as: [ba, ta ? K : M, ta ? M : K], bs: [bb, tb ? N : K, tb ? K : N] };
}

suite('matmul', (test) => {
  test('reference backward = finite differences (transposes, bias, ReLU, broadcast batch)', () => {
    const [M, K, N] = [3, 4, 5];
    for (const ta of [false, true])
      for (const tb of [false, true])
        for (const relu of [false, true]) {
          const { as, bs } = shapes(M, K, N, ta, tb, 2, 1); // b broadcast over a batch of 2
          const a = randomArray(as[0] * as[1] * as[2], 1),
            b = randomArray(bs[0] * bs[1] * bs[2], 2),
            bias = randomArray(N, 3);
          const o: RefMatmulOptions = { transA: ta, transB: tb, bias, relu };
          const n = 2 * M * N,
            tag = `ta=${+ta} tb=${+tb} relu=${+relu}`;
          checkFd(
            `da ${tag}`,
            (x) => ref.matmul(x, as, b, bs, o),
            a,
            (w) => ref.matmulBackward(w, a, as, b, bs, o).da,
            n,
          );
          checkFd(
            `db ${tag}`,
            (x) => ref.matmul(a, as, x, bs, o),
            b,
            (w) => ref.matmulBackward(w, a, as, b, bs, o).db,
            n,
          );
          checkFd(
            `dbias ${tag}`,
            (x) => ref.matmul(a, as, b, bs, { ...o, bias: x }),
            bias,
            (w) => ref.matmulBackward(w, a, as, b, bs, o).dbias,
            n,
          );
        }
  });

  test('tiled and naive kernels = reference: odd shapes, all transposes, vec4 and scalar loads', async () => {
    const cases: [number, number, number][] = [
      [1, 1, 1],
      [3, 5, 7],
      [17, 33, 65],
      [65, 17, 33],
      [33, 65, 17],
      [64, 64, 64],
      [8, 12, 16],
      [100, 37, 129],
    ];
    let seed = 10;
    for (const [M, K, N] of cases)
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const { as, bs } = shapes(M, K, N, ta, tb);
          const A = rand(as.slice(1), seed++),
            B = rand(bs.slice(1), seed++);
          const o = { transA: ta, transB: tb };
          const want = ref.matmul(A.d, as, B.d, bs, o);
          const t = tol(K, ref.matmul(absOf(A.d), as, absOf(B.d), bs, o));
          const y = matmul(A.t, B.t, o),
            yn = matmulNaive(A.t, B.t, o);
          const tag = `${M}x${K}x${N} ta=${+ta} tb=${+tb}`;
          assertClose(`tiled ${tag}`, await y.read(), want, { ...t, log: ta === tb });
          assertClose(`naive ${tag}`, await yn.read(), want, { ...t, log: ta === tb && M === 100 });
          disposeAll(A.t, B.t, y, yn);
        }
  });

  test('exact on integer data: every edge tile, all transposes, tiled and naive', async () => {
    // Integers in [-4, 4]: every partial sum is an integer far below 2^24, so any summation order
    // is exact; a missed, doubled or misplaced term in an edge tile shows as a nonzero error.
    const ints = (n: number, seed: number) => randomArray(n, seed, -4, 5).map(Math.floor);
    let seed = 200;
    for (const [M, K, N] of [
      [1, 1, 1],
      [3, 5, 7],
      [17, 33, 65],
      [65, 17, 33],
      [100, 37, 129],
      [64, 64, 64],
    ])
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const { as, bs } = shapes(M, K, N, ta, tb);
          const a = ints(M * K, seed++),
            b = ints(K * N, seed++);
          const A = tensor(a, as.slice(1)),
            B = tensor(b, bs.slice(1));
          const o = { transA: ta, transB: tb };
          const want = ref.matmul(a, as, b, bs, o);
          const y = matmul(A, B, o),
            yn = matmulNaive(A, B, o);
          const tag = `${M}x${K}x${N} ta=${+ta} tb=${+tb}`;
          assertClose(`tiled ${tag} (integers)`, await y.read(), want, { atol: 0, rtol: 0, log: false });
          assertClose(`naive ${tag} (integers)`, await yn.read(), want, { atol: 0, rtol: 0, log: false });
          disposeAll(A, B, y, yn);
        }
  });

  test('tile configurations (override constants) give the same products', async () => {
    const [M, K, N] = [70, 45, 77];
    const A = rand([M, K], 40),
      B = rand([N, K], 41);
    const want = ref.matmul(A.d, [1, M, K], B.d, [1, N, K], { transB: true });
    const t = tol(K, ref.matmul(absOf(A.d), [1, M, K], absOf(B.d), [1, N, K], { transB: true }));
    // (each configuration is a pipeline compile, ~0.5-1 s on SwiftShader: three of them)
    for (const tiles of [
      { wgX: 8, wgY: 8, bk: 16 },
      { wgX: 4, wgY: 2, bk: 8 },
      { wgX: 2, wgY: 8, bk: 32 },
    ]) {
      const y = matmul(A.t, B.t, { transB: true, tiles });
      assertClose(`tiles ${tiles.wgX}x${tiles.wgY} bk=${tiles.bk}`, await y.read(), want, t);
      y.dispose();
    }
    disposeAll(A.t, B.t);
  });

  test('fused bias + ReLU epilogue; bmm with batch 1, batch 3 and a broadcast operand', async () => {
    const [M, K, N] = [19, 23, 13];
    const bias = rand([N], 50);
    let seed = 51;
    for (const [ba, bb] of [
      [1, 1],
      [3, 3],
      [1, 3],
      [3, 1],
    ])
      for (const ta of [false, true]) {
        const tb = !ta;
        const { as, bs } = shapes(M, K, N, ta, tb, ba, bb);
        const A = rand(as, seed++),
          B = rand(bs, seed++);
        const o = { transA: ta, transB: tb, relu: true };
        const want = ref.matmul(A.d, as, B.d, bs, { ...o, bias: bias.d });
        const t = tol(K + 1, ref.matmul(absOf(A.d), as, absOf(B.d), bs, { ...o, bias: absOf(bias.d) }));
        const y = bmm(A.t, B.t, { ...o, bias: bias.t });
        assertClose(`bmm ${ba}x${bb} ta=${+ta} tb=${+tb} bias relu`, await y.read(), want, t);
        disposeAll(A.t, B.t, y);
      }
    const A = rand([M, K], 60),
      B = rand([K, N], 61);
    const y = matmul(A.t, B.t, { bias: bias.t, relu: true });
    assertClose(
      'matmul bias relu',
      await y.read(),
      ref.matmul(A.d, [1, M, K], B.d, [1, K, N], { bias: bias.d, relu: true }),
      tol(K + 1, ref.matmul(absOf(A.d), [1, M, K], absOf(B.d), [1, K, N], { bias: absOf(bias.d) })),
    );
    disposeAll(A.t, B.t, y, bias.t);
  });

  test('backward rule on the GPU = reference backward (transposes, bias, ReLU, bmm broadcast)', async () => {
    const [M, K, N] = [17, 9, 33];
    let seed = 70;
    for (const [ba, bb] of [
      [1, 1],
      [2, 2],
      [2, 1],
    ])
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const { as, bs } = shapes(M, K, N, ta, tb, ba, bb);
          const rank3 = ba !== 1 || bb !== 1;
          const A = rand(rank3 ? as : as.slice(1), seed++),
            B = rand(rank3 ? bs : bs.slice(1), seed++);
          const bias = rand([N], seed++),
            batch = Math.max(ba, bb);
          const relu = ta !== tb;
          const gy = rand(rank3 ? [batch, M, N] : [M, N], seed++);
          const o = { transA: ta, transB: tb, relu };
          const { y, grads } = viaTape(
            () => (rank3 ? bmm : matmul)(A.t, B.t, { ...o, bias: bias.t }),
            [A.t, B.t, bias.t],
            gy.t,
          );
          const r = ref.matmulBackward(gy.d, A.d, as, B.d, bs, { ...o, bias: bias.d });
          const ra = ref.matmulBackward(absOf(gy.d), absOf(A.d), as, absOf(B.d), bs, o);
          const tag = `batch ${ba}x${bb} ta=${+ta} tb=${+tb} relu=${+relu}`;
          const log = ba === 2 && bb === 1;
          assertClose(`da ${tag}`, await grads[0]!.read(), r.da, { ...tol(N, ra.da), log });
          assertClose(`db ${tag}`, await grads[1]!.read(), r.db, { ...tol(M * batch, ra.db), log });
          assertClose(`dbias ${tag}`, await grads[2]!.read(), r.dbias, { ...tol(M * batch, ra.dbias), log });
          disposeAll(A.t, B.t, bias.t, gy.t, y, grads);
        }
  });

  test('bmm: an empty batch against a broadcast batch of 1 is empty (numpy), and the broadcast operand gets a zero gradient', async () => {
    // Found by the kernel fuzzer (test/kernel-fuzz/matmul.ts): the batch was max(0, 1) = 1, so
    // bmm([0,2,3], [1,3,4]) returned a [1,2,4] tensor computed from the empty operand's buffer
    // (stale data) and the backward rule returned gradients of the wrong shape.
    for (const [ba, bb] of [
      [0, 1],
      [1, 0],
      [0, 0],
    ]) {
      const A = rand([ba, 2, 3], 90),
        B = rand([bb, 3, 4], 91),
        bias = rand([4], 92);
      const y = bmm(A.t, B.t, { bias: bias.t, relu: true });
      assertEqual(y.shape, [0, 2, 4], `bmm [${ba},2,3] x [${bb},3,4]: result shape`);
      const { value, grads } = valueAndGrad(() => bmm(A.t, B.t, { bias: bias.t, relu: true }), [A.t, B.t, bias.t]);
      assertEqual(
        grads.map((g) => g.shape),
        [[ba, 2, 3], [bb, 3, 4], [4]],
        `[${ba},2,3] x [${bb},3,4]: gradient shapes`,
      );
      // a sum over no batch: the broadcast operand's and the bias's gradients are exactly 0
      for (const [i, g] of grads.entries())
        assertEqual(
          Array.from(await g.read()).filter((v) => v !== 0),
          [],
          `[${ba},2,3] x [${bb},3,4]: gradient ${i} is 0`,
        );
      assertEqual(value.shape, [0, 2, 4], 'valueAndGrad value (the empty result)');
      disposeAll(A.t, B.t, bias.t, y, value, grads);
    }
  });

  test('bad arguments name the op, the argument and the shapes', async () => {
    const a = tensor(new Float32Array(6), [2, 3]),
      b = tensor(new Float32Array(8), [4, 2]),
      c = tensor(new Float32Array(3), [3]);
    await assertThrows(() => matmul(a, b), /matmul: inner dimensions differ: op\(a\) is \[2,3\].*op\(b\) is \[4,2\]/);
    await assertThrows(
      () => matmul(a, a, { transB: true, bias: c }),
      /matmul: 'bias' must have shape \[2\], got \[3\]/,
    );
    await assertThrows(() => matmul(c, a), /matmul: argument 'a' must have rank 2, got shape \[3\]/);
    await assertThrows(() => bmm(a, b), /bmm: argument 'a' must have rank 3/);
    const u = tensor([1, 2, 3, 4, 5, 6], [2, 3], 'u32');
    await assertThrows(() => matmul(u, a, { transB: true }), /matmul: argument 'a' must be f32, got u32/);
    const x = tensor(new Float32Array(24), [2, 3, 4]),
      z = tensor(new Float32Array(36), [3, 4, 3]);
    await assertThrows(() => bmm(x, z), /bmm: batch sizes of 'a' \[2,3,4\] and 'b' \[3,4,3\] differ/);
    await assertThrows(() => matmul(a, a, { transB: true, tiles: { wgX: 16, wgY: 32, bk: 16 } }), /matmul: bad tiles/);
    disposeAll(a, b, c, u, x, z);
  });
});
