// Batch normalisation over the channel (last) axis: the op and its backward rule (the layer:
// nn/batchnorm.ts). Kernels: shaders/batchnorm.wgsl.
//
// PyTorch's semantics: training normalises with the biased batch variance and updates the
// running variance with the unbiased one; evaluation uses the running statistics.
// In-place state: a training forward updates `runningMean` / `runningVar` (and the optional
// batch counter) in place (like the
// optimizer's updates, the documented exception to "ops only write what they create"), so a
// captured training step keeps updating them on every replay.

import { engine } from '../runtime/engine.js';
import type { PooledBuffer } from '../runtime/pool.js';
import { empty, shapeStr, type Tensor } from '../tensor/tensor.js';
import { needsGrad, record } from '../autograd/tape.js';
import { allocateFor, checkNumber, checkOptions, checkTensor, describe, guarded, optionKeys } from './check.js';
import { grid1d } from './grid.js';

const WG = 256;

/**
 * Options of {@link batchNorm}: training or inference mode, running-statistics momentum (default 0.1),
 * eps (default 1e-5).
 */
export interface BatchNormOptions {
  /** batch statistics (and update the running ones) when true; running statistics when false */
  training: boolean;
  /** default 0.1 (PyTorch's): running = (1 - momentum) * running + momentum * batch statistic;
   *  null: a cumulative average, momentum = 1 / numBatchesTracked (PyTorch's momentum=None) */
  momentum?: number | null;
  /** default 1e-5 (PyTorch's) */
  eps?: number;
  /** a [] f32 counter that a training forward adds one to (PyTorch's num_batches_tracked) */
  numBatchesTracked?: Tensor;
}

function run(
  entry: string,
  u: { m: number; c: number; eps: number; momentum?: number; update?: number; batch?: number },
  buffers: Record<string, Tensor>,
  workgroups: [number, number?, number?],
): void {
  const bufs: Record<string, PooledBuffer> = {};
  for (const [k, t] of Object.entries(buffers)) bufs[k] = t.buffer;
  engine().queue.dispatch({
    shader: 'batchnorm',
    entry,
    op: 'batchNorm',
    buffers: bufs,
    workgroups,
    uniforms: { momentum: 0, update: 0, batch: 0, ...u },
  });
}

/**
 * y = gamma * (x - mean) / sqrt(var + eps) + beta over the last axis of x ([N,H,W,C] or [N,C]).
 * Gradients flow to x, gamma and beta (through the batch statistics in training mode).
 */
export function batchNorm(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: BatchNormOptions,
): Tensor {
  const op = 'batchNorm';
  checkTensor(op, 'x', x, 'f32');
  if (x.rank < 2)
    throw new RangeError(`webgpu-cnn: ${op}: 'x' must have rank >= 2 ([N,H,W,C] or [N,C]), got ${shapeStr(x.shape)}`);
  const C = x.shape[x.rank - 1];
  const M = x.size / C;
  for (const [name, t] of [
    ['gamma', gamma],
    ['beta', beta],
    ['runningMean', runningMean],
    ['runningVar', runningVar],
  ] as const) {
    checkTensor(op, name, t, 'f32', 1);
    if (t.shape[0] !== C)
      throw new RangeError(`webgpu-cnn: ${op}: '${name}' must have shape [${C}], got ${shapeStr(t.shape)}`);
  }
  checkOptions(
    op,
    'opts',
    opts,
    optionKeys<BatchNormOptions>({ training: true, momentum: true, eps: true, numBatchesTracked: true }),
  );
  if (typeof opts?.training !== 'boolean')
    throw new TypeError(`webgpu-cnn: ${op}: 'training' must be a boolean, got ${describe(opts?.training)}`);
  const eps = checkNumber(op, 'eps', opts.eps ?? 1e-5, { min: 0 });
  const cumulative = opts.momentum === null;
  const momentum = cumulative ? 0 : checkNumber(op, 'momentum', opts.momentum ?? 0.1, { min: 0 });
  if (opts.training && M < 2)
    throw new RangeError(`webgpu-cnn: ${op}: training needs more than one value per channel, got ${shapeStr(x.shape)}`);
  const counter = opts.numBatchesTracked;
  if (counter) {
    checkTensor(op, 'numBatchesTracked', counter, 'f32');
    if (counter.size !== 1)
      throw new RangeError(
        `webgpu-cnn: ${op}: 'numBatchesTracked' must hold one value, got ${shapeStr(counter.shape)}`,
      );
  }
  if (cumulative && !counter)
    throw new TypeError(`webgpu-cnn: ${op}: 'momentum: null' (a cumulative average) needs 'numBatchesTracked'`);
  const u = { m: M, c: C, eps, momentum };
  // all three allocated before the first dispatch: out of memory for y must not leave the
  // running statistics (and the batch counter) updated in place, or mean/invstd behind
  const [mean, invstd, y] = guarded(op, () => [allocateFor(op, [C]), allocateFor(op, [C]), allocateFor(op, x.shape)]);
  if (opts.training) {
    const running = { running_mean: runningMean, running_var: runningVar };
    if (counter) run('count_batch', { ...u, update: 1 }, { batches: counter }, [1]);
    if (cumulative)
      run('stats_cumulative', { ...u, update: 1 }, { x, mean, invstd, ...running, batches: counter! }, [C]);
    else run('stats', { ...u, update: 1 }, { x, mean, invstd, ...running }, [C]);
  } else run('from_running', u, { mean, invstd, running_mean: runningMean, running_var: runningVar }, grid1d(C, WG));
  run('normalize', u, { x, gamma, beta, mean_in: mean, invstd_in: invstd, y }, grid1d(x.size, WG));
  if (needsGrad([x, gamma, beta])) {
    record(op, [x, gamma, beta], [y], ([gy]) => {
      if (!gy) return [null, null, null];
      const dgamma = empty([C]),
        dbeta = empty([C]);
      run('backward_reduce', u, { x, dy: gy, mean_in: mean, invstd_in: invstd, dgamma, dbeta }, [C]);
      if (!x.requiresGrad) return [null, dgamma, dbeta];
      const dx = empty(x.shape);
      run(
        'backward_dx',
        { ...u, batch: opts.training ? 1 : 0 },
        { x, dy: gy, gamma, mean_in: mean, invstd_in: invstd, dgamma_in: dgamma, dbeta_in: dbeta, y: dx },
        grid1d(x.size, WG),
      );
      return [dx, dgamma, dbeta];
    });
  } else {
    mean.dispose();
    invstd.dispose();
  }
  return y;
}
