// Fuzzing of the file parsers (IDX, safetensors + model files, ModelSpec): seeded random valid
// inputs, then truncated, bit-flipped, spliced, length-field-rewritten and JSON-mutated copies.
// Each input must either parse or throw a FormatError; any other exception (RangeError from a
// typed array, SyntaxError from JSON.parse, TypeError...) is a failure, as is an allocation
// larger than the input (observed through errors.ts) or a case slower than `maxCaseMs`.
// Used by scripts/fuzz.ts (10,000+ cases) and test/suites/fuzz.suite.ts (~1,000). Not exported
// from the package index.

import { FormatError, setAllocationObserver } from '../../src/io/errors.js';
import { parseIdx, writeIdx, type IdxArray, type IdxDType } from '../../src/io/idx.js';
import { readSafetensors, toFloat32, DTYPE_SIZE, type SafeDType } from '../../src/io/safetensors.js';
import { parseModelSpec, modelShapes, modelParams, ARCH_METADATA_KEY } from '../../src/nn/spec.js';
import { decodeModel } from '../../src/io/model-file.js';
import { createRng, type Rng } from '../../src/data/rng.js';

export type FuzzTarget = 'safetensors' | 'model' | 'idx' | 'spec';
const TARGETS: FuzzTarget[] = ['safetensors', 'model', 'idx', 'spec'];

export interface FuzzSummary {
  cases: number;
  ok: number;
  rejected: number;
  failures: { target: FuzzTarget; case: number; mutation: string; error: string }[];
  totalMs: number;
  maxMs: number;
  /** largest allocation seen, as a fraction of the input (must stay <= 1) */
  maxAllocRatio: number;
  byTarget: Record<FuzzTarget, { cases: number; ok: number; rejected: number }>;
  byMutation: Record<string, number>;
  /** rejection messages with numbers and quoted names blanked, most frequent first */
  errorsByMessage: Record<string, number>;
}

const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, a: readonly T[]): T => a[Math.floor(r() * a.length)];
function randomBytes(r: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (r() * 256) | 0;
  return b;
}
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
};
const WEIRD = [
  -1,
  0,
  1,
  1.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 64,
  1e308,
  -0,
  'x',
  '',
  null,
  true,
  [],
  {},
  [1e9, 1e9],
  [[[[[]]]]],
  'F32',
  'relu',
];
const U32S = [0, 1, 2, 3, 7, 8, 255, 0x7fffffff, 0x80000000, 0xffffffff, 60000, 784, 1 << 20];

