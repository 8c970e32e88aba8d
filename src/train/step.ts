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
// Cold start: `await step.prepare()` before the first `run` compiles every pipeline the step
// will use, all at once (createComputePipelineAsync), instead of one after the other inside the
// first run. It can start as soon as the model and the input shape exist, e.g. while the data
// load. Without it the first run compiles what it misses synchronously (correct, slower).
//
// Finiteness (on by default, `checkFinite: false` turns it off): the step also records, on the
// GPU, whether its loss and every gradient are free of NaN and ±Inf (src/ops/finite.ts), into
// a small status tensor that carries the loss too. `readStatus()` reads that tensor: the same
// one readback `readLoss()` makes, never an extra submit. The check reports; it does not stop
// the update (a non-finite gradient has reached the weights when the status says so).

import { shapeStr, empty, type DType, type Shape, type Tensor } from '../tensor/tensor.js';
import { keep, scope } from '../tensor/scope.js';
import { engine } from '../runtime/engine.js';
import { valueAndGrad } from '../autograd/grad.js';
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

export type LossFn = (output: Tensor, labels: Tensor) => Tensor;

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

export class TrainStep {
  /** the step's input batch and labels (written by `run`) */
  readonly x: Tensor;
  readonly labels: Tensor;
  /** number of steps run */
  steps = 0;
  private plan: CapturedPlan<Tensor> | null = null;
  private lastLoss: Tensor | null = null;
  private readonly useCapture: boolean;
  private preparing: Promise<PrepareInfo> | null = null;
  /** the finiteness status (src/ops/finite.ts), null with checkFinite: false */
  private readonly status: Tensor | null;

  constructor(readonly opts: TrainStepOptions) {
    this.useCapture = opts.capture ?? true;
    this.x = keep(empty(opts.inputShape));
    this.labels = keep(empty(opts.labelShape ?? [opts.inputShape[0]], opts.labelDtype ?? 'u32'));
    this.status = (opts.checkFinite ?? true) ? keep(finiteStatus(opts.optimizer.params.length)) : null;
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
   * Compile, concurrently, every pipeline the step will dispatch; resolves when they are ready.
   * The step's body runs once in planning mode (src/autograd/capture.ts planPipelines): checked
   * like a real step, nothing dispatched, weights and optimizer state untouched. Idempotent:
   * later calls return the first call's promise. Call it before the first `run` (a run started
   * while it is in flight compiles what is not ready yet a second time, synchronously).
   */
  prepare(opts: PrepareOptions = {}): Promise<PrepareInfo> {
    if (!this.preparing) {
      this.preparing = this.doPrepare(opts);
      this.preparing.catch(() => (this.preparing = null)); // a failed prepare may be retried
    }
    return this.preparing;
  }

  /**
   * The distinct pipelines one step dispatches, found by a planning pass (nothing compiled or
   * run; weights, optimizer state and step count unchanged).
   */
  pipelineSpecs(): PipelineSpec[] {
    engine().checkAlive('TrainStep');
    const { optimizer } = this.opts;
    const t = optimizer.t;
    // update() refuses to run before the first prepareStep(); planning records nothing, so
    // the step count is only lent for the pass (the hyper-parameters are not written).
    optimizer.t = Math.max(t, 1);
    try {
      return planPipelines(this.body);
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
    return compileSpecs(this.pipelineSpecs(), t0, opts);
  }

  /** Train on one batch. Data are host arrays (copied into the step's input tensors). */
  run(x: ArrayLike<number>, labels: ArrayLike<number>): void {
    engine().checkAlive('TrainStep');
    if (x.length !== this.x.size)
      throw new RangeError(
        `webgpu-cnn: TrainStep: batch has ${x.length} values, the step's input ${shapeStr(this.x.shape)} needs ${this.x.size}`,
      );
    this.x.write(x);
    this.labels.write(labels);
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
    e.flush(); // nothing of the caller's may share the encoder a failed step discards (free when empty)
    optimizer.prepareStep(); // host write before any recording: keeps the step to one submit
    try {
      if (!this.useCapture) {
        const loss = keep(scope(this.body));
        this.lastLoss?.dispose();
        this.lastLoss = loss;
      } else if (!this.plan) {
        const uses = [this.x, this.labels, ...optimizer.params, ...optimizer.tensors(), ...model.stateDict().values()];
        if (this.status) uses.push(this.status);
        this.plan = capture(this.body, { uses });
      } else this.plan.replay();
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
    }
    e.flush();
    this.steps++;
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

  /** Free the plan and the input tensors (not the model or the optimizer). */
  dispose(): void {
    this.plan?.dispose();
    this.plan = null;
    this.lastLoss?.dispose();
    this.x.dispose();
    this.labels.dispose();
    this.status?.dispose();
  }
}
