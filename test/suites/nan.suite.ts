// NaN and ±Inf through the ops, against float64 references that follow PyTorch: relu(NaN) =
// NaN, relu's backward `y <= 0 ? 0 : dy` (a NaN y passes dy), leakyRelu and its backward, the
// ReLU fused into conv2d (both kernels, forward and the masked backward) and matmul (every
// kernel kind this adapter runs), and max pooling (a window holding NaN gives NaN; its last NaN
// in scan order is the argmax), scalar and vec4 kernels, with and without indices.
// On SwiftShader WGSL's max(NaN, 0) returns 0: these cases fail if a kernel relies on max().
import { suite } from '../harness/define.js';
import { assert, AssertionError, randomArray } from '../harness/assert.js';
import { engine } from '../../src/runtime/engine.js';
import { tensor, sizeOf, type Shape, type Tensor } from '../../src/tensor/tensor.js';
import * as act from '../../src/ops/activations.js';
import {
  conv2d,
  conv2dInputGrad,
  conv2dKernelFor,
  conv2dWeightGrad,
  convGeometry,
  ref as convRef,
  type Conv2dKernelChoice,
} from '../../src/ops/conv2d/index.js';
import { matmul, ref as mmRef } from '../../src/ops/matmul/index.js';
import { kernelName, kernelProblem, QUICK, SHARED_DEFAULT, type MatmulKernel } from '../../src/ops/matmul/kernels.js';
import {
  maxPool2d,
  maxPool2dBackward,
  maxPool2dWithIndices,
  ref as poolRef,
  type Pool2dOptions,
} from '../../src/ops/pool2d/index.js';
import { chooseKernel } from '../../src/runtime/select.js';
import { POOL2D } from '../../src/ops/pool2d/choose.js';
import { poolGeometry } from '../../src/ops/pool2d/geometry.js';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { mul } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';

const SPECIALS = [Number.NaN, Infinity, -Infinity, -1.5, 0, 2.5, -0.25, 1];

/**
 * Same NaN positions, same infinities, finite values within atol + rtol·|want|. Prints how
 * many of each kind it compared, so a passing run shows that NaN and Inf were exercised.
 */
function assertSame(label: string, got: ArrayLike<number>, want: ArrayLike<number>, atol = 0, rtol = 0): void {
  if (got.length !== want.length) throw new AssertionError(`${label}: length ${got.length}, want ${want.length}`);
  let nans = 0,
    infs = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i],
      w = want[i];
    if (Number.isNaN(w)) nans++;
    else if (!Number.isFinite(w)) infs++;
    const ok = Number.isNaN(w)
      ? Number.isNaN(g)
      : Number.isFinite(w)
        ? Math.abs(g - w) <= atol + rtol * Math.abs(w)
        : g === w;
    if (!ok) throw new AssertionError(`${label}: [${i}] got ${g}, want ${w}`);
  }
  console.log(`  ${label}: ${got.length} values, ${nans} NaN and ${infs} ±Inf as expected`);
}

/** `n` random values in [-1, 1] with specials planted at `at` (cycling through SPECIALS). */
function withSpecials(n: number, seed: number, at: number[]): Float32Array {
  const x = randomArray(n, seed, -1, 1);
  at.forEach((i, k) => (x[i] = SPECIALS[k % SPECIALS.length]));
  return x;
}

const dispose = (ts: Tensor[]) => ts.forEach((t) => t.dispose());

