// Classification head ops: softmaxCrossEntropy (mean over the batch; its one forward kernel also
// writes d loss / d logits for the backward rule), softmax, argmax and accuracy (computed on the
// GPU). Forward, autograd rules and float64 references side by side. Row reductions run a
// thread per row or a workgroup per row, as choose.ts declares.
// Kernels: shaders/loss/softmax_ce.wgsl; the batch mean is reduce.ts's deterministic sum.
//
// Labels are u32 class indices [N]. They cannot be range-checked on the host without a
// readback, so a label >= K turns that row's loss (and so the mean) into NaN.

import { engine } from '../../runtime/engine.js';
import type { PooledBuffer } from '../../runtime/pool.js';
import { empty, shapeStr, type Tensor } from '../../tensor/tensor.js';
import { needsGrad, record } from '../../autograd/tape.js';
import { checkTensor } from '../check.js';
import { grid1d } from '../grid.js';
import { mean } from '../reduce.js';
import { scaleBy } from '../elementwise.js';
import { checkKernelOption } from '../../runtime/select.js';
import { SOFTMAX, softmaxKernelFor, type SoftmaxKernelChoice } from './choose.js';

export { SOFTMAX, type SoftmaxKernel, type SoftmaxKernelChoice } from './choose.js';

const WG = 64;
function checkKernel(op: string, kernel: unknown): void {
  checkKernelOption(op, SOFTMAX, kernel, "'auto', 'row' or 'block'");
}

function checkLogits(op: string, logits: Tensor, arg = 'logits'): [number, number] {
  checkTensor(op, arg, logits, 'f32', 2);
  const [N, K] = logits.shape;
  if (K < 1)
    throw new RangeError(
      `webgpu-cnn: ${op}: '${arg}' must have at least one class, got shape ${shapeStr(logits.shape)}`,
    );
  return [N, K];
}

function checkLabels(op: string, labels: Tensor, N: number): void {
  checkTensor(op, 'labels', labels, 'u32', 1);
  if (labels.shape[0] !== N)
    throw new RangeError(
      `webgpu-cnn: ${op}: 'labels' must have shape [${N}] (one per row of logits), got ${shapeStr(labels.shape)}`,
    );
}

function dispatch(
  entry: string,
  op: string,
  N: number,
  K: number,
  buffers: Record<string, PooledBuffer>,
  block: boolean,
): void {
  engine().queue.dispatch({
    shader: 'loss/softmax_ce',
    entry,
    op,
    constants: { WG },
    uniforms: { N, K, inv_n: 1 / N },
    buffers,
    // one workgroup per row (row reductions), or one thread per row
    workgroups: block ? grid1d(N, 1) : grid1d(N, WG),
  });
}

/**
 * Mean over the batch of -log softmax(logits)[n, labels[n]]: logits [N,K] f32, labels [N] u32
 * -> [1]. The backward rule scales the saved d loss / d logits by the upstream gradient on the GPU.
 * `opts.kernel` asks for a kernel (choose.ts; for tests and benchmarks).
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  labels: Tensor,
  opts: { kernel?: SoftmaxKernelChoice } = {},
): Tensor {
  const op = 'softmaxCrossEntropy';
  const [N, K] = checkLogits(op, logits);
  checkLabels(op, labels, N);
  checkKernel(op, opts.kernel);
  if (N === 0) throw new RangeError(`webgpu-cnn: ${op}: the batch is empty (logits ${shapeStr(logits.shape)})`);
  const rows = empty([N]);
  const dlogits = empty([N, K]);
  const block = softmaxKernelFor(N, K, opts.kernel) === 'block';
  dispatch(
    block ? 'softmax_ce' : 'softmax_ce_row',
    op,
    N,
    K,
    { x: logits.buffer, labels: labels.buffer, loss: rows.buffer, dx: dlogits.buffer },
    block,
  );
  const loss = mean(rows, [0], true);
  rows.dispose(); // still read by the recorded reduction; reused only after the submit
  if (needsGrad([logits])) record(op, [logits, labels], [loss], ([gy]) => [gy ? scaleBy(dlogits, gy) : null, null]);
  else dlogits.dispose();
  return loss;
}

/** Row-wise softmax of [N,K] logits. `opts.kernel` as for softmaxCrossEntropy (also used by the backward). */
export function softmax(logits: Tensor, opts: { kernel?: SoftmaxKernelChoice } = {}): Tensor {
  const [N, K] = checkLogits('softmax', logits);
  checkKernel('softmax', opts.kernel);
  const kernel = opts.kernel;
  const y = empty([N, K]);
  const block = softmaxKernelFor(N, K, kernel) === 'block';
  if (N > 0) dispatch(block ? 'softmax' : 'softmax_row', 'softmax', N, K, { x: logits.buffer, probs: y.buffer }, block);
  if (needsGrad([logits])) record('softmax', [logits], [y], ([gy]) => [gy ? softmaxBackward(gy, y, { kernel }) : null]);
  return y;
}

