// IDX, the file format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist):
//   bytes 0-1: 0x00 0x00 (magic)   byte 2: dtype code   byte 3: rank r
//   then r big-endian u32 dimensions, then the data, big-endian, row-major.
// dtype codes: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64.
//
// parseIdx works on bytes (browser and Node); src/io/node-fs.ts reads files (and .gz) in Node.
// Strict: the data must be exactly prod(dims) * size bytes; no allocation is larger than that.

import { allocation, asBytes, brief, FormatError } from './errors.js';
import { checkDataset, type ImageDataset } from '../data/dataset.js';

/**
 * Element type of an IDX file (the format of the MNIST files): unsigned or signed bytes, big-endian
 * i16, i32, f32 or f64.
 */
export type IdxDType = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';
/** The typed array that holds an IDX file's values, one kind per {@link IdxDType}. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** An IDX file's contents: element type, shape (outermost first) and values in row-major order. */
export interface IdxArray {
  dtype: IdxDType;
  shape: number[];
  data: IdxData;
}

const CODE_TO_DTYPE: Record<number, IdxDType> = {
  0x08: 'u8',
  0x09: 'i8',
  0x0b: 'i16',
  0x0c: 'i32',
  0x0d: 'f32',
  0x0e: 'f64',
};
const DTYPE_TO_CODE: Record<IdxDType, number> = { u8: 0x08, i8: 0x09, i16: 0x0b, i32: 0x0c, f32: 0x0d, f64: 0x0e };
const SIZE: Record<IdxDType, number> = { u8: 1, i8: 1, i16: 2, i32: 4, f32: 4, f64: 8 };
const ARRAY = {
  u8: Uint8Array,
  i8: Int8Array,
  i16: Int16Array,
  i32: Int32Array,
  f32: Float32Array,
  f64: Float64Array,
} as const;

const fail = (msg: string): never => {
  throw new FormatError('idx', msg);
};

/** Parse an IDX file's bytes into a typed array (native byte order) and its shape. */
export function parseIdx(input: ArrayBuffer | ArrayBufferView): IdxArray {
  const bytes = asBytes('idx', input);
  const len = bytes.byteLength;
  if (len < 4) fail(`file is ${len} bytes, shorter than the 4-byte header (truncated?)`);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    fail(
      `bad magic: first two bytes are 0x${hex(bytes[0])} 0x${hex(bytes[1])}, want 0x00 0x00 (not an IDX file, or still gzip-compressed?)`,
    );
  const dtype =
    CODE_TO_DTYPE[bytes[2]] ??
    fail(
      `unsupported dtype code 0x${hex(bytes[2])} (supported: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64)`,
    );
  const rank = bytes[3];
  if (rank === 0) fail('rank is 0 (an IDX array needs at least one dimension)');
  const headerBytes = 4 + 4 * rank;
  if (len < headerBytes)
    fail(`rank ${rank} needs a ${headerBytes}-byte header, the file has ${len} bytes (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, len);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = SIZE[dtype];
  const dataBytes = len - headerBytes;
  let count = shape.includes(0) ? 0 : 1;
  for (const d of shape) {
    count *= d;
    // Stop as soon as the element count cannot fit: no overflow, no huge numbers later.
    if (count * size > dataBytes)
      fail(
        `dimensions ${brief(shape)} need more than the ${dataBytes} data bytes present (truncated file or bad header)`,
      );
  }
  const want = count * size;
  if (want !== dataBytes)
    fail(
      `dimensions ${brief(shape)} of ${dtype} need ${want} data bytes, the file has ${dataBytes} (${dataBytes - want} trailing bytes)`,
    );
  allocation('idx', want, len);
  let data: IdxData;
  if (size === 1) data = dtype === 'u8' ? bytes.slice(headerBytes) : new Int8Array(bytes.slice(headerBytes).buffer);
  else {
    const out = new ARRAY[dtype](count);
    const get = getter(view, dtype);
    for (let i = 0, o = headerBytes; i < count; i++, o += size) out[i] = get(o);
    data = out;
  }
  return { dtype, shape, data };
}

function getter(v: DataView, dtype: IdxDType): (o: number) => number {
  switch (dtype) {
    case 'i16':
      return (o) => v.getInt16(o, false);
    case 'i32':
      return (o) => v.getInt32(o, false);
    case 'f32':
      return (o) => v.getFloat32(o, false);
    default:
      return (o) => v.getFloat64(o, false);
  }
}

/** Encode an array as an IDX file (big-endian). */
export function writeIdx(a: IdxArray): Uint8Array {
  const code = DTYPE_TO_CODE[a.dtype];
  if (code === undefined) throw new TypeError(`webgpu-cnn: writeIdx: unsupported dtype '${a.dtype}'`);
  if (!(a.data instanceof ARRAY[a.dtype]))
    throw new TypeError(`webgpu-cnn: writeIdx: dtype ${a.dtype} needs a ${ARRAY[a.dtype].name}`);
  if (a.shape.length < 1 || a.shape.length > 255)
    throw new RangeError(`webgpu-cnn: writeIdx: rank must be 1..255, got ${a.shape.length}`);
  let count = 1;
  for (const d of a.shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff)
      throw new RangeError(`webgpu-cnn: writeIdx: bad dimension ${d} in [${a.shape}]`);
    count *= d;
  }
  if (count !== a.data.length)
    throw new RangeError(`webgpu-cnn: writeIdx: shape [${a.shape}] holds ${count} values, data has ${a.data.length}`);
  const header = 4 + 4 * a.shape.length,
    size = SIZE[a.dtype];
  const out = new Uint8Array(header + count * size);
  const v = new DataView(out.buffer);
  out[2] = code;
  out[3] = a.shape.length;
  a.shape.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  const d = a.data;
  for (let i = 0, o = header; i < count; i++, o += size) {
    switch (a.dtype) {
      case 'u8':
        v.setUint8(o, d[i]);
        break;
      case 'i8':
        v.setInt8(o, d[i]);
        break;
      case 'i16':
        v.setInt16(o, d[i], false);
        break;
      case 'i32':
        v.setInt32(o, d[i], false);
        break;
      case 'f32':
        v.setFloat32(o, d[i], false);
        break;
      case 'f64':
        v.setFloat64(o, d[i], false);
        break;
    }
  }
  return out;
}

/**
 * An ImageDataset from an IDX image file ([N,H,W] or [N,H,W,C] u8, scaled to [0,1]) and an IDX
 * label file ([N] u8), e.g. MNIST's or Fashion-MNIST's train-images-idx3-ubyte.
 */
export function idxImageDataset(images: IdxArray, labels: IdxArray): ImageDataset {
  if (images.dtype !== 'u8' || (images.shape.length !== 3 && images.shape.length !== 4))
    throw new FormatError('idx', `images must be u8 [N,H,W] or [N,H,W,C], got ${images.dtype} [${images.shape}]`);
  if (labels.dtype !== 'u8' || labels.shape.length !== 1)
    throw new FormatError('idx', `labels must be u8 [N], got ${labels.dtype} [${labels.shape}]`);
  const [n, h, w, c = 1] = images.shape;
  if (labels.shape[0] !== n) throw new FormatError('idx', `${n} images but ${labels.shape[0]} labels`);
  const px = images.data as Uint8Array;
  const out = new Float32Array(px.length);
  for (let i = 0; i < px.length; i++) out[i] = px[i] / 255;
  const ds: ImageDataset = {
    images: out,
    labels: labels.data as Uint8Array,
    count: n,
    height: h,
    width: w,
    channels: c,
  };
  checkDataset('idxImageDataset', ds);
  return ds;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0').toUpperCase();
}
