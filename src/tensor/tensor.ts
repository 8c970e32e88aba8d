// GPU-resident tensors. A Tensor owns one pooled GPU buffer until `dispose()`; its data never
// leaves the GPU except through `await t.read()`. Tensors are immutable from the API's point of
// view: ops write only into tensors they create (the optimizer's in-place updates are the one
// documented exception, see src/optim).
//
// Not here: the ops (src/ops) and autograd (src/autograd). The fields `requiresGrad`, `grad`
// and `node` are only carried here for the autograd tape.

import { engine, type Engine } from '../runtime/engine.js';
import { OutOfMemoryError, type PooledBuffer } from '../runtime/pool.js';
import { track } from './scope.js';
import { checkHostData, describe, flattenNested } from './args.js';

/** Element types. f16 is planned: it would add 'f16' here and a storage path in the kernels. */
export type DType = 'f32' | 'i32' | 'u32';
/** A tensor shape: one non-negative integer per dimension, outermost first (row-major; images are NHWC). */
export type Shape = readonly number[];
export type TypedArrayFor<D extends DType> = D extends 'f32'
  ? Float32Array
  : D extends 'i32'
    ? Int32Array
    : Uint32Array;

export const BYTES_PER_ELEMENT: Record<DType, number> = { f32: 4, i32: 4, u32: 4 };

/** Number of elements of a tensor of shape `shape` (the product of its dimensions; 1 for `[]`). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

export function checkShape(shape: Shape, where: string): void {
  const list = Array.isArray(shape) || ArrayBuffer.isView(shape) ? Array.from(shape as ArrayLike<number>) : null;
  if (!list?.every((d) => Number.isInteger(d) && d >= 0))
    throw new TypeError(
      `webgpu-cnn: ${where}: 'shape' must be a list of integers >= 0, got ${list ? shapeStr(list) : describe(shape)}`,
    );
}

export function checkDType(dtype: unknown, where: string): DType {
  if (typeof dtype !== 'string' || !Object.hasOwn(BYTES_PER_ELEMENT, dtype))
    throw new TypeError(`webgpu-cnn: ${where}: 'dtype' must be 'f32', 'i32' or 'u32', got ${JSON.stringify(dtype)}`);
  return dtype as DType;
}

let nextTensorId = 1;

/**
 * An n-dimensional array in a GPU buffer (row-major, dtype f32, i32 or u32). Ops record GPU work and
 * return new tensors without waiting; `read()` is the only readback. Free it with `dispose()` or a
 * {@link scope}.
 */
export class Tensor {
  readonly id = nextTensorId++;
  readonly size: number;
  readonly engine: Engine;
  private _buf: PooledBuffer | null;
  /** autograd: gradients flow to this tensor */
  requiresGrad = false;
  /** autograd: accumulated gradient (owned by this tensor) */
  grad: Tensor | null = null;
  /** autograd: the tape node that produced this tensor, if any */
  node: unknown = null;
  /** a name for errors and debug output (parameters get theirs from their layer) */
  name?: string;

  /** Allocates an *uninitialised* tensor (ops fill it). Use the factory functions instead. */
  constructor(
    readonly shape: Shape,
    readonly dtype: DType = 'f32',
    eng: Engine = engine(),
  ) {
    checkShape(shape, 'Tensor');
    checkDType(dtype, 'Tensor');
    eng.checkAlive('Tensor');
    this.shape = [...shape];
    this.size = sizeOf(shape);
    const bytes = this.size * BYTES_PER_ELEMENT[dtype];
    if (bytes > eng.maxBindingBytes)
      throw new RangeError(
        `webgpu-cnn: tensor ${shapeStr(shape)} ${dtype} needs ${bytes} bytes, more than this device's ` +
          `maxStorageBufferBindingSize (${eng.maxBindingBytes}); use a smaller batch`,
      );
    this.engine = eng;
    try {
      this._buf = eng.pool.acquire(Math.max(bytes, 4));
    } catch (e) {
      if (e instanceof OutOfMemoryError)
        throw new OutOfMemoryError(
          `${e.message} (allocating tensor ${shapeStr(shape)} ${dtype}; nothing else was changed)`,
        );
      throw e;
    }
    eng.liveTensors++;
    if (dtype === 'f32') eng.numerics.sizes.set(this._buf.id, this.size);
    track(this);
  }

  get byteLength(): number {
    return this.size * BYTES_PER_ELEMENT[this.dtype];
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this._buf === null;
  }

  /** The GPU buffer (throws if disposed). Ops use this; applications rarely need it. */
  get buffer(): PooledBuffer {
    if (!this._buf)
      throw new Error(`webgpu-cnn: tensor ${this.name ?? this.id} ${shapeStr(this.shape)} was used after dispose()`);
    return this._buf;
  }

