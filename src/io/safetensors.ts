// safetensors (huggingface.co/docs/safetensors): read and write.
//   [8 bytes: u64 little-endian N][N bytes: JSON header][data]
//   header = { "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//              "__metadata__": {"<string>": "<string>"} }   (offsets relative to the data start)
// Data is little-endian, row-major. Our writer pads the header with spaces to a multiple of 8.
//
// Reading is zero-copy (each tensor is a byte view into the file) and strict: the header length
// is checked against the file size (and a 100 MB cap) before any decoding; the JSON must be an
// object without duplicate keys; every tensor needs a known dtype, a shape of non-negative
// integers, and offsets in range that match dtype size x element count; tensors must tile the
// data region exactly (sorted by offset: contiguous, non-overlapping, no gaps or trailing bytes).
// toFloat32() converts F32/F16/BF16/I32/U8 (and the other integer/float types) to f32.

import { allocation, asBytes, brief, FormatError, LITTLE_ENDIAN } from './errors.js';
import { parseJsonStrict } from './json.js';

/** Element types of the safetensors format (F = float, I = signed, U = unsigned integer; the number is bits). */
export type SafeDType =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

export const DTYPE_SIZE: Record<SafeDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};
/** dtypes of the format that this reader does not decode */
const UNSUPPORTED = new Set(['F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64']);

export const MAX_HEADER_BYTES = 100 * 1024 * 1024;
export const METADATA_KEY = '__metadata__';

/**
 * One tensor of a parsed safetensors file: its dtype, shape and raw little-endian bytes (a view into
 * the file's buffer; {@link toFloat32} converts).
 */
export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  /** little-endian bytes, a view into the file */
  bytes: Uint8Array;
}

