// Errors and allocation checks shared by the file parsers (IDX, safetensors, model specs).
//
// Every rejection of malformed input is a FormatError whose message names the format and the
// problem. Parsers never let a RangeError/TypeError/SyntaxError from a typed-array constructor,
// DataView or JSON.parse escape: inputs are checked before those are reached.
//
// Allocation rule: a parser never allocates more elements than the input has bytes for; every
// sizeable allocation goes through `allocation()`, which enforces that and lets the fuzzer
// observe the ratio (scripts/fuzz.ts installs an observer).

/**
 * Thrown for malformed input by the file parsers (IDX, safetensors, model files and specs,
 * checkpoints, PyTorch state dicts, CIFAR-10); `format` names the format, the message the problem.
 */
export class FormatError extends Error {
  constructor(
    readonly format: string,
    message: string,
  ) {
    super(`webgpu-cnn: ${format}: ${message}`);
    this.name = 'FormatError';
  }
}

export type AllocationObserver = (format: string, bytes: number, inputBytes: number) => void;
let observer: AllocationObserver | null = null;

/** Install (or remove with null) a hook that sees every checked allocation. */
export function setAllocationObserver(f: AllocationObserver | null): void {
  observer = f;
}

/**
 * Declare an allocation of `bytes` made while parsing an input of `inputBytes`; throws a
 * FormatError if it is larger than `factor` times the input (factor > 1 only for documented
 * widening conversions, e.g. u8 -> f32 is 4).
 */
export function allocation(format: string, bytes: number, inputBytes: number, factor = 1): void {
  observer?.(format, bytes / factor, inputBytes);
  if (!(bytes <= inputBytes * factor))
    throw new FormatError(format, `refusing to allocate ${bytes} bytes for an input of ${inputBytes} bytes`);
}

/** A short printable form of a value from a file, for error messages (long input is cut). */
export function brief(v: unknown, max = 60): string {
  let s: string;
  try {
    s = v === undefined ? 'nothing' : (JSON.stringify(v) ?? String(v));
  } catch {
    // a cycle, a BigInt, or nesting too deep to print (String() would overflow the stack too)
    s = Array.isArray(v) ? `an array of length ${v.length}` : typeof v === 'object' && v ? 'an object' : typeof v;
  }
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/** Read a u8 array/ArrayBuffer/view as a Uint8Array view (no copy). */
export function asBytes(format: string, input: unknown): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new FormatError(
    format,
    `input must be an ArrayBuffer or a typed array, got ${input === null ? 'null' : typeof input}`,
  );
}

/** True on little-endian hosts (all mainstream ones); typed-array views are used only then. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
