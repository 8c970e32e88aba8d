// Classification head: softmax cross-entropy (fused loss + dlogits), softmax, argmax, accuracy.
// Float64 backward references checked by finite differences; GPU vs reference on odd batch
// and class counts, huge logits (stability), the tape rule with an upstream gradient != 1
// (scaled on the GPU), ties in argmax, label validation.
//
// Tolerances: WGSL's exp is accurate to 3 + 2|x| ULP and log to ~3 ULP (|x - m| <= 6 here for
// random logits in [-3, 3]: <= 15 ULP ~ 1e-6 relative), so probabilities and dlogits are within
// ~1e-6 relative (atol 1e-7 for tiny ones); the per-row loss adds log's error and one rounding of
// m + log(s), and the mean over N rows sums N such errors / N: atol 2e-6 + 4u|m|.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { tensor } from '../../src/tensor/tensor.js';
import { accuracy, argmax, ref, softmax, softmaxBackward, softmaxCrossEntropy } from '../../src/ops/loss/index.js';
import { U32, checkFd, disposeAll, rand, viaTape } from './dense.helpers.js';

function labelsFor(n: number, k: number, seed: number): Uint32Array {
  return Uint32Array.from(randomArray(n, seed, 0, k), Math.floor);
}

suite('loss', (test) => {
  test('reference backward = finite differences (softmax cross-entropy, softmax)', () => {
    const [N, K] = [3, 5];
    const x = randomArray(N * K, 1, -3, 3),
      labels = labelsFor(N, K, 2);
    checkFd(
      'softmaxCrossEntropy',
      (v) => [ref.softmaxCrossEntropy(v, labels, K)],
      x,
      (w) => ref.softmaxCrossEntropyBackward(x, labels, K).map((g) => g * w[0]),
      1,
    );
    checkFd(
      'softmax',
      (v) => ref.softmax(v, K),
      x,
      (w) => ref.softmaxBackward(w, x, K),
      N * K,
    );
  });

  test('loss and dlogits = reference, both kernels (N = 1, 3, 65; K = 1, 10, 33, 100, 1000; upstream gradient 2.5)', async () => {
    let seed = 10;
    for (const kernel of ['auto', 'row', 'block'] as const)
      for (const [N, K] of [
        [1, 10],
        [3, 1],
        [3, 33],
        [65, 10],
        [17, 100],
        [5, 1000],
      ]) {
        const x = rand([N, K], seed++, -3, 3),
          lab = labelsFor(N, K, seed++);
        const labels = tensor(lab, [N], 'u32'),
          gy = tensor([2.5]);
        const { y, grads } = viaTape(() => softmaxCrossEntropy(x.t, labels, { kernel }), [x.t], gy);
        assertEqual(y.shape, [1], 'loss shape');
        // the row sums of up to K exps add K roundings to log(s): 4u·log terms, K·u relative
        assertClose(`loss ${kernel} N=${N} K=${K}`, await y.read(), [ref.softmaxCrossEntropy(x.d, lab, K)], {
          atol: 2e-6 + 4 * U32 * 3 + K * U32,
          rtol: 0,
        });
        const want = ref.softmaxCrossEntropyBackward(x.d, lab, K).map((g) => 2.5 * g);
        assertClose(`dlogits * 2.5 ${kernel} N=${N} K=${K}`, await grads[0]!.read(), want, {
          atol: 1e-7,
          rtol: 2e-6 + K * U32,
        });
        disposeAll(x.t, labels, gy, y, grads);
      }
    await assertThrows(
      () =>
        softmaxCrossEntropy(tensor([1, 2], [1, 2]), tensor(new Uint32Array([0]), [1], 'u32'), {
          kernel: 'fast' as never,
        }),
      /softmaxCrossEntropy: 'kernel' must be 'auto' or a softmax kernel \('auto', 'row' or 'block'\), got "fast"/,
    );
  });

  test('numerically stable for huge logits (rows offset by +-1000, spread 80)', async () => {
    const [N, K] = [4, 7];
    const base = randomArray(N * K, 20, -40, 40);
    const x = Float32Array.from(base, (v, i) => v + (Math.floor(i / K) % 2 ? 1000 : -1000));
    const lab = labelsFor(N, K, 21);
    const t = tensor(x, [N, K]),
      labels = tensor(lab, [N], 'u32');
    const loss = softmaxCrossEntropy(t, labels),
      p = softmax(t);
    const l = await loss.read(),
      probs = await p.read();
    assert(Number.isFinite(l[0]) && probs.every(Number.isFinite), `finite results (loss ${l[0]})`);
    // m + log(s) is rounded at magnitude ~1000: 4u * 1040 absolute; exp of x - m >= -80: 163 ULP
    assertClose('loss with offsets', l, [ref.softmaxCrossEntropy(x, lab, K)], { atol: 4 * U32 * 1040 + 2e-6, rtol: 0 });
    assertClose('softmax with offsets', probs, ref.softmax(x, K), { atol: 1e-7, rtol: 1e-5 });
    disposeAll(t, labels, loss, p);
  });

  test('softmax forward and backward (tape rule and kernel) = reference, both kernels', async () => {
    for (const kernel of ['auto', 'row', 'block'] as const)
      for (const [N, K] of [
        [1, 1],
        [5, 10],
        [3, 129],
      ]) {
        const x = rand([N, K], N * K, -3, 3),
          gy = rand([N, K], N * K + 1);
        const { y, grads } = viaTape(() => softmax(x.t, { kernel }), [x.t], gy.t);
        // the row sum of K exps: K roundings
        assertClose(`softmax ${kernel} N=${N} K=${K}`, await y.read(), ref.softmax(x.d, K), {
          atol: 1e-7,
          rtol: 2e-6 + K * U32,
        });
        // y carries ~1e-6 relative error; dx = y (dy - <dy, y>) with |dy| <= 1 sums K terms
        assertClose(
          `softmax backward ${kernel} N=${N} K=${K}`,
          await grads[0]!.read(),
          ref.softmaxBackward(gy.d, x.d, K),
          { atol: 4e-6 + K * U32, rtol: 0 },
        );
        const direct = softmaxBackward(gy.t, y, { kernel });
        assertClose(`softmaxBackward kernel ${kernel} N=${N} K=${K}`, await direct.read(), await grads[0]!.read(), {
          atol: 0,
          rtol: 0,
          log: false,
        });
        disposeAll(x.t, gy.t, y, grads, direct);
      }
    await assertThrows(
      () => softmax(tensor([1, 2], [1, 2]), { kernel: 'fast' as never }),
      /softmax: 'kernel' must be 'auto' or a softmax kernel \('auto', 'row' or 'block'\), got "fast"/,
    );
  });

  test('argmax (first index on ties) and accuracy on the GPU', async () => {
    const x = tensor([1, 3, 3, 0, /**/ -5, -2, -9, -2, /**/ 7, 7, 7, 7, /**/ 0, 0, 0, 1], [4, 4]);
    const idx = argmax(x);
    assertEqual(idx.dtype, 'u32', 'argmax dtype');
    assertEqual(Array.from(await idx.read()), [1, 1, 0, 3], 'argmax with ties');
    const labels = tensor([1, 2, 0, 3], [4], 'u32');
    const acc = accuracy(x, labels);
    assertClose('accuracy 3/4', await acc.read(), [0.75], { atol: 0, rtol: 0 });
    const [N, K] = [1000, 10];
    const r = rand([N, K], 30),
      lab = labelsFor(N, K, 31);
    const rl = tensor(lab, [N], 'u32');
    const ri = argmax(r.t),
      ra = accuracy(r.t, rl);
    assertEqual(Array.from(await ri.read()), Array.from(ref.argmax(r.d, K)), 'argmax N=1000');
    // an exact count of hits scaled by 1/1000: two roundings
    assertClose('accuracy N=1000', await ra.read(), [ref.accuracy(r.d, lab, K)], { atol: 0, rtol: 1.2e-7 });
    const one = tensor([0.5], [1, 1]),
      l0 = tensor([0], [1], 'u32');
    const i1 = argmax(one),
      a1 = accuracy(one, l0);
    assertEqual(Array.from(await i1.read()), [0], 'argmax K=1');
    assertClose('accuracy N=1', await a1.read(), [1], { atol: 0, rtol: 0 });
    disposeAll(x, idx, labels, acc, r.t, rl, ri, ra, one, l0, i1, a1);
  });

  test('labels are validated (dtype, shape); an out-of-range label gives NaN, not garbage', async () => {
    const x = tensor(new Float32Array(6), [2, 3]);
    const li = tensor([0, 1], [2], 'i32'),
      l3 = tensor([0, 1, 2], [3], 'u32'),
      bad = tensor([0, 7], [2], 'u32');
    await assertThrows(() => softmaxCrossEntropy(x, li), /softmaxCrossEntropy: argument 'labels' must be u32, got i32/);
    await assertThrows(
      () => softmaxCrossEntropy(x, l3),
      /softmaxCrossEntropy: 'labels' must have shape \[2\] \(one per row of logits\), got \[3\]/,
    );
    await assertThrows(() => accuracy(x, l3), /accuracy: 'labels' must have shape \[2\]/);
    const flat = tensor(new Float32Array(6));
    await assertThrows(
      () => softmaxCrossEntropy(flat, l3),
      /softmaxCrossEntropy: argument 'logits' must have rank 2, got shape \[6\]/,
    );
    const l = softmaxCrossEntropy(x, bad);
    assert(Number.isNaN((await l.read())[0]), 'label 7 >= K = 3 makes the loss NaN');
    disposeAll(x, li, l3, bad, flat, l);
  });
});
