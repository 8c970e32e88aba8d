// ModelSpec shapes and tensors: the output shape of every layer (modelShapes), and the names
// and shapes of the tensors a spec's network holds (modelParams), nested layers included.
// Parsing and validation: spec.ts; the types: spec-types.ts.

import { FormatError } from '../io/errors.js';
import {
  childName,
  residualChildren,
  type LayerSpec,
  type ModelSpec,
  type Pair,
  type SidePadding,
} from './spec-types.js';

const fail = (msg: string): never => {
  throw new FormatError('model spec', msg);
};

export const two = (p: Pair | undefined, dflt: number): [number, number] =>
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

/** Per-sample output shape of layer `l` for input `s` ([H,W,C] or [F]); `at` names it in errors. */
export function layerOutput(l: LayerSpec, s: number[], at: string): number[] {
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
    case 'sequential':
      return l.layers.reduce((t, c, j) => layerOutput(c, t, `${at}.layers[${j}] (${c.type})`), s);
    case 'residual': {
      const b = layerOutput(l.body, s, `${at}.body (${l.body.type})`);
      const sc = l.shortcut ? layerOutput(l.shortcut, s, `${at}.shortcut (${l.shortcut.type})`) : s;
      if (b.join() !== sc.join())
        fail(
          `${at}: the body gives [${b}] but the ${l.shortcut ? 'shortcut' : 'identity shortcut'} gives [${sc}] (input [${s}]): they must agree to be added`,
        );
      return b;
    }
    case 'linear':
      if (s.length !== 1) fail(`${at} needs a flat input, got [${s}] (add a flatten layer)`);
      if (s[0] !== l.in) fail(`${at}: 'in' is ${l.in} but the input has ${s[0]} features`);
      return [l.out];
    default:
      return s;
  }
}

/**
 * One tensor a {@link ModelSpec} implies (see {@link modelParams}): its dotted name, shape and
 * top-level layer index.
 */
export interface ParamSpec {
  name: string;
  shape: number[];
  /** index of the top-level layer that holds it */
  layer: number;
  /** a buffer (BatchNorm's running statistics and batch counter), not a trainable parameter */
  buffer?: true;
}

/**
 * Tensors of a spec (what a model file stores), in layer order (depth first; a residual's body,
 * then its shortcut), named by their dotted paths: conv weight HWIO + bias [O];
 * linear weight [in,out] + bias [out]; batchnorm2d weight, bias, then the buffers running_mean,
 * running_var [C] and num_batches_tracked [] (a count, stored as f32: exact to 2^24 batches).
 */
export function modelParams(spec: ModelSpec): ParamSpec[] {
  const out: ParamSpec[] = [];
  const walk = (l: LayerSpec, name: string, layer: number) => {
    const push = (suffix: string, shape: number[], buffer = false) =>
      out.push(
        buffer ? { name: `${name}.${suffix}`, shape, layer, buffer } : { name: `${name}.${suffix}`, shape, layer },
      );
    if (l.type === 'conv2d') {
      const [kh, kw] = two(l.kernel, 1);
      push('weight', [kh, kw, l.inC, l.outC]);
      if (l.bias ?? true) push('bias', [l.outC]);
    } else if (l.type === 'linear') {
      push('weight', [l.in, l.out]);
      if (l.bias ?? true) push('bias', [l.out]);
    } else if (l.type === 'batchnorm2d') {
      push('weight', [l.channels]);
      push('bias', [l.channels]);
      for (const b of ['running_mean', 'running_var']) push(b, [l.channels], true);
      push('num_batches_tracked', [], true);
    } else if (l.type === 'sequential') {
      l.layers.forEach((c, j) => walk(c, `${name}.${childName(l.names, j)}`, layer));
    } else if (l.type === 'residual') {
      const { body, shortcut } = residualChildren(l);
      for (const [n, c] of shortcut ? [...body, shortcut] : body) walk(c, `${name}.${n}`, layer);
    }
  };
  spec.layers.forEach((l, i) => walk(l, childName(spec.names, i), i));
  return out;
}
