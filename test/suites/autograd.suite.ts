// Autograd: gradients of composite graphs vs float64 finite differences, accumulation for
// tensors used several times, replace/accumulate semantics of p.grad, and that every
// intermediate is freed and nothing is read back.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, randomArray } from '../harness/assert.js';
import { numericGrad } from '../harness/fd.js';
import { engine } from '../../src/runtime/engine.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { add, full, mul, scale } from '../../src/ops/elementwise.js';
import { matmul } from '../../src/ops/matmul/index.js';
import { leakyRelu, sigmoid, tanh } from '../../src/ops/activations.js';
import { mean } from '../../src/ops/reduce.js';
import { softmaxCrossEntropy, ref as lossRef } from '../../src/ops/loss/index.js';
import { valueAndGrad, computeGradients } from '../../src/autograd/grad.js';
import { batchNorm, ref as bnRef } from '../../src/nn/batchnorm.js';
import { dropout, ref as dropRef } from '../../src/nn/dropout.js';

const C = 3,
  M = 17; // 17 rows: not a multiple of anything
const EPS = 1e-3;

/** Float64 model of the composite graph below (mask fixed). */
function refGraph(
  x: Float64Array,
  g1: ArrayLike<number>,
  b1: ArrayLike<number>,
  g2: ArrayLike<number>,
  b2: ArrayLike<number>,
  mask: ArrayLike<number>,
): number {
  const h1 = bnRef.batchNorm(x, C, g1, b1, EPS).y;
  const h = Float64Array.from(h1, (v, i) => v + 0.5 * x[i]); // x is used twice
  const y = bnRef.batchNorm(h, C, g2, b2, EPS).y;
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] * mask[i]; // sum(dropout(y)): a random weighting
  return s;
}

