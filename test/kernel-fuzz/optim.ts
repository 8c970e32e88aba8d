// Kernel fuzzing of the optimizer kernels (src/ops/optim.ts): SGD (plain, momentum, Nesterov,
// L2 or decoupled decay), Adam / AdamW, their flat variants with a per-element decay mask, all
// updating in place 4 elements a thread (sizes not multiples of 4 leave a partial last vec4);
// and clipping by global norm over 1-4 tensors (per-tensor partial sums, grid-strided past
// 256 workgroups of 256, i.e. 65,536 elements). References: `ref` of src/ops/optim.ts in
// float64 with the f32 hyper-parameters the kernels read; tolerances from each update's terms.

import { uniformArray, type Rng } from '../../src/data/rng.js';
import {
  adamStep,
  adamStepFlat,
  clipByGlobalNorm,
  hyperArray,
  ref,
  sgdStep,
  sgdStepFlat,
  type HyperParams,
} from '../../src/ops/optim.js';
import {
  ATOL,
  U,
  chance,
  compare,
  firstOf,
  int,
  logInt,
  pick,
  sumTol,
  type Bag,
  type Family,
  type Mismatch,
} from './core.js';

export interface OptimParams {
  op: 'sgd' | 'adam' | 'clip';
  /** element counts: one tensor for the steps, 1-4 for clipping */
  sizes: number[];
  /** the flat variant with a per-element decay mask (0, 0.5 or 1) */
  flat: boolean;
  momentum: number;
  nesterov: boolean;
  decoupled: boolean;
  weightDecay: number;
  lr: number;
  step: number;
  /** clip: max norm as a fraction of the true norm (never 1: no tie at the threshold) */
  clipAt: number;
  seed: number;
}

function drawOptim(r: Rng, ops: readonly OptimParams['op'][]): OptimParams {
  const op = pick(r, ops);
  const big = () => (chance(r, 0.2) ? int(r, 65_000, 70_000) : logInt(r, 1, 5000));
  const momentum = op === 'sgd' ? pick(r, [0, 0.9]) : 0;
  return {
    op,
    sizes: op === 'clip' ? Array.from({ length: int(r, 1, 4) }, big) : [logInt(r, 1, 20_000)],
    flat: chance(r, 0.5),
    momentum,
    nesterov: momentum > 0 && chance(r, 0.5),
    decoupled: chance(r, 0.5),
    weightDecay: pick(r, [0, 0.01, 0.3]),
    lr: pick(r, [1e-3, 0.1, 1]),
    step: pick(r, [1, 2, 10, 1000]),
    clipAt: pick(r, [0.5, 2]),
    seed: int(r, 0, 2 ** 31),
  };
}

