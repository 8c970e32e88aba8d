// Argument checks shared by ops: every error names the op, the argument, what was expected
// and what was given.

import { Tensor, allocate, shapeStr, type DType, type Shape } from '../tensor/tensor.js';
import { endScope, startScope } from '../tensor/scope.js';
import { describe } from '../tensor/args.js';

export { describe, checkOptions, optionKeys } from '../tensor/args.js';

export function checkTensor(op: string, arg: string, t: unknown, dtype?: DType, rank?: number): Tensor {
  if (!(t instanceof Tensor))
    throw new TypeError(`webgpu-cnn: ${op}: argument '${arg}' must be a Tensor, got ${describe(t)}`);
  if (t.disposed) throw new TypeError(`webgpu-cnn: ${op}: argument '${arg}' ${shapeStr(t.shape)} was already disposed`);
  t.engine.checkAlive(op);
  if (dtype && t.dtype !== dtype)
    throw new TypeError(`webgpu-cnn: ${op}: argument '${arg}' must be ${dtype}, got ${t.dtype}`);
  if (rank !== undefined && t.rank !== rank)
    throw new RangeError(`webgpu-cnn: ${op}: argument '${arg}' must have rank ${rank}, got shape ${shapeStr(t.shape)}`);
  return t;
}

export function checkSameShape(op: string, a: Tensor, b: Tensor, an = 'a', bn = 'b'): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]))
    throw new RangeError(
      `webgpu-cnn: ${op}: '${an}' ${shapeStr(a.shape)} and '${bn}' ${shapeStr(b.shape)} must have the same shape`,
    );
}

export function checkNumber(op: string, arg: string, v: unknown, opts: { int?: boolean; min?: number } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new TypeError(`webgpu-cnn: ${op}: '${arg}' must be a finite number, got ${describe(v)}`);
  if (opts.int && !Number.isInteger(v)) throw new TypeError(`webgpu-cnn: ${op}: '${arg}' must be an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min)
    throw new RangeError(`webgpu-cnn: ${op}: '${arg}' must be >= ${opts.min}, got ${v}`);
  return v;
}

/**
 * Append where an error happened (a layer, a backward rule) to its message, keeping its class
 * (OutOfMemoryError stays one). Returns the error for `throw withContext(e, ...)`.
 */
export function withContext(e: unknown, context: string): unknown {
  if (e instanceof Error && !e.message.includes(context)) e.message += ` (${context})`;
  return e;
}

/** The output of `op`, allocated so that its errors (out of memory, too large) name the op. */
export function allocateFor(op: string, shape: Shape, dtype: DType = 'f32'): Tensor {
  try {
    return allocate(shape, dtype, op);
  } catch (e) {
    throw withContext(e, `in ${op}`);
  }
}

/**
 * Run the body of the public op `op` all or nothing: tensors it made before a failure (out of
 * memory half-way through a multi-kernel op) are disposed, and the error names the op. Its
 * result's tensors go to the caller's scope as usual.
 */
export function guarded<T>(op: string, fn: () => T): T {
  startScope();
  let r: T | undefined;
  try {
    r = fn();
    return r;
  } catch (e) {
    throw withContext(e, `in ${op}`);
  } finally {
    endScope(r);
  }
}
