// Optimizer classes (src/optim): SGD / Adam / AdamW over several steps with learning-rate
// schedules, weight decay and global-norm clipping vs an independent float64 reference that
// tracks t, the schedule and the bias corrections itself; schedules' values.
import { suite } from '../harness/define.js';
import { assertClose, assertThrows, randomArray } from '../harness/assert.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { SGD, Adam, AdamW, type Optimizer } from '../../src/optim/optimizers.js';
import { constantLr, cosineLr, stepLr, type Schedule } from '../../src/optim/schedule.js';

const SHAPES = [[3], [17, 5], [2, 3, 3, 4]];
const STEPS = 6;

type RefState = { p: Float64Array[]; a: Float64Array[]; b: Float64Array[] };
type RefKind =
  | { kind: 'sgd'; momentum: number; nesterov: boolean; wd: number }
  | { kind: 'adam' | 'adamw'; b1: number; b2: number; eps: number; wd: number };

/** Float64 reference of `STEPS` updates; grads[t][i] is parameter i's gradient at update t+1. */
function reference(
  p0: Float32Array[],
  grads: Float32Array[][],
  lr: Schedule,
  k: RefKind,
  clipNorm?: number,
): Float64Array[][] {
  const s: RefState = {
    p: p0.map((x) => Float64Array.from(x)),
    a: p0.map((x) => new Float64Array(x.length)),
    b: p0.map((x) => new Float64Array(x.length)),
  };
  const history: Float64Array[][] = [];
  for (let t = 1; t <= grads.length; t++) {
    let gs = grads[t - 1].map((g) => Float64Array.from(g));
    if (clipNorm !== undefined) {
      const norm = Math.sqrt(gs.reduce((acc, g) => acc + g.reduce((q, x) => q + x * x, 0), 0));
      const f = Math.min(1, clipNorm / norm);
      gs = gs.map((g) => g.map((x) => x * f));
    }
    const eta = lr(t);
    s.p.forEach((p, i) => {
      for (let j = 0; j < p.length; j++) {
        let g = gs[i][j];
        if (k.kind === 'sgd') {
          g += k.wd * p[j];
          s.a[i][j] = k.momentum * s.a[i][j] + g;
          p[j] -= eta * (k.nesterov ? g + k.momentum * s.a[i][j] : k.momentum ? s.a[i][j] : g);
        } else {
          if (k.kind === 'adamw') p[j] *= 1 - eta * k.wd;
          else g += k.wd * p[j];
          s.a[i][j] = k.b1 * s.a[i][j] + (1 - k.b1) * g;
          s.b[i][j] = k.b2 * s.b[i][j] + (1 - k.b2) * g * g;
          const mhat = s.a[i][j] / (1 - k.b1 ** t),
            vhat = s.b[i][j] / (1 - k.b2 ** t);
          p[j] -= (eta * mhat) / (Math.sqrt(vhat) + k.eps);
        }
      }
    });
    history.push(s.p.map((p) => Float64Array.from(p)));
  }
  return history;
}

async function run(name: string, make: (ps: Tensor[]) => Optimizer, lr: Schedule, k: RefKind, clipNorm?: number) {
  const p0 = SHAPES.map((sh, i) =>
    randomArray(
      sh.reduce((a, b) => a * b, 1),
      10 + i,
    ),
  );
  const grads = Array.from({ length: STEPS }, (_, t) =>
    SHAPES.map((sh, i) =>
      randomArray(
        sh.reduce((a, b) => a * b, 1),
        100 * t + i,
        -3,
        3,
      ),
    ),
  );
  const want = reference(p0, grads, lr, k, clipNorm);
  const ps = p0.map((d, i) => tensor(d, SHAPES[i]));
  const opt = make(ps);
  const gts = ps.map((p) => tensor(new Float32Array(p.size), p.shape));
  for (let t = 0; t < STEPS; t++) {
    gts.forEach((g, i) => g.write(grads[t][i]));
    opt.step(gts);
    // A few f32 roundings per element per step on O(1) values, compounding over <= 6 steps
    // (Adam's division by sqrt(v)+eps amplifies relative error of tiny v): ~1e-6 · 6.
    for (let i = 0; i < ps.length; i++)
      assertClose(`${name} step ${t + 1} param ${i}`, await ps[i].read(), want[t][i], {
        atol: 1e-5,
        rtol: 1e-5,
        log: t === STEPS - 1 && i === 1,
      });
  }
  opt.dispose();
  for (const t of [...ps, ...gts]) t.dispose();
}