function encodeSafetensors(headerText: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function genSpec(r: Rng, withInput = true): Record<string, unknown> {
  let [h, w, c] = [int(r, 1, 12), int(r, 1, 12), int(r, 1, 3)]; // small: model files stay a few KB
  const input = [h, w, c];
  const layers: Record<string, unknown>[] = [];
  for (let i = int(r, 0, 4); i > 0; i--) {
    const kind = int(r, 0, 4);
    if (kind === 0) {
      const k = int(r, 1, Math.min(5, h, w)),
        outC = int(r, 1, 8);
      layers.push({
        type: 'conv2d',
        inC: c,
        outC,
        kernel: k,
        padding: 'valid',
        bias: r() < 0.7,
        ...(r() < 0.5 ? { activation: 'relu' } : {}),
      });
      (h = h - k + 1), (w = w - k + 1), (c = outC);
    } else if (kind === 1 && h >= 2 && w >= 2) {
      layers.push({ type: pick(r, ['maxpool2d', 'avgpool2d']), kernel: 2 });
      (h = Math.floor(h / 2)), (w = Math.floor(w / 2));
    } else if (kind === 4) {
      // a residual block keeping the shape: 1x1 conv body (named, nested) and a BN or identity shortcut
      const conv = { type: 'conv2d', inC: c, outC: c, kernel: 1, bias: r() < 0.5 };
      const body =
        r() < 0.5 ? { type: 'sequential', names: ['conv1', 'relu'], layers: [conv, { type: 'relu' }] } : conv;
      const shortcut = r() < 0.5 ? { shortcut: { type: 'batchnorm2d', channels: c } } : {};
      layers.push({ type: 'residual', body, ...shortcut, ...(r() < 0.5 ? { relu: true } : {}) });
    } else layers.push({ type: pick(r, ['relu', 'sigmoid', 'tanh']) });
  }
  layers.push({ type: 'flatten' });
  let f = h * w * c;
  for (let i = int(r, 1, 2); i > 0; i--) {
    const out = int(r, 1, 16);
    layers.push({ type: 'linear', in: f, out, ...(r() < 0.3 ? { bias: false } : {}) });
    f = out;
  }
  return withInput ? { version: 1, input, layers } : { version: 1, layers };
}

/** Replace, delete or add something at a random place of a JSON value (in place where possible). */
function mutateJson(r: Rng, v: unknown, depth = 0): unknown {
  if (depth > 6 || typeof v !== 'object' || v === null || r() < 0.25) return pick(r, WEIRD);
  const keys = Object.keys(v);
  if (keys.length === 0) return pick(r, WEIRD);
  const k = pick(r, keys);
  const o = v as Record<string, unknown>;
  const op = r();
  if (op < 0.15 && !Array.isArray(v)) delete o[k];
  else if (op < 0.25 && !Array.isArray(v))
    o[pick(r, ['extra', 'dtype', 'shape', '__metadata__', 'type', 'kernel', 'names', 'shortcut'])] = pick(r, WEIRD);
  else o[k] = mutateJson(r, o[k], depth + 1);
  return v;
}

/** Byte-level mutations; returns the mutation's name and the new bytes. */
function mutateBytes(r: Rng, b: Uint8Array, lengthFields: number[]): [string, Uint8Array] {
  const m = int(r, 0, 6);
  const c = b.slice();
  switch (m) {
    case 0:
      return ['truncate', b.subarray(0, int(r, 0, Math.max(0, b.length - 1)))];
    case 1:
      for (let i = int(r, 1, 8); i > 0 && c.length; i--) c[int(r, 0, c.length - 1)] = int(r, 0, 255);
      return ['flip', c];
    case 2: {
      const at = pick(r, lengthFields);
      if (at + 4 <= c.length) new DataView(c.buffer).setUint32(at, pick(r, U32S), r() < 0.5);
      return ['length-field', c];
    }
    case 3:
      return ['append', concat(b, randomBytes(r, int(r, 1, 16)))];
    case 4: {
      const at = int(r, 0, b.length),
        n = int(r, 1, 8);
      return r() < 0.5
        ? ['delete', concat(b.subarray(0, at), b.subarray(at + n))]
        : ['insert', concat(b.subarray(0, at), randomBytes(r, n), b.subarray(at))];
    }
    case 5:
      return ['random', randomBytes(r, int(r, 0, 64))];
    default:
      return ['none', b];
  }
}

function genSafetensorsParts(r: Rng): { header: Record<string, unknown>; data: Uint8Array } {
  const header: Record<string, unknown> = {};
  const chunks: Uint8Array[] = [];
  let at = 0;
  const dtypes: SafeDType[] = ['F32', 'F16', 'BF16', 'I32', 'U8', 'I64', 'F64', 'BOOL'];
  for (let i = int(r, 0, 4); i > 0; i--) {
    const dtype = pick(r, dtypes);
    const shape = Array.from({ length: int(r, 0, 3) }, () => int(r, 0, 5));
    const n = shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[dtype];
    header[`t${i}.${pick(r, ['weight', 'bias', 'x'])}`] = { dtype, shape, data_offsets: [at, at + n] };
    chunks.push(randomBytes(r, n));
    at += n;
  }
  if (r() < 0.5)
    header.__metadata__ = { note: 'fuzz', ...(r() < 0.5 ? { [ARCH_METADATA_KEY]: JSON.stringify(genSpec(r)) } : {}) };
  const data = new Uint8Array(at);
  let o = 0;
  for (const ch of chunks) data.set(ch, o), (o += ch.length);
  return { header, data };
}

function genModelFile(r: Rng): { header: Record<string, unknown>; data: Uint8Array } {
  const spec = genSpec(r);
  const params = modelParams(parseModelSpec(spec));
  const header: Record<string, unknown> = { __metadata__: { [ARCH_METADATA_KEY]: JSON.stringify(spec) } };
  let at = 0;
  for (const p of params) {
    const n = p.shape.reduce((a, b) => a * b, 1) * 4;
    header[p.name] = { dtype: 'F32', shape: p.shape, data_offsets: [at, at + n] };
    at += n;
  }
  return { header, data: randomBytes(r, at) };
}

function makeCase(r: Rng, target: FuzzTarget): { mutation: string; input: Uint8Array | string | unknown } {
  if (target === 'spec') {
    const spec = genSpec(r, r() < 0.8);
    const m = int(r, 0, 4);
    if (m === 0) return { mutation: 'none', input: JSON.stringify(spec) };
    if (m === 1) return { mutation: 'json', input: JSON.stringify(mutateJson(r, spec)) };
    if (m === 2) return { mutation: 'value', input: mutateJson(r, spec) };
    const text = JSON.stringify(spec);
    if (m === 3) return { mutation: 'truncate', input: text.slice(0, int(r, 0, text.length - 1)) };
    const at = int(r, 0, text.length);
    return {
      mutation: 'text-insert',
      input:
        text.slice(0, at) +
        pick(r, ['{', '}', '"', '\\', ',', ':', '[', '1e999', '"type":"relu",']) +
        text.slice(at + int(r, 0, 2)),
    };
  }
  if (target === 'idx') {
    const dtype = pick(r, ['u8', 'i8', 'i16', 'i32', 'f32', 'f64'] as IdxDType[]);
    const shape = Array.from({ length: int(r, 1, 3) }, () => int(r, 0, 6));
    const n = shape.reduce((a, b) => a * b, 1);
    const C = { u8: Uint8Array, i8: Int8Array, i16: Int16Array, i32: Int32Array, f32: Float32Array, f64: Float64Array }[
      dtype
    ];
    const data = new C(n);
    new Uint8Array(data.buffer).set(randomBytes(r, data.byteLength));
    const bytes = writeIdx({ dtype, shape, data } as IdxArray);
    const [mutation, input] = mutateBytes(r, bytes, [0, 4, 8, 12]);
    return { mutation, input };
  }
  const { header, data } = target === 'model' ? genModelFile(r) : genSafetensorsParts(r);
  if (r() < 0.35) {
    // Mutate the header JSON but keep the length field right: reaches the deep checks.
    let text = JSON.stringify(mutateJson(r, header));
    if (r() < 0.2) text = text.replace(/^\{"([^"]*)":/, '{"$1":1,"$1":'); // duplicate key
    return { mutation: 'header-json', input: encodeSafetensors(text, data) };
  }
  const [mutation, input] = mutateBytes(r, encodeSafetensors(JSON.stringify(header), data), [0, 4]);
  return { mutation, input };
}

function runTarget(target: FuzzTarget, input: unknown): void {
  if (target === 'idx') parseIdx(input as Uint8Array);
  else if (target === 'spec') {
    const s = parseModelSpec(input);
    if (s.input) modelShapes(s);
    modelParams(s);
  } else if (target === 'model') decodeModel(input as Uint8Array);
  else {
    const f = readSafetensors(input as Uint8Array);
    for (const t of f.tensors.values()) toFloat32(t);
    if (f.metadata[ARCH_METADATA_KEY] !== undefined) parseModelSpec(f.metadata[ARCH_METADATA_KEY]);
  }
}

const normalise = (m: string) =>
  m
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/(?<![\w.-])-?\d+(\.\d+)?(e[+-]?\d+)?(?![\w])/gi, 'N')
    .replace(/\[[N,.\s]*\]/g, '[…]')
    .slice(0, 110);

