// Kernel fuzzing of the classification head: softmaxCrossEntropy (loss and the d logits its
// forward kernel writes, through the autograd rule), softmax and softmaxBackward, with the
// kernel forced to 'row' (a thread per row) or 'block' (a workgroup per row, tree reductions)
// or left to 'auto'; argmax and accuracy. K from 1 to 1100 (around the 64-thread workgroup and
// the 32-class switch), logits spread over +-1 to +-30 (the max subtraction matters); rarely
// 65,536-66,000 rows.
// Tolerances follow WGSL's accuracy rules: exp(x) within 3 + 2|x| ULP, log within 2^-21
// absolute near 1 (3 ULP elsewhere), division 2.5 ULP; sums as in core.ts sumTol.
// References: src/ops/loss.ts `ref` in float64 (plus the per-row terms, for the tolerances).

import { uniformArray, type Rng } from '../../src/data/rng.js';
import {
  accuracy,
  argmax,
  ref,
  softmax,
  softmaxBackward,
  softmaxCrossEntropy,
  type SoftmaxKernelChoice,
} from '../../src/ops/loss/index.js';
import {
  ATOL,
  U,
  chance,
  compare,
  compareExact,
  distinctData,
  firstOf,
  int,
  logInt,
  pick,
  sumTol,
  gradIn,
  type Bag,
  type Family,
  type Mismatch,
} from './core.js';

export interface SoftmaxParams {
  N: number;
  K: number;
  kernel: SoftmaxKernelChoice;
  /** logits lie in [-range, range] */
  range: number;
  seed: number;
}

function drawSoftmax(r: Rng): SoftmaxParams {
  // rarely more rows than one grid dimension holds (65,535 workgroups): the block kernels'
  // row index folds over two dimensions (the only draws that take seconds on SwiftShader,
  // where 65,536 workgroups with barriers cost ~4 s)
  if (chance(r, 0.01))
    return {
      N: int(r, 65_536, 66_000),
      K: int(r, 1, 3),
      kernel: 'block',
      range: pick(r, [1, 5, 30]),
      seed: int(r, 0, 2 ** 31),
    };
  for (;;) {
    const K = chance(r, 0.4)
      ? pick(r, [1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 1024, 1025, 1100])
      : logInt(r, 1, 1100);
    const N = chance(r, 0.3) ? 1 : logInt(r, 1, 40);
    if (N * K <= 40_000)
      return {
        N,
        K,
        kernel: pick(r, ['row', 'block', 'auto'] as const),
        range: pick(r, [1, 5, 30]),
        seed: int(r, 0, 2 ** 31),
      };
  }
}

/** Distinct logits in [-range, range] (argmax unambiguous). */
function logits(p: SoftmaxParams): Float32Array {
  const n = p.N * p.K;
  const d = distinctData(n, p.seed);
  const s = p.range / Math.max(n / 2048, 2 ** -10);
  return d.map((v) => v * s);
}

/** Per row: max, sum of exp(x - max), the largest |x - max| (for exp's error). */
function rowStats(x: ArrayLike<number>, K: number, n: number) {
  let m = -Infinity;
  for (let k = 0; k < K; k++) m = Math.max(m, x[n * K + k]);
  let s = 0,
    R = 0;
  for (let k = 0; k < K; k++) (s += Math.exp(x[n * K + k] - m)), (R = Math.max(R, m - x[n * K + k]));
  return { m, s, R };
}

/** Relative error bound of q = exp(x - m) / s: exp's own, the sum's (each term's exp too), the division. */
const qRel = (K: number, d: number, R: number) => U * (3 + 2 * d + (3 + 2 * R) + 8 * Math.sqrt(K) + 8 + 3);

