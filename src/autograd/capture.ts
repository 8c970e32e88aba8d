// Graph capture: run a piece of GPU work once while the queue records every dispatch and copy,
// then replay the recorded commands later with no allocation, no pipeline or bind-group
// creation and no JavaScript op code (used for whole training steps, src/train/step.ts).
//
// Buffer ownership while a plan exists. Every tensor the captured body disposes (forward
// activations, saved tensors, intermediate gradients, temporaries inside ops) would normally
// go back to the pool, and a later allocation would reuse its buffer: a replay would then
// clobber that data. So during the capture, buffers released to the pool are RETAINED by the
// plan instead (they stay "in use" in the pool's accounting) and are released only by
// `plan.dispose()`. Tensors the body returns are owned by the plan too (`plan.result`).
// Tensors created before the capture and used by it (parameters, optimizer state, input
// tensors, hyper-parameter tensors) stay owned by their owners and must outlive the plan; pass
// them as `uses` so a replay refuses to run after one was disposed.
//
// What replays: exactly the recorded commands, with the uniform bytes of the capture. Anything
// that must change between replays (the batch, the learning rate, the step count) must live in
// GPU buffers written by the host before the replay (`tensor.write`), never in uniforms.
// Host writes (`tensor(data)`) made inside the body are not commands: their buffers keep the
// first step's contents, which is right for constants and wrong for anything else.

import { engine } from '../runtime/engine.js';
import type { Command } from '../runtime/queue.js';
import type { BufferPool, PooledBuffer } from '../runtime/pool.js';
import { Tensor } from '../tensor/tensor.js';
import { startScope, endScope, keep } from '../tensor/scope.js';

export interface CaptureOptions {
  /** tensors made outside the body that it reads or writes; replay checks they are alive */
  uses?: readonly Tensor[];
}

export class CapturedPlan<T> {
  private alive = true;

  constructor(
    readonly commands: readonly Command[],
    /** what the body returned (its tensors are owned by the plan) */
    readonly result: T,
    private retained: PooledBuffer[],
    private resultTensors: Tensor[],
    private uses: readonly Tensor[],
  ) {}

  /** Buffers the plan keeps alive for its intermediates (bytes), for memory reports. */
  get retainedBytes(): number {
    return this.retained.reduce((s, b) => s + b.size, 0);
  }

  get disposed(): boolean {
    return !this.alive;
  }

  /** Record the captured commands into the open encoder again (does not submit). */
  replay(): void {
    if (!this.alive) throw new Error('webgpu-cnn: replay of a disposed plan');
    engine().checkAlive('replay'); // a lost device would drop the commands silently
    for (const t of this.uses)
      if (t.disposed) throw new Error(`webgpu-cnn: replay: tensor ${t.name ?? t.id} used by the captured step was disposed`);
    engine().queue.replay(this.commands);
  }

  /** Replay and submit: one submit per call. */
  run(): void {
    this.replay();
    engine().flush();
  }

  /** Free the intermediates and the result tensors. Idempotent. */
  dispose(): void {
    if (!this.alive) return;
    this.alive = false;
    const pool = engine().pool;
    for (const b of this.retained) pool.release(b);
    this.retained = [];
    for (const t of this.resultTensors) t.dispose();
  }
}

/**
 * Run `body` once (its GPU work is recorded normally and submitted by the caller's next flush)
 * and return a plan that can replay the same work. Pending work is flushed first so the plan
 * starts on a clean encoder.
 */
export function capture<T>(body: () => T, opts: CaptureOptions = {}): CapturedPlan<T> {
  const e = engine();
  e.flush();
  const retained: PooledBuffer[] = [];
  const restore = retainReleases(e.pool, retained);
  e.queue.beginCapture();
  startScope();
  let result: T | undefined;
  let commands: Command[] = [];
  let ok = false;
  try {
    result = body();
    if (result instanceof Promise) throw new Error('webgpu-cnn: capture() takes a synchronous function');
    ok = true;
  } finally {
    commands = e.queue.endCapture();
    endScope(ok ? result : undefined); // disposes the intermediates: their buffers are retained
    restore();
    if (!ok) for (const b of retained) e.pool.release(b);
  }
  const tensors: Tensor[] = [];
  collectTensors(result, tensors);
  for (const t of tensors) keep(t);
  return new CapturedPlan(commands, result as T, retained, tensors, opts.uses ?? []);
}

/**
 * While capturing, buffers released to the pool are handed to `into` instead. This overrides
 * `release` on the pool instance for the duration of the capture only (restored in `finally`);
 * the pool's own accounting is untouched, so retained buffers count as in use.
 */
function retainReleases(pool: BufferPool, into: PooledBuffer[]): () => void {
  const own = Object.hasOwn(pool, 'release');
  if (own) throw new Error('webgpu-cnn: capture: nested captures are not supported');
  pool.release = (b: PooledBuffer) => void into.push(b);
  return () => void delete (pool as { release?: unknown }).release;
}

function collectTensors(v: unknown, out: Tensor[], depth = 0): void {
  if (v instanceof Tensor) out.push(v);
  else if (Array.isArray(v) && depth < 4) for (const x of v) collectTensors(x, out, depth + 1);
  else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && depth < 4)
    for (const x of Object.values(v)) collectTensors(x, out, depth + 1);
}
