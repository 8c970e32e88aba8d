// ModelSpec: a small JSON description of a CNN's architecture, stored in a safetensors file's
// __metadata__ under "webgpu-cnn.arch" so a file says what network its weights belong to.
//
//   { "version": 1, "input": [28, 28, 1],
//     "layers": [ {"type": "conv2d", "inC": 1, "outC": 8, "kernel": 3, "padding": "same", "bias": true, "activation": "relu"},
//                 {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear", "in": 1568, "out": 10} ] }
//
// parseModelSpec is strict: unknown layer types or fields, non-integers, zero/negative sizes,
// absurd sizes, and (when "input" is given) shapes that do not chain are all errors that name
// the layer and field. Parameter names are "<layer index>.weight" / "<layer index>.bias"
// (PyTorch nn.Sequential style), BatchNorm adds its buffers "<i>.running_mean", ...; conv
// weights are HWIO, linear weights [in, out].

import { brief, FormatError } from '../io/errors.js';
import { parseJsonStrict } from '../io/json.js';

export type Pair = number | [number, number];
/** Explicit padding per side: [[top, bottom], [left, right]]. */
export type SidePadding = [[number, number], [number, number]];
export type Activation = 'none' | 'relu';

export interface Conv2dSpec {
  type: 'conv2d';
  inC: number;
  outC: number;
  kernel: Pair;
  stride?: Pair;
  padding?: 'valid' | 'same' | Pair | SidePadding;
  dilation?: Pair;
  bias?: boolean;
  activation?: Activation;
}
export interface Pool2dSpec {
  type: 'maxpool2d' | 'avgpool2d';
  kernel: Pair;
  stride?: Pair;
  padding?: Pair;
  /** avgpool2d only: padded cells count in the mean (PyTorch's default; here default false) */
  countIncludePad?: boolean;
}
export interface LinearSpec {
  type: 'linear';
  in: number;
  out: number;
  bias?: boolean;
  activation?: Activation;
}
export interface LeakyReluSpec {
  type: 'leakyrelu';
  slope: number;
}
export interface DropoutSpec {
  type: 'dropout';
  p: number;
}
/** BatchNorm over the channels (last axis) of [H,W,C] maps or [F] features (PyTorch's BatchNorm2d / 1d). */
export interface BatchNormSpec {
  type: 'batchnorm2d';
  channels: number;
  /** default 1e-5 */
  eps?: number;
  /** default 0.1: running = (1 - momentum) * running + momentum * batch; null: a cumulative
   *  average (momentum = 1 / num_batches_tracked, PyTorch's momentum=None) */
  momentum?: number | null;
}
export interface PlainSpec {
  type: 'flatten' | 'globalavgpool' | 'relu' | 'sigmoid' | 'tanh';
}
export type LayerSpec = Conv2dSpec | Pool2dSpec | LinearSpec | BatchNormSpec | LeakyReluSpec | DropoutSpec | PlainSpec;

export interface ModelSpec {
  version: 1;
  /** optional input shape [H, W, C] (per sample); when present, layer shapes are checked */
  input?: [number, number, number];
  layers: LayerSpec[];
}

export const ARCH_METADATA_KEY = 'webgpu-cnn.arch';
const MAX_DIM = 1 << 20;
const MAX_LAYERS = 4096;

type Check = (v: unknown, at: string) => unknown;
const fail = (msg: string): never => {
  throw new FormatError('model spec', msg);
};
const show = (v: unknown) => brief(v);

const int =
  (min: number, max = MAX_DIM): Check =>
  (v, at) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? v
      : fail(`${at} must be an integer in [${min}, ${max}], got ${show(v)}`);
const pair =
  (min: number): Check =>
  (v, at) =>
    Array.isArray(v)
      ? v.length === 2
        ? [int(min)(v[0], `${at}[0]`), int(min)(v[1], `${at}[1]`)]
        : fail(`${at} must be a number or [h, w], got ${show(v)}`)
      : int(min)(v, at);
const bool: Check = (v, at) => (typeof v === 'boolean' ? v : fail(`${at} must be true or false, got ${show(v)}`));
const activation: Check = (v, at) =>
  v === 'none' || v === 'relu' ? v : fail(`${at} must be "none" or "relu", got ${show(v)}`);
const convPadding: Check = (v, at) =>
  v === 'valid' || v === 'same'
    ? v
    : typeof v === 'string'
      ? fail(`${at} must be "valid", "same", a number, [h, w] or [[top, bottom], [left, right]], got ${show(v)}`)
      : Array.isArray(v) && v.length === 2 && Array.isArray(v[0]) && Array.isArray(v[1])
        ? [pair(0)(v[0], `${at}[0]`), pair(0)(v[1], `${at}[1]`)]
        : pair(0)(v, at);
