// One training step (forward, loss, backward, optimizer update) as a reusable object. With
// capture on (the default) the first call runs the step while the queue records it
// (src/autograd/capture.ts); every later call only writes the batch into the step's input
// tensors, writes the optimizer's hyper-parameters, replays the recorded commands and submits
// once: no allocation, no JavaScript op code, no readback. The loss stays on the GPU until
// `readLoss()` asks for it.
//
// Fixed shapes: a captured step always sees a batch of exactly `inputShape`; drop or pad the
// last partial batch. The model's mode (train/eval) at capture time is baked into the plan:
// evaluate with model.eval() outside the step and switch back with model.train().
//
// Cold start, tiered (`coldStart: 'tiered'`, the default with capture): the fast kernels
// (register-blocked, filters unrolled) take seconds each to compile on CPU adapters, so the
// first steps are captured with the quick kernels (runtime/select.ts withQuickKernels: small
// loops, one pipeline per pass, tens of milliseconds to compile) while the fast ones compile
// in the background, one at a time (createComputePipelineAsync; started once the first step's
// work is done, so a GPU process that compiles on the thread that runs commands does not hold
// the first step back). The first `run` after they are all compiled captures the step again
// with them: the quick plan is freed and every later step replays the fast one. The result of
// a step does not depend on which tier ran it beyond f32 rounding (both are checked against
// the same float64 references), but bit-for-bit reproducibility across runs needs one tier:
// `coldStart: 'wait'` (every step on the fast kernels; the first one waits for them).
//
// `await step.prepare()` compiles ahead of the first `run`, all at once, and can start as soon
// as the model and the input shape exist (while the data load, when a page opens): tiered, it
// compiles the quick kernels (the fast ones start after the first step; `prepare({ wait:
// 'fast' })` starts them at once and waits for them); 'wait', the fast ones. Without it the first run
// compiles what it misses synchronously (correct, slower).
//
// Finiteness (on by default, `checkFinite: false` turns it off): the step also records, on the
// GPU, whether its loss and every gradient are free of NaN and ±Inf (src/ops/finite.ts), into
// a small status tensor that carries the loss too. `readStatus()` reads that tensor: the same
// one readback `readLoss()` makes, never an extra submit. The check reports; it does not stop
// the update (a non-finite gradient has reached the weights when the status says so).

import { allocate, shapeStr, writeHost, type DType, type Shape, type Tensor } from '../tensor/tensor.js';
import { checkHostData } from '../tensor/args.js';
import { checkLabels, checkTrainStepOptions, classesOf } from './args.js';
import { keep, scope } from '../tensor/scope.js';
import { engine } from '../runtime/engine.js';
import { valueAndGrad } from '../autograd/grad.js';
import { withQuickKernels } from '../runtime/select.js';
import {
  capture,
  compileSpecs,
  planPipelines,
  type CapturedPlan,
  type PrepareInfo,
  type PrepareOptions,
} from '../autograd/capture.js';
import type { Module } from '../nn/module.js';
import type { PipelineSpec } from '../runtime/pipelines.js';
import type { Optimizer } from '../optim/optimizers.js';
import { decodeFinite, finiteStatus, recordFinite } from '../ops/finite.js';

/** A loss: a scalar tensor from the model's output and the labels (e.g. {@link softmaxCrossEntropy}). */
export type LossFn = (output: Tensor, labels: Tensor) => Tensor;

/** Options of {@link TrainStep}: model, optimizer, loss and fixed batch shape; capture and cold-start settings. */
export interface TrainStepOptions {
  model: Module;
  optimizer: Optimizer;
  /** scalar loss of the model's output and the labels, e.g. softmaxCrossEntropy */
  loss: LossFn;
  /** the batch shape, e.g. [B, 28, 28, 1] */
  inputShape: Shape;
  /** default [B] */
  labelShape?: Shape;
  /** default 'u32' (class indices) */
  labelDtype?: DType;
  /** capture the first step and replay it afterwards (default true) */
  capture?: boolean;
  /**
   * How the first steps get their pipelines (captured steps only; file comment): 'tiered'
   * (default) runs them on the quick kernels while the fast ones compile in the background;
   * 'wait' runs every step on the fast kernels, the first one waiting for their compiles;
   * 'quick' runs every step on the quick kernels and never compiles the fast ones (a few steps:
   * tests, a short fine-tuning; and to measure the quick tier).
   */
  coldStart?: 'tiered' | 'wait' | 'quick';
  /** check on the GPU that the loss and every gradient are finite, see readStatus (default true) */
  checkFinite?: boolean;
}

