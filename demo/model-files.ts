// The demo's networks as engine model files: its NetSpec to and from the engine's ModelSpec
// ("webgpu-cnn.arch" metadata, parameters "<layer>.weight"), the input normalisation
// ("webgpu-cnn.preprocess", as loadPredictor reads it), and the safetensors bytes the demo
// saves and loads.

import {
  decodeModel,
  encodeModel,
  parseModelSpec,
  PREPROCESS_METADATA_KEY,
  preprocessMetadata,
  readPreprocess,
  type LayerSpec,
  type ModelSpec,
} from '../src/index.js';
import type { Normalize } from './model-api.js';
import { CLASSES, expandSpec, IMAGE, paramList, validateSpec, type NetSpec, type Weights } from './net-spec.js';

/** The engine's ModelSpec for a demo network (ReLU fused into conv and hidden linear layers). */
export function toModelSpec(spec: NetSpec): { model: ModelSpec; names: Map<string, string> } {
  const layers: LayerSpec[] = [];
  const names = new Map<string, string>(); // demo name -> engine name
  for (const l of expandSpec(spec)) {
    if (l.kind === 'conv') {
      names.set(`${l.name}.weight`, `${layers.length}.weight`).set(`${l.name}.bias`, `${layers.length}.bias`);
      layers.push({
        type: 'conv2d',
        inC: l.cin,
        outC: l.cout,
        kernel: l.kernel,
        padding: 'same',
        bias: true,
        activation: 'relu',
      });
    } else if (l.kind === 'maxpool') layers.push({ type: 'maxpool2d', kernel: 2, stride: 2 });
    else if (l.kind === 'flatten') layers.push({ type: 'flatten' });
    else if (l.kind === 'dense') {
      names.set(`${l.name}.weight`, `${layers.length}.weight`).set(`${l.name}.bias`, `${layers.length}.bias`);
      layers.push({
        type: 'linear',
        in: l.din,
        out: l.dout,
        bias: true,
        activation: l.dout === CLASSES && l.block === spec.hidden.length + 1 ? 'none' : 'relu',
      });
    }
  }
  return { model: parseModelSpec({ version: 1, input: [IMAGE, IMAGE, 1], layers }), names };
}

/** The demo network of an engine ModelSpec, or an error saying why the demo cannot show it. */
export function fromModelSpec(ms: ModelSpec): NetSpec {
  const spec: NetSpec = { convs: [], hidden: [] };
  const L = ms.layers;
  const bad = (i: number, why: string): never => {
    throw new Error(
      `load: layer ${i} (${JSON.stringify(L[i])}): ${why}; the demo shows conv(same) → ReLU → max-pool stacks followed by dense layers`,
    );
  };
  let i = 0;
  const reluNext = (fused: string | undefined) => {
    if (fused === 'relu') return true;
    if (L[i + 1]?.type === 'relu') return (i++, true);
    return false;
  };
  for (; i < L.length && L[i].type === 'conv2d'; i++) {
    const c = L[i] as Extract<LayerSpec, { type: 'conv2d' }>;
    const k =
      typeof c.kernel === 'number' ? c.kernel : c.kernel[0] === c.kernel[1] ? c.kernel[0] : bad(i, 'non-square kernel');
    if (c.padding !== 'same' || (c.stride ?? 1) !== 1 || (c.dilation ?? 1) !== 1 || c.bias === false)
      bad(i, 'needs padding "same", stride 1, a bias');
    if (!reluNext(c.activation)) bad(i, 'needs a ReLU');
    const p = L[i + 1];
    const pool =
      p?.type === 'maxpool2d' &&
      (p.kernel === 2 || String(p.kernel) === '2,2') &&
      [undefined, 2].includes(p.stride as number) &&
      !p.padding;
    spec.convs.push({ channels: c.outC, kernel: k, pool });
    if (pool) i++;
  }
  if (L[i]?.type !== 'flatten') bad(i, 'expected flatten after the conv blocks');
  for (i++; i < L.length; i++) {
    const d = L[i];
    if (d.type !== 'linear' || d.bias === false) bad(i, 'expected a linear layer with a bias');
    const lin = d as Extract<LayerSpec, { type: 'linear' }>;
    const last = i === L.length - 1;
    if (last) {
      if (lin.out !== CLASSES || (lin.activation ?? 'none') !== 'none')
        bad(i, `the last layer must give ${CLASSES} logits`);
    } else {
      if (!reluNext(lin.activation)) bad(i, 'hidden layers need a ReLU');
      spec.hidden.push(lin.out);
    }
  }
  const err = validateSpec(spec);
  if (err) throw new Error(`load: ${err}`);
  return spec;
}

/**
 * The normalisation recorded in a file's metadata: null for none, or for a file that does not
 * say (the demo's files before it wrote the key were trained on ink in [0, 1]).
 */
export function readNormalize(meta: Record<string, string>): Normalize {
  const n = readPreprocess(meta, 'load')?.normalize;
  if (!n) return null;
  // one number, or one per channel: the demo's images have one channel
  const one = (v: number | readonly number[]) => (typeof v === 'number' ? v : v.length === 1 ? v[0] : NaN);
  const mean = one(n.mean),
    std = one(n.std);
  if (Number.isNaN(mean) || Number.isNaN(std))
    throw new Error(
      `load: metadata "${PREPROCESS_METADATA_KEY}" needs { mean, std } for one channel (the demo's images), got ${JSON.stringify(n)}`,
    );
  return { mean, std };
}

export function encodeDemoModel(
  spec: NetSpec,
  weights: Weights,
  meta: Record<string, string>,
  normalize: Normalize = null,
): Uint8Array {
  const { model, names } = toModelSpec(spec);
  const params: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const p of paramList(spec)) params[names.get(p.name)!] = { shape: p.shape, data: weights[p.name].data };
  const input = normalize
    ? `ink in [0, 1], 28x28x1, then (x - ${normalize.mean}) / ${normalize.std}`
    : 'ink in [0, 1], 28x28x1, not normalised';
  return encodeModel(model, params, {
    ...meta,
    input,
    ...preprocessMetadata({ normalize: normalize ? { ...normalize } : false }),
  });
}

export function decodeDemoModel(bytes: Uint8Array): {
  spec: NetSpec;
  weights: Weights;
  meta: Record<string, string>;
  normalize: Normalize;
} {
  const f = decodeModel(bytes);
  if (!f.spec)
    throw new Error('load: the file has no network description ("webgpu-cnn.arch" metadata); save it with webgpu-cnn');
  const spec = fromModelSpec(f.spec);
  const { names } = toModelSpec(spec);
  const weights: Weights = {};
  for (const p of paramList(spec)) {
    const t = f.params.get(names.get(p.name)!);
    if (!t) throw new Error(`load: the file lacks ${names.get(p.name)} (${p.name})`);
    weights[p.name] = { shape: t.shape, data: t.data };
  }
  return { spec, weights, meta: f.metadata, normalize: readNormalize(f.metadata) };
}