async function steps(p: OptimParams, bag: Bag): Promise<Mismatch | null> {
  const n = p.sizes[0],
    s = p.seed;
  const pd = uniformArray(n, s),
    gd = uniformArray(n, s + 1),
    md = uniformArray(n, s + 2),
    vd = uniformArray(n, s + 3, 0, 1);
  const wsd = Float32Array.from(uniformArray(n, s + 4), (x) => (x < -0.3 ? 0 : x < 0.3 ? 0.5 : 1));
  const h: HyperParams =
    p.op === 'sgd'
      ? { kind: 'sgd', lr: p.lr, momentum: p.momentum, weightDecay: p.weightDecay, decoupled: p.decoupled }
      : { kind: p.decoupled ? 'adamw' : 'adam', lr: p.lr, step: p.step, weightDecay: p.weightDecay };
  const hd = hyperArray(h);
  const param = bag.f32(pd, [n]),
    grad = bag.f32(gd, [n]),
    hyper = bag.f32(hd, [8]);
  const wdScale = p.flat ? bag.f32(wsd, [n]) : undefined;
  const ws = (i: number) => (p.flat ? wsd[i] : 1);
  if (p.op === 'sgd') {
    const vel = p.momentum > 0 ? bag.f32(md, [n]) : null;
    if (p.flat) sgdStepFlat(param, grad, vel, hyper, { nesterov: p.nesterov, wdScale });
    else sgdStep(param, grad, vel, hyper, { nesterov: p.nesterov });
    const want = ref.sgd(pd, gd, vel ? md : null, hd, p.nesterov, p.flat ? wsd : undefined);
    const [lr, mu, , , wd] = hd;
    // d = g + wd p, v = mu v + d, p - lr (v or d + mu v): every term's magnitude, a few roundings each
    const dMag = (i: number) => Math.abs(gd[i]) + wd * ws(i) * Math.abs(pd[i]);
    const vMag = (i: number) => (vel ? mu * Math.abs(md[i]) : 0) + dMag(i);
    return firstOf(
      compare('param', await param.read(), want.p, (i) =>
        sumTol(8, Math.abs(pd[i]) * (1 + lr * wd) + lr * (1 + mu) * vMag(i)),
      ),
      vel ? compare('velocity', await vel.read(), want.vel, (i) => sumTol(4, vMag(i))) : null,
    );
  }
  const m = bag.f32(md, [n]),
    v = bag.f32(vd, [n]);
  if (p.flat) adamStepFlat(param, grad, m, v, hyper, { wdScale });
  else adamStep(param, grad, m, v, hyper);
  const want = ref.adam(pd, gd, md, vd, hd, p.flat ? wsd : undefined);
  const [lr, b1, b2, eps, wd, , bc1, bc2] = hd;
  const dMag = (i: number) => Math.abs(gd[i]) + (p.decoupled ? 0 : wd * ws(i) * Math.abs(pd[i]));
  const mTol = (i: number) => sumTol(4, b1 * Math.abs(md[i]) + (1 - b1) * dMag(i));
  const vTol = (i: number) => sumTol(6, b2 * vd[i] + (1 - b2) * dMag(i) ** 2);
  // p' - lr (m / bc1) / (sqrt(v / bc2) + eps): m's absolute error over the denominator, and
  // the update's relative error from v (halved by the square root), sqrt and the divisions
  const pTol = (i: number) => {
    const den = Math.sqrt(want.v[i] / bc2) + eps;
    const upd = Math.abs((lr * want.m[i]) / bc1 / den);
    const relV = want.v[i] > 0 ? vTol(i) / want.v[i] : 1;
    return (
      ATOL +
      8 * U * Math.abs(pd[i]) * (1 + lr * wd) +
      (lr * mTol(i)) / bc1 / den +
      upd * (relV / 2 + 8 * U) +
      4 * U * upd
    );
  };
  return firstOf(
    compare('m', await m.read(), want.m, mTol),
    compare('v', await v.read(), want.v, vTol),
    compare('param', await param.read(), want.p, pTol),
  );
}

async function clip(p: OptimParams, bag: Bag): Promise<Mismatch | null> {
  const gs = p.sizes.map((n, k) => uniformArray(n, p.seed + k));
  const normSq = ref.globalNormSq(gs);
  const maxNorm = Math.fround(Math.sqrt(normSq) * p.clipAt);
  const ts = gs.map((g) => bag.f32(g, [g.length]));
  const nsq = bag.add(clipByGlobalNorm(ts, maxNorm));
  const want = ref.clip(gs, maxNorm);
  const total = gs.reduce((a, g) => a + g.length, 0);
  const nTol = sumTol(total, normSq);
  // the scale's relative error: the norm's (halved by sqrt), sqrt, division, product
  const rel = nTol / normSq / 2 + 4 * U;
  const checks: (Mismatch | null)[] = [compare('normSq', await nsq.read(), [normSq], () => nTol)];
  for (const [k, t] of ts.entries())
    checks.push(compare(`grads[${k}]`, await t.read(), want[k], (i) => ATOL + rel * Math.abs(want[k][i])));
  return firstOf(...checks);
}

export const optimFamilies: Family<OptimParams>[] = [
  { name: 'optim.step', draw: (r) => drawOptim(r, ['sgd', 'adam']), run: steps },
  { name: 'optim.clip', draw: (r) => drawOptim(r, ['clip']), run: clip },
];
