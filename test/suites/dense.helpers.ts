// Helpers shared by the dense-op suites (matmul, activations, elementwise, reduce, loss). Not a
// suite itself (the runners load *.suite.ts only).

import { assertClose, randomArray } from '../harness/assert.js';
import { dot, numericGrad } from '../harness/fd.js';
import { beginTape, endTape, type TapeNode } from '../../src/autograd/tape.js';
import { tensor, type Shape, type Tensor } from '../../src/tensor/tensor.js';

/** float32 unit roundoff */
export const U32 = 2 ** -24;

/**
 * Tolerances for comparing a float64 reference to its float64 finite-difference gradient:
 * central differences with h = 1e-6 have truncation error ~h^2 |f'''| ~ 1e-12 and rounding
 * error ~ 1e-16 |f| / h ~ 1e-9 for our |f| < 100, so 1e-6 absolute leaves a wide margin while
 * still catching any wrong term (errors of a wrong rule are O(1)).
 */
export const FD_TOL = { atol: 1e-6, rtol: 1e-5 };

/**
 * Check a float64 reference gradient: `analytic` must equal d/dx of sum(w * f(x)) for a fixed
 * random weighting w (so every output element's sensitivity is exercised).
 */
export function checkFd(
  label: string,
  f: (x: Float64Array) => ArrayLike<number>,
  x: ArrayLike<number>,
  analytic: (w: Float64Array) => ArrayLike<number>,
  outSize: number,
  seed = 99,
): void {
  const w = Float64Array.from(randomArray(outSize, seed));
  const num = numericGrad((xx) => dot(f(xx), w), x);
  assertClose(`${label} (reference vs finite differences)`, analytic(w), num, FD_TOL);
}

/** A random f32 tensor and its data. */
export function rand(shape: Shape, seed: number, lo = -1, hi = 1): { t: Tensor; d: Float32Array } {
  const d = randomArray(
    shape.reduce((a, b) => a * b, 1),
    seed,
    lo,
    hi,
  );
  return { t: tensor(d, shape), d };
}

/**
 * Run one differentiable op on a tape and apply its backward rule to `gy`: returns the output and
 * the gradient for each of `inputs` (null where the rule gives none). Exercises the rule exactly
 * as the tape walk does, without needing the full autograd engine.
 */
export function viaTape(fn: () => Tensor, inputs: Tensor[], gy: Tensor): { y: Tensor; grads: (Tensor | null)[] } {
  for (const t of inputs) t.requiresGrad = true;
  const prev = beginTape();
  let y: Tensor;
  let tape: TapeNode[];
  try {
    y = fn();
  } finally {
    tape = endTape(prev);
    for (const t of inputs) t.requiresGrad = false;
  }
  const node = tape.find((n) => n.outputs.includes(y));
  if (!node) throw new Error('viaTape: the op recorded no tape node for its output');
  for (const t of inputs) t.requiresGrad = true; // rules check which inputs want gradients
  const gxs = node.backward([gy]);
  for (const t of inputs) t.requiresGrad = false;
  y.node = null;
  y.requiresGrad = false;
  return {
    y,
    grads: inputs.map((t) => {
      const i = node.inputs.indexOf(t);
      return i >= 0 ? gxs[i] : null;
    }),
  };
}

/** Dispose every tensor in a (nested) list. */
export function disposeAll(...ts: (Tensor | null | undefined | (Tensor | null | undefined)[])[]): void {
  for (const t of ts.flat()) t?.dispose();
}

/** Largest |value| of an array. */
export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

/** Elementwise |x| in float64. */
export const absOf = (x: ArrayLike<number>): Float64Array => Float64Array.from(x, Math.abs);
