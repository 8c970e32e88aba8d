// Reverse-mode gradients: run a function on a fresh tape, walk the tape backwards, return the
// gradients of the chosen parameters. Everything else the walk made is disposed.
//
// Rules (tested in test/suites/autograd.suite.ts):
// - Gradients ADD: a tensor used by several ops (or twice by one op) receives the sum of the
//   gradients flowing back along each use.
// - `valueAndGrad` returns fresh gradient tensors owned by the caller; it never touches `p.grad`.
//   `computeGradients` stores them in `p.grad`: by default REPLACING the previous gradient
//   (which is disposed), or adding to it with `{ accumulate: true }` (gradient accumulation
//   over micro-batches).
// - Every intermediate is disposed before returning: forward activations, tensors saved by
//   backward rules, intermediate gradients. Only `value` and the gradients survive.
// - Nothing is read back: the whole forward + backward is recorded into the open encoder.
// - A parameter the value does not depend on gets a zero gradient (not null), so optimizers
//   can treat every parameter alike.
//
// Not here: the per-op backward rules (they live beside each op in src/ops, recorded through
// tape.ts) and graph capture of whole training steps (capture.ts).

import { Tensor, shapeStr } from '../tensor/tensor.js';
import { startScope, endScope, keep } from '../tensor/scope.js';
import { add, full, scale } from '../ops/elementwise.js';
import { beginTape, endTape, setBackwardParams, type TapeNode } from './tape.js';
import { withContext } from '../ops/check.js';
import { checkOptions, describe, optionKeys } from '../tensor/args.js';

/** Result of {@link valueAndGrad}: the value of the function and one gradient per parameter, in `params` order. */
export interface ValueAndGrad {
  value: Tensor;
  grads: Tensor[];
}

/**
 * Evaluate `fn` and the gradients of its result with respect to `params`. A non-scalar result is
 * treated as `sum(result)` (its seed gradient is all ones).
 */
export function valueAndGrad(fn: () => Tensor, params: readonly Tensor[]): ValueAndGrad {
  checkGradArgs('valueAndGrad', fn, params);
  for (const [i, p] of params.entries())
    if (!(p instanceof Tensor) || p.disposed)
      throw new TypeError(`webgpu-cnn: valueAndGrad: params[${i}] must be a live Tensor`);
  const saved = params.map((p) => p.requiresGrad);
  for (const p of params) p.requiresGrad = true;
  startScope();
  const prevTape = beginTape();
  let tape: TapeNode[] = [];
  let result: ValueAndGrad | undefined;
  try {
    let value: Tensor;
    try {
      value = fn();
    } finally {
      tape = endTape(prevTape);
    }
    if (!(value instanceof Tensor)) throw new TypeError('webgpu-cnn: valueAndGrad: fn must return a Tensor');
    if (value.dtype !== 'f32')
      throw new TypeError(`webgpu-cnn: valueAndGrad: fn must return an f32 tensor, got ${value.dtype}`);
    setBackwardParams(new Set(params));
    let grads: Tensor[];
    try {
      grads = backprop(tape, value, params);
    } finally {
      setBackwardParams(null);
    }
    result = { value, grads };
    return result;
  } finally {
    // Detach the graph: outputs drop their nodes so the closures (and what they saved) can go.
    for (const n of tape) for (const o of n.outputs) o.node = null;
    params.forEach((p, i) => (p.requiresGrad = saved[i]));
    if (result) result.value.requiresGrad = false;
    endScope(result);
  }
}

/** `fn` a function and `params` an array (each element is checked by the caller). */
export function checkGradArgs(where: string, fn: unknown, params: unknown): void {
  if (typeof fn !== 'function')
    throw new TypeError(`webgpu-cnn: ${where}: 'fn' must be a function returning a Tensor, got ${describe(fn)}`);
  if (!Array.isArray(params))
    throw new TypeError(`webgpu-cnn: ${where}: 'params' must be an array of Tensors, got ${describe(params)}`);
}