async function crossEntropy(p: SoftmaxParams, bag: Bag): Promise<Mismatch | null> {
  const xd = logits(p);
  const r = uniformArray(p.N, p.seed + 1);
  const labels = Uint32Array.from(r, (v) => Math.min(p.K - 1, Math.floor(((v + 1) / 2) * p.K)));
  const x = bag.f32(xd, [p.N, p.K]);
  const lab = bag.u32(labels, [p.N]);
  const { value, grads } = gradIn(bag, () => softmaxCrossEntropy(x, lab, { kernel: p.kernel }), [x]);
  // loss_n = m + log(s) - x[label]: three roundings of terms as large as |m|, |log s|, |x|,
  // log's own error, and log(s (1 + e)) = log s + e for the relative error e of s
  let rowTol = 0,
    mag = 0;
  const dTol = new Float64Array(p.N * p.K);
  for (let n = 0; n < p.N; n++) {
    const { m, s, R } = rowStats(xd, p.K, n);
    const xl = xd[n * p.K + labels[n]];
    const eS = U * (3 + 2 * R + 8 * Math.sqrt(p.K) + 8);
    rowTol = Math.max(rowTol, 2 ** -21 + 3 * U * Math.log(s) + eS + 4 * U * (Math.abs(m) + Math.log(s) + Math.abs(xl)));
    mag += Math.abs(m + Math.log(s) - xl) / p.N;
    // d logits = (q - onehot) / N: q's error, the subtraction and the scaling round once each
    for (let k = 0; k < p.K; k++) {
      const i = n * p.K + k;
      const q = Math.exp(xd[i] - m) / s;
      dTol[i] = ATOL / p.N + (q * qRel(p.K, m - xd[i], R) + 3 * U * Math.abs(q - (k === labels[n] ? 1 : 0))) / p.N;
    }
  }
  const lossWant = ref.softmaxCrossEntropy(xd, labels, p.K);
  return firstOf(
    compare('loss', await value.read(), [lossWant], () => ATOL + rowTol + U * (8 * Math.sqrt(p.N) + 8) * mag),
    compare('dlogits', await grads[0].read(), ref.softmaxCrossEntropyBackward(xd, labels, p.K), (i) => dTol[i]),
  );
}

async function softmaxFwdBwd(p: SoftmaxParams, bag: Bag): Promise<Mismatch | null> {
  const xd = logits(p);
  const x = bag.f32(xd, [p.N, p.K]);
  const y = bag.add(softmax(x, { kernel: p.kernel }));
  const dyd = uniformArray(p.N * p.K, p.seed + 2);
  const dx = bag.add(softmaxBackward(bag.f32(dyd, [p.N, p.K]), y, { kernel: p.kernel }));
  const am = bag.add(argmax(x));
  const amWant = ref.argmax(xd, p.K);
  // half the labels hit the argmax: accuracy must count exactly those
  const r = uniformArray(p.N, p.seed + 3);
  const labels = Uint32Array.from(r, (v, n) => (v < 0 ? amWant[n] : Math.min(p.K - 1, Math.floor(v * p.K))));
  const acc = bag.add(accuracy(x, bag.u32(labels, [p.N])));
  const yd = await y.read();
  const yTol = new Float64Array(yd.length);
  for (let n = 0; n < p.N; n++) {
    const { m, s, R } = rowStats(xd, p.K, n);
    for (let k = 0; k < p.K; k++) {
      const i = n * p.K + k;
      yTol[i] = ATOL + (qRel(p.K, m - xd[i], R) * Math.exp(xd[i] - m)) / s;
    }
  }
  // the backward takes the GPU's y: dx = y (dy - sum_j dy_j y_j), checked against exactly that
  const dxWant = new Float64Array(yd.length);
  const dxTol = new Float64Array(yd.length);
  for (let n = 0; n < p.N; n++) {
    let dot = 0,
      S = 0;
    for (let k = 0; k < p.K; k++)
      (dot += dyd[n * p.K + k] * yd[n * p.K + k]), (S += Math.abs(dyd[n * p.K + k] * yd[n * p.K + k]));
    for (let k = 0; k < p.K; k++) {
      const i = n * p.K + k;
      dxWant[i] = yd[i] * (dyd[i] - dot);
      dxTol[i] = sumTol(p.K + 2, Math.abs(yd[i]) * (Math.abs(dyd[i]) + S));
    }
  }
  const hits = amWant.reduce((a, v, n) => a + (v === labels[n] ? 1 : 0), 0);
  return firstOf(
    compare('y', yd, ref.softmax(xd, p.K), (i) => yTol[i]),
    compare('dx', await dx.read(), dxWant, (i) => dxTol[i]),
    compareExact('argmax', await am.read(), amWant),
    compare('accuracy', await acc.read(), [hits / p.N], () => sumTol(p.N, 1)),
  );
}

export const softmaxFamilies: Family<SoftmaxParams>[] = [
  { name: 'softmax.crossEntropy', draw: drawSoftmax, run: crossEntropy },
  { name: 'softmax.softmax', draw: drawSoftmax, run: softmaxFwdBwd },
];