const finite =
  (lo: number, hi: number, hiOpen: boolean): Check =>
  (v, at) =>
    typeof v === 'number' && Number.isFinite(v) && v >= lo && (hiOpen ? v < hi : v <= hi)
      ? v
      : fail(`${at} must be a number in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${show(v)}`);

/** Per layer type: required and optional fields with their checks. */
const LAYERS: Record<LayerSpec['type'], { req: Record<string, Check>; opt: Record<string, Check> }> = {
  conv2d: {
    req: { inC: int(1), outC: int(1), kernel: pair(1) },
    opt: { stride: pair(1), padding: convPadding, dilation: pair(1), bias: bool, activation },
  },
  maxpool2d: { req: { kernel: pair(1) }, opt: { stride: pair(1), padding: pair(0) } },
  avgpool2d: { req: { kernel: pair(1) }, opt: { stride: pair(1), padding: pair(0), countIncludePad: bool } },
  batchnorm2d: {
    req: { channels: int(1) },
    opt: { eps: finite(0, 1, false), momentum: (v, at) => (v === null ? null : finite(0, 1, false)(v, at)) },
  },
  linear: { req: { in: int(1, 1 << 26), out: int(1) }, opt: { bias: bool, activation } },
  leakyrelu: { req: { slope: finite(0, 1, false) }, opt: {} },
  dropout: { req: { p: finite(0, 1, true) }, opt: {} },
  flatten: { req: {}, opt: {} },
  globalavgpool: { req: {}, opt: {} },
  relu: { req: {}, opt: {} },
  sigmoid: { req: {}, opt: {} },
  tanh: { req: {}, opt: {} },
};

/** Validate a spec given as JSON text or as a parsed value; returns a clean copy. */
export function parseModelSpec(json: unknown): ModelSpec {
  const v = typeof json === 'string' ? parseJsonStrict('model spec', json, 'spec') : json;
  const top = Array.isArray(v) ? { version: 1, layers: v } : v; // a bare layer list is accepted too
  if (typeof top !== 'object' || top === null)
    return fail(`spec must be an object {version, input?, layers}, got ${show(top)}`);
  const o = top as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== 'version' && k !== 'input' && k !== 'layers') fail(`unknown top-level field ${show(k)}`);
  if (o.version !== 1) fail(`'version' must be 1, got ${show(o.version)}`);
  if (!Array.isArray(o.layers) || o.layers.length === 0 || o.layers.length > MAX_LAYERS)
    fail(`'layers' must be an array of 1..${MAX_LAYERS} layer specs`);
  let input: ModelSpec['input'];
  if (o.input !== undefined) {
    if (!Array.isArray(o.input) || o.input.length !== 3) fail(`'input' must be [H, W, C], got ${show(o.input)}`);
    input = (o.input as unknown[]).map((d, i) => int(1)(d, `input[${i}]`)) as [number, number, number];
  }
  const layers = (o.layers as unknown[]).map(parseLayer);
  const spec: ModelSpec = input ? { version: 1, input, layers } : { version: 1, layers };
  if (input) modelShapes(spec); // shapes must chain
  return spec;
}

function parseLayer(v: unknown, i: number): LayerSpec {
  const at = `layers[${i}]`;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return fail(`${at} must be an object with a 'type', got ${show(v)}`);
  const o = v as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== 'string' || !Object.hasOwn(LAYERS, type))
    return fail(`${at}: unknown layer type ${show(type)} (known: ${Object.keys(LAYERS).join(', ')})`);
  const { req, opt } = LAYERS[type as LayerSpec['type']];
  const out: Record<string, unknown> = { type };
  for (const k of Object.keys(o))
    if (k !== 'type' && !Object.hasOwn(req, k) && !Object.hasOwn(opt, k))
      fail(`${at} (${type}): unknown field ${show(k)}`);
  for (const [k, check] of Object.entries(req)) out[k] = check(o[k], `${at}.${k}`);
  for (const [k, check] of Object.entries(opt)) if (o[k] !== undefined) out[k] = check(o[k], `${at}.${k}`);
  return out as unknown as LayerSpec;
}

const two = (p: Pair | undefined, dflt: number): [number, number] =>
  p === undefined ? [dflt, dflt] : typeof p === 'number' ? [p, p] : p;