/** What `readStatus()` reports about the last step. */
export interface StepStatus {
  loss: number;
  /** the loss and every gradient are finite (no NaN, no ±Inf) */
  finite: boolean;
  /** the loss is finite */
  lossFinite: boolean;
  /** parameters whose gradient held a NaN or ±Inf, by name (model.namedParameters), in order */
  nonFiniteGrads: string[];
  /** false with `checkFinite: false`: then `finite` says only whether the loss is */
  checked: boolean;
}

/** TrainStep.prepare's options: PrepareOptions, and what to wait for when tiered. */
export interface StepPrepareOptions extends PrepareOptions {
  /** 'first' (default): until the first step can run without compiling; 'fast': the fast kernels too */
  wait?: 'first' | 'fast';
}

/** Every option key (a key added to TrainStepOptions and not here does not compile). */
const STEP_KEYS = Object.keys({
  model: true,
  optimizer: true,
  loss: true,
  inputShape: true,
  labelShape: true,
  labelDtype: true,
  capture: true,
  coldStart: true,
  checkFinite: true,
} satisfies Record<keyof TrainStepOptions, true>);

/** One training step (forward, loss, backward, update) on a fixed batch shape; captured and replayed by default. */
export class TrainStep {
  /** the step's input batch and labels (written by `run`) */
  readonly x: Tensor;
  readonly labels: Tensor;
  /** number of steps run */
  steps = 0;
  private plan: CapturedPlan<Tensor> | null = null;
  private lastLoss: Tensor | null = null;
  private readonly useCapture: boolean;
  private readonly tiered: boolean;
  private readonly quickOnly: boolean;
  private preparing: Promise<PrepareInfo> | null = null;
  /** the fast kernels' background compile (tiered), started once */
  private fastCompile: Promise<PrepareInfo> | null = null;
  private fastReady = false;
  /** which kernels the current plan runs */
  private planTier: 'quick' | 'fast' | null = null;
  /** the finiteness status (src/ops/finite.ts), null with checkFinite: false */
  private readonly status: Tensor | null;

  /** classes the u32 labels index (checked in `run`), null when the output is not [B, K] */
  private readonly classes: number | null;

  constructor(readonly opts: TrainStepOptions) {
    checkTrainStepOptions(opts, STEP_KEYS); // everything checked before the first allocation
    this.useCapture = opts.capture ?? true;
    const cold = opts.coldStart ?? 'tiered';
    if (cold !== 'tiered' && cold !== 'wait' && cold !== 'quick')
      throw new TypeError(
        `webgpu-cnn: TrainStep: 'coldStart' must be 'tiered', 'wait' or 'quick', got ${JSON.stringify(cold)}`,
      );
    this.tiered = cold !== 'wait' && this.useCapture;
    this.quickOnly = cold === 'quick' && this.useCapture;
    const labelShape = opts.labelShape ?? [opts.inputShape[0]],
      labelDtype = opts.labelDtype ?? 'u32';
    this.classes = classesOf(opts.model, opts.inputShape, labelShape, labelDtype);
    this.x = keep(allocate(opts.inputShape, 'f32', 'TrainStep'));
    try {
      this.labels = keep(allocate(labelShape, labelDtype, 'TrainStep'));
    } catch (err) {
      this.x.dispose(); // out of memory for the labels: nothing left behind
      throw err;
    }
    try {
      this.status = (opts.checkFinite ?? true) ? keep(finiteStatus(opts.optimizer.params.length)) : null;
    } catch (err) {
      this.x.dispose(); // out of memory for the status: nothing left behind
      this.labels.dispose();
      throw err;
    }
  }

  /** The step's GPU work: loss and gradients, then the in-place update. Returns the loss. */
  private body = (): Tensor => {
    const { model, optimizer, loss } = this.opts;
    const { value, grads } = valueAndGrad(() => loss(model.forward(this.x), this.labels), optimizer.params);
    if (this.status) recordFinite(this.status, value, grads); // before the update may clip them
    optimizer.update(grads);
    return value;
  };