/** A parsed safetensors file ({@link readSafetensors}): its tensors by name and its `__metadata__` strings. */
export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const fail = (msg: string): never => {
  throw new FormatError('safetensors', msg);
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse a safetensors file (see the file comment for what is checked). */
export function readSafetensors(
  input: ArrayBuffer | ArrayBufferView,
  opts: { maxHeaderBytes?: number } = {},
): SafetensorsFile {
  const bytes = asBytes('safetensors', input);
  const len = bytes.byteLength;
  const maxHeader = opts.maxHeaderBytes ?? MAX_HEADER_BYTES;
  if (len < 8) fail(`file is ${len} bytes, shorter than the 8-byte header length (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, len);
  const lo = view.getUint32(0, true),
    hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo; // exact below 2^53; only compared and printed beyond
  if (n > maxHeader) fail(`header length ${n} exceeds the limit of ${maxHeader} bytes (corrupt length field?)`);
  if (8 + n > len) fail(`header length ${n} but only ${len - 8} bytes follow the length field (truncated?)`);
  if (n < 2) fail(`header length ${n} is too short for a JSON object`);
  if (bytes[8] !== 0x7b) fail(`header must start with '{', got byte 0x${bytes[8].toString(16).padStart(2, '0')}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  const header = parseJsonStrict('safetensors', text, 'header');
  if (!isPlainObject(header)) return fail('header must be a JSON object');

  const dataStart = 8 + n,
    dataLen = len - dataStart;
  const tensors = new Map<string, SafeTensor>();
  const spans: { name: string; begin: number; end: number }[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      metadata = checkMetadata(info);
      continue;
    }
    const where = `tensor ${brief(name)}`;
    if (!isPlainObject(info)) fail(`${where}: entry must be an object`);
    const e = info as Record<string, unknown>;
    for (const k of Object.keys(e))
      if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') fail(`${where}: unknown field ${brief(k)}`);
    const dtype = e.dtype;
    if (typeof dtype !== 'string') return fail(`${where}: 'dtype' must be a string`);
    if (UNSUPPORTED.has(dtype)) fail(`${where}: dtype ${dtype} is not supported by this reader`);
    if (!Object.hasOwn(DTYPE_SIZE, dtype))
      fail(`${where}: unknown dtype ${brief(dtype)} (known: ${Object.keys(DTYPE_SIZE).join(', ')})`);
    const size = DTYPE_SIZE[dtype as SafeDType];
    if (!Array.isArray(e.shape)) return fail(`${where}: 'shape' must be an array`);
    for (const d of e.shape)
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
        fail(`${where}: shape entries must be integers >= 0, got ${brief(d)}`);
    let count = e.shape.includes(0) ? 0 : 1;
    for (const d of e.shape as number[]) {
      count *= d;
      if (count * size > dataLen)
        fail(`${where}: shape ${brief(e.shape)} needs more bytes than the ${dataLen} data bytes in the file`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2) return fail(`${where}: 'data_offsets' must be [begin, end]`);
    const [begin, end] = off as unknown[];
    if (
      typeof begin !== 'number' ||
      typeof end !== 'number' ||
      !Number.isSafeInteger(begin) ||
      !Number.isSafeInteger(end) ||
      begin < 0 ||
      end < begin
    )
      fail(`${where}: data_offsets must be integers 0 <= begin <= end, got ${brief(off)}`);
    if ((end as number) > dataLen)
      fail(`${where}: data_offsets end ${end} is past the ${dataLen} data bytes (truncated?)`);
    if ((end as number) - (begin as number) !== count * size)
      fail(
        `${where}: ${dtype} ${brief(e.shape)} needs ${count * size} bytes, data_offsets [${begin},${end}] span ${(end as number) - (begin as number)}`,
      );
    spans.push({ name, begin: begin as number, end: end as number });
    tensors.set(name, {
      dtype: dtype as SafeDType,
      shape: (e.shape as number[]).slice(),
      bytes: bytes.subarray(dataStart + (begin as number), dataStart + (end as number)),
    });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const s of spans) {
    if (s.begin < at)
      fail(`tensor ${brief(s.name)} [${s.begin},${s.end}] overlaps the previous tensor (ends at ${at})`);
    if (s.begin > at) fail(`gap in the data: bytes [${at},${s.begin}) belong to no tensor (before ${brief(s.name)})`);
    at = s.end;
  }
  if (at !== dataLen)
    fail(`${dataLen - at} trailing bytes after the last tensor (data is ${dataLen} bytes, tensors cover ${at})`);
  return { tensors, metadata };
}

function checkMetadata(v: unknown): Record<string, string> {
  if (!isPlainObject(v)) return fail(`'${METADATA_KEY}' must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string')
      fail(`'${METADATA_KEY}' values must be strings, ${brief(k)} is ${s === null ? 'null' : typeof s}`);
    out[k] = s as string;
  }
  return out;
}

/** Element count of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The tensor's values as f32. Exact for F32 (bit for bit, NaN payloads included), F16, BF16,
 * I8/I16/U8/U16/BOOL, and integers |x| <= 2^24; F64, I32/I64/U32/U64 beyond that round to
 * nearest f32.
 */
export function toFloat32(t: SafeTensor): Float32Array {
  const count = numel(t.shape);
  const size = DTYPE_SIZE[t.dtype];
  if (t.bytes.byteLength !== count * size)
    fail(`tensor of ${t.dtype} [${t.shape}] has ${t.bytes.byteLength} bytes, want ${count * size}`);
  allocation('safetensors', count * 4, t.bytes.byteLength, 4);
  // a copy of exactly these bytes: Uint8Array's slice, not the receiver's (a Node Buffer's
  // slice() is a view, whose .buffer would be the whole file)
  if (t.dtype === 'F32' && LITTLE_ENDIAN) return new Float32Array(Uint8Array.prototype.slice.call(t.bytes).buffer);
  const out = new Float32Array(count);
  const v = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = v.getFloat32(4 * i, true);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = v.getFloat64(8 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(v.getUint16(2 * i, true));
      break;
    case 'BF16': {
      const bits = new Uint32Array(out.buffer); // bf16 is the top half of an f32: exact
      for (let i = 0; i < count; i++) bits[i] = v.getUint16(2 * i, true) << 16;
      break;
    }
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(v.getBigInt64(8 * i, true));
      break;
    case 'U64':
      for (let i = 0; i < count; i++) out[i] = Number(v.getBigUint64(8 * i, true));
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = v.getInt32(4 * i, true);
      break;
    case 'U32':
      for (let i = 0; i < count; i++) out[i] = v.getUint32(4 * i, true);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = v.getInt16(2 * i, true);
      break;
    case 'U16':
      for (let i = 0; i < count; i++) out[i] = v.getUint16(2 * i, true);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = v.getInt8(i);
      break;
    case 'U8':
      for (let i = 0; i < count; i++) out[i] = v.getUint8(i);
      break;
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = v.getUint8(i) !== 0 ? 1 : 0;
      break;
  }
  return out;
}

/** IEEE binary16 bits -> number (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 0x1f,
    f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Typed arrays {@link writeSafetensors} can store: Float32Array (F32), Int32Array (I32), Uint8Array
 * (U8), BigInt64Array (I64).
 */
export type WritableData = Float32Array | Int32Array | Uint8Array | BigInt64Array;

/** One tensor for {@link writeSafetensors}: a shape and row-major data whose length matches it. */
export interface TensorToWrite {
  shape: readonly number[];
  /** Float32Array -> F32, Int32Array -> I32, Uint8Array -> U8, BigInt64Array -> I64 (PyTorch's int64) */
  data: WritableData;
}

function writableDType(d: unknown): SafeDType | null {
  return d instanceof Float32Array
    ? 'F32'
    : d instanceof Int32Array
      ? 'I32'
      : d instanceof Uint8Array
        ? 'U8'
        : d instanceof BigInt64Array
          ? 'I64'
          : null;
}

/**
 * Encode tensors (and string metadata) as a safetensors file. Data is laid out in insertion
 * order, widest dtype first, so every tensor starts aligned to its element size.
 */
export function writeSafetensors(
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string')
        throw new TypeError(`webgpu-cnn: writeSafetensors: metadata value ${JSON.stringify(k)} must be a string`);
    header[METADATA_KEY] = metadata;
  }
  const items = list.map(([name, t]) => {
    if (name === METADATA_KEY)
      throw new Error(`webgpu-cnn: writeSafetensors: '${METADATA_KEY}' is reserved and cannot name a tensor`);
    const dtype = writableDType(t.data);
    if (!dtype)
      throw new TypeError(
        `webgpu-cnn: writeSafetensors: ${JSON.stringify(name)}: data must be a Float32Array, Int32Array, Uint8Array or BigInt64Array`,
      );
    for (const d of t.shape)
      if (!Number.isSafeInteger(d) || d < 0)
        throw new RangeError(`webgpu-cnn: writeSafetensors: ${JSON.stringify(name)}: bad shape [${t.shape}]`);
    if (numel(t.shape) !== t.data.length)
      throw new RangeError(
        `webgpu-cnn: writeSafetensors: ${JSON.stringify(name)}: shape [${t.shape}] holds ${numel(t.shape)} values, data has ${t.data.length}`,
      );
    return { name, dtype, shape: [...t.shape], data: t.data };
  });
  const order = items.map((_, i) => i).sort((a, b) => DTYPE_SIZE[items[b].dtype] - DTYPE_SIZE[items[a].dtype] || a - b);
  let at = 0;
  const offsets = new Array<number>(items.length);
  for (const i of order) {
    offsets[i] = at;
    at += items[i].data.byteLength;
  }
  items.forEach((it, i) => {
    header[it.name] = { dtype: it.dtype, shape: it.shape, data_offsets: [offsets[i], offsets[i] + it.data.byteLength] };
  });
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + at);
  const v = new DataView(out.buffer);
  v.setUint32(0, padded, true);
  v.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  const base = 8 + padded;
  items.forEach((it, i) => {
    const d = it.data;
    if (LITTLE_ENDIAN || d instanceof Uint8Array)
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), base + offsets[i]);
    else
      for (let j = 0; j < d.length; j++) {
        if (d instanceof BigInt64Array) v.setBigInt64(base + offsets[i] + 8 * j, d[j], true);
        else if (d instanceof Float32Array) v.setFloat32(base + offsets[i] + 4 * j, d[j], true);
        else v.setInt32(base + offsets[i] + 4 * j, d[j], true);
      }
  });
  return out;
}