/** Padding as [[top, bottom], [left, right]] ('same' is resolved by the ops, not here). */
export function sides(pad: Pair | SidePadding | 'valid' | undefined): SidePadding {
  if (pad === undefined || pad === 'valid')
    return [
      [0, 0],
      [0, 0],
    ];
  if (Array.isArray(pad) && Array.isArray(pad[0])) return pad as SidePadding;
  const [ph, pw] = two(pad as Pair, 0);
  return [
    [ph, ph],
    [pw, pw],
  ];
}

/** Output shape (per sample) after each layer: [H,W,C] or [F]. Needs spec.input. */
export function modelShapes(spec: ModelSpec): number[][] {
  if (!spec.input) return fail(`'input' is needed to infer shapes`);
  let s: number[] = [...spec.input];
  return spec.layers.map((l, i) => (s = layerOutput(l, s, `layers[${i}] (${l.type})`)));
}

function layerOutput(l: LayerSpec, s: number[], at: string): number[] {
  const image = () =>
    s.length === 3 ? s : fail(`${at} needs an [H,W,C] input, got [${s}] (it comes after a flatten?)`);
  const spatial = (
    k: Pair,
    st: Pair | undefined,
    pad: Pair | SidePadding | 'same' | 'valid' | undefined,
    dil: Pair | undefined,
    dfltStride: [number, number],
  ) => {
    const [h, w] = image();
    const [kh, kw] = two(k, 1),
      [sh, sw] = st === undefined ? dfltStride : two(st, 1),
      [dh, dw] = two(dil, 1);
    if (pad === 'same') return [Math.ceil(h / sh), Math.ceil(w / sw)]; // TensorFlow's "same"
    const [[pt, pb], [pl, pr]] = sides(pad);
    const oh = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1,
      ow = Math.floor((w + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
    if (oh < 1 || ow < 1) fail(`${at}: kernel [${kh},${kw}] does not fit the [${h},${w}] input`);
    return [oh, ow];
  };
  switch (l.type) {
    case 'conv2d': {
      const c = image()[2];
      if (c !== l.inC) fail(`${at}: inC is ${l.inC} but the input has ${c} channels`);
      return [...spatial(l.kernel, l.stride, l.padding, l.dilation, [1, 1]), l.outC];
    }
    case 'maxpool2d':
    case 'avgpool2d':
      return [...spatial(l.kernel, l.stride, l.padding, undefined, two(l.kernel, 1)), image()[2]];
    case 'batchnorm2d':
      if (s[s.length - 1] !== l.channels)
        fail(`${at}: channels is ${l.channels} but the input [${s}] has ${s[s.length - 1]} channels`);
      return s;
    case 'flatten':
      return [s.reduce((a, b) => a * b, 1)];
    case 'globalavgpool':
      return [image()[2]];
    case 'linear':
      if (s.length !== 1) fail(`${at} needs a flat input, got [${s}] (add a flatten layer)`);
      if (s[0] !== l.in) fail(`${at}: 'in' is ${l.in} but the input has ${s[0]} features`);
      return [l.out];
    default:
      return s;
  }
}

export interface ParamSpec {
  name: string;
  shape: number[];
  layer: number;
  /** a buffer (BatchNorm's running statistics and batch counter), not a trainable parameter */
  buffer?: true;
}

/**
 * Tensors of a spec (what a model file stores), in layer order: conv weight HWIO + bias [O];
 * linear weight [in,out] + bias [out]; batchnorm2d weight, bias, then the buffers running_mean,
 * running_var [C] and num_batches_tracked [] (a count, stored as f32: exact to 2^24 batches).
 */
export function modelParams(spec: ModelSpec): ParamSpec[] {
  const out: ParamSpec[] = [];
  spec.layers.forEach((l, i) => {
    if (l.type === 'conv2d') {
      const [kh, kw] = two(l.kernel, 1);
      out.push({ name: `${i}.weight`, shape: [kh, kw, l.inC, l.outC], layer: i });
      if (l.bias ?? true) out.push({ name: `${i}.bias`, shape: [l.outC], layer: i });
    } else if (l.type === 'linear') {
      out.push({ name: `${i}.weight`, shape: [l.in, l.out], layer: i });
      if (l.bias ?? true) out.push({ name: `${i}.bias`, shape: [l.out], layer: i });
    } else if (l.type === 'batchnorm2d') {
      out.push({ name: `${i}.weight`, shape: [l.channels], layer: i });
      out.push({ name: `${i}.bias`, shape: [l.channels], layer: i });
      for (const b of ['running_mean', 'running_var'])
        out.push({ name: `${i}.${b}`, shape: [l.channels], layer: i, buffer: true });
      out.push({ name: `${i}.num_batches_tracked`, shape: [], layer: i, buffer: true });
    }
  });
  return out;
}
