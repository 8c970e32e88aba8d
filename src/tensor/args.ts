// Argument checks at the public boundary that do not need a tensor: host data (numbers in the
// dtype's range), options objects (no unknown keys) and a printable form of any value.
//
// RULE (what is validated where): a public function checks every argument it is given before
// it allocates, writes or records anything, and its errors name that public function (`where`),
// never an internal helper it calls. Internal helpers (empty, Tensor.write) take the caller's
// name for that reason. Errors are TypeError (wrong kind of value) or RangeError (right kind,
// out of range), with messages "webgpu-cnn: <function>: '<argument>' must be ..., got ...".

/** The tensor element types (the same union as tensor.ts DType; kept here to avoid an import cycle). */
type DType = 'f32' | 'i32' | 'u32';

/** A short printable form of any value for error messages (never throws). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of length ${(v as unknown as ArrayLike<number>).length}`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
  if (typeof v === 'function') return 'a function';
  return `${typeof v} ${String(v)}`;
}

/**
 * Refuse keys of an options object that `allowed` does not list (a misspelt `strides` would
 * otherwise be ignored silently), and anything that is not a plain object. `undefined` is
 * accepted (no options).
 */
export function checkOptions(where: string, arg: string, opts: unknown, allowed: readonly string[]): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts))
    throw new TypeError(`webgpu-cnn: ${where}: '${arg}' must be an options object, got ${describe(opts)}`);
  for (const k of Object.keys(opts))
    if (!allowed.includes(k))
      throw new TypeError(
        `webgpu-cnn: ${where}: unknown option '${k}' in '${arg}' (known: ${allowed.join(', ') || 'none'})`,
      );
}

/**
 * The keys of an options type T, as the list `checkOptions` takes. Written as an object with
 * every key of T (`optionKeys<Conv2dOptions>({ stride: true, ... })`), so that an option added
 * to T and not to the list is a compile error, never an option refused as unknown.
 */
export function optionKeys<T>(keys: Record<keyof T, true>): string[] {
  return Object.keys(keys);
}

const INT_RANGE: Record<DType, [number, number] | null> = {
  f32: null,
  i32: [-(2 ** 31), 2 ** 31 - 1],
  u32: [0, 2 ** 32 - 1],
};

/** Element `i` of host data, checked: a number, and for integer dtypes an integer in range. */
function badElement(where: string, arg: string, v: unknown, i: number, dtype: DType): Error | null {
  if (typeof v !== 'number')
    return new TypeError(`webgpu-cnn: ${where}: '${arg}' must hold numbers, element ${i} is ${describe(v)}`);
  const r = INT_RANGE[dtype];
  if (r && !(Number.isInteger(v) && v >= r[0] && v <= r[1]))
    return new RangeError(
      `webgpu-cnn: ${where}: '${arg}' must hold integers in [${r[0]}, ${r[1]}] for dtype ${dtype}, element ${i} is ${v}`,
    );
  return null;
}

/** True when every value a typed array can hold fits `dtype` without a check per element. */
function fitsWithoutCheck(data: ArrayBufferView, dtype: DType): boolean {
  if (dtype === 'f32') return !(data instanceof BigInt64Array || data instanceof BigUint64Array);
  if (dtype === 'i32') return data instanceof Int32Array || data instanceof Int16Array || data instanceof Int8Array;
  return data instanceof Uint32Array || data instanceof Uint16Array || data instanceof Uint8Array;
}

/**
 * Host data for a tensor of `dtype`, validated: a typed array or an array of numbers (not
 * strings, objects, null or nested arrays: `tensor` flattens those itself), with integers in
 * range for i32/u32 (no silent wrapping of -1 or truncation of 2.7). Returns the length.
 */
export function checkHostData(where: string, arg: string, data: unknown, dtype: DType): number {
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    if (data instanceof BigInt64Array || data instanceof BigUint64Array)
      throw new TypeError(`webgpu-cnn: ${where}: '${arg}' must hold numbers, got a ${data.constructor.name}`);
    const a = data as unknown as ArrayLike<number>;
    if (!fitsWithoutCheck(data, dtype))
      for (let i = 0; i < a.length; i++) {
        const e = badElement(where, arg, a[i], i, dtype);
        if (e) throw e;
      }
    return a.length;
  }
  if (!Array.isArray(data))
    throw new TypeError(
      `webgpu-cnn: ${where}: '${arg}' must be an array of numbers or a typed array, got ${describe(data)}`,
    );
  for (let i = 0; i < data.length; i++) {
    const e = badElement(where, arg, data[i], i, dtype);
    if (e) throw e;
  }
  return data.length;
}

/** The most nested levels `tensor()` flattens (and the deepest rank it infers). */
export const MAX_NESTING = 32;

/**
 * Flatten a nested array of numbers (`[[1,2],[3,4]]`) into a flat list and its shape. Rows
 * must be rectangular; at most MAX_NESTING levels (no recursion: iterative).
 */
export function flattenNested(where: string, arg: string, data: unknown[]): { flat: unknown[]; shape: number[] } {
  const shape: number[] = [];
  let level: unknown[] = data;
  for (;;) {
    shape.push(level.length);
    if (shape.length > MAX_NESTING)
      throw new RangeError(`webgpu-cnn: ${where}: '${arg}' is nested more than ${MAX_NESTING} levels deep`);
    if (level.length === 0 || !Array.isArray(level[0])) break;
    level = level[0] as unknown[];
  }
  let cur: unknown[] = data;
  for (let d = 0; d < shape.length - 1; d++) {
    const next: unknown[] = [];
    for (let i = 0; i < cur.length; i++) {
      const row = cur[i];
      if (!Array.isArray(row) || row.length !== shape[d + 1])
        throw new RangeError(
          `webgpu-cnn: ${where}: '${arg}' must be a rectangular nested array of shape [${shape.join(',')}], ` +
            `got ${describe(row)} at depth ${d + 1}`,
        );
      for (const x of row) next.push(x);
    }
    cur = next;
  }
  for (let i = 0; i < cur.length; i++)
    if (Array.isArray(cur[i]))
      throw new RangeError(
        `webgpu-cnn: ${where}: '${arg}' must be a rectangular nested array of shape [${shape.join(',')}], ` +
          `got a deeper array at element ${i}`,
      );
  return { flat: cur, shape };
}