suite('nan', (test) => {
  test('relu and leakyRelu forward keep NaN and ±Inf as PyTorch does (every vec4 lane)', async () => {
    for (const n of [1, 3, 4, 7, 8, 13]) {
      // every special in every lane position of a vec4
      const x = Float32Array.from({ length: n * SPECIALS.length }, (_, i) => SPECIALS[(i + n) % SPECIALS.length]);
      const t = tensor(x);
      const y = act.relu(t);
      assertSame(`relu n=${x.length}`, await y.read(), act.ref.relu(x));
      for (const slope of [0.1, 0, -0.5]) {
        const l = act.leakyRelu(t, slope);
        assertSame(`leakyRelu(${slope}) n=${x.length}`, await l.read(), act.ref.leakyRelu(x, slope), 0, 2.4e-7);
        l.dispose();
      }
      dispose([t, y]);
    }
    const r = act.relu(tensor([Number.NaN, -1, 2]));
    const got = await r.read();
    assert(Number.isNaN(got[0]) && got[1] === 0 && got[2] === 2, `relu([NaN,-1,2]) = [${got}], want [NaN,0,2]`);
  });

  test('relu and leakyRelu backward with NaN/±Inf inputs and gradients follow PyTorch', async () => {
    const n = SPECIALS.length * SPECIALS.length;
    // every (x, dy) pair of specials
    const x = Float32Array.from({ length: n }, (_, i) => SPECIALS[i % SPECIALS.length]);
    const dy = Float32Array.from({ length: n }, (_, i) => SPECIALS[Math.floor(i / SPECIALS.length)]);
    const xt = tensor(x),
      dyt = tensor(dy);
    const y = act.relu(xt);
    const dx = act.reluBackward(dyt, y); // the kernel takes relu's output
    assertSame('reluBackward', await dx.read(), act.ref.reluBackward(dy, x));
    // PyTorch: relu's backward passes dy where x is NaN (threshold_backward: x <= 0 ? 0 : dy)
    const pass = await act.reluBackward(tensor([5, 7]), tensor([Number.NaN, -1])).read();
    assert(pass[0] === 5 && pass[1] === 0, `reluBackward(dy=[5,7], y=[NaN,-1]) = [${pass}], want [5,0]`);
    for (const slope of [0.1, 0]) {
      const dl = act.leakyReluBackward(dyt, xt, slope);
      assertSame(`leakyReluBackward(${slope})`, await dl.read(), act.ref.leakyReluBackward(dy, x, slope), 0, 2.4e-7);
      dl.dispose();
    }
    dispose([xt, dyt, y, dx]);
  });

  test('conv2d with fused ReLU: NaN/±Inf inputs and bias vs reference, forward and masked backward, each kernel', async () => {
    const xShape: Shape = [2, 7, 6, 3],
      wShape: Shape = [3, 3, 3, 8];
    const opts = { padding: 1 as const };
    const g = convGeometry('test', xShape, wShape, opts);
    // a NaN pixel, a +Inf and a -Inf pixel (one channel each), a NaN bias entry
    const xs = withSpecials(sizeOf(xShape), 1, [5, 40, 200]);
    const xsSpecial = [5, 40, 200].map((i) => xs[i]);
    assert(Number.isNaN(xsSpecial[0]) && xsSpecial[1] === Infinity && xsSpecial[2] === -Infinity, 'planted');
    const ws = randomArray(sizeOf(wShape), 2, -1, 1);
    const bs = randomArray(8, 3, -1, 1);
    bs[6] = Number.NaN;
    const x = tensor(xs, xShape),
      w = tensor(ws, wShape),
      b = tensor(bs, [8]);
    const want = convRef.forward(xs, ws, g, bs, true);
    const dys = randomArray(want.length, 4, -1, 1);
    const dy = tensor(dys, [g.N, g.OH, g.OW, g.O]);
    const masked = convRef.reluMask(dys, want);
    const tol = 2 * 27 * 2 ** -24;
    const ran = new Set<string>();
    for (const kernel of ['tiled', 'direct'] as Conv2dKernelChoice[]) {
      const kf = conv2dKernelFor(g, 'forward', kernel).variant;
      ran.add(kf);
      const y = conv2d(x, w, { ...opts, bias: b, relu: true, kernel });
      assertSame(`conv2d+relu ${kf}`, await y.read(), want, tol, tol);
      // the backward through the fused ReLU: NaN outputs pass dy (PyTorch), as reluY masks it
      const ki = conv2dKernelFor(g, 'inputGrad', kernel).variant;
      const dx = conv2dInputGrad(dy, w, xShape, { ...opts, reluY: y, kernel });
      assertSame(`conv2dInputGrad reluY ${ki}`, await dx.read(), convRef.inputGrad(masked, ws, g), tol, tol);
      const kw = conv2dKernelFor(g, 'weightGrad', kernel).variant;
      const dw = conv2dWeightGrad(x, dy, wShape, { ...opts, reluY: y, kernel });
      assertSame(`conv2dWeightGrad reluY ${kw}`, await dw.read(), convRef.weightGrad(xs, masked, g), 1e-5, 1e-5);
      dispose([y, dx, dw]);
    }
    console.log(`  conv2d forward kernels run: ${[...ran].join(', ')}`);
    assert(ran.has('tiled'), 'the tiled kernel ran');
    dispose([x, w, b, dy]);
  });

  test('matmul with fused bias + ReLU: NaN/±Inf operands vs reference, each kernel kind', async () => {
    const [M, K, N] = [37, 19, 21];
    const as = withSpecials(M * K, 5, [0, 3 * K + 4, 20 * K + 18, M * K - 1]);
    const bs = withSpecials(K * N, 6, [7 * N + 2]);
    const bias = randomArray(N, 7, -1, 1);
    bias[11] = Number.NaN;
    const a = tensor(as, [M, K]),
      b = tensor(bs, [K, N]),
      bt = tensor(bias, [N]);
    const want = mmRef.matmul(as, [1, M, K], bs, [1, K, N], { bias, relu: true });
    const kernels: MatmulKernel[] = [
      SHARED_DEFAULT,
      { kind: 'register', wgX: 4, wgY: 4 },
      { kind: 'subgroup', wgX: 4, wgY: 4 },
      { kind: 'subgroup32', wgX: 4, wgY: 4 },
      QUICK,
    ];
    const tol = 2 * K * 2 ** -24;
    let ran = 0;
    for (const kernel of kernels) {
      if (kernelProblem(kernel, engine()) !== null) {
        console.log(`  ${kernelName(kernel)}: ${kernelProblem(kernel, engine())} (not run)`);
        continue;
      }
      const y = matmul(a, b, { bias: bt, relu: true, kernel });
      assertSame(`matmul+relu ${kernelName(kernel)}`, await y.read(), want, tol, tol);
      y.dispose();
      ran++;
    }
    assert(ran >= 2, 'at least the shared and register kernels ran');
    dispose([a, b, bt]);
  });

  test('maxPool2d: a window with NaN gives NaN, its last NaN takes the gradient, ±Inf win/lose (scalar and vec4)', async () => {
    const cases: { shape: Shape; opts: Pool2dOptions }[] = [
      { shape: [2, 6, 8, 4], opts: { kernel: 2 } }, // vec4 forward and backward
      { shape: [2, 7, 7, 3], opts: { kernel: 3, stride: 2, padding: 1 } }, // scalar, overlapping
      { shape: [1, 5, 5, 4], opts: { kernel: 2, stride: 1 } }, // scalar, C % 4 == 0
    ];
    let seed = 20;
    for (const { shape, opts } of cases) {
      const g = poolGeometry('test', shape, opts);
      const kernel = chooseKernel(POOL2D, { g, pass: 'forward' });
      const n = sizeOf(shape);
      // specials spread over the input, two NaN in one window (cells 0 and 1 of the first window
      // at c = 0: (0,0) and (0,1)) so the "last NaN" rule is exercised
      const at = [0, shape[3], 17, 29, 41, 53, 66, 77, 90, n - 1];
      const xs = withSpecials(n, seed++, at);
      xs[shape[3]] = Number.NaN;
      const x = tensor(xs, shape);
      const want = poolRef.maxPool2d(xs, shape, opts);
      const { y, argmax } = maxPool2dWithIndices(x, opts);
      assertSame(`maxPool2d ${kernel} ${JSON.stringify(opts)}`, await y.read(), want.y);
      const gotIdx = Array.from(await argmax.read());
      const bad = gotIdx.findIndex((v, i) => v !== want.argmax[i]);
      assert(bad < 0, `argmax[${bad}] = ${gotIdx[bad]}, want ${want.argmax[bad]} (${kernel})`);
      assert(want.argmax[0] === shape[3], 'the first window picks its last NaN');
      const y2 = maxPool2d(x, opts);
      assertSame(`maxPool2d (no indices) ${kernel}`, await y2.read(), want.y);
      const dys = randomArray(y.size, seed++, -1, 1);
      const dy = tensor(dys, y.shape);
      const dx = maxPool2dBackward(dy, argmax, shape, opts);
      assertSame(
        `maxPool2dBackward ${kernel}`,
        await dx.read(),
        poolRef.maxPool2dBackward(dys, want.argmax, shape),
        5e-6,
      );
      dispose([x, y, argmax, y2, dy, dx]);
    }
  });

  test('autograd through conv2d+ReLU then a 2x2 max pool (the ReLU mask folded into the pool backward)', async () => {
    const xShape: Shape = [2, 6, 6, 2],
      wShape: Shape = [3, 3, 2, 4];
    const opts = { padding: 'same' as const };
    const g = convGeometry('test', xShape, wShape, opts);
    const xs = withSpecials(sizeOf(xShape), 8, [14]); // one NaN pixel
    const ws = randomArray(sizeOf(wShape), 9, -1, 1);
    const x = tensor(xs, xShape);
    const w = tensor(ws, wShape);
    const pshape = [g.N, g.OH / 2, g.OW / 2, g.O];
    const wy = randomArray(sizeOf(pshape), 10, -1, 1);
    const wyt = tensor(wy, pshape);
    const { value, grads } = valueAndGrad(
      () => sum(mul(maxPool2d(conv2d(x, w, { ...opts, relu: true }), { kernel: 2 }), wyt)),
      [w],
    );
    // reference: y = relu(conv), pool, dpool = wy, dy = scatter, masked by PyTorch's rule, dw
    const y = convRef.forward(xs, ws, g, null, true);
    const p = poolRef.maxPool2d(y, [g.N, g.OH, g.OW, g.O], { kernel: 2 });
    const dy = poolRef.maxPool2dBackward(wy, p.argmax, [g.N, g.OH, g.OW, g.O]);
    const dw = convRef.weightGrad(xs, convRef.reluMask(dy, y), g);
    const loss = p.y.reduce((s, v, i) => s + v * wy[i], 0);
    assertSame('loss', await value.read(), [loss], 1e-5, 1e-5);
    assertSame('dw', await grads[0].read(), dw, 1e-5, 1e-5);
    assert(Number.isNaN((await value.read())[0]), 'the NaN pixel reaches the loss');
    dispose([x, w, wyt, value, ...grads]);
  });
});