  /**
   * Compile, concurrently, every pipeline the first step will dispatch; resolves when they are
   * ready (tiered: the quick kernels'; the fast ones compile after the first step, or at once
   * and awaited with `wait: 'fast'`). The step's body runs in planning mode (src/autograd/capture.ts
   * planPipelines): checked like a real step, nothing dispatched, weights and optimizer state
   * untouched. Idempotent: later calls share the first call's work.
   */
  prepare(opts: StepPrepareOptions = {}): Promise<PrepareInfo> {
    if (!this.preparing) {
      this.preparing = this.doPrepare(opts);
      this.preparing.catch(() => (this.preparing = null)); // a failed prepare may be retried
    }
    if (opts.wait === 'fast' && this.tiered && !this.quickOnly)
      return this.preparing.then(() => this.compileFast(opts));
    return this.preparing;
  }

  /** Which kernels the captured step runs now: 'quick' (tiered start), 'fast', or null before the first step. */
  get kernels(): 'quick' | 'fast' | null {
    return this.planTier;
  }

  /**
   * The distinct pipelines one step dispatches, found by a planning pass (nothing compiled or
   * run; weights, optimizer state and step count unchanged).
   */
  pipelineSpecs(tier: 'fast' | 'quick' = 'fast'): PipelineSpec[] {
    engine().checkAlive('TrainStep');
    const { optimizer } = this.opts;
    const t = optimizer.t;
    // update() refuses to run before the first prepareStep(); planning records nothing, so
    // the step count is only lent for the pass (the hyper-parameters are not written).
    optimizer.t = Math.max(t, 1);
    try {
      return tier === 'quick' ? withQuickKernels(() => planPipelines(this.body)) : planPipelines(this.body);
    } catch (err) {
      if (err instanceof Error)
        err.message = `webgpu-cnn: TrainStep (planning its pipelines): ${err.message.replace(/^webgpu-cnn: /, '')}`;
      throw err;
    } finally {
      optimizer.t = t;
    }
  }

  private async doPrepare(opts: PrepareOptions): Promise<PrepareInfo> {
    const t0 = performance.now();
    if (!this.tiered) return compileSpecs(this.pipelineSpecs(), t0, opts);
    if (this.fastReady) return compileSpecs([], t0, opts);
    // the fast kernels start compiling after the first step's work, as without prepare (run):
    // a page that prepares when it opens then runs its first step with no compile in flight
    return compileSpecs(this.pipelineSpecs('quick'), t0, opts);
  }

  /**
   * Compile the fast kernels, one at a time (a GPU process that compiles on the thread that
   * runs commands then runs the quick steps between compiles), once; sets fastReady when done.
   * The returned promise never rejects unhandled: a failure is kept and rethrown by the next
   * prepare({ wait: 'fast' }); the steps keep running on the quick kernels.
   */
  private compileFast(opts: PrepareOptions = {}): Promise<PrepareInfo> {
    if (!this.fastCompile) {
      const t0 = performance.now();
      const p = compileSpecs(this.pipelineSpecs(), t0, {
        concurrency: opts.concurrency ?? 1,
        signal: this.abort.signal,
      });
      this.fastCompile = p.then((info) => {
        this.fastReady = true;
        return info;
      });
      this.fastCompile.catch(() => {});
    }
    return this.fastCompile;
  }

  /** Train on one batch. Data are host arrays (copied into the step's input tensors). */
  run(x: ArrayLike<number>, labels: ArrayLike<number>): void {
    const where = 'TrainStep.run';
    engine().checkAlive(where);
    // both checked before either is written (labels: integers in [0, classes), one per sample)
    const n = checkHostData(where, 'x', x, 'f32');
    if (n !== this.x.size)
      throw new RangeError(
        `webgpu-cnn: ${where}: batch has ${n} values, the step's input ${shapeStr(this.x.shape)} needs ${this.x.size}`,
      );
    checkLabels(where, labels, this.labels.size, this.labels.dtype, this.classes);
    writeHost(this.x, x, where, 'x');
    writeHost(this.labels, labels, where, 'labels');
    this.runOnInputs();
  }

