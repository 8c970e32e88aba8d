// PyTorch state-dict import on the host: layout conversions and name mapping.
//
// PyTorch stores conv weights OIHW [O,I,KH,KW] and linear weights [out,in]; this engine uses
// HWIO [KH,KW,I,O] and [in,out] (y = x·W + b). One more difference matters: PyTorch flattens
// NCHW feature maps in (C,H,W) order, we flatten NHWC in (H,W,C) order, so the linear layer
// right after a flatten also has its input rows permuted CHW -> HWC. See docs/io.md.
// (src/ops/conv2d.ts has oihwToHwio for the ops side; this file stays self-contained.)

import { brief, FormatError } from './errors.js';
import { toFloat32, type SafetensorsFile } from './safetensors.js';
import { modelShapes, type ModelSpec } from '../nn/spec.js';

function checkLen(fn: string, data: ArrayLike<number>, shape: readonly number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n)
    throw new RangeError(`webgpu-cnn: ${fn}: shape [${shape}] holds ${n} values, data has ${data.length}`);
}

/** Conv weight OIHW [O,I,KH,KW] (PyTorch) -> HWIO [KH,KW,I,O]. */
export function pytorchToHwio(
  data: ArrayLike<number>,
  [O, I, KH, KW]: readonly [number, number, number, number],
): Float32Array {
  checkLen('pytorchToHwio', data, [O, I, KH, KW]);
  const out = new Float32Array(data.length);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let y = 0; y < KH; y++)
        for (let x = 0; x < KW; x++) out[((y * KW + x) * I + i) * O + o] = data[((o * I + i) * KH + y) * KW + x];
  return out;
}

/** Conv weight HWIO [KH,KW,I,O] -> OIHW [O,I,KH,KW] (PyTorch), the inverse of pytorchToHwio. */
export function hwioToPytorch(
  data: ArrayLike<number>,
  [KH, KW, I, O]: readonly [number, number, number, number],
): Float32Array {
  checkLen('hwioToPytorch', data, [KH, KW, I, O]);
  const out = new Float32Array(data.length);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let y = 0; y < KH; y++)
        for (let x = 0; x < KW; x++) out[((o * I + i) * KH + y) * KW + x] = data[((y * KW + x) * I + i) * O + o];
  return out;
}

/** Linear weight [out,in] (PyTorch) -> [in,out]: a transpose. */
export function linearOutInToInOut(data: ArrayLike<number>, [out, inF]: readonly [number, number]): Float32Array {
  checkLen('linearOutInToInOut', data, [out, inF]);
  const r = new Float32Array(data.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) r[i * out + o] = data[o * inF + i];
  return r;
}

/** Linear weight [in,out] -> [out,in] (PyTorch), the inverse of linearOutInToInOut. */
export function linearInOutToOutIn(data: ArrayLike<number>, [inF, out]: readonly [number, number]): Float32Array {
  checkLen('linearInOutToOutIn', data, [inF, out]);
  return linearOutInToInOut(data, [inF, out]);
}

/**
 * Linear weight [out, C*H*W] of a PyTorch layer that follows a flatten of a [C,H,W] map ->
 * [H*W*C, out] for our flatten of the same map stored [H,W,C].
 */
export function linearAfterFlattenFromPytorch(
  data: ArrayLike<number>,
  out: number,
  [H, W, C]: readonly [number, number, number],
): Float32Array {
  const F = H * W * C;
  checkLen('linearAfterFlattenFromPytorch', data, [out, F]);
  const r = new Float32Array(data.length);
  for (let o = 0; o < out; o++)
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) r[((y * W + x) * C + c) * out + o] = data[o * F + (c * H + y) * W + x];
  return r;
}