export function runFuzz(opts: { cases: number; seed?: number; maxCaseMs?: number }): FuzzSummary {
  const r = createRng(opts.seed ?? 1);
  const maxCaseMs = opts.maxCaseMs ?? 250;
  const s: FuzzSummary = {
    cases: 0,
    ok: 0,
    rejected: 0,
    failures: [],
    totalMs: 0,
    maxMs: 0,
    maxAllocRatio: 0,
    byTarget: Object.fromEntries(TARGETS.map((t) => [t, { cases: 0, ok: 0, rejected: 0 }])) as FuzzSummary['byTarget'],
    byMutation: {},
    errorsByMessage: {},
  };
  const messages = new Map<string, number>();
  let caseRatio = 0;
  setAllocationObserver((_f, bytes, inputBytes) => {
    caseRatio = Math.max(caseRatio, bytes / Math.max(inputBytes, 1));
  });
  try {
    for (let i = 0; i < opts.cases; i++) {
      const target = TARGETS[i % TARGETS.length];
      const { mutation, input } = makeCase(r, target);
      caseRatio = 0;
      const t0 = performance.now();
      let error: unknown = null;
      try {
        runTarget(target, input);
      } catch (e) {
        error = e;
      }
      const ms = performance.now() - t0;
      s.cases++, (s.totalMs += ms), (s.maxMs = Math.max(s.maxMs, ms));
      s.byTarget[target].cases++;
      s.byMutation[mutation] = (s.byMutation[mutation] ?? 0) + 1;
      s.maxAllocRatio = Math.max(s.maxAllocRatio, caseRatio);
      const fail = (why: string) =>
        s.failures.length < 50 && s.failures.push({ target, case: i, mutation, error: why });
      if (error === null) s.ok++, s.byTarget[target].ok++;
      else if (error instanceof FormatError) {
        s.rejected++, s.byTarget[target].rejected++;
        const k = `${target}: ${normalise(error.message.replace(/^webgpu-cnn: [\w ]+: /, ''))}`;
        messages.set(k, (messages.get(k) ?? 0) + 1);
      } else fail(`${(error as Error)?.name ?? typeof error}: ${(error as Error)?.message ?? String(error)}`);
      if (caseRatio > 1) fail(`allocated ${caseRatio.toFixed(2)}x the input size`);
      if (ms > maxCaseMs) fail(`took ${ms.toFixed(1)} ms (limit ${maxCaseMs})`);
    }
  } finally {
    setAllocationObserver(null);
  }
  s.errorsByMessage = Object.fromEntries([...messages].sort((a, b) => b[1] - a[1]));
  s.totalMs = Math.round(s.totalMs);
  s.maxMs = Math.round(s.maxMs * 100) / 100;
  return s;
}
