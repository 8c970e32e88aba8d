// Activations: float64 backward references checked by finite differences; GPU forward and
// backward kernels vs the references (odd sizes, large |x| for the saturating functions);
// the tape rules end to end; argument errors.
import { suite } from '../harness/define.js';
import { assertClose, assertThrows, randomArray } from '../harness/assert.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import * as act from '../../src/ops/activations.js';
import { checkFd, disposeAll, rand, viaTape } from './dense.helpers.js';

const { ref } = act;
const SLOPE = 0.07;

/** Inputs in [-range, range] kept away from the kinks at 0 (finite differences straddle them otherwise). */
function awayFromZero(n: number, seed: number, range = 2): Float32Array {
  return randomArray(n, seed, -range, range).map((v) => (Math.abs(v) < 0.05 ? v + Math.sign(v || 1) * 0.1 : v));
}

// Tolerances (GPU vs float64):
// - relu / leakyRelu / the backward kernels are one or two correctly rounded f32 operations:
//   relative error <= 2u (u = 2^-24 ~ 6e-8), so rtol 2.4e-7.
// - sigmoid and tanh use exp, whose WGSL accuracy is 3 + 2|x| ULP: for |x| <= 10 (tanh clamps
//   there, and sigmoid's exp(-|x|) saturates its result to 0/1 in the same range to within
//   ~5e-5, covered by atol) that is <= 23 ULP ~ 1.4e-6 relative, so atol 5e-6 (tanh is
//   computed from e^x and e^-x) and rtol 1e-5 for sigmoid.
const EXACTISH = { atol: 1e-30, rtol: 2.4e-7 };

suite('activations', (test) => {
  test('reference backward = finite differences', () => {
    const x = awayFromZero(12, 1);
    const n = x.length;
    const id = (w: Float64Array) => w;
    checkFd(
      'relu',
      (v) => ref.relu(v),
      x,
      (w) => ref.reluBackward(id(w), x),
      n,
    );
    checkFd(
      'leakyRelu',
      (v) => ref.leakyRelu(v, SLOPE),
      x,
      (w) => ref.leakyReluBackward(w, x, SLOPE),
      n,
    );
    checkFd(
      'sigmoid',
      (v) => ref.sigmoid(v),
      x,
      (w) => ref.sigmoidBackward(w, x),
      n,
    );
    checkFd(
      'tanh',
      (v) => ref.tanh(v),
      x,
      (w) => ref.tanhBackward(w, x),
      n,
    );
  });

  test('forward kernels = reference (n = 1, 3, 1000; |x| up to 30)', async () => {
    for (const [n, range] of [
      [1, 1],
      [3, 3],
      [1000, 30],
    ] as const) {
      const x = randomArray(n, 10 + n, -range, range);
      const t = tensor(x);
      const outs: [string, Tensor, ArrayLike<number>, { atol: number; rtol: number }][] = [
        ['relu', act.relu(t), ref.relu(x), EXACTISH],
        ['leakyRelu', act.leakyRelu(t, SLOPE), ref.leakyRelu(x, SLOPE), EXACTISH],
        ['sigmoid', act.sigmoid(t), ref.sigmoid(x), { atol: 1e-7, rtol: 1e-5 }],
        ['tanh', act.tanh(t), ref.tanh(x), { atol: 5e-6, rtol: 0 }],
      ];
      for (const [name, y, want, tol] of outs) {
        const got = await y.read();
        assertClose(`${name} n=${n}`, got, want, tol);
        if (!got.every(Number.isFinite)) throw new Error(`${name}: non-finite output for |x| <= ${range}`);
      }
      disposeAll(
        t,
        outs.map((o) => o[1]),
      );
    }
    // Saturation: huge inputs must give exact limits, never NaN.
    const big = tensor([-1e30, -100, 100, 1e30]);
    const s = act.sigmoid(big),
      th = act.tanh(big);
    assertClose('sigmoid saturates', await s.read(), [0, 0, 1, 1], { atol: 1e-30, rtol: 0 });
    assertClose('tanh saturates', await th.read(), [-1, -1, 1, 1], { atol: 1e-30, rtol: 0 });
    disposeAll(big, s, th);
  });

  test('backward kernels = reference formulas (given the saved tensor)', async () => {
    const n = 1000;
    const x = rand([n], 20, -3, 3),
      dy = rand([n], 21);
    const y = act.sigmoid(x.t),
      yt = act.tanh(x.t),
      yr = act.relu(x.t);
    const ys = await y.read(),
      yts = await yt.read(),
      yrs = await yr.read();
    const gs = act.sigmoidBackward(dy.t, y),
      gt = act.tanhBackward(dy.t, yt),
      gr = act.reluBackward(dy.t, yr);
    const gl = act.leakyReluBackward(dy.t, x.t, SLOPE);
    const f = (g: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => g(i));
    assertClose(
      'sigmoidBackward',
      await gs.read(),
      f((i) => dy.d[i] * ys[i] * (1 - ys[i])),
      { atol: 1e-30, rtol: 4e-7 },
    );
    assertClose(
      'tanhBackward',
      await gt.read(),
      f((i) => dy.d[i] * (1 - yts[i] * yts[i])),
      { atol: 1e-7, rtol: 4e-7 },
    );
    assertClose(
      'reluBackward',
      await gr.read(),
      f((i) => (yrs[i] > 0 ? dy.d[i] : 0)),
      { atol: 0, rtol: 0 },
    );
    assertClose('leakyReluBackward', await gl.read(), ref.leakyReluBackward(dy.d, x.d, SLOPE), EXACTISH);
    disposeAll(x.t, dy.t, y, yt, yr, gs, gt, gr, gl);
  });

  test('tape rules give d/dx (relu, leakyRelu, sigmoid, tanh)', async () => {
    const x = rand([3, 17], 30, -4, 4),
      gy = rand([3, 17], 31);
    const cases: [string, (t: Tensor) => Tensor, Float64Array, { atol: number; rtol: number }][] = [
      ['relu', act.relu, ref.reluBackward(gy.d, x.d), EXACTISH],
      ['leakyRelu', (t) => act.leakyRelu(t, SLOPE), ref.leakyReluBackward(gy.d, x.d, SLOPE), EXACTISH],
      // the saved y carries the forward error (~1e-6 relative), amplified by at most |1 - 2y| <= 1
      ['sigmoid', act.sigmoid, ref.sigmoidBackward(gy.d, x.d), { atol: 2e-6, rtol: 1e-5 }],
      ['tanh', act.tanh, ref.tanhBackward(gy.d, x.d), { atol: 1e-5, rtol: 0 }],
    ];
    for (const [name, f, want, tol] of cases) {
      const { y, grads } = viaTape(() => f(x.t), [x.t], gy.t);
      assertClose(`${name} backward via tape`, await grads[0]!.read(), want, tol);
      disposeAll(y, grads);
    }
    disposeAll(x.t, gy.t);
  });

  test('bad arguments name the op and the argument', async () => {
    const a = tensor([1, 2, 3]),
      b = tensor([1, 2]),
      u = tensor([1, 2, 3], [3], 'u32');
    await assertThrows(() => act.reluBackward(a, b), /reluBackward: 'dy' \[3\] and 'y' \[2\] must have the same shape/);
    await assertThrows(() => act.relu(u), /relu: argument 'x' must be f32, got u32/);
    await assertThrows(() => act.leakyRelu(a, NaN), /leakyRelu: 'slope' must be a finite number/);
    disposeAll(a, b, u);
  });
});
