// The demo's network description: what the layer editor edits, what a saved model carries in
// its metadata, and what both backends (WebGPU through engine-adapter.ts, plain JS in
// cpu-net.ts) build. Not a general model format: a stack of conv blocks then dense layers.
//
// A conv block is conv(kernel, channels, stride 1, 'same' padding) -> ReLU -> (2x2 max pool).
// After the blocks: flatten (NHWC order), hidden dense layers each followed by ReLU, and a
// final dense layer to 10 logits. Parameter names follow PyTorch's habit (conv1.weight), with
// our layouts: conv weights HWIO [K,K,Cin,Cout], dense weights [in,out], biases [C].

import { createRng as mulberry32 } from '../src/data/rng.js';

export interface ConvBlock {
  channels: number;
  kernel: number;
  pool: boolean;
}

export interface NetSpec {
  convs: ConvBlock[];
  hidden: number[];
}

export const CLASSES = 10;
export const IMAGE = 28;

/** LeNet-style default, close to ConvNetJS's MNIST demo (8 and 16 filters of 5x5). */
export const PRESETS: Record<string, NetSpec> = {
  lenet: {
    convs: [
      { channels: 8, kernel: 5, pool: true },
      { channels: 16, kernel: 5, pool: true },
    ],
    hidden: [64],
  },
  tiny: { convs: [{ channels: 4, kernel: 3, pool: true }], hidden: [] },
  wide: {
    convs: [
      { channels: 16, kernel: 5, pool: true },
      { channels: 32, kernel: 3, pool: true },
    ],
    hidden: [128],
  },
  deep: {
    convs: [
      { channels: 8, kernel: 3, pool: false },
      { channels: 16, kernel: 3, pool: true },
      { channels: 32, kernel: 3, pool: true },
    ],
    hidden: [64],
  },
  /** the library's lenet() (models/mnist-lenet.safetensors): 421,642 parameters */
  library: {
    convs: [
      { channels: 32, kernel: 3, pool: true },
      { channels: 64, kernel: 3, pool: true },
    ],
    hidden: [128],
  },
};

export type Layer =
  | {
      kind: 'conv';
      name: string;
      block: number;
      kernel: number;
      cin: number;
      cout: number;
      pad: number;
      in: Hwc;
      out: Hwc;
    }
  | { kind: 'relu'; name: string; block: number; in: Hwc; out: Hwc }
  | { kind: 'maxpool'; name: string; block: number; size: number; in: Hwc; out: Hwc }
  | { kind: 'flatten'; name: string; block: number; in: Hwc; out: Hwc }
  | { kind: 'dense'; name: string; block: number; din: number; dout: number; in: Hwc; out: Hwc };

/** A per-image shape [H, W, C]; dense activations are [1, 1, units]. */
export type Hwc = [number, number, number];

export const LIMITS = { maxConvs: 4, maxHidden: 3, maxChannels: 64, maxUnits: 512, kernels: [1, 3, 5, 7] };

/** Checks a spec; returns an error message naming the field, or null. */
export function validateSpec(spec: NetSpec): string | null {
  if (!spec || !Array.isArray(spec.convs) || !Array.isArray(spec.hidden))
    return 'network: expected {convs: [...], hidden: [...]}';
  if (spec.convs.length > LIMITS.maxConvs) return `network: at most ${LIMITS.maxConvs} conv blocks`;
  if (spec.hidden.length > LIMITS.maxHidden) return `network: at most ${LIMITS.maxHidden} hidden dense layers`;
  let h = IMAGE;
  for (const [i, c] of spec.convs.entries()) {
    if (!Number.isInteger(c.channels) || c.channels < 1 || c.channels > LIMITS.maxChannels)
      return `conv ${i + 1}: channels must be an integer in 1..${LIMITS.maxChannels}, got ${c.channels}`;
    if (!LIMITS.kernels.includes(c.kernel))
      return `conv ${i + 1}: kernel must be one of ${LIMITS.kernels.join(', ')}, got ${c.kernel}`;
    if (c.pool) h = Math.floor(h / 2);
    if (h < 1) return `conv ${i + 1}: too many pooling steps, the feature map would vanish`;
  }
  for (const [i, u] of spec.hidden.entries())
    if (!Number.isInteger(u) || u < 1 || u > LIMITS.maxUnits)
      return `dense ${i + 1}: units must be an integer in 1..${LIMITS.maxUnits}, got ${u}`;
  return null;
}

