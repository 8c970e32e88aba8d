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
}

let tape: TapeNode[] | null = null;

export function isRecording(): boolean {
  return tape !== null;
}

/** True when recording and some input carries gradient. */
export function needsGrad(inputs: readonly (Tensor | null | undefined)[]): boolean {
  if (!tape) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

export function record(op: string, inputs: Tensor[], outputs: Tensor[], backward: TapeNode['backward']): void {
  if (!tape) return;
  const node: TapeNode = { op, inputs, outputs, backward };
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