/** Walk `tape` from `value` back to `params`; returns one gradient per parameter. */
function backprop(tape: TapeNode[], value: Tensor, params: readonly Tensor[]): Tensor[] {
  // Gradients by tensor, each owned by this map until it is consumed by its producer's rule.
  const grads = new Map<Tensor, Tensor>();
  const isParam = new Set(params);
  grads.set(value, full(value.shape, 1));
  const accumulate = (t: Tensor, g: Tensor, op: string) => {
    if (g.shape.length !== t.shape.length || g.shape.some((d, i) => d !== t.shape[i]))
      throw new Error(
        `webgpu-cnn: backward of '${op}' returned a gradient of shape ${shapeStr(g.shape)} for an input of shape ${shapeStr(t.shape)}`,
      );
    const prev = grads.get(t);
    if (!prev) return void grads.set(t, g);
    grads.set(t, add(prev, g));
    prev.dispose();
    g.dispose();
  };
  for (let k = tape.length - 1; k >= 0; k--) {
    const node = tape[k];
    const gys = node.outputs.map((o) => grads.get(o) ?? null);
    if (gys.every((g) => g === null)) continue;
    let gxs: (Tensor | null)[];
    try {
      gxs = node.backward(gys);
    } catch (e) {
      throw withContext(e, `in the backward pass of '${node.op}' with output ${shapeStr(node.outputs[0].shape)}`);
    }
    if (gxs.length !== node.inputs.length)
      throw new Error(
        `webgpu-cnn: backward of '${node.op}' returned ${gxs.length} gradients for ${node.inputs.length} inputs`,
      );
    // A rule may hand back one of its incoming gradients (identity) or the same tensor for two
    // inputs. The first use takes the tensor over; further uses get a copy, so every gradient
    // has a single owner. Copies are made before any accumulation can dispose the original.
    const taken = new Set<Tensor>();
    const assign: [Tensor, Tensor][] = [];
    node.inputs.forEach((x, i) => {
      const g = gxs[i];
      if (!g || !x.requiresGrad) return;
      if (taken.has(g)) assign.push([x, scale(g, 1)]);
      else {
        taken.add(g);
        assign.push([x, g]);
      }
    });
    const incoming = new Set(gys.filter((g): g is Tensor => g !== null));
    for (const g of new Set(gxs)) if (g && !taken.has(g) && !incoming.has(g)) g.dispose(); // unused
    for (const [x, g] of assign) accumulate(x, g, node.op);
    // The outputs' gradients are consumed: free them unless handed on above.
    for (const o of node.outputs) {
      const g = grads.get(o);
      if (g && !isParam.has(o)) {
        if (!taken.has(g)) g.dispose();
        grads.delete(o);
      }
    }
  }
  return params.map((p) => grads.get(p) ?? full(p.shape, 0));
}

/** Options of {@link computeGradients}. */
export interface ComputeGradientsOptions {
  /** add to existing `p.grad` instead of replacing it (default false: replace) */
  accumulate?: boolean;
}

/**
 * Run `fn`, store d fn / d p in `p.grad` for every parameter, and return the value.
 * Default: each call REPLACES `p.grad` (the old gradient is disposed); `{ accumulate: true }`
 * adds to it. Gradients are owned by their parameter (disposed with it).
 */
export function computeGradients(
  fn: () => Tensor,
  params: readonly Tensor[],
  opts: ComputeGradientsOptions = {},
): Tensor {
  checkGradArgs('computeGradients', fn, params);
  checkOptions('computeGradients', 'opts', opts, optionKeys<ComputeGradientsOptions>({ accumulate: true }));
  const { value, grads } = valueAndGrad(fn, params);
  params.forEach((p, i) => {
    const g = grads[i];
    const old = p.grad;
    if (opts.accumulate && old) {
      p.grad = add(old, g);
      g.dispose();
    } else p.grad = g;
    old?.dispose();
    keep(p.grad); // owned by its parameter, not by an open scope
  });
  return value;
}