  /** Copy the data back to the host. The only readback; it submits pending GPU work. */
  async read(): Promise<TypedArrayFor<this['dtype']>> {
    const buf = this.buffer;
    this.engine.checkAlive('read');
    const ab = await this.engine.queue.read(buf, this.byteLength);
    const C = this.dtype === 'f32' ? Float32Array : this.dtype === 'i32' ? Int32Array : Uint32Array;
    return new C(ab) as TypedArrayFor<this['dtype']>;
  }

  /** Overwrite the contents from the host (flushes recorded work that may read this tensor). */
  write(data: ArrayLike<number>): void {
    writeHost(this, data, 'Tensor.write', 'data');
  }

  /** Free the GPU buffer (returned to the pool; reusable after the next submit). Idempotent. */
  dispose(): void {
    if (!this._buf) return;
    this.engine.numerics.sizes.delete(this._buf.id);
    this.engine.pool.release(this._buf);
    this._buf = null;
    this.engine.liveTensors--;
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
    this.node = null;
  }

  toString(): string {
    return `Tensor(${shapeStr(this.shape)}, ${this.dtype}${this.name ? `, ${this.name}` : ''})`;
  }
}

export function toTyped(data: ArrayLike<number>, dtype: DType): Float32Array | Int32Array | Uint32Array {
  if (dtype === 'f32') return data instanceof Float32Array ? data : Float32Array.from(data);
  if (dtype === 'i32') return data instanceof Int32Array ? data : Int32Array.from(data);
  return data instanceof Uint32Array ? data : Uint32Array.from(data);
}

/**
 * Host write into `t` on behalf of the public function `where` (its errors name that function
 * and `arg`): checks the data (numbers in t's dtype range, t's length) before writing anything.
 */
export function writeHost(t: Tensor, data: unknown, where: string, arg = 'data'): void {
  if (!(t instanceof Tensor)) throw new TypeError(`webgpu-cnn: ${where}: target must be a Tensor, got ${describe(t)}`);
  t.engine.checkAlive(where);
  if (t.disposed) throw new Error(`webgpu-cnn: ${where}: tensor ${shapeStr(t.shape)} was already disposed`);
  const n = checkHostData(where, arg, data, t.dtype);
  if (n !== t.size)
    throw new RangeError(`webgpu-cnn: ${where}: tensor ${shapeStr(t.shape)} has ${t.size} elements, '${arg}' has ${n}`);
  t.engine.queue.write(t.buffer, toTyped(data as ArrayLike<number>, t.dtype));
}

/**
 * A tensor holding a copy of `data` (host write into a fresh buffer: no flush needed). `data`
 * is a typed array, an array of numbers, or a rectangular nested array (`[[1,2],[3,4]]`, whose
 * shape is inferred when `shape` is not given). Numbers must fit the dtype: integers in range
 * for i32/u32.
 */
export function tensor(data: ArrayLike<number> | readonly unknown[], shape?: Shape, dtype: DType = 'f32'): Tensor {
  let flat: unknown = data;
  let inferred: Shape | undefined;
  if (Array.isArray(data) && data.length > 0 && Array.isArray(data[0]))
    ({ flat, shape: inferred } = flattenNested('tensor', 'data', data));
  if (shape !== undefined) checkShape(shape, 'tensor');
  checkDType(dtype, 'tensor');
  const n = checkHostData('tensor', 'data', flat, dtype);
  const s = shape ?? inferred ?? [n];
  if (sizeOf(s) !== n)
    throw new RangeError(`webgpu-cnn: tensor: shape ${shapeStr(s)} holds ${sizeOf(s)} elements, data has ${n}`);
  const t = allocate(s, dtype, 'tensor');
  if (t.size > 0) t.engine.queue.writeFresh(t.buffer, toTyped(flat as ArrayLike<number>, dtype));
  return t;
}

/** An uninitialised tensor, for op outputs that a kernel fully overwrites. */
export function empty(shape: Shape, dtype: DType = 'f32'): Tensor {
  checkShape(shape, 'empty');
  checkDType(dtype, 'empty');
  return new Tensor(shape, dtype);
}

/** `empty` on behalf of the public function `where` (its errors, out of memory included, name it). */
export function allocate(shape: Shape, dtype: DType, where: string): Tensor {
  checkShape(shape, where);
  checkDType(dtype, where);
  try {
    return new Tensor(shape, dtype);
  } catch (e) {
    // out of memory, or larger than a binding: say which public function was allocating
    if (e instanceof Error && !e.message.includes(`(in ${where}`)) e.message += ` (in ${where})`;
    throw e;
  }
}
