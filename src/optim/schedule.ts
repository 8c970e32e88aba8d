// Learning-rate schedules, computed on the host in float64. A schedule maps the update number
// t (1 for the first update) to a learning rate; the optimizer writes it into its `hyper`
// tensor before each step, so a captured (replayed) training step follows the schedule too.

/** lr for update number `t` (t = 1, 2, ...). */
export type Schedule = (t: number) => number;

/** A schedule giving `lr` for every update. */
export function constantLr(lr: number): Schedule {
  return () => lr;
}

/** lr * gamma^floor((t - 1) / stepSize): decay by `gamma` every `stepSize` updates (PyTorch StepLR). */
export function stepLr(lr: number, opts: { stepSize: number; gamma?: number }): Schedule {
  const gamma = opts.gamma ?? 0.1;
  if (!(opts.stepSize >= 1)) throw new RangeError(`webgpu-cnn: stepLr: 'stepSize' must be >= 1, got ${opts.stepSize}`);
  return (t) => lr * gamma ** Math.floor((t - 1) / opts.stepSize);
}

/**
 * Linear warmup over `warmupSteps` updates, then cosine decay from lr to `minLr` at update
 * `totalSteps` (held at minLr afterwards). With no warmup, update 1 uses lr (PyTorch
 * CosineAnnealingLR with T_max = totalSteps - 1).
 */
export function cosineLr(lr: number, opts: { totalSteps: number; minLr?: number; warmupSteps?: number }): Schedule {
  const minLr = opts.minLr ?? 0,
    warm = opts.warmupSteps ?? 0,
    total = opts.totalSteps;
  if (!(total >= 1) || warm < 0 || warm >= total)
    throw new RangeError(`webgpu-cnn: cosineLr: need 0 <= warmupSteps < totalSteps, got ${warm}, ${total}`);
  return (t) => {
    if (t <= warm) return (lr * t) / warm;
    const span = total - warm - (warm ? 0 : 1);
    const progress = span > 0 ? Math.min(1, (t - warm - (warm ? 0 : 1)) / span) : 1;
    return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}
