// Optimizer kernels: references checked against hand-computed PyTorch steps; GPU SGD / Adam /
// AdamW (per tensor and fused flat) vs float64 references over several steps with a changing
// lr (bias correction checked); replay of a captured step with hyper rewritten between replays;
// global-norm reduction (deterministic) and clipping without readback.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { engine } from '../../src/runtime/engine.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { zeros } from '../../src/ops/elementwise.js';
import {
  adamStep,
  adamStepFlat,
  clipByGlobalNorm,
  clipScale,
  globalNormSq,
  hyperArray,
  makeHyper,
  ref,
  sgdStep,
  sgdStepFlat,
  writeHyper,
  type HyperParams,
} from '../../src/ops/optim.js';

const SIZES = [1, 3, 17, 33, 300];
const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

// Tolerances: every step is a handful of f32 operations per element (relative error a few
// 2^-24 each) on parameters of magnitude <= ~1; errors add over T steps, so after T <= 5 steps
// |err| <~ T * 8 * 2^-24 * max(|p|, |step|) ~ 3e-6. We assert atol 5e-6 (rtol 1e-5 for the
// optimizer state v, whose magnitude is ~g^2).
const TOL = { atol: 5e-6, rtol: 1e-5 };

suite('optim', (test) => {
  test('references reproduce hand-computed PyTorch steps', () => {
    // SGD momentum 0.9, wd 0.1 (L2), lr 0.1; p = 1, g = 0.5 twice:
    //   d1 = 0.6, v1 = 0.6, p1 = 0.94; d2 = 0.594, v2 = 1.134, p2 = 0.8266
    // hyper laid out by hand in float64 ([lr, mu|b1, b2, eps, wd, decoupled, bc1, bc2]), so
    // the only error left is Adam's eps (1e-8 / 0.5 relative)
    let h = [0.1, 0.9, 0, 0, 0.1, 0, 1, 1];
    const s1 = ref.sgd([1], [0.5], [0], h);
    const s2 = ref.sgd(s1.p, [0.5], s1.vel, h);
    assertClose('sgd p2', [s1.p[0], s2.p[0], s2.vel[0]], [0.94, 0.8266, 1.134], { atol: 1e-7, rtol: 1e-7 });
    // Nesterov: step1 = d + mu*v1 = 0.6 + 0.54 -> p1 = 1 - 0.114 = 0.886
    assertClose('nesterov p1', [ref.sgd([1], [0.5], [0], h, true).p[0]], [0.886], { atol: 1e-7, rtol: 1e-7 });
    // Adam step 1 with bias correction moves every element by lr * sign(g) (up to eps):
    // m = 0.05, v = 0.00025, m/bc1 = 0.5, sqrt(v/bc2) = 0.5 -> p = 1 - 0.1
    h = [0.1, 0.9, 0.999, 1e-8, 0, 0, 1 - 0.9, 1 - 0.999];
    const a1 = ref.adam([1, 1], [0.5, -2], [0, 0], [0, 0], h);
    assertClose('adam step 1', a1.p, [0.9, 1.1], { atol: 1e-7, rtol: 0 });
    // step 2, same g = 0.5: m = 0.095, v = 0.00049975, bc1 = 0.19, bc2 = 0.001999 ->
    // mhat = 0.5, vhat = 0.25 -> again lr * 1
    const h2 = [0.1, 0.9, 0.999, 1e-8, 0, 0, 1 - 0.9 ** 2, 1 - 0.999 ** 2];
    assertClose('adam step 2', ref.adam(a1.p, [0.5, -2], a1.m, a1.v, h2).p, [0.8, 1.2], { atol: 1e-7, rtol: 0 });
    // AdamW: p *= 1 - lr*wd first: 1 * (1 - 0.1*0.5) - 0.1 = 0.85
    const hw = [0.1, 0.9, 0.999, 1e-8, 0.5, 1, 1 - 0.9, 1 - 0.999];
    assertClose('adamw step 1', ref.adam([1], [0.5], [0], [0], hw).p, [0.85], { atol: 1e-7, rtol: 0 });
    // hyperArray writes the same layout (f32-rounded)
    assertClose(
      'hyper layout',
      hyperArray({ kind: 'adamw', lr: 0.1, step: 1, weightDecay: 0.5 }),
      [0.1, 0.9, 0.999, 1e-8, 0.5, 1, 0.1, 0.001],
      { atol: 1e-9, rtol: 1e-6 },
    );
    // clip: norm of [3, 4] is 5; max 1 -> [0.6, 0.8]; max 10 -> unchanged
    assertClose(
      'clip',
      ref.clip([[3], [4]], 1).flatMap((a) => [...a]),
      [0.6, 0.8],
      { atol: 1e-12, rtol: 0 },
    );
    assertClose(
      'no clip',
      ref.clip([[3], [4]], 10).flatMap((a) => [...a]),
      [3, 4],
      { atol: 0, rtol: 0 },
    );
  });

  test('sgdStep (plain, momentum, Nesterov, L2 and decoupled decay) vs reference over 4 steps', async () => {
    const variants: { name: string; h: (lr: number) => HyperParams; vel: boolean; nesterov: boolean }[] = [
      { name: 'plain', h: (lr) => ({ kind: 'sgd', lr, weightDecay: 0.01 }), vel: false, nesterov: false },
      { name: 'momentum 0 with velocity', h: (lr) => ({ kind: 'sgd', lr }), vel: true, nesterov: false },
      {
        name: 'momentum',
        h: (lr) => ({ kind: 'sgd', lr, momentum: 0.9, weightDecay: 0.05 }),
        vel: true,
        nesterov: false,
      },
      { name: 'nesterov', h: (lr) => ({ kind: 'sgd', lr, momentum: 0.8 }), vel: true, nesterov: true },
      {
        name: 'decoupled',
        h: (lr) => ({ kind: 'sgd', lr, momentum: 0.5, weightDecay: 0.1, decoupled: true }),
        vel: true,
        nesterov: false,
      },
    ];
    let seed = 1;
    for (const vt of variants)
      for (const n of SIZES) {
        let p = f64(randomArray(n, seed++)),
          vel: Float64Array | null = vt.vel ? new Float64Array(n) : null;
        const tp = tensor(p),
          tv = vt.vel ? zeros([n]) : null;
        const hyper = makeHyper(vt.h(0.1));
        for (let t = 1; t <= 4; t++) {
          const lr = 0.1 / t; // a schedule: lr changes every step through hyper
          const g = randomArray(n, seed++);
          const h = hyperArray(vt.h(lr));
          writeHyper(hyper, vt.h(lr));
          const tg = tensor(g);
          sgdStep(tp, tg, tv, hyper, { nesterov: vt.nesterov });
          tg.dispose();
          const r = ref.sgd(Float32Array.from(p), g, vel && Float32Array.from(vel), h, vt.nesterov);
          (p = r.p), (vel = vel && r.vel);
        }
        assertClose(`sgd ${vt.name} n=${n} p`, await tp.read(), p, TOL);
        if (tv && vel) assertClose(`sgd ${vt.name} n=${n} velocity`, await tv.read(), vel, TOL);
        for (const t of [tp, tv, hyper]) t?.dispose();
      }
  });

  test('adamStep / AdamW vs reference over 5 steps with bias correction and a changing lr', async () => {
    let seed = 50;
    for (const kind of ['adam', 'adamw'] as const)
      for (const n of SIZES) {
        let p = f64(randomArray(n, seed++)),
          m = new Float64Array(n),
          v = new Float64Array(n);
        const tp = tensor(p),
          tm = zeros([n]),
          tv = zeros([n]);
        const hp = (t: number): HyperParams => ({ kind, lr: 0.01 * (1 - 0.1 * t), step: t, weightDecay: 0.1 });
        const hyper = makeHyper(hp(1));
        for (let t = 1; t <= 5; t++) {
          writeHyper(hyper, hp(t));
          const g = randomArray(n, seed++);
          const tg = tensor(g);
          const before = t === 1 ? await tp.read() : null;
          adamStep(tp, tg, tm, tv, hyper);
          tg.dispose();
          const r = ref.adam(Float32Array.from(p), g, Float32Array.from(m), Float32Array.from(v), hyperArray(hp(t)));
          (p = r.p), (m = r.m), (v = r.v);
          if (before && kind === 'adamw') {
            // bias-corrected first step: |dp| = lr (plus the decay lr*wd*p), whatever |g| is
            const after = await tp.read();
            const lr = 0.01 * 0.9;
            const moved = Float64Array.from(after, (a, i) => Math.abs(a - before[i] * (1 - lr * 0.1)));
            assertClose(`adamw n=${n} step 1 moves each element by lr`, moved, new Float64Array(n).fill(lr), {
              atol: 1e-6,
              rtol: 0,
            });
          }
        }
        assertClose(`${kind} n=${n} p`, await tp.read(), p, TOL);
        assertClose(`${kind} n=${n} m`, await tm.read(), m, TOL);
        assertClose(`${kind} n=${n} v`, await tv.read(), v, TOL);
        for (const t of [tp, tm, tv, hyper]) t.dispose();
      }
  });

  test('fused flat steps (one dispatch for all parameters, per-element decay mask) vs reference and per-tensor steps', async () => {
    // two "parameters" of 65 and 17 elements packed in one flat buffer; the second takes no decay
    const n1 = 65,
      n2 = 17,
      n = n1 + n2;
    const mask = Float32Array.from({ length: n }, (_, i) => (i < n1 ? 1 : 0));
    const p0 = randomArray(n, 70),
      g = randomArray(n, 71),
      m0 = randomArray(n, 72),
      v0 = randomArray(n, 73, 0, 0.01);
    const hA: HyperParams = { kind: 'adamw', lr: 0.02, step: 3, weightDecay: 0.2 };
    const hS: HyperParams = { kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0.2 };
    const tp = tensor(p0),
      tg = tensor(g),
      tm = tensor(m0),
      tv = tensor(v0);
    const tmask = tensor(mask),
      hyper = makeHyper(hA);
    const d0 = engine().queue.counters.dispatches;
    adamStepFlat(tp, tg, tm, tv, hyper, { wdScale: tmask });
    assertEqual(engine().queue.counters.dispatches - d0, 1, 'one dispatch for all parameters');
    const r = ref.adam(p0, g, m0, v0, hyperArray(hA), mask);
    const flatP = await tp.read();
    assertClose('adamStepFlat p', flatP, r.p, TOL);
    assertClose('adamStepFlat m', await tm.read(), r.m, TOL);
    assertClose('adamStepFlat v', await tv.read(), r.v, TOL);
    // the same update as two per-tensor steps, the second with weightDecay 0: same arithmetic,
    // so equal up to how the compiler contracts each entry point (a rounding or two)
    const pieces = [
      [0, n1, hA],
      [n1, n, { ...hA, weightDecay: 0 }],
    ] as const;
    for (const [lo, hi, hp] of pieces) {
      const ts = [p0, g, m0, v0].map((a) => tensor(a.slice(lo, hi)));
      const hh = makeHyper(hp);
      adamStep(ts[0], ts[1], ts[2], ts[3], hh);
      assertClose(`per-tensor adam [${lo},${hi})`, await ts[0].read(), flatP.slice(lo, hi), { atol: 1e-7, rtol: 0 });
      for (const t of [...ts, hh]) t.dispose();
    }
    const sp = tensor(p0),
      sv = zeros([n]),
      hs = makeHyper(hS);
    sgdStepFlat(sp, tg, sv, hs, { nesterov: true, wdScale: tmask });
    const rs = ref.sgd(p0, g, new Float64Array(n), hyperArray(hS), true, mask);
    assertClose('sgdStepFlat p', await sp.read(), rs.p, TOL);
    assertClose('sgdStepFlat velocity', await sv.read(), rs.vel, TOL);
    const pp = tensor(p0);
    sgdStepFlat(pp, tg, null, hs);
    assertClose('sgdStepFlat plain p', await pp.read(), ref.sgd(p0, g, null, hyperArray(hS)).p, TOL);
    for (const t of [tp, tg, tm, tv, tmask, hyper, sp, sv, hs, pp]) t.dispose();
  });

  test('a captured Adam step replays with lr and step rewritten in hyper between replays', async () => {
    const n = 33,
      q = engine().queue;
    const p0 = randomArray(n, 80),
      g = randomArray(n, 81);
    const tp = tensor(p0),
      tg = tensor(g),
      tm = zeros([n]),
      tv = zeros([n]);
    const hp = (t: number): HyperParams => ({ kind: 'adam', lr: 0.05 / t, step: t });
    const hyper = makeHyper(hp(1));
    q.beginCapture();
    adamStep(tp, tg, tm, tv, hyper);
    const cmds = q.endCapture();
    let p = f64(p0),
      m = new Float64Array(n),
      v = new Float64Array(n);
    for (let t = 1; t <= 4; t++) {
      if (t > 1) {
        writeHyper(hyper, hp(t)); // flushes the previous replay first, then writes
        q.replay(cmds);
      }
      const r = ref.adam(Float32Array.from(p), g, Float32Array.from(m), Float32Array.from(v), hyperArray(hp(t)));
      (p = r.p), (m = r.m), (v = r.v);
    }
    assertClose('replayed adam p', await tp.read(), p, TOL);
    assertClose('replayed adam v', await tv.read(), v, TOL);
    for (const t of [tp, tg, tm, tv, hyper]) t.dispose();
  });

  test('globalNormSq: two-stage reduction vs float64, deterministic; clipping without readback', async () => {
    // 70001 elements: more than 256 workgroups of 256 threads, so the grid-stride loop runs
    const sizes = [1, 3, 17, 33, 70001];
    const data = sizes.map((n, i) => randomArray(n, 90 + i));
    const ts = data.map((d) => tensor(d));
    const s1 = globalNormSq(ts),
      s2 = globalNormSq(ts);
    const want = ref.globalNormSq(data);
    const [a] = await s1.read(),
      [b] = await s2.read();
    // positive terms; along any path: 1 rounding for the square, <= 1 addition per thread
    // (256 workgroups x 256 threads cover 70001), an 8-level tree, <= 1 addition per thread in
    // the final stage (260 partials) and another 8-level tree: relative error <= 19 * 2^-24 = 1.1e-6
    assertClose('globalNormSq', [a], [want], { atol: 0, rtol: 2e-6 });
    assertEqual(a, b, 'bitwise identical on a second run');
    const e = globalNormSq([]);
    assertEqual(Array.from(await e.read()), [0], 'no tensors: 0');

    // clip to max norm 1: the norm is ~150, so every gradient is scaled by 1/norm; the scale carries
    // the norm's error (half of 1.1e-6 after sqrt) plus 3 roundings (sqrt, divide, multiply)
    const clipped = ref.clip(data, 1);
    const ns = clipByGlobalNorm(ts, 1);
    const [nsq] = await ns.read();
    for (let i = 0; i < ts.length; i++)
      assertClose(`clipped grads[${i}] n=${sizes[i]}`, await ts[i].read(), clipped[i], { atol: 1e-12, rtol: 2e-6 });
    const after = globalNormSq(ts);
    assertClose('norm of clipped grads', [Math.sqrt((await after.read())[0])], [1], { atol: 0, rtol: 3e-6 });
    assert(Math.abs(Math.sqrt(nsq) - Math.sqrt(want)) < 1e-3, 'clipByGlobalNorm returns the norm before clipping');
    // a max norm above the norm leaves gradients untouched (bitwise)
    const small = tensor([0.3, -0.4]);
    clipScale([small], globalNormSq([small]), 1);
    assertEqual(Array.from(await small.read()), Array.from(Float32Array.from([0.3, -0.4])), 'unchanged below max norm');
    for (const t of [...ts, s1, s2, e, ns, after, small]) t.dispose();
  });

  test('bad arguments name the op and the argument', async () => {
    const p = tensor([1, 2, 3]),
      g = tensor([1, 2]),
      h = makeHyper({ kind: 'sgd', lr: 0.1 });
    const p2 = tensor([1, 2, 3, 4], [2, 2]),
      g3 = tensor([1, 1, 1]);
    await assertThrows(
      () => sgdStep(p, g, null, h),
      /sgdStep: 'param' \[3\] and 'grad' \[2\] must have the same shape/,
    );
    await assertThrows(() => adamStep(p, p, p, p, h), /adamStep: 'grad' must not share its buffer with 'param'/);
    await assertThrows(() => sgdStep(p, p2, null, h), /must have the same shape/);
    await assertThrows(() => sgdStep(p, g3, null, p), /sgdStep: 'hyper' must have 8 elements, got \[3\]/);
    await assertThrows(() => sgdStep(p, g3, null, h, { nesterov: true }), /Nesterov momentum needs a 'velocity'/);
    await assertThrows(() => adamStepFlat(p2, p2, p2, p2, h), /adamStepFlat: argument 'flatParams' must have rank 1/);
    await assertThrows(() => makeHyper({ kind: 'adam', lr: 0.1, step: 0 }), /makeHyper: 'step' must be >= 1/);
    await assertThrows(
      () => makeHyper({ kind: 'adam', lr: 0.1, step: 1, beta2: 1 }),
      /'beta1' and 'beta2' must be < 1/,
    );
    await assertThrows(() => clipScale([p], p, 1), /clipScale: 'normSq' must have 1 element/);
    for (const t of [p, g, h, p2, g3] as Tensor[]) t.dispose();
  });
});