suite('optim-api', (test) => {
  test('schedules: constant, step decay, cosine with and without warmup', () => {
    assertClose('constant', [1, 2, 50].map(constantLr(0.1)), [0.1, 0.1, 0.1], { atol: 0, rtol: 0 });
    assertClose('step', [1, 3, 4, 6, 7].map(stepLr(1, { stepSize: 3, gamma: 0.5 })), [1, 1, 0.5, 0.5, 0.25], {
      atol: 0,
      rtol: 0,
    });
    const c = cosineLr(1, { totalSteps: 5, minLr: 0.1 });
    // t=1 -> lr, t=5 -> minLr, midpoint t=3 -> (lr+minLr)/2
    assertClose('cosine', [1, 3, 5, 9].map(c), [1, 0.55, 0.1, 0.1], { atol: 1e-12, rtol: 0 });
    const w = cosineLr(1, { totalSteps: 6, warmupSteps: 2 });
    assertClose('warmup then cosine', [1, 2, 4, 6].map(w), [0.5, 1, 0.5, 0], { atol: 1e-12, rtol: 0 });
  });

  test('SGD with momentum and L2 weight decay matches float64 over 6 steps (step-decay lr)', async () => {
    const lr = stepLr(0.05, { stepSize: 2, gamma: 0.5 });
    await run('sgd', (ps) => new SGD(ps, { lr, momentum: 0.9, weightDecay: 0.01 }), lr, {
      kind: 'sgd',
      momentum: 0.9,
      nesterov: false,
      wd: 0.01,
    });
  });

  test('SGD Nesterov and plain SGD match float64 over 6 steps', async () => {
    const lr = constantLr(0.02);
    await run('nesterov', (ps) => new SGD(ps, { lr: 0.02, momentum: 0.8, nesterov: true }), lr, {
      kind: 'sgd',
      momentum: 0.8,
      nesterov: true,
      wd: 0,
    });
    await run('plain', (ps) => new SGD(ps, { lr: 0.02, weightDecay: 0.1 }), lr, {
      kind: 'sgd',
      momentum: 0,
      nesterov: false,
      wd: 0.1,
    });
  });

  test('Adam (bias correction over t, cosine lr, L2 decay) matches float64 over 6 steps', async () => {
    const lr = cosineLr(0.01, { totalSteps: STEPS, minLr: 0.001 });
    await run('adam', (ps) => new Adam(ps, { lr, weightDecay: 0.05 }), lr, {
      kind: 'adam',
      b1: 0.9,
      b2: 0.999,
      eps: 1e-8,
      wd: 0.05,
    });
  });

  test('AdamW (decoupled decay, default 0.01) with global-norm clipping matches float64 over 6 steps', async () => {
    const lr = constantLr(0.003);
    // gradients in [-3,3] over 379 elements have norm ~30: clipping to 1 is active every step
    await run(
      'adamw+clip',
      (ps) => new AdamW(ps, { lr: 0.003, beta1: 0.8, clipNorm: 1 }),
      lr,
      { kind: 'adamw', b1: 0.8, b2: 0.999, eps: 1e-8, wd: 0.01 },
      1,
    );
    await run(
      'sgd+clip',
      (ps) => new SGD(ps, { lr: 0.1, momentum: 0.5, clipNorm: 2 }),
      constantLr(0.1),
      { kind: 'sgd', momentum: 0.5, nesterov: false, wd: 0 },
      2,
    );
  });

  test('bad use is reported', async () => {
    const p = tensor([1, 2]);
    const opt = new SGD([p], { lr: 0.1 });
    await assertThrows(() => opt.update([p]), /call prepareStep\(\) before update/);
    await assertThrows(() => opt.step([]), /0 gradients for 1 parameters/);
    await assertThrows(() => new SGD([p], { lr: 0.1, nesterov: true }), /Nesterov needs momentum/);
    opt.dispose();
    p.dispose();
  });
});