/** The flat layer list with per-image shapes, in execution order. */
export function expandSpec(spec: NetSpec): Layer[] {
  const err = validateSpec(spec);
  if (err) throw new Error(err);
  const layers: Layer[] = [];
  let shape: Hwc = [IMAGE, IMAGE, 1];
  spec.convs.forEach((c, i) => {
    const b = i + 1;
    const out: Hwc = [shape[0], shape[1], c.channels];
    layers.push({
      kind: 'conv',
      name: `conv${b}`,
      block: b,
      kernel: c.kernel,
      cin: shape[2],
      cout: c.channels,
      pad: (c.kernel - 1) / 2,
      in: shape,
      out,
    });
    layers.push({ kind: 'relu', name: `relu${b}`, block: b, in: out, out });
    shape = out;
    if (c.pool) {
      const p: Hwc = [Math.floor(shape[0] / 2), Math.floor(shape[1] / 2), shape[2]];
      layers.push({ kind: 'maxpool', name: `pool${b}`, block: b, size: 2, in: shape, out: p });
      shape = p;
    }
  });
  const flat = shape[0] * shape[1] * shape[2];
  layers.push({ kind: 'flatten', name: 'flatten', block: 0, in: shape, out: [1, 1, flat] });
  let din = flat;
  const units = [...spec.hidden, CLASSES];
  units.forEach((u, i) => {
    const b = i + 1;
    layers.push({ kind: 'dense', name: `fc${b}`, block: b, din, dout: u, in: [1, 1, din], out: [1, 1, u] });
    if (i < units.length - 1)
      layers.push({ kind: 'relu', name: `fc${b}.relu`, block: b, in: [1, 1, u], out: [1, 1, u] });
    din = u;
  });
  return layers;
}

export interface ParamInfo {
  name: string;
  shape: number[];
  /** fan-in, for He initialisation */
  fanIn: number;
  kind: 'weight' | 'bias';
}

/** Parameters in a fixed order (the order of the layers, weight before bias). */
export function paramList(spec: NetSpec): ParamInfo[] {
  const out: ParamInfo[] = [];
  for (const l of expandSpec(spec)) {
    if (l.kind === 'conv') {
      const fanIn = l.kernel * l.kernel * l.cin;
      out.push({ name: `${l.name}.weight`, shape: [l.kernel, l.kernel, l.cin, l.cout], fanIn, kind: 'weight' });
      out.push({ name: `${l.name}.bias`, shape: [l.cout], fanIn, kind: 'bias' });
    } else if (l.kind === 'dense') {
      out.push({ name: `${l.name}.weight`, shape: [l.din, l.dout], fanIn: l.din, kind: 'weight' });
      out.push({ name: `${l.name}.bias`, shape: [l.dout], fanIn: l.din, kind: 'bias' });
    }
  }
  return out;
}

export function paramCount(spec: NetSpec): number {
  return paramList(spec).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** One line per layer, for the editor's summary: "conv1 5x5 -> 28x28x8". */
export function describeSpec(spec: NetSpec): string[] {
  return expandSpec(spec)
    .filter((l) => l.kind !== 'relu' && l.kind !== 'flatten')
    .map((l) => {
      const o = l.out;
      if (l.kind === 'conv') return `${l.name} ${l.kernel}x${l.kernel}, ${l.cout} filters → ${o[0]}x${o[1]}x${o[2]}`;
      if (l.kind === 'maxpool') return `${l.name} 2x2 max → ${o[0]}x${o[1]}x${o[2]}`;
      return `${l.name} ${l.kind === 'dense' ? `${l.din}→${l.dout}` : ''}`;
    });
}

export function cloneSpec(spec: NetSpec): NetSpec {
  return { convs: spec.convs.map((c) => ({ ...c })), hidden: [...spec.hidden] };
}

export type Weights = Record<string, { shape: number[]; data: Float32Array }>;

/** He-normal weights and zero biases from a seeded generator (both backends start alike). */
export function initWeights(spec: NetSpec, seed: number): Weights {
  const rand = mulberry32(seed);
  const gauss = () => {
    const u = Math.max(rand(), 1e-12),
      v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const w: Weights = {};
  for (const p of paramList(spec)) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (p.kind === 'weight') {
      const std = Math.sqrt(2 / p.fanIn);
      for (let i = 0; i < n; i++) data[i] = gauss() * std;
    }
    w[p.name] = { shape: p.shape, data };
  }
  return w;
}

/** Seeded PRNG (the library's mulberry32): data split, batches, augmentation and init are reproducible. */
export { mulberry32 };