/** dx = y * (dy - sum_k dy*y) per row, y = softmax's output. */
export function softmaxBackward(dy: Tensor, y: Tensor, opts: { kernel?: SoftmaxKernelChoice } = {}): Tensor {
  const [N, K] = checkLogits('softmaxBackward', y, 'y');
  checkKernel('softmaxBackward', opts.kernel);
  checkTensor('softmaxBackward', 'dy', dy, 'f32', 2);
  if (dy.shape[0] !== N || dy.shape[1] !== K)
    throw new RangeError(
      `webgpu-cnn: softmaxBackward: 'dy' ${shapeStr(dy.shape)} and 'y' ${shapeStr(y.shape)} must have the same shape`,
    );
  const dx = empty([N, K]);
  const block = softmaxKernelFor(N, K, opts.kernel) === 'block';
  if (N > 0)
    dispatch(
      block ? 'softmax_backward' : 'softmax_backward_row',
      'softmaxBackward',
      N,
      K,
      { y: y.buffer, dy: dy.buffer, dx: dx.buffer },
      block,
    );
  return dx;
}

/** Index of the largest element of each row (the first one on ties): [N,K] -> u32 [N]. */
export function argmax(x: Tensor): Tensor {
  const [N, K] = checkLogits('argmax', x, 'x');
  const idx = empty([N], 'u32');
  if (N > 0) dispatch('argmax', 'argmax', N, K, { x: x.buffer, idx: idx.buffer }, false);
  return idx;
}

/** Fraction of rows whose argmax equals the label, as a [1] tensor (nothing is read back). */
export function accuracy(logits: Tensor, labels: Tensor): Tensor {
  const [N, K] = checkLogits('accuracy', logits);
  checkLabels('accuracy', labels, N);
  if (N === 0) throw new RangeError(`webgpu-cnn: accuracy: the batch is empty (logits ${shapeStr(logits.shape)})`);
  const hits = empty([N]);
  dispatch('hits', 'accuracy', N, K, { x: logits.buffer, labels: labels.buffer, loss: hits.buffer }, false);
  const acc = mean(hits, [0], true);
  hits.dispose();
  return acc;
}

function rowsOf(x: ArrayLike<number>, K: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < x.length; i += K) out.push(Array.from({ length: K }, (_, k) => x[i + k]));
  return out;
}

function softmaxRow(r: number[]): number[] {
  const m = Math.max(...r);
  const e = r.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Float64 references on flat row-major [N,K] data. */
export const ref = {
  softmax: (x: ArrayLike<number>, K: number) => Float64Array.from(rowsOf(x, K).flatMap(softmaxRow)),
  softmaxCrossEntropy(x: ArrayLike<number>, labels: ArrayLike<number>, K: number): number {
    const rows = rowsOf(x, K);
    let s = 0;
    rows.forEach((r, n) => {
      const m = Math.max(...r);
      s += m + Math.log(r.reduce((a, v) => a + Math.exp(v - m), 0)) - r[labels[n]];
    });
    return s / rows.length;
  },
  /** d mean-loss / d logits = (softmax - onehot) / N */
  softmaxCrossEntropyBackward(x: ArrayLike<number>, labels: ArrayLike<number>, K: number): Float64Array {
    const rows = rowsOf(x, K);
    return Float64Array.from(
      rows.flatMap((r, n) => softmaxRow(r).map((q, k) => (q - (k === labels[n] ? 1 : 0)) / rows.length)),
    );
  },
  softmaxBackward(dy: ArrayLike<number>, x: ArrayLike<number>, K: number): Float64Array {
    const y = ref.softmax(x, K);
    const out = new Float64Array(y.length);
    for (let i = 0; i < y.length; i += K) {
      let d = 0;
      for (let k = 0; k < K; k++) d += dy[i + k] * y[i + k];
      for (let k = 0; k < K; k++) out[i + k] = y[i + k] * (dy[i + k] - d);
    }
    return out;
  },
  argmax: (x: ArrayLike<number>, K: number) => Uint32Array.from(rowsOf(x, K), (r) => r.indexOf(Math.max(...r))),
  accuracy(x: ArrayLike<number>, labels: ArrayLike<number>, K: number): number {
    const am = ref.argmax(x, K);
    return am.reduce((a, v, n) => a + (v === labels[n] ? 1 : 0), 0) / am.length;
  },
};
