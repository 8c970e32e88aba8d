// IO: IDX parse/write round trip and rejections; safetensors exact round trip, dtype decoding
// and rejections; ModelSpec validation; PyTorch layout conversions; model files (host and GPU).
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray, rng } from '../harness/assert.js';
import { parseIdx, writeIdx, idxImageDataset, type IdxArray } from '../../src/io/idx.js';
import { readSafetensors, writeSafetensors, toFloat32, halfToFloat } from '../../src/io/safetensors.js';
import { parseModelSpec, modelShapes, modelParams, type ModelSpec } from '../../src/nn/spec.js';
import { FormatError } from '../../src/io/errors.js';
import { findDuplicateKey } from '../../src/io/json.js';
import {
  pytorchToHwio,
  hwioToPytorch,
  linearOutInToInOut,
  linearInOutToOutIn,
  linearAfterFlattenFromPytorch,
  importPytorchStateDict,
  naturalCompare,
} from '../../src/io/pytorch.js';
import { encodeModel, decodeModel, saveModel, loadModel, type HostTensor } from '../../src/io/model-file.js';
import { tensor } from '../../src/tensor/tensor.js';

const bitsEqual = (a: ArrayBufferView, b: ArrayBufferView) => {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
    y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

/** A safetensors file from a raw header object and data bytes (for hand-made and broken files). */
export function rawSafetensors(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

async function rejects(label: string, fn: () => unknown, re: RegExp): Promise<void> {
  const e = await assertThrows(fn, re, label);
  assert(e instanceof FormatError, `${label}: want a FormatError, got ${e.name}: ${e.message}`);
}

const SPEC: ModelSpec = {
  version: 1,
  input: [28, 28, 1],
  layers: [
    { type: 'conv2d', inC: 1, outC: 4, kernel: 3, padding: 'same', activation: 'relu' },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'conv2d', inC: 4, outC: 6, kernel: [3, 5], stride: 2, padding: [1, 2], bias: false },
    { type: 'relu' },
    { type: 'flatten' },
    { type: 'dropout', p: 0.25 },
    { type: 'linear', in: 7 * 7 * 6, out: 10 },
  ],
};

suite('io', (test) => {
  test('IDX: write/parse round trip for every dtype, big-endian on disk', async () => {
    const r = rng(1);
    const mk: Record<string, (n: number) => IdxArray['data']> = {
      u8: (n) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256)),
      i8: (n) => Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128),
      i16: (n) => Int16Array.from({ length: n }, () => Math.floor(r() * 65536) - 32768),
      i32: (n) => Int32Array.from({ length: n }, () => Math.floor(r() * 2 ** 32) - 2 ** 31),
      f32: (n) => Float32Array.from({ length: n }, () => (r() - 0.5) * 1e6),
      f64: (n) => Float64Array.from({ length: n }, () => (r() - 0.5) * 1e300),
    };
    for (const [dtype, f] of Object.entries(mk))
      for (const shape of [[1], [3, 4, 5], [2, 0, 7], [17]]) {
        const a = { dtype, shape, data: f(shape.reduce((x, y) => x * y, 1)) } as IdxArray;
        const bytes = writeIdx(a);
        const b = parseIdx(bytes.buffer as ArrayBuffer);
        assertEqual([b.dtype, b.shape], [a.dtype, a.shape], `${dtype} [${shape}] header`);
        assert(
          b.data.constructor === a.data.constructor && bitsEqual(b.data, a.data),
          `${dtype} [${shape}] data bit-exact`,
        );
      }
    // Known bytes: MNIST-style label file, 3 labels.
    const labels = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]));
    assertEqual([labels.dtype, labels.shape, [...labels.data]], ['u8', [3], [7, 2, 1]], 'hand-made label file');
    const i16 = parseIdx(new Uint8Array([0, 0, 0x0b, 1, 0, 0, 0, 1, 0x01, 0x02]));
    assertEqual([...i16.data], [0x0102], 'big-endian i16');
    // A view into a larger buffer parses too (offset != 0).
    const big = new Uint8Array(20);
    big.set([0, 0, 8, 1, 0, 0, 0, 2, 5, 6], 5);
    assertEqual([...parseIdx(big.subarray(5, 15)).data], [5, 6], 'subarray input');
    const images = parseIdx(
      writeIdx({ dtype: 'u8', shape: [2, 2, 3], data: Uint8Array.from([0, 255, 51, 0, 0, 0, 1, 2, 3, 4, 5, 6]) }),
    );
    const ds = idxImageDataset(images, parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 4, 9])));
    assertEqual([ds.count, ds.height, ds.width, ds.channels, [...ds.labels]], [2, 2, 3, 1, [4, 9]], 'idxImageDataset');
    assertClose('idx pixels / 255', ds.images.subarray(0, 3), [0, 1, 0.2], { atol: 1e-7, rtol: 0, log: false });
  });

  test('IDX: rejects bad magic, dtype, rank, truncation, size mismatch and overflowing dims', async () => {
    const hdr = (code: number, dims: number[], extra = 0) => {
      const b = new Uint8Array(4 + 4 * dims.length + extra);
      (b[2] = code), (b[3] = dims.length);
      dims.forEach((d, i) => new DataView(b.buffer).setUint32(4 + 4 * i, d, false));
      return b;
    };
    await rejects(
      'short',
      () => parseIdx(new Uint8Array([0, 0, 8])),
      /idx: file is 3 bytes, shorter than the 4-byte header/,
    );
    await rejects(
      'magic',
      () => parseIdx(new Uint8Array([0x1f, 0x8b, 8, 1, 0, 0, 0, 0])),
      /bad magic: first two bytes are 0x1F 0x8B.*gzip/,
    );
    await rejects('dtype', () => parseIdx(hdr(0x0a, [1], 1)), /unsupported dtype code 0x0A/);
    await rejects('rank 0', () => parseIdx(hdr(8, [])), /rank is 0/);
    await rejects(
      'header truncated',
      () => parseIdx(hdr(8, [1, 2, 3]).subarray(0, 10)),
      /rank 3 needs a 16-byte header, the file has 10 bytes/,
    );
    await rejects('data truncated', () => parseIdx(hdr(0x0d, [2, 3], 23)), /need more than the 23 data bytes present/);
    await rejects(
      'trailing',
      () => parseIdx(hdr(8, [2, 3], 7)),
      /need 6 data bytes, the file has 7 \(1 trailing bytes\)/,
    );
    // 60000 x 28 x 28 claimed, 10 bytes given: rejected from the header alone, nothing allocated.
    await rejects(
      'claims 47 MB',
      () => parseIdx(hdr(8, [60000, 28, 28], 10)),
      /dimensions \[60000,28,28\] need more than the 10 data bytes/,
    );
    await rejects(
      'u32 overflow',
      () => parseIdx(hdr(0x0e, [0xffffffff, 0xffffffff, 0xffffffff], 8)),
      /need more than the 8 data bytes/,
    );
    await rejects(
      'not bytes',
      () => parseIdx('hello' as unknown as Uint8Array),
      /input must be an ArrayBuffer or a typed array/,
    );
    const zeroDim = parseIdx(hdr(0x0d, [0, 0xffffffff]));
    assertEqual([zeroDim.shape, zeroDim.data.length], [[0, 0xffffffff], 0], 'a zero dimension means no data');
    await assertThrows(
      () => writeIdx({ dtype: 'f32', shape: [3], data: new Float32Array(2) }),
      /writeIdx: shape \[3\] holds 3 values, data has 2/,
    );
    await assertThrows(
      () => writeIdx({ dtype: 'f32', shape: [2], data: new Int32Array(2) }),
      /dtype f32 needs a Float32Array/,
    );
  });

  test('safetensors: F32/I32/U8 round trip is bit-exact (NaN payloads, -0, Inf, subnormals), metadata kept', async () => {
    const special = new Float32Array(
      new Uint32Array([0x7fc00001, 0xffa00000, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x807fffff, 0x3f800000])
        .buffer,
    );
    const tensors = {
      'conv.weight': { shape: [3, 3, 1, 4], data: randomArray(36, 1) },
      special: { shape: [2, 4], data: special },
      ids: { shape: [3], data: Int32Array.from([-1, 0, 2 ** 31 - 1]) },
      mask: { shape: [5], data: Uint8Array.from([0, 1, 255, 7, 3]) },
      empty: { shape: [0, 4], data: new Float32Array(0) },
      scalar: { shape: [], data: Float32Array.from([Math.PI]) },
    };
    const meta = { note: 'héllo "quoted" ✓', 'webgpu-cnn.arch': '{}' };
    const bytes = writeSafetensors(tensors, meta);
    const n = new DataView(bytes.buffer).getUint32(0, true);
    assertEqual([n % 8, bytes[8 + n - 1]], [0, 0x20], 'header padded with spaces to a multiple of 8');
    const f = readSafetensors(bytes);
    assertEqual(f.metadata, meta, 'metadata');
    assertEqual([...f.tensors.keys()].sort(), Object.keys(tensors).sort(), 'names');
    for (const [k, t] of Object.entries(tensors)) {
      const got = f.tensors.get(k)!;
      assertEqual(got.shape, t.shape, `${k} shape`);
      assert(bitsEqual(got.bytes, t.data), `${k}: stored bytes bit-exact`);
      if (t.data instanceof Float32Array) assert(bitsEqual(toFloat32(got), t.data), `${k}: toFloat32 bit-exact`);
      else
        assertEqual(
          [...toFloat32(got)],
          [...t.data].map(Math.fround),
          `${k}: toFloat32 values (2^31-1 rounds to 2^31 in f32)`,
        );
    }
    assertEqual([f.tensors.get('ids')!.dtype, f.tensors.get('mask')!.dtype], ['I32', 'U8'], 'dtypes from array types');
    // Wider dtypes first: the F32/I32 data starts 4-byte aligned even though U8 was given first.
    assertEqual(
      readSafetensors(
        writeSafetensors({ a: { shape: [1], data: new Uint8Array(1) }, b: { shape: [1], data: new Float32Array(1) } }),
      ).tensors.get('b')!.bytes.byteOffset % 4,
      0,
      'alignment',
    );
    // A Node Buffer (what fs.readFile gives) has a slice() that is a view: toFloat32 must still
    // copy exactly the tensor's bytes. In the browser, a Uint8Array subclass with the same slice.
    const NodeBuffer = (globalThis as { Buffer?: { from(b: Uint8Array): Uint8Array } }).Buffer;
    class ViewSlice extends Uint8Array {
      override slice(a?: number, b?: number): Uint8Array<ArrayBuffer> {
        return this.subarray(a, b);
      }
    }
    const asBuffer = NodeBuffer ? NodeBuffer.from(bytes) : new ViewSlice(bytes);
    const w = toFloat32(readSafetensors(asBuffer).tensors.get('conv.weight')!);
    assert(
      w.length === 36 && bitsEqual(w, tensors['conv.weight'].data),
      `toFloat32 from a ${asBuffer.constructor.name}: exact`,
    );
    const none = readSafetensors(writeSafetensors({}));
    assertEqual([none.tensors.size, Object.keys(none.metadata).length], [0, 0], 'empty file');
    await assertThrows(
      () => writeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } }),
      /'__metadata__' is reserved/,
    );
    await assertThrows(
      () => writeSafetensors({ a: { shape: [2], data: new Float32Array(3) } }),
      /shape \[2\] holds 2 values, data has 3/,
    );
  });

  test('safetensors: decodes F16, BF16, F64, I64, I16, I8, U16, BOOL to f32', async () => {
    const enc = (dtype: string, bytes: number[]) =>
      rawSafetensors(
        {
          t: {
            dtype,
            shape: [
              bytes.length / ({ F16: 2, BF16: 2, F64: 8, I64: 8, I16: 2, U16: 2 } as Record<string, number>)[dtype] ||
                bytes.length,
            ],
            data_offsets: [0, bytes.length],
          },
        },
        Uint8Array.from(bytes),
      );
    const get = (dtype: string, bytes: number[]) => [
      ...toFloat32(readSafetensors(enc(dtype, bytes)).tensors.get('t')!),
    ];
    // f16: 1.0 = 0x3C00, -2 = 0xC000, 65504 = 0x7BFF, smallest subnormal 0x0001 = 2^-24, -0 = 0x8000, inf 0x7C00
    const f16 = get('F16', [0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x80, 0x00, 0x7c]);
    assertEqual(f16.map(String), ['1', '-2', '65504', String(2 ** -24), '0', 'Infinity'], 'F16 values');
    assert(Object.is(f16[4], -0), 'F16 -0');
    assert(Number.isNaN(halfToFloat(0x7e00)), 'F16 NaN');
    // bf16: the top 16 bits of an f32: 0x3F80 = 1, 0xC040 = -3, 0x4049 = 3.140625
    assertEqual(get('BF16', [0x80, 0x3f, 0x40, 0xc0, 0x49, 0x40]), [1, -3, 3.140625], 'BF16 values');
    const f64 = new Uint8Array(new Float64Array([0.1, -1e300]).buffer);
    assertEqual(get('F64', [...f64]), [Math.fround(0.1), -Infinity], 'F64 rounds to f32');
    assertEqual(get('I64', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 5, 0, 0, 0, 0, 0, 0, 0]), [-1, 5], 'I64');
    assertEqual(get('I16', [0xfe, 0xff]), [-2], 'I16');
    assertEqual(get('U16', [0xfe, 0xff]), [65534], 'U16');
    assertEqual(get('I8', [0xff, 3]), [-1, 3], 'I8');
    assertEqual(get('BOOL', [0, 1, 2]), [0, 1, 1], 'BOOL');
  });

  test('safetensors: rejects malformed files with clear errors, before allocating', async () => {
    const good = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'U8', shape: [3], data_offsets: [8, 11] },
    };
    const data = new Uint8Array(11);
    readSafetensors(rawSafetensors(good, data)); // the baseline is valid
    const withLen = (lo: number, hi: number) => {
      const b = rawSafetensors(good, data);
      new DataView(b.buffer).setUint32(0, lo, true), new DataView(b.buffer).setUint32(4, hi, true);
      return b;
    };
    const mut = (f: (h: Record<string, Record<string, unknown>>) => void, d = data) => {
      const h = JSON.parse(JSON.stringify(good));
      f(h);
      return rawSafetensors(h, d);
    };
    const cases: [string, Uint8Array, RegExp][] = [
      ['short file', new Uint8Array(5), /file is 5 bytes, shorter than the 8-byte header length/],
      ['header past the end', withLen(5000, 0), /header length 5000 but only \d+ bytes follow/],
      ['header length high word', withLen(0, 1), /header length 4294967296 exceeds the limit/],
      ['header over 100 MB', withLen(200_000_000, 0), /header length 200000000 exceeds the limit of 104857600/],
      [
        'truncated data',
        rawSafetensors(good, data).subarray(0, 8 + JSON.stringify(good).length + 5),
        /tensor "a": shape \[2\] needs more bytes than the 5 data bytes/,
      ],
      [
        'offsets past the end',
        mut((h) => ((h.b.shape = [1]), (h.b.data_offsets = [10, 11]), (h.a.data_offsets = [8, 16]))),
        /tensor "a": data_offsets end 16 is past the 11 data bytes/,
      ],
      ['not an object', rawSafetensors(null, data, '[1,2]'), /header must start with '\{'/],
      ['bad JSON', rawSafetensors(null, data, '{"a": '), /header is not valid JSON/],
      [
        'bad UTF-8',
        (() => {
          const b = rawSafetensors(null, new Uint8Array(0), '{"\u00e9":1}');
          b[11] = 0xff;
          return b;
        })(),
        /header is not valid UTF-8/,
      ],
      [
        'duplicate name',
        rawSafetensors(
          null,
          data,
          '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"\\u0061":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}',
        ),
        /key "a" twice/,
      ],
      ['unknown dtype', mut((h) => (h.a.dtype = 'F33')), /tensor "a": unknown dtype "F33"/],
      ['unsupported dtype', mut((h) => (h.a.dtype = 'F8_E4M3')), /dtype F8_E4M3 is not supported/],
      ['negative dim', mut((h) => (h.a.shape = [-2])), /shape entries must be integers >= 0, got -2/],
      ['fractional dim', mut((h) => (h.a.shape = [1.5])), /shape entries must be integers >= 0, got 1.5/],
      ['huge shape', mut((h) => (h.a.shape = [1e6, 1e6, 1e6])), /needs more bytes than the 11 data bytes/],
      [
        'huge dims, zero last',
        mut((h) => (h.a.shape = [1e15, 0])),
        /F32 \[1000000000000000,0\] needs 0 bytes, data_offsets \[0,8\] span 8/,
      ],
      [
        'offset mismatch',
        mut((h) => (h.a.data_offsets = [0, 4])),
        /F32 \[2\] needs 8 bytes, data_offsets \[0,4\] span 4/,
      ],
      ['offsets reversed', mut((h) => (h.a.data_offsets = [8, 0])), /data_offsets must be integers 0 <= begin <= end/],
      ['offset string', mut((h) => (h.a.data_offsets = ['0', 8])), /data_offsets must be integers/],
      ['overlap', mut((h) => ((h.b.data_offsets = [5, 8]), (h.b.shape = [3]))), /overlaps the previous tensor/],
      ['gap', mut((h) => (h.b.data_offsets = [8, 11]), new Uint8Array(12)), /1 trailing bytes after the last tensor/],
      [
        'gap inside',
        mut((h) => ((h.a.data_offsets = [1, 9]), (h.b.data_offsets = [9, 12])), new Uint8Array(12)),
        /gap in the data: bytes \[0,1\)/,
      ],
      ['extra field', mut((h) => (h.a.extra = 1)), /tensor "a": unknown field "extra"/],
      ['entry not object', mut((h) => ((h as Record<string, unknown>).a = [1])), /tensor "a": entry must be an object/],
      [
        'metadata non-string',
        mut((h) => ((h as Record<string, unknown>).__metadata__ = { k: 1 })),
        /'__metadata__' values must be strings, "k" is number/,
      ],
      ['no data_offsets', mut((h) => delete h.a.data_offsets), /'data_offsets' must be \[begin, end\]/],
    ];
    for (const [label, bytes, re] of cases) await rejects(label, () => readSafetensors(bytes), re);
    assertEqual(
      findDuplicateKey('{"a":{"x":1,"y":[{"x":2}]},"b":"a","c":{"a":1,"x":{"a":[]}}}'),
      null,
      'same key in different objects is fine',
    );
    assertEqual(
      findDuplicateKey('[{"k":"\\"{"}, {"q":1, "q":2}]'),
      'q',
      'nested duplicate, escaped quotes and braces in strings',
    );
  });

  test('ModelSpec: valid spec parses; shapes and parameters are inferred', () => {
    const spec = parseModelSpec(JSON.stringify(SPEC));
    assertEqual(spec, SPEC, 'parse(stringify(spec)) = spec');
    assertEqual(
      modelShapes(spec),
      [[28, 28, 4], [14, 14, 4], [7, 7, 6], [7, 7, 6], [294], [294], [10]],
      'layer output shapes',
    );
    assertEqual(
      modelParams(spec).map((p) => `${p.name}:${p.shape}`),
      ['0.weight:3,3,1,4', '0.bias:4', '2.weight:3,5,4,6', '6.weight:294,10', '6.bias:10'],
      'params',
    );
    assertEqual(
      parseModelSpec([{ type: 'flatten' }, { type: 'linear', in: 784, out: 10 }]).layers.length,
      2,
      'a bare layer list',
    );
  });

  test('ModelSpec: unknown types, fields and bad numbers are clear errors', async () => {
    const withLayer = (l: unknown, input = true) =>
      JSON.stringify({ version: 1, ...(input ? { input: [28, 28, 1] } : {}), layers: [l] });
    const cases: [string, unknown, RegExp][] = [
      ['unknown type', withLayer({ type: 'conv3d' }), /layers\[0\]: unknown layer type "conv3d" \(known: conv2d/],
      ['typo field', withLayer({ type: 'maxpool2d', kernal: 2 }), /layers\[0\] \(maxpool2d\): unknown field "kernal"/],
      [
        'missing field',
        withLayer({ type: 'maxpool2d' }),
        /layers\[0\]\.kernel must be an integer in \[1, 1048576\], got nothing/,
      ],
      [
        'zero channels',
        withLayer({ type: 'conv2d', inC: 1, outC: 0, kernel: 3 }),
        /layers\[0\]\.outC must be an integer in \[1, 1048576\], got 0/,
      ],
      [
        'fractional',
        withLayer({ type: 'conv2d', inC: 1, outC: 2, kernel: 2.5 }),
        /layers\[0\]\.kernel must be an integer/,
      ],
      [
        'string number',
        withLayer({ type: 'linear', in: '784', out: 10 }, false),
        /layers\[0\]\.in must be an integer .* got "784"/,
      ],
      [
        'huge',
        withLayer({ type: 'conv2d', inC: 1, outC: 1e12, kernel: 3 }),
        /outC must be an integer in \[1, 1048576\], got 1000000000000/,
      ],
      [
        'bad pair',
        withLayer({ type: 'conv2d', inC: 1, outC: 2, kernel: [3, 3, 3] }),
        /kernel must be a number or \[h, w\]/,
      ],
      [
        'bad padding',
        withLayer({ type: 'conv2d', inC: 1, outC: 2, kernel: 3, padding: 'full' }),
        /padding must be "valid", "same", a number, \[h, w\] or \[\[top, bottom\], \[left, right\]\], got "full"/,
      ],
      [
        'bad activation',
        withLayer({ type: 'linear', in: 1, out: 1, activation: 'gelu' }, false),
        /activation must be "none" or "relu"/,
      ],
      ['dropout p=1', withLayer({ type: 'dropout', p: 1 }), /layers\[0\]\.p must be a number in \[0, 1\)/],
      [
        'inC mismatch',
        withLayer({ type: 'conv2d', inC: 3, outC: 2, kernel: 3 }),
        /inC is 3 but the input has 1 channels/,
      ],
      [
        'kernel too big',
        withLayer({ type: 'maxpool2d', kernel: 29 }),
        /kernel \[29,29\] does not fit the \[28,28\] input/,
      ],
      [
        'linear without flatten',
        withLayer({ type: 'linear', in: 784, out: 10 }),
        /needs a flat input, got \[28,28,1\] \(add a flatten layer\)/,
      ],
      ['version', JSON.stringify({ version: 2, layers: [] }), /'version' must be 1, got 2/],
      ['empty layers', JSON.stringify({ version: 1, layers: [] }), /'layers' must be an array of 1\.\.4096/],
      [
        'unknown top-level',
        JSON.stringify({ version: 1, layers: [{ type: 'relu' }], extra: 1 }),
        /unknown top-level field "extra"/,
      ],
      ['bad JSON', '{"version": 1,', /spec is not valid JSON/],
      ['duplicate key', '{"version":1,"layers":[{"type":"relu","type":"tanh"}]}', /key "type" twice/],
      ['not an object', 42, /spec must be an object/],
      [
        'bad input',
        JSON.stringify({ version: 1, input: [28, 28], layers: [{ type: 'relu' }] }),
        /'input' must be \[H, W, C\]/,
      ],
    ];
    for (const [label, v, re] of cases) await rejects(label, () => parseModelSpec(v), re);
  });

  test('PyTorch layouts: OIHW->HWIO and [out,in]->[in,out] give the same outputs; inverses are exact', async () => {
    const [O, I, KH, KW] = [3, 2, 3, 5];
    const w = randomArray(O * I * KH * KW, 21),
      x = randomArray(I * KH * KW, 22); // one receptive field, x as CHW
    const hwio = pytorchToHwio(w, [O, I, KH, KW]);
    const xHwc = Float64Array.from({ length: x.length }, (_, k) => {
      const i = k % I,
        p = Math.floor(k / I);
      return x[i * KH * KW + p];
    });
    const torchOut = Array.from({ length: O }, (_, o) => {
      let s = 0;
      for (let k = 0; k < I * KH * KW; k++) s += w[o * I * KH * KW + k] * x[k];
      return s;
    });
    const ourOut = Array.from({ length: O }, (_, o) => {
      let s = 0;
      for (let k = 0; k < I * KH * KW; k++) s += hwio[k * O + o] * xHwc[k];
      return s;
    });
    assertClose('conv dot, both layouts', ourOut, torchOut, { atol: 1e-12, rtol: 1e-12 });
    assert(bitsEqual(hwioToPytorch(hwio, [KH, KW, I, O]), w), 'hwioToPytorch inverts pytorchToHwio');
    const lw = randomArray(4 * 7, 23),
      lx = randomArray(7, 24);
    const inOut = linearOutInToInOut(lw, [4, 7]);
    const yT = Array.from({ length: 4 }, (_, o) => lx.reduce((s, v, i) => s + lw[o * 7 + i] * v, 0));
    const yO = Array.from({ length: 4 }, (_, o) => lx.reduce((s, v, i) => s + inOut[i * 4 + o] * v, 0));
    assertClose('linear, both layouts', yO, yT, { atol: 1e-12, rtol: 1e-12 });
    assert(bitsEqual(linearInOutToOutIn(inOut, [7, 4]), lw), 'linearInOutToOutIn inverts');
    // After a flatten: PyTorch flattens [C,H,W], we flatten [H,W,C].
    const [H, W, C] = [2, 3, 4],
      F = H * W * C;
    const fw = randomArray(5 * F, 25),
      map = randomArray(F, 26); // map stored CHW
    const ours = linearAfterFlattenFromPytorch(fw, 5, [H, W, C]);
    const mapHwc = Float64Array.from({ length: F }, (_, k) => {
      const c = k % C,
        p = Math.floor(k / C);
      return map[c * H * W + p];
    });
    const fT = Array.from({ length: 5 }, (_, o) => map.reduce((s, v, i) => s + fw[o * F + i] * v, 0));
    const fO = Array.from({ length: 5 }, (_, o) => mapHwc.reduce((s, v, i) => s + ours[i * 5 + o] * v, 0));
    assertClose('linear after flatten, both layouts', fO, fT, { atol: 1e-12, rtol: 1e-12 });
    assertEqual(
      ['fc', 'conv10', 'conv2', 'conv1'].sort(naturalCompare),
      ['conv1', 'conv2', 'conv10', 'fc'],
      'natural order',
    );
    await assertThrows(
      () => pytorchToHwio(w, [O, I, KH, 4]),
      /pytorchToHwio: shape \[3,2,3,4\] holds 72 values, data has 90/,
    );
  });

  test('PyTorch state dict import maps names, converts layouts, reorders the post-flatten linear', async () => {
    const torch: Record<string, { shape: number[]; data: Float32Array }> = {
      'features.0.weight': { shape: [4, 1, 3, 3], data: randomArray(36, 31) },
      'features.0.bias': { shape: [4], data: randomArray(4, 32) },
      'features.3.weight': { shape: [6, 4, 3, 5], data: randomArray(360, 33) },
      'classifier.1.weight': { shape: [10, 294], data: randomArray(2940, 34) },
      'classifier.1.bias': { shape: [10], data: randomArray(10, 35) },
    };
    const file = readSafetensors(writeSafetensors(torch));
    const prefixes = ['features.0', 'features.3', 'classifier.1'];
    const got = importPytorchStateDict(file, SPEC, { prefixes });
    // without prefixes: the names mix two forms (features.N, classifier.N), so they give no
    // order, but every module has a shape of its own
    const byShape = importPytorchStateDict(file, SPEC);
    for (const [k, v] of got) assert(bitsEqual(byShape.get(k)!.data, v.data), `${k}: placed by its shape`);
    await rejects(
      'wrong prefixes',
      () => importPytorchStateDict(file, SPEC, { prefixes: ['classifier.1', 'features.0', 'features.3'] }),
      /"classifier\.1\.weight" has shape \[10,294\], layers\[0\] needs \[4,1,3,3\]/,
    );
    assertEqual(
      [...got.keys()],
      modelParams(SPEC).map((p) => p.name),
      'our parameter names',
    );
    assert(
      bitsEqual(got.get('0.weight')!.data, pytorchToHwio(torch['features.0.weight'].data, [4, 1, 3, 3])),
      'conv weight -> HWIO',
    );
    assert(
      bitsEqual(
        got.get('6.weight')!.data,
        linearAfterFlattenFromPytorch(torch['classifier.1.weight'].data, 10, [7, 7, 6]),
      ),
      'fc weight reordered CHW -> HWC',
    );
    assert(bitsEqual(got.get('6.bias')!.data, torch['classifier.1.bias'].data), 'bias unchanged');
    const extra = readSafetensors(
      writeSafetensors({ ...torch, 'bn.num_batches_tracked': { shape: [], data: Int32Array.from([3]) } }),
    );
    await rejects(
      'unused',
      () => importPytorchStateDict(extra, SPEC, { prefixes }),
      /tensors no layer uses: bn\.num_batches_tracked/,
    );
    assertEqual(importPytorchStateDict(extra, SPEC, { prefixes, allowUnused: true }).size, 5, 'allowUnused');
    const seq = readSafetensors(
      writeSafetensors({
        '0.weight': torch['features.0.weight'],
        '0.bias': torch['features.0.bias'],
        '2.weight': torch['features.3.weight'],
        '10.weight': torch['classifier.1.weight'],
        '10.bias': torch['classifier.1.bias'],
      }),
    );
    assertEqual(importPytorchStateDict(seq, SPEC).size, 5, 'nn.Sequential names in natural order (2 before 10)');
  });

  test('model file: params + spec round trip bit-exact; mismatches rejected; GPU save/load', async () => {
    const params = new Map<string, HostTensor>(
      modelParams(SPEC).map((p, i) => [
        p.name,
        {
          shape: p.shape,
          data: randomArray(
            p.shape.reduce((a, b) => a * b, 1),
            40 + i,
          ),
        },
      ]),
    );
    const bytes = encodeModel(SPEC, params, { epoch: '3' });
    const f = decodeModel(bytes);
    assertEqual(f.spec, SPEC, 'spec');
    assertEqual(f.metadata.epoch, '3', 'extra metadata');
    for (const [k, p] of params) assert(bitsEqual(f.params.get(k)!.data, p.data), `${k} bit-exact`);
    const without = new Map(params);
    without.delete('6.bias');
    await rejects('missing', () => encodeModel(SPEC, without), /parameter "6\.bias" \[10\] of the spec is missing/);
    await rejects(
      'wrong shape',
      () => encodeModel(SPEC, { ...Object.fromEntries(params), '0.bias': { shape: [5], data: new Float32Array(5) } }),
      /"0\.bias" has shape \[5\], the spec needs \[4\]/,
    );
    await rejects(
      'extra',
      () => encodeModel(SPEC, { ...Object.fromEntries(params), x: { shape: [1], data: new Float32Array(1) } }),
      /parameter "x" is not part of the spec/,
    );
    // A file whose weights do not fit its own spec is rejected on reading too.
    const lying = writeSafetensors(Object.fromEntries(without), { 'webgpu-cnn.arch': JSON.stringify(SPEC) });
    await rejects('file vs spec', () => decodeModel(lying), /"6\.bias" \[10\] of the spec is missing/);
    assertEqual(decodeModel(encodeModel(null, params)).spec, null, 'no spec');
    // GPU: read parameters back, encode, decode, upload.
    const gpu = new Map([...params].map(([k, p]) => [k, tensor(p.data, p.shape)]));
    const saved = await saveModel(SPEC, gpu);
    const loaded = loadModel(saved);
    for (const [k, p] of params) {
      assert(bitsEqual(await loaded.params.get(k)!.read(), p.data), `${k} GPU round trip bit-exact`);
      assertEqual(loaded.params.get(k)!.shape, p.shape, `${k} shape`);
    }
    for (const t of [...gpu.values(), ...loaded.params.values()]) t.dispose();
  });
});