  /**
   * Train on whatever the input tensors hold now (e.g. written by a GPU augmentation).
   *
   * All or nothing: if the step fails while it is being recorded (out of memory at a large
   * batch, a shape error), the part it recorded is dropped unsubmitted (queue.discard) and the
   * optimizer's step count is put back, so weights, optimizer state, running statistics and
   * the dropout counter are exactly as before; the error says so and names the layer.
   */
  runOnInputs(): void {
    const e = engine();
    e.checkAlive('TrainStep');
    const { optimizer, model } = this.opts;
    // capture now (first step, or the fast kernels just became ready), and with which tier.
    // Tiered, the first capture is quick unless this step's fast compile has finished: no
    // planning pass on the first step to find out whether another step compiled the same
    // pipelines (it would reflect the fast shaders: most of a second on SwiftShader); if one
    // did, the background compile finds them cached and the switch comes one step later.
    const recapture = this.useCapture && (!this.plan || (this.planTier === 'quick' && this.fastReady));
    const quick = recapture && this.tiered && (this.quickOnly || !this.fastReady);
    e.flush(); // nothing of the caller's may share the encoder a failed step discards (free when empty)
    optimizer.prepareStep(); // host write before any recording: keeps the step to one submit
    e.queue.atomic++; // the pool must not submit half a step to make room (queue.ts reclaim)
    try {
      if (!this.useCapture) {
        const loss = keep(scope(this.body));
        this.lastLoss?.dispose();
        this.lastLoss = loss;
      } else if (recapture) {
        // the first capture, or again with the fast kernels (this run is the re-capture)
        const uses = [this.x, this.labels, ...optimizer.params, ...optimizer.tensors(), ...model.stateDict().values()];
        if (this.status) uses.push(this.status);
        const plan = quick ? withQuickKernels(() => capture(this.body, { uses })) : capture(this.body, { uses });
        // the quick plan, freed after the new one is recorded (no buffer shared): its commands
        // were submitted by earlier runs, so its buffers are free for the pool after this run's
        this.plan?.dispose();
        this.plan = plan;
        this.planTier = quick ? 'quick' : 'fast';
      } else this.plan!.replay();
    } catch (err) {
      // In debug mode every dispatch was submitted as it was recorded: nothing to take back.
      const undone = e.queue.debug === 0;
      if (undone) e.queue.discard();
      optimizer.t--; // the next prepareStep rewrites `hyper` for the same update number
      if (err instanceof Error)
        err.message =
          `webgpu-cnn: TrainStep: step ${this.steps + 1} failed` +
          (undone
            ? ' and was not applied (weights, optimizer state and running statistics are unchanged)'
            : ' in debug mode; its partial work ran') +
          `: ${err.message.replace(/^webgpu-cnn: /, '')}`;
      throw err;
    } finally {
      e.queue.atomic--;
    }
    e.flush();
    this.steps++;
    // tiered: the fast kernels compile once the quick step's work is done (file comment)
    if (quick && !this.fastCompile && !this.quickOnly)
      e.device.queue.onSubmittedWorkDone().then(
        () => {
          if (!this.disposed) void this.compileFast();
        },
        () => {},
      );
  }

  /** The last step's loss, on the GPU (owned by the step; valid until the next run). */
  get loss(): Tensor {
    const l = this.plan?.result ?? this.lastLoss;
    if (!l) throw new Error('webgpu-cnn: TrainStep: no step has run yet');
    return l;
  }

  /** Read the last step's loss (the only readback; resolves when the GPU has finished it). */
  async readLoss(): Promise<number> {
    if (this.status) return (await this.readStatus()).loss;
    return (await this.loss.read())[0];
  }

  /**
   * Read the last step's loss and whether it and every gradient were finite: one readback of
   * a few words (the loss travels in the status), as cheap as readLoss.
   */
  async readStatus(): Promise<StepStatus> {
    const lossTensor = this.loss; // throws when no step has run
    if (!this.status) {
      const loss = (await lossTensor.read())[0];
      const lossFinite = Number.isFinite(loss);
      return { loss, finite: lossFinite, lossFinite, nonFiniteGrads: [], checked: false };
    }
    const f = decodeFinite((await this.status.read()) as Uint32Array);
    const names = new Map(this.opts.model.namedParameters().map(([n, t]) => [t, n]));
    const params = this.opts.optimizer.params;
    const nonFiniteGrads = params.flatMap((p, i) => (f.tensors[i] ? [] : [names.get(p) ?? `params[${i}]`]));
    return {
      loss: f.loss,
      finite: f.lossFinite && nonFiniteGrads.length === 0,
      lossFinite: f.lossFinite,
      nonFiniteGrads,
      checked: true,
    };
  }

  /** Bytes the captured plan keeps for its intermediates. */
  get planBytes(): number {
    return this.plan?.retainedBytes ?? 0;
  }

  private disposed = false;
  /** stops the background compile when the step is disposed */
  private readonly abort = new AbortController();

  /** Free the plan and the input tensors (not the model or the optimizer). */
  dispose(): void {
    this.disposed = true;
    this.abort.abort();
    this.plan?.dispose();
    this.plan = null;
    this.lastLoss?.dispose();
    this.x.dispose();
    this.labels.dispose();
    this.status?.dispose();
  }
}
