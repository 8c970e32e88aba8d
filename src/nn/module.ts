// Module: the base of every layer. A module owns its parameters (trainable tensors) and buffers
// (non-trainable state such as BatchNorm's running statistics), knows its children, and has a
// training / evaluation mode. Names are stable and positional, PyTorch style ("0.weight",
// "3.running_mean"), so checkpoints (safetensors) map onto models by name.
//
// Not here: the layers (layers.ts, batchnorm.ts, dropout.ts) and gradients (src/autograd).
// Ownership: parameters and buffers are excluded from scopes (`keep`) and are freed only by
// `module.dispose()`.

import { shapeStr, writeHost, type Shape, type Tensor } from '../tensor/tensor.js';
import { checkHostData, describe } from '../tensor/args.js';
import { keep } from '../tensor/scope.js';
import type { LayerSpec, ModelSpec } from './spec.js';

/** A tensor's worth of host data (what a decoded model file holds). */
export interface HostArray {
  shape: readonly number[];
  data: ArrayLike<number>;
}

/**
 * Base class of every layer: owns its parameters (trainable tensors) and buffers (e.g. running
 * statistics), knows its children, and has a training/evaluation mode. Parameters and buffers are kept
 * out of scopes and freed only by `dispose()`.
 */
export abstract class Module {
  /** training mode: Dropout drops, BatchNorm uses batch statistics */
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  protected readonly children = new Map<string, Module>();

  /** y = module(x). Tensors made along the way belong to the caller's scope. */
  abstract forward(x: Tensor): Tensor;

  /** Shape of forward's result for an input of `shape` (no GPU work; throws on a mismatch). */
  abstract outputShape(shape: Shape): Shape;

  /** A short description, e.g. "Conv2d(1→32, 3x3, same)". */
  abstract toString(): string;

  /** One line for error messages (containers, whose toString lists every layer, shorten it). */
  brief(): string {
    return this.toString();
  }

  /** This layer as a ModelSpec layer (src/nn/spec.ts); layers it cannot describe throw. */
  toSpec(): LayerSpec | ModelSpec {
    throw new Error(`${this} has no ModelSpec layer type`);
  }

  /** This module as a layer of an enclosing network's spec (a Sequential: a 'sequential' layer). */
  layerSpec(): LayerSpec {
    return this.toSpec() as LayerSpec;
  }

  /** Children by name, in order. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /**
   * A plain container of named layers (Sequential): a Residual whose body it is takes its
   * children as its own, so names come out as torchvision's BasicBlock ("conv1", not "body.conv1").
   */
  get isContainer(): boolean {
    return false;
  }

  protected addParameter(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this.params.set(name, keep(t));
    return t;
  }

  protected addBuffer(name: string, t: Tensor): Tensor {
    this.buffers.set(name, keep(t));
    return t;
  }

  protected addChild(name: string, m: Module): Module {
    this.children.set(name, m);
    return m;
  }

  /** Trainable tensors, depth first, in a stable order. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.params) out.push([prefix + n, t]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** Non-trainable state saved with the model (BatchNorm running statistics). */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.buffers) out.push([prefix + n, t]);
    for (const [n, c] of this.children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** This module and every descendant, depth first, with their paths ('' for this one, then "0", "0.1", ...). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [n, c] of this.children) out.push(...c.namedModules(`${prefix}${n}.`));
    return out;
  }

  /** Parameters and buffers by name: what a model file stores (a training checkpoint adds optimizer and RNG state). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Overwrite parameters and buffers from host data by name (e.g. a decoded model file).
   * Strict: every name must be present with the same shape and as many numbers, and no unknown
   * names are allowed. One exception, as in PyTorch: a BatchNorm's `num_batches_tracked` missing
   * from files written before it existed reads as 0. All or nothing: every entry is checked
   * before the first write, so a rejected state leaves the model untouched.
   */
  loadStateDict(state: Map<string, HostArray> | Record<string, HostArray>): void {
    const where = 'loadStateDict';
    if (state === null || typeof state !== 'object')
      throw new TypeError(
        `webgpu-cnn: ${where}: 'state' must be a Map or an object of {shape, data}, got ${describe(state)}`,
      );
    const src = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    for (const k of src.keys())
      if (!own.has(k))
        throw new RangeError(`webgpu-cnn: ${where}: unknown tensor '${k}' (model has: ${[...own.keys()].join(', ')})`);
    for (const [k, t] of own) {
      const h = src.get(k);
      if (!h && /(^|\.)num_batches_tracked$/.test(k)) continue; // older files: written as 0 below
      if (!h) throw new RangeError(`webgpu-cnn: ${where}: '${k}' ${shapeStr(t.shape)} is missing`);
      if (typeof h !== 'object' || (!Array.isArray(h.shape) && !ArrayBuffer.isView(h.shape)))
        throw new TypeError(`webgpu-cnn: ${where}: '${k}' must be {shape, data}, got ${describe(h)}`);
      if (h.shape.length !== t.shape.length || h.shape.some((d, i) => d !== t.shape[i]))
        throw new RangeError(
          `webgpu-cnn: ${where}: '${k}' has shape ${shapeStr(h.shape)}, the model needs ${shapeStr(t.shape)}`,
        );
      const n = checkHostData(where, `${k}.data`, h.data, t.dtype);
      if (n !== t.size)
        throw new RangeError(
          `webgpu-cnn: ${where}: '${k}' ${shapeStr(t.shape)} needs ${t.size} numbers, data has ${n}`,
        );
    }
    for (const [k, t] of own) writeHost(t, src.get(k)?.data ?? new Float32Array(t.size), where, `${k}.data`);
  }

  /** Set training mode (default) or evaluation mode, recursively. */
  train(on = true): this {
    this.training = on;
    for (const c of this.children.values()) c.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.parameters().reduce((s, t) => s + t.size, 0);
  }

  /** Free every parameter and buffer (recursively). */
  dispose(): void {
    for (const t of this.params.values()) t.dispose();
    for (const t of this.buffers.values()) t.dispose();
    for (const c of this.children.values()) c.dispose();
  }
}
