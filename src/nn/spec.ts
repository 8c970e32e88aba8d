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
// (PyTorch nn.Sequential style), or "<name>.weight" where the spec names its layers ("names");
// nested "sequential" and "residual" layers give dotted paths ("layer2.0.downsample.0.weight",
// torchvision style). BatchNorm adds its buffers "<i>.running_mean", ...; conv weights are
// HWIO, linear weights [in, out]. Types: spec-types.ts; shapes and tensors: spec-shapes.ts.

import { brief, FormatError } from '../io/errors.js';
import { parseJsonStrict } from '../io/json.js';
import { modelShapes } from './spec-shapes.js';
import { residualChildren, type LayerSpec, type ModelSpec } from './spec-types.js';

export type * from './spec-types.js';
export { childName, residualChildren } from './spec-types.js';
export { modelShapes, modelParams, layerOutput, sides, type ParamSpec } from './spec-shapes.js';

/**
 * The safetensors `__metadata__` key under which a model file stores its {@link ModelSpec} as JSON:
 * `'webgpu-cnn.arch'`.
 */
export const ARCH_METADATA_KEY = 'webgpu-cnn.arch';
const MAX_DIM = 1 << 20;
const MAX_LAYERS = 4096;
/** sequential/residual nesting (ResNets need 3) */
const MAX_DEPTH = 16;

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
  sequential: { req: { layers: (v, at) => layerList(v, at) }, opt: { names: (v, at) => names(v, at) } },
  residual: {
    req: { body: (v, at) => parseLayer(v, at) },
    opt: { shortcut: (v, at) => parseLayer(v, at), relu: bool },
  },
};

let depth = 0;
function layerList(v: unknown, at: string): LayerSpec[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_LAYERS)
    return fail(`'${at}' must be an array of 1..${MAX_LAYERS} layer specs`);
  return v.map((l, i) => parseLayer(l, `${at}[${i}]`));
}
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$|^(0|[1-9][0-9]*)$/;
function names(v: unknown, at: string): string[] {
  if (!Array.isArray(v)) return fail(`${at} must be an array of names, got ${show(v)}`);
  v.forEach((n, j) => {
    if (typeof n !== 'string' || !NAME.test(n) || n.length > 64)
      fail(`${at}[${j}] must be an identifier (letters, digits, _) or an index, got ${show(n)}`);
  });
  unique(v as string[], at);
  return [...(v as string[])];
}
function unique(ns: string[], at: string): void {
  const dup = ns.find((n, j) => ns.indexOf(n) !== j);
  if (dup !== undefined) fail(`${at}: the name ${show(dup)} is used twice`);
}
/** Cross-field checks of the containers: as many names as layers; a residual's child names unique. */
function checkContainer(l: LayerSpec, at: string): void {
  if (l.type === 'sequential' && l.names && l.names.length !== l.layers.length)
    fail(`${at}.names has ${l.names.length} names for ${l.layers.length} layers`);
  if (l.type === 'residual') {
    const { body, shortcut } = residualChildren(l);
    unique(
      [...body, ...(shortcut ? [shortcut] : [])].map(([n]) => n),
      `${at} (body names and "downsample")`,
    );
  }
}

/** Validate a spec given as JSON text or as a parsed value; returns a clean copy. */
export function parseModelSpec(json: unknown): ModelSpec {
  const v = typeof json === 'string' ? parseJsonStrict('model spec', json, 'spec') : json;
  const top = Array.isArray(v) ? { version: 1, layers: v } : v; // a bare layer list is accepted too
  if (typeof top !== 'object' || top === null)
    return fail(`spec must be an object {version, input?, layers}, got ${show(top)}`);
  const o = top as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== 'version' && k !== 'input' && k !== 'layers' && k !== 'names') fail(`unknown top-level field ${show(k)}`);
  if (o.version !== 1) fail(`'version' must be 1, got ${show(o.version)}`);
  if (!Array.isArray(o.layers) || o.layers.length === 0 || o.layers.length > MAX_LAYERS)
    fail(`'layers' must be an array of 1..${MAX_LAYERS} layer specs`);
  let input: ModelSpec['input'];
  if (o.input !== undefined) {
    if (!Array.isArray(o.input) || o.input.length !== 3) fail(`'input' must be [H, W, C], got ${show(o.input)}`);
    input = (o.input as unknown[]).map((d, i) => int(1)(d, `input[${i}]`)) as [number, number, number];
  }
  const layers = (o.layers as unknown[]).map((l, i) => parseLayer(l, `layers[${i}]`));
  const spec: ModelSpec = input ? { version: 1, input, layers } : { version: 1, layers };
  if (o.names !== undefined) {
    spec.names = names(o.names, 'names');
    if (spec.names.length !== layers.length) fail(`'names' has ${spec.names.length} names for ${layers.length} layers`);
  }
  if (input) modelShapes(spec); // shapes must chain
  return spec;
}

function parseLayer(v: unknown, at: string): LayerSpec {
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
  if (depth >= MAX_DEPTH) fail(`${at}: sequential/residual layers nest deeper than ${MAX_DEPTH}`);
  depth++;
  try {
    for (const [k, check] of Object.entries(req)) out[k] = check(o[k], `${at}.${k}`);
    for (const [k, check] of Object.entries(opt)) if (o[k] !== undefined) out[k] = check(o[k], `${at}.${k}`);
  } finally {
    depth--;
  }
  checkContainer(out as unknown as LayerSpec, at);
  return out as unknown as LayerSpec;
}
