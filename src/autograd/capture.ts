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
// A plan belongs to the engine that was current when it was captured: its commands name that
// device's buffers and pipelines, so replay records into that engine's queue and dispose()
// returns the retained buffers to that engine's pool, whichever engine is current then.
//
// What replays: exactly the recorded commands, with the uniform bytes of the capture. Anything
// that must change between replays (the batch, the learning rate, the step count) must live in
// GPU buffers written by the host before the replay (`tensor.write`), never in uniforms.
// Host writes (`tensor(data)`) made inside the body are not commands: their buffers keep the
// first step's contents, which is right for constants and wrong for anything else.

import { engine, type Engine } from '../runtime/engine.js';
import type { Command } from '../runtime/queue.js';
import { PipelineCache, type PipelineSpec } from '../runtime/pipelines.js';
import type { BufferPool, PooledBuffer } from '../runtime/pool.js';
import { Tensor } from '../tensor/tensor.js';
import { startScope, endScope, keep } from '../tensor/scope.js';

/** Options of {@link capture}. */
export interface CaptureOptions {
  /** tensors made outside the body that it reads or writes; replay checks they are alive */
  uses?: readonly Tensor[];
}

/**
 * Recorded GPU work from {@link capture}, replayable with no allocation or op code. Keeps the buffers
 * of the body's intermediates and owns its result until `dispose()`; replay throws once the plan, the
 * device or a tensor named in `uses` is gone.
 */
export class CapturedPlan<T> {
  private alive = true;

  constructor(
    readonly commands: readonly Command[],
    /** what the body returned (its tensors are owned by the plan) */
    readonly result: T,
    private retained: PooledBuffer[],
    private resultTensors: Tensor[],
    private uses: readonly Tensor[],
    /** the engine the body ran on (its queue replays, its pool gets the buffers back) */
    readonly engine: Engine,
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
    this.engine.checkAlive('replay'); // a lost device would drop the commands silently
    for (const t of this.uses)
      if (t.disposed)
        throw new Error(`webgpu-cnn: replay: tensor ${t.name ?? t.id} used by the captured step was disposed`);
    this.engine.queue.replay(this.commands);
  }

  /** Replay and submit: one submit per call. */
  run(): void {
    this.replay();
    this.engine.flush();
  }

  /** Free the intermediates and the result tensors. Idempotent. */
  dispose(): void {
    if (!this.alive) return;
    this.alive = false;
    const pool = this.engine.pool;
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
  if (typeof body !== 'function')
    throw new TypeError(`webgpu-cnn: capture: 'body' must be a function, got ${typeof body}`);
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
    if (result instanceof Promise) {
      result.catch(() => {}); // the caller gets the error, not the promise: never an unhandled rejection
      throw new TypeError('webgpu-cnn: capture: takes a synchronous function, got an async one');
    }
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
  return new CapturedPlan(commands, result as T, retained, tensors, opts.uses ?? [], e);
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

/**
 * The pipelines `body` would dispatch, without running it: the body runs once with the queue
 * PLANNING (queue.ts): every dispatch is checked and noted, nothing is compiled, recorded or
 * submitted. Tensors the body makes (its result included) are disposed here. The body must not
 * depend on GPU results (it cannot: it is synchronous) and must leave no host-side state
 * changed that a real run would not change the same way (ops and layers keep their mutable
 * state on the GPU, which planning does not touch). Pending work is flushed first.
 * Returns the distinct specs, in first-use order.
 */
export function planPipelines(body: () => unknown): PipelineSpec[] {
  if (typeof body !== 'function')
    throw new TypeError(`webgpu-cnn: planPipelines: 'body' must be a function, got ${typeof body}`);
  const e = engine();
  e.flush();
  e.queue.beginPlanning();
  startScope();
  let specs: PipelineSpec[] = [];
  try {
    const r = body();
    if (r instanceof Promise) {
      r.catch(() => {}); // as in capture: never an unhandled rejection
      throw new TypeError('webgpu-cnn: planPipelines: takes a synchronous function, got an async one');
    }
  } finally {
    specs = e.queue.endPlanning();
    endScope(); // disposes everything the body made; no command reads those buffers
    e.flush(); // nothing recorded: lets the pool hand the released buffers out again
  }
  const seen = new Map<string, PipelineSpec>();
  for (const s of specs) if (!seen.has(PipelineCache.key(s))) seen.set(PipelineCache.key(s), s);
  return [...seen.values()];
}

/** What a prepare did (TrainStep.prepare, Evaluator.prepare, preparePipelines). */
export interface PrepareInfo {
  /** distinct pipelines the work uses */
  pipelines: number;
  /** of those, compiled by this call (the others were cached already or being compiled) */
  compiled: number;
  /** wall time of the planning pass and of the concurrent compiles, ms */
  planMs: number;
  compileMs: number;
}

/**
 * Compile every pipeline `body` would dispatch, all at once with createComputePipelineAsync,
 * so that running `body` later compiles nothing (cold start: call it while data load or the
 * page opens). `body` runs once in planning mode (planPipelines: nothing dispatched).
 */
export async function preparePipelines(body: () => unknown, opts: PrepareOptions = {}): Promise<PrepareInfo> {
  const t0 = performance.now();
  const specs = planPipelines(body);
  return compileSpecs(specs, t0, opts);
}

/** Options of {@link preparePipelines}: how many compiles run at once (default: all) and an AbortSignal. */
export interface PrepareOptions {
  /** compiles in flight at once (default: all); 1 keeps a page drawing between compiles (pipelines.ts) */
  concurrency?: number;
  /** stops starting compiles when aborted (the promise then rejects) */
  signal?: AbortSignal;
}

/** Compile `specs` concurrently; `t0` is when planning started (for planMs). */
export async function compileSpecs(specs: PipelineSpec[], t0: number, opts: PrepareOptions = {}): Promise<PrepareInfo> {
  const t1 = performance.now();
  const compiled = await engine().queue.pipelines.prepare(specs, opts.concurrency, opts.signal);
  return { pipelines: specs.length, compiled, planMs: t1 - t0, compileMs: performance.now() - t1 };
}
