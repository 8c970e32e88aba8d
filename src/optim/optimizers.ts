// Optimizers: SGD (momentum, Nesterov, weight decay), Adam and AdamW over a list of parameter
// tensors, on the GPU kernels of src/ops/optim.ts (one in-place dispatch per parameter).
//
// A step has a host half and a GPU half, so it can be captured and replayed:
//   opt.prepareStep()   host: t += 1, lr = schedule(t), bias corrections; one small write into
//                       the `hyper` tensor. Call it BEFORE recording the step's forward pass
//                       (a host write flushes recorded work, see queue.ts).
//   opt.update(grads)   GPU: optional clipping by global norm (no readback), then the in-place
//                       updates. This is what a captured training step replays.
// `opt.step(grads)` does both (convenient outside capture; its write may cost a submit).
// State (velocity, m, v) is allocated by the constructor, never inside a captured step: a
// zero-fill recorded into a plan would reset the state on every replay.
//
// Weight decay applies to every parameter (PyTorch's default, one parameter group).

import { Tensor, tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { zeros } from '../ops/elementwise.js';
import { adamStep, clipByGlobalNorm, hyperArray, sgdStep, HYPER_SIZE, type HyperParams } from '../ops/optim.js';
import { constantLr, type Schedule } from './schedule.js';
import { checkOptions, describe, optionKeys } from '../tensor/args.js';

const SGD_KEYS = optionKeys<SgdOptimizerOptions>({
  lr: true,
  weightDecay: true,
  clipNorm: true,
  momentum: true,
  nesterov: true,
  decoupled: true,
});
const ADAM_KEYS = optionKeys<AdamOptimizerOptions>({
  lr: true,
  weightDecay: true,
  clipNorm: true,
  beta1: true,
  beta2: true,
  eps: true,
});

/**
 * An optimizer's arguments, checked before its constructor allocates anything (its state
 * tensors): live f32 parameters, known option keys, and numbers in range (lr finite and >= 0
 * or a schedule; weightDecay >= 0; clipNorm > 0; momentum and betas in [0, 1); eps > 0).
 */
function checkOptimizerArgs(where: string, params: unknown, opts: unknown, keys: readonly string[]): void {
  if (!Array.isArray(params))
    throw new TypeError(`webgpu-cnn: ${where}: 'params' must be an array of Tensors, got ${describe(params)}`);
  if (!params.length) throw new RangeError(`webgpu-cnn: ${where}: 'params' is empty: no parameters to optimize`);
  params.forEach((p, i) => {
    if (!(p instanceof Tensor) || p.disposed || p.dtype !== 'f32')
      throw new TypeError(`webgpu-cnn: ${where}: params[${i}] must be a live f32 Tensor, got ${describe(p)}`);
  });
  if (opts === undefined)
    throw new TypeError(`webgpu-cnn: ${where}: 'opts' must be an options object with 'lr', got undefined`);
  checkOptions(where, 'opts', opts, keys);
  const o = opts as Record<string, unknown>;
  if (typeof o.lr !== 'function') num(where, 'lr', o.lr, 0, Infinity, true);
  num(where, 'weightDecay', o.weightDecay, 0, Infinity, true);
  num(where, 'clipNorm', o.clipNorm, 0, Infinity, false);
  num(where, 'momentum', o.momentum, 0, 1, true, false);
  num(where, 'beta1', o.beta1, 0, 1, true, false);
  num(where, 'beta2', o.beta2, 0, 1, true, false);
  num(where, 'eps', o.eps, 0, Infinity, false);
  for (const k of ['nesterov', 'decoupled'])
    if (o[k] !== undefined && typeof o[k] !== 'boolean')
      throw new TypeError(`webgpu-cnn: ${where}: '${k}' must be a boolean, got ${describe(o[k])}`);
  if (o.nesterov && !o.momentum)
    throw new RangeError(
      `webgpu-cnn: ${where}: 'nesterov': Nesterov needs momentum > 0, got 'momentum' ${describe(o.momentum)}`,
    );
}

/** An optional number option: finite, >= min (> min unless minOk), <= max (< max unless maxOk). */
function num(where: string, k: string, v: unknown, min: number, max: number, minOk: boolean, maxOk = true): void {
  if (v === undefined && k !== 'lr') return;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new TypeError(`webgpu-cnn: ${where}: '${k}' must be a finite number, got ${describe(v)}`);
  if (v < min || (v === min && !minOk) || v > max || (v === max && !maxOk))
    throw new RangeError(
      `webgpu-cnn: ${where}: '${k}' must be in ${minOk ? '[' : '('}${min}, ${max}${maxOk ? ']' : ')'}, got ${v}`,
    );
}

/**
 * Options every optimizer takes: learning rate (a number or a {@link Schedule}), weight decay (default
 * 0; AdamW: 0.01) and optional gradient clipping by global L2 norm. Unknown keys throw a TypeError;
 * out-of-range numbers a RangeError.
 */
export interface OptimizerOptions {
  /** learning rate, or a schedule giving the lr of update t (1-based) */
  lr: number | Schedule;
  weightDecay?: number;
  /** clip gradients to this global L2 norm before each update (on the GPU) */
  clipNorm?: number;
}

/** One tensor of optimizer state: its kind ('velocity', 'm', 'v') and the index of its parameter. */
export interface StateSlot {
  slot: string;
  param: number;
  tensor: Tensor;
}

/**
 * Base of {@link SGD}, {@link Adam} and {@link AdamW}: updates a fixed list of f32 parameter tensors
 * in place on the GPU. `step(grads)` = `prepareStep()` (host: advance t, write lr) + `update(grads)`
 * (GPU only, what a captured step replays).
 */
export abstract class Optimizer {
  /** number of updates prepared so far (the t of the next update after prepareStep) */
  t = 0;
  readonly hyper: Tensor;
  readonly schedule: Schedule;
  protected readonly state: Tensor[] = [];
  private readonly slots: StateSlot[] = [];
  private alive = true;

  protected constructor(
    readonly params: readonly Tensor[],
    readonly opts: OptimizerOptions,
  ) {
    this.schedule = typeof opts.lr === 'number' ? constantLr(opts.lr) : opts.lr;
    // filled by prepareStep(); subclasses' options are not set yet while this constructor runs
    this.hyper = keep(tensor(new Float32Array(HYPER_SIZE)));
  }

  /** Hyper-parameters of update number t. */
  protected abstract hyperFor(t: number): HyperParams;
  /** Record the in-place update of parameter i. */
  protected abstract updateOne(i: number, grad: Tensor): void;

  /** lr of the most recently prepared update. */
  get lr(): number {
    return this.schedule(Math.max(this.t, 1));
  }

  /** A constructor failed half-way (out of memory): free the state made so far, name `where`. */
  protected failed(e: unknown, where: string): unknown {
    this.dispose();
    if (e instanceof Error && !e.message.includes(`(in ${where}`)) e.message += ` (in ${where})`;
    return e;
  }

  protected addState(like: Tensor, slot: string, param: number): Tensor {
    const s = keep(zeros(like.shape));
    this.state.push(s);
    this.slots.push({ slot, param, tensor: s });
    return s;
  }

  /** 'sgd', 'adam' or 'adamw': what a checkpoint records, so state is never loaded into another kind. */
  get kind(): HyperParams['kind'] {
    return this.hyperFor(Math.max(this.t, 1)).kind;
  }

  /** The state tensors by slot and parameter index (checkpoints save and restore these). */
  stateSlots(): readonly StateSlot[] {
    return this.slots;
  }

  /** Host half: advance t and write lr / bias corrections into `hyper`. */
  prepareStep(): void {
    // checked before t moves: a schedule giving a bad lr leaves the optimizer as it was
    const h = this.hyperFor(this.t + 1);
    const values = hyperArray(h, `${h.kind} update ${this.t + 1}`);
    this.t++;
    this.hyper.write(values);
  }

  /** GPU half: clip (if asked) and update every parameter in place with `grads`. */
  update(grads: readonly Tensor[]): void {
    if (!this.alive) throw new Error('webgpu-cnn: optimizer used after dispose()');
    if (grads.length !== this.params.length)
      throw new Error(`webgpu-cnn: optimizer: ${grads.length} gradients for ${this.params.length} parameters`);
    if (this.t === 0) throw new Error('webgpu-cnn: optimizer: call prepareStep() before update() (or use step())');
    if (this.opts.clipNorm !== undefined) clipByGlobalNorm(grads, this.opts.clipNorm).dispose();
    grads.forEach((g, i) => this.updateOne(i, g));
  }

  /** prepareStep() + update(grads). */
  step(grads: readonly Tensor[]): void {
    this.prepareStep();
    this.update(grads);
  }

  /** Tensors a captured step using this optimizer depends on (for capture's `uses`). */
  tensors(): Tensor[] {
    return [this.hyper, ...this.state];
  }

  dispose(): void {
    this.alive = false;
    this.hyper.dispose();
    for (const s of this.state) s.dispose();
  }
}

/**
 * Options of {@link SGD}: momentum in [0, 1) (default 0), Nesterov (needs momentum > 0), decoupled
 * weight decay (default false: L2 added to the gradient).
 */
export interface SgdOptimizerOptions extends OptimizerOptions {
  momentum?: number;
  nesterov?: boolean;
  /** decay the weights directly (p *= 1 - lr*wd) instead of adding wd*p to the gradient */
  decoupled?: boolean;
}

/** SGD with optional momentum (PyTorch semantics, dampening 0), Nesterov and weight decay. */
export class SGD extends Optimizer {
  private velocity: (Tensor | null)[];

  constructor(
    params: readonly Tensor[],
    readonly sgdOpts: SgdOptimizerOptions,
  ) {
    checkOptimizerArgs('SGD', params, sgdOpts, SGD_KEYS); // before super() allocates `hyper`
    super(params, sgdOpts);
    try {
      this.velocity = params.map((p, i) => (sgdOpts.momentum ? this.addState(p, 'velocity', i) : null));
    } catch (e) {
      throw this.failed(e, 'SGD');
    }
  }

  protected hyperFor(t: number): HyperParams {
    const o = this.sgdOpts;
    return {
      kind: 'sgd',
      lr: this.schedule(t),
      momentum: o.momentum ?? 0,
      weightDecay: o.weightDecay ?? 0,
      decoupled: o.decoupled,
    };
  }

  protected updateOne(i: number, grad: Tensor): void {
    sgdStep(this.params[i], grad, this.velocity[i], this.hyper, { nesterov: this.sgdOpts.nesterov });
  }
}

/**
 * Options of {@link Adam} and {@link AdamW}: beta1 (default 0.9) and beta2 (default 0.999) in [0, 1),
 * eps > 0 (default 1e-8).
 */
export interface AdamOptimizerOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** Adam (L2 weight decay added to the gradient, PyTorch Adam). */
export class Adam extends Optimizer {
  private m: Tensor[];
  private v: Tensor[];

  constructor(
    params: readonly Tensor[],
    readonly adamOpts: AdamOptimizerOptions,
  ) {
    checkOptimizerArgs(new.target === AdamW ? 'AdamW' : 'Adam', params, adamOpts, ADAM_KEYS); // before super() allocates
    super(params, adamOpts);
    try {
      this.m = params.map((p, i) => this.addState(p, 'm', i));
      this.v = params.map((p, i) => this.addState(p, 'v', i));
    } catch (e) {
      throw this.failed(e, new.target === AdamW ? 'AdamW' : 'Adam');
    }
  }

  protected hyperFor(t: number): HyperParams {
    const o = this.adamOpts;
    return {
      kind: this.isDecoupled() ? 'adamw' : 'adam',
      lr: this.schedule(t),
      step: t,
      beta1: o.beta1,
      beta2: o.beta2,
      eps: o.eps,
      weightDecay: o.weightDecay ?? (this.isDecoupled() ? 0.01 : 0),
    };
  }

  protected isDecoupled(): boolean {
    return false;
  }

  protected updateOne(i: number, grad: Tensor): void {
    adamStep(this.params[i], grad, this.m[i], this.v[i], this.hyper);
  }
}

/** AdamW: decoupled weight decay (default 0.01, PyTorch AdamW). */
export class AdamW extends Adam {
  protected override isDecoupled(): boolean {
    return true;
  }
}