/** Compare dotted names naturally: "2.weight" < "10.weight", "conv1" < "conv2" < "fc". */
export function naturalCompare(a: string, b: string): number {
  const pa = a.split(/(\d+)/),
    pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    const na = Number(pa[i]),
      nb = Number(pb[i]);
    if (i % 2 === 1 && pa[i] !== '' && pb[i] !== '') return na - nb;
    return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

export interface ImportOptions {
  /** PyTorch module names of the spec's conv2d/linear layers, in order (default: prefixes of the
   *  file's rank-2/4 "*.weight" tensors in natural order, e.g. conv1, conv2, fc1, fc2) */
  prefixes?: string[];
  /** do not fail on tensors of the file that no layer uses (e.g. BatchNorm buffers) */
  allowUnused?: boolean;
}

/** Map a PyTorch state dict (as safetensors) onto a spec's parameters ("<layer>.weight/bias", our layouts). */
export function importPytorchStateDict(
  file: SafetensorsFile,
  spec: ModelSpec,
  opts: ImportOptions = {},
): Map<string, { shape: number[]; data: Float32Array }> {
  const fail = (m: string): never => {
    throw new FormatError('pytorch import', m);
  };
  const layers = spec.layers.map((l, i) => ({ l, i })).filter(({ l }) => l.type === 'conv2d' || l.type === 'linear');
  const prefixes =
    opts.prefixes ??
    [...file.tensors]
      .filter(([k, t]) => k.endsWith('.weight') && (t.shape.length === 4 || t.shape.length === 2))
      .map(([k]) => k.slice(0, -'.weight'.length))
      .sort(naturalCompare);
  if (prefixes.length !== layers.length)
    fail(
      `the spec has ${layers.length} conv2d/linear layers, the file has ${prefixes.length} (${prefixes.join(', ')}); pass 'prefixes'`,
    );
  const shapes = spec.input ? modelShapes(spec) : null;
  const used = new Set<string>();
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const take = (key: string, want: number[]) => {
    const t = file.tensors.get(key) ?? fail(`missing tensor ${brief(key)}`);
    if (t.shape.join() !== want.join())
      fail(`${brief(key)} has shape [${t.shape}], the spec needs [${want}] (PyTorch layout)`);
    used.add(key);
    return toFloat32(t);
  };
  layers.forEach(({ l, i }, k) => {
    const p = prefixes[k];
    if (l.type === 'conv2d') {
      const [kh, kw] = typeof l.kernel === 'number' ? [l.kernel, l.kernel] : l.kernel;
      const w = take(`${p}.weight`, [l.outC, l.inC, kh, kw]);
      out.set(`${i}.weight`, { shape: [kh, kw, l.inC, l.outC], data: pytorchToHwio(w, [l.outC, l.inC, kh, kw]) });
      if (l.bias ?? true) out.set(`${i}.bias`, { shape: [l.outC], data: take(`${p}.bias`, [l.outC]) });
    } else if (l.type === 'linear') {
      const w = take(`${p}.weight`, [l.out, l.in]);
      const flat = flattenedFrom(spec, i, shapes);
      const data = flat ? linearAfterFlattenFromPytorch(w, l.out, flat) : linearOutInToInOut(w, [l.out, l.in]);
      out.set(`${i}.weight`, { shape: [l.in, l.out], data });
      if (l.bias ?? true) out.set(`${i}.bias`, { shape: [l.out], data: take(`${p}.bias`, [l.out]) });
    }
  });
  const unused = [...file.tensors.keys()].filter((k) => !used.has(k));
  if (unused.length && !opts.allowUnused)
    fail(
      `tensors no layer uses: ${unused.slice(0, 8).join(', ')}${unused.length > 8 ? ', ...' : ''} (allowUnused: true to ignore)`,
    );
  return out;
}

/** If layer i (linear) reads a flatten of an [H,W,C] map with H*W > 1, that map's shape. */
function flattenedFrom(spec: ModelSpec, i: number, shapes: number[][] | null): [number, number, number] | null {
  let j = i - 1;
  while (j >= 0 && ['relu', 'leakyrelu', 'sigmoid', 'tanh', 'dropout'].includes(spec.layers[j].type)) j--;
  if (j < 0 || spec.layers[j].type !== 'flatten') return null;
  if (!shapes)
    throw new FormatError(
      'pytorch import',
      `layers[${i}] follows a flatten: the spec needs 'input' to reorder its weights from CHW to HWC`,
    );
  const s = j === 0 ? spec.input! : shapes[j - 1];
  return s.length === 3 && s[0] * s[1] > 1 ? [s[0], s[1], s[2]] : null;
}
