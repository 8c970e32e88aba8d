// Timing one implementation: warmup, then the median of N runs.
//
// 'timestamp' (the device has 'timestamp-query'): every run is bracketed by two tiny compute
//   passes of our own, submitted right before and right after the run's own submission:
//     [pass: beginningOfPass -> q[2i]]  [the run's commands]  [pass: endOfPass -> q[2i+1]]
//   so the interval is GPU time from the start to the end of the run's work. The same bracket
//   works for any implementation that submits its work in one go (ours: engine flush; tfjs: its
//   command queue), with no hook inside either. All N runs are recorded back to back and the
//   query set is resolved once at the end. If a run submits while it records (its work would
//   escape the bracket), the case falls back to the wall clock.
// 'wall': performance.now() around record + submit + await device.queue.onSubmittedWorkDone(),
//   one run at a time: includes host recording and submit overhead (the right measure for whole
//   training steps, and the only one without timestamp queries). An implementation on a device
//   of its own (jax-js) is always timed this way, waiting on its `wait()` instead.
//
// Nothing here reads a result back: validation happens before timing (runner.ts).

import type { Method, Timing } from './types.js';

export interface Timed {
  run(): void;
  submit(): void;
  /** work on another device (jax-js): resolves when it is done; such runs are timed by the wall clock */
  wait?(): Promise<void>;
}

export interface TimeOptions {
  warmup: number;
  iters: number;
  budgetMs: number;
  method: Method;
}

const QUERY_RESOLVE = 0x0200,
  COPY_SRC = 0x0004,
  COPY_DST = 0x0008,
  MAP_READ = 0x0001;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Counts queue submissions made while `fn` runs (to detect work escaping a timestamp bracket). */
function countSubmits(queue: GPUQueue, fn: () => void): number {
  const original = queue.submit;
  let n = 0;
  queue.submit = function (this: GPUQueue, buffers: Iterable<GPUCommandBuffer>) {
    n++;
    return original.call(this, buffers);
  };
  try {
    fn();
  } finally {
    queue.submit = original;
  }
  return n;
}

async function wallOnce(device: GPUDevice, t: Timed): Promise<number> {
  const t0 = performance.now();
  t.run();
  t.submit();
  await (t.wait ? t.wait() : device.queue.onSubmittedWorkDone());
  return performance.now() - t0;
}

function mark(device: GPUDevice, querySet: GPUQuerySet, index: number, begin: boolean): void {
  const enc = device.createCommandEncoder({ label: 'bench-timestamp' });
  const pass = enc.beginComputePass({
    timestampWrites: begin ? { querySet, beginningOfPassWriteIndex: index } : { querySet, endOfPassWriteIndex: index },
  });
  pass.end();
  device.queue.submit([enc.finish()]);
}

/** Largest power of two (up to 2^20 ns) dividing every timestamp: 1 unless they are quantized. */
function quantum(ts: BigUint64Array): number {
  let q = 1n << 20n;
  for (const v of ts) while (q > 1n && v % q !== 0n) q >>= 1n;
  return Number(q);
}

async function timestamps(device: GPUDevice, t: Timed, n: number): Promise<{ ms: number[]; quantumNs: number } | null> {
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * n });
  const resolved = device.createBuffer({ size: 16 * n, usage: QUERY_RESOLVE | COPY_SRC });
  const staging = device.createBuffer({ size: 16 * n, usage: MAP_READ | COPY_DST });
  let escaped = 0;
  try {
    for (let i = 0; i < n; i++) {
      escaped += countSubmits(device.queue, () => t.run());
      mark(device, querySet, 2 * i, true);
      t.submit();
      mark(device, querySet, 2 * i + 1, false);
    }
    const enc = device.createCommandEncoder({ label: 'bench-resolve' });
    enc.resolveQuerySet(querySet, 0, 2 * n, resolved, 0);
    enc.copyBufferToBuffer(resolved, 0, staging, 0, 16 * n);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(MAP_READ);
    const ts = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    if (escaped > 0) return null;
    const ms: number[] = [];
    for (let i = 0; i < n; i++) ms.push(Number(ts[2 * i + 1] - ts[2 * i]) / 1e6);
    // A zero or negative interval means the timestamps are not usable on this adapter (or are
    // quantized more coarsely than the run: browsers round them, see docs/bench.md).
    return ms.every((x) => x > 0) ? { ms, quantumNs: quantum(ts) } : null;
  } finally {
    querySet.destroy();
    resolved.destroy();
    staging.destroy();
  }
}

/** Warm up, pick N from the time budget, time N runs; the median is the result. */
export async function measure(device: GPUDevice, t: Timed, o: TimeOptions): Promise<Timing> {
  // Warmup: up to o.warmup runs, but stop after half the budget (slow adapters: at least one).
  const warm: number[] = [];
  const t0 = performance.now();
  do warm.push(await wallOnce(device, t));
  while (warm.length < o.warmup && performance.now() - t0 < o.budgetMs / 2);
  const estimate = Math.max(median(warm), 1e-3);
  const n = Math.max(3, Math.min(o.iters, Math.floor(o.budgetMs / estimate)));
  if (o.method === 'timestamp' && !t.wait) {
    const r = await timestamps(device, t, n);
    if (r) return { method: 'timestamp', ms: median(r.ms), samples: r.ms, warmup: warm.length, quantumNs: r.quantumNs };
  }
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await wallOnce(device, t));
  return { method: 'wall', ms: median(samples), samples, warmup: warm.length };
}
