// Reverse-mode autograd over GPU tensors: a tape of op records.
//
// Contract for op authors (src/ops/*.ts): after computing outputs, call
//   if (needsGrad(inputs)) record(opName, inputs, outputs, (gys) => [dInput0, dInput1, ...]);
// `backward` receives one gradient per output (null if that output got none) and returns one
// gradient per input (null where the input needs none). It may use any tensor it captured;
// those stay alive because valueAndGrad keeps forward intermediates until backward is done.
// Gradients returned by `backward` are new tensors owned by the tape walk.
//
// Nothing is recorded outside `valueAndGrad` (see grad.ts), so inference pays nothing.

import type { Tensor } from '../tensor/tensor.js';

export interface TapeNode {
  op: string;
  inputs: Tensor[];
  outputs: Tensor[];
  backward: (gys: (Tensor | null)[]) => (Tensor | null)[];
  /** the outputs went through a fused ReLU, and the rule masks their gradient by (y > 0) */
  reluOutputs?: boolean;
}

let tape: TapeNode[] | null = null;

export function isRecording(): boolean {
  return tape !== null;
}

/** True when recording and some input carries gradient. */
export function needsGrad(inputs: readonly (Tensor | null | undefined)[]): boolean {
  if (!tape) return false;
  for (const t of inputs) if (t?.requiresGrad) return true;
  return false;
}

export function record(
  op: string,
  inputs: Tensor[],
  outputs: Tensor[],
  backward: TapeNode['backward'],
  opts: { reluOutputs?: boolean } = {},
): void {
  if (!tape) return;
  const node: TapeNode = { op, inputs, outputs, backward, reluOutputs: opts.reluOutputs };
  for (const o of outputs) {
    o.requiresGrad = true;
    o.node = node;
  }
  tape.push(node);
}

/** Start a fresh tape; returns the previous one (tapes nest only by saving and restoring). */
export function beginTape(): TapeNode[] | null {
  const prev = tape;
  tape = [];
  return prev;
}

export function endTape(prev: TapeNode[] | null): TapeNode[] {
  const t = tape ?? [];
  tape = prev;
  return t;
}

// ---- Pre-masked gradients (ReLU backward folded into the consumer's backward kernel) ----
//
// An op with a fused ReLU masks its incoming gradient by y > 0 before its own backward
// kernels; conv2d records that (`reluOutputs`) and honours a mark (matmul with `relu` does
// neither: no consumer that could pre-mask follows a dense layer). A consumer of y whose backward kernel can apply that mask
// for free (max pooling: the mask at the winning cell is pooled-output > 0) may do so, and
// marks its gradient with markReluMasked(g, y); the producer then skips its mask pass.
// Correctness: masking is linear and idempotent, so a pre-masked gradient that is summed
// with others (several consumers) is masked again by the producer with the same result; the
// sum carries no mark. The one place an unmasked gradient of y is observable is when y is a
// parameter of the running backward pass (its gradient is returned): canPremask refuses that.

const masked = new WeakMap<Tensor, Tensor>();
let backwardParams: ReadonlySet<Tensor> | null = null;

/** Set by the backward walk (grad.ts) while it runs: the tensors whose gradients it returns. */
export function setBackwardParams(p: ReadonlySet<Tensor> | null): void {
  backwardParams = p;
}

/** May a rule hand back, for its input y, the gradient already masked by y > 0? */
export function canPremask(y: Tensor): boolean {
  const node = y.node as TapeNode | null;
  return !!node?.reluOutputs && !backwardParams?.has(y);
}

export function markReluMasked(g: Tensor, y: Tensor): void {
  masked.set(g, y);
}

/** Is g a gradient of y already masked by y > 0 (see markReluMasked)? */
export function isReluMasked(g: Tensor, y: Tensor): boolean {
  return masked.get(g) === y;
}