suite('autograd', (test) => {
  test('composite graph (batchNorm, add, scale, dropout; x used twice) matches float64 finite differences', async () => {
    const xs = randomArray(M * C, 1, -2, 2);
    const g1 = randomArray(C, 2, 0.5, 1.5),
      b1 = randomArray(C, 3),
      g2 = randomArray(C, 4, 0.5, 1.5),
      b2 = randomArray(C, 5);
    const seed = 1234,
      rate = 0.4;
    const mask = dropRef.mask(seed, 0, M * C, rate);
    const x = tensor(xs, [M, C]);
    const ps = [g1, b1, g2, b2].map((a) => tensor(a));
    const rm = [full([C], 0), full([C], 1), full([C], 0), full([C], 1)];
    const state = tensor([seed, 0], [2], 'u32');
    const { value, grads } = valueAndGrad(() => {
      const h = add(batchNorm(x, ps[0], ps[1], rm[0], rm[1], { training: true, eps: EPS }), scale(x, 0.5));
      return dropout(batchNorm(h, ps[2], ps[3], rm[2], rm[3], { training: true, eps: EPS }), rate, state);
    }, [x, ...ps]);
    // value is y (non-scalar): its gradient seed is ones, i.e. d sum(y).
    const want = Float64Array.from(xs);
    const f = (xx: Float64Array) => refGraph(xx, g1, b1, g2, b2, mask);
    const args = [xs, g1, b1, g2, b2];
    const names = ['x', 'gamma1', 'beta1', 'gamma2', 'beta2'];
    for (let k = 0; k < args.length; k++) {
      const fd = numericGrad((v) => {
        const a = args.map((t, j) => (j === k ? v : Float64Array.from(t)));
        return refGraph(a[0], a[1], a[2], a[3], a[4], mask);
      }, args[k]);
      // f32 forward + backward through two normalisations of 17 rows: ~1e-5 relative per
      // reduction; FD in float64 with h=1e-6 is accurate to ~1e-8. atol covers near-zero grads.
      assertClose(`d/d${names[k]}`, await grads[k].read(), fd, { atol: 2e-4, rtol: 2e-3 });
    }
    let s = 0;
    const yv = await value.read();
    for (const v of yv) s += v;
    assertClose('sum(y)', [s], [f(want)], { atol: 1e-3, rtol: 1e-4 });
    for (const t of [x, ...ps, ...rm, state, value, ...grads]) t.dispose();
  });

  test('composite graph (matmul, broadcast add, leakyRelu, sigmoid, tanh, mul, mean, softmax CE) matches float64 finite differences', async () => {
    const N = 3,
      D = 4,
      K = 5;
    const xs = randomArray(N * D, 21, -2, 2),
      ws = randomArray(D * K, 22),
      bs = randomArray(K, 23),
      labels = [4, 0, 2];
    // float64 model of the graph below
    const f = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) => {
      const lx = Array.from(x, (v) => (v > 0 ? v : 0.1 * v));
      const logits = new Float64Array(N * K);
      for (let n = 0; n < N; n++)
        for (let k = 0; k < K; k++) {
          let s = b[k];
          for (let d = 0; d < D; d++) s += lx[n * D + d] * w[d * K + k];
          logits[n * K + k] = s;
        }
      const z = logits.map((v) => (1 / (1 + Math.exp(-v))) * Math.tanh(v)); // logits used twice
      return lossRef.softmaxCrossEntropy(z, labels, K) + z.reduce((a, v) => a + v * v, 0) / z.length;
    };
    const x = tensor(xs, [N, D]),
      w = tensor(ws, [D, K]),
      b = tensor(bs, [K]),
      lab = tensor(labels, [N], 'u32');
    const { value, grads } = valueAndGrad(() => {
      const logits = add(matmul(leakyRelu(x, 0.1), w), b);
      const z = mul(sigmoid(logits), tanh(logits));
      return add(softmaxCrossEntropy(z, lab), mean(mul(z, z)));
    }, [x, w, b]);
    assertClose('value', await value.read(), [f(xs, ws, bs)], { atol: 1e-6, rtol: 1e-5 });
    const args = [xs, ws, bs];
    const names = ['x', 'w', 'b'];
    for (let i = 0; i < 3; i++) {
      const fd = numericGrad((v) => f(i === 0 ? v : xs, i === 1 ? v : ws, i === 2 ? v : bs), args[i]);
      // f32 through ~10 ops on O(1) values with sums of <= 5 terms: ~1e-6 relative; FD in
      // float64 (h = 1e-6) is good to ~1e-9, except at leakyRelu's kink (no input is near 0).
      assertClose(`d/d${names[i]}`, await grads[i].read(), fd, { atol: 1e-5, rtol: 1e-4 });
    }
    for (const t of [x, w, b, lab, value, ...grads]) t.dispose();
  });

  test('gradients add for a tensor used several times, including twice by one op', async () => {
    const a = tensor([1, 2, 3]);
    const { value, grads } = valueAndGrad(() => add(add(a, a), scale(a, 3)), [a]); // y = 5a
    assertClose('d sum(5a)/da', await grads[0].read(), [5, 5, 5], { atol: 0, rtol: 0 });
    assertClose('value', await value.read(), [5, 10, 15], { atol: 0, rtol: 0 });
    value.dispose();
    grads[0].dispose();
    a.dispose();
  });

  test('a parameter the value does not depend on gets a zero gradient', async () => {
    const a = tensor([1, 2]),
      b = tensor([7, 8, 9]);
    const { value, grads } = valueAndGrad(() => scale(a, 2), [a, b]);
    assertClose('da', await grads[0].read(), [2, 2], { atol: 0, rtol: 0 });
    assertClose('db', await grads[1].read(), [0, 0, 0], { atol: 0, rtol: 0 });
    for (const t of [a, b, value, ...grads]) t.dispose();
  });

  test('every intermediate is disposed and nothing is read back', async () => {
    const e = engine();
    const x = tensor(randomArray(4 * 5, 9), [4, 5]);
    const g = full([5], 1),
      b = full([5], 0),
      rm = full([5], 0),
      rv = full([5], 1);
    e.flush();
    const m0 = e.memory();
    const s0 = e.queue.counters.submits;
    const { value, grads } = valueAndGrad(() => {
      let h: Tensor = x;
      for (let i = 0; i < 3; i++) h = add(batchNorm(h, g, b, rm, rv, { training: true }), scale(h, 0.1));
      return h;
    }, [x, g, b]);
    assertEqual(e.queue.counters.submits, s0, 'no submit (no readback) during valueAndGrad');
    const m1 = e.memory();
    assertEqual(m1.liveTensors - m0.liveTensors, 4, 'only value + 3 gradients are live');
    const expectBytes = [value, ...grads].reduce((s, t) => s + t.buffer.size, 0);
    assertEqual(m1.bytesInUse - m0.bytesInUse, expectBytes, 'bytes in use grow by exactly the results');
    for (const t of [x, g, b, rm, rv, value, ...grads]) t.dispose();
    assert(!x.requiresGrad, 'requiresGrad restored on inputs');
  });

  test('computeGradients replaces p.grad by default and adds with { accumulate: true }', async () => {
    const e = engine();
    const p = tensor([1, -1]);
    const live0 = e.liveTensors;
    computeGradients(() => scale(p, 3), [p]).dispose();
    const first = p.grad!;
    assertClose('first grad', await first.read(), [3, 3], { atol: 0, rtol: 0 });
    computeGradients(() => scale(p, 2), [p]).dispose();
    assert(first.disposed, 'the replaced gradient is disposed');
    assertClose('replaced grad', await p.grad!.read(), [2, 2], { atol: 0, rtol: 0 });
    computeGradients(() => scale(p, 5), [p], { accumulate: true }).dispose();
    assertClose('accumulated grad', await p.grad!.read(), [7, 7], { atol: 0, rtol: 0 });
    assertEqual(e.liveTensors, live0 + 1, 'only p.grad is live besides p');
    p.dispose();
    assertEqual(e.liveTensors, live0 - 1, 'disposing p frees its gradient');
  });
});
