// The PyTorch nn.Sequential that computes what a ModelSpec computes: its modules in forward
// order, the state-dict names and PyTorch-layout shapes of their tensors, and its Python source.
// Shared by the import (pytorch.ts) and the export (pytorch-export.ts).
//
// One spec layer can be several PyTorch modules, and every module takes an index, so the names
// differ from ours: a conv2d with a fused ReLU is nn.Conv2d then nn.ReLU, a globalavgpool is
// nn.AdaptiveAvgPool2d(1) then nn.Flatten, and a conv whose padding is asymmetric (explicit
// [[t,b],[l,r]], or 'same' with an odd total) gets an nn.ZeroPad2d before it. lenet()'s
// parameters 0/2/5/6 are 0/3/7/9 in PyTorch.
//
// Not here: the weight layout conversions (pytorch-layout.ts) and file handling.

import { FormatError } from './errors.js';
import { modelShapes, sides, type LayerSpec, type ModelSpec, type Pair } from '../nn/spec.js';

export type TorchKind = 'conv' | 'linear' | 'bn';

/** One tensor of a PyTorch module: its name after the module prefix, its PyTorch shape, ours. */
export interface TorchTensor {
  suffix: 'weight' | 'bias' | 'running_mean' | 'running_var' | 'num_batches_tracked';
  torchShape: number[];
  /** our state-dict name ("<spec layer>.<suffix>") and shape */
  ours: string;
  shape: number[];
}

/** A spec layer with tensors and the PyTorch module that holds them. */
export interface TorchLayer {
  /** index of the spec layer */
  layer: number;
  /** index of the module in the nn.Sequential: the state-dict prefix */
  index: number;
  kind: TorchKind;
  tensors: TorchTensor[];
  /** linear after a flatten of an [H,W,C] map with H*W > 1: its input order differs (CHW vs HWC) */
  flat: [number, number, number] | null;
}

export interface TorchModules {
  /** Python constructors in forward order, with the spec layer each comes from */
  modules: { python: string; layer: number }[];
  layers: TorchLayer[];
}

const two = (p: Pair | undefined, d: number): [number, number] =>
  p === undefined ? [d, d] : typeof p === 'number' ? [p, p] : p;
const tuple = ([a, b]: readonly number[]) => `(${a}, ${b})`;
const pyNum = (v: number) => (Number.isInteger(v) ? `${v}.0` : String(v));
const pyBool = (b: boolean) => (b ? 'True' : 'False');

/** The modules of the nn.Sequential equivalent to `spec`. Throws what has no PyTorch equivalent. */
export function torchModules(spec: ModelSpec): TorchModules {
  const fail = (i: number, m: string): never => {
    throw new FormatError('pytorch modules', `layers[${i}] (${spec.layers[i].type}): ${m}`);
  };
  const shapes = spec.input ? modelShapes(spec) : null;
  const inShape = (i: number): number[] | null => (i === 0 ? (spec.input ?? null) : (shapes?.[i - 1] ?? null));
  const modules: TorchModules['modules'] = [];
  const layers: TorchLayer[] = [];
  const add = (python: string, layer: number) => modules.push({ python, layer }) - 1;
  spec.layers.forEach((l, i) => {
    const t = (suffix: TorchTensor['suffix'], torchShape: number[], shape: number[]): TorchTensor => ({
      suffix,
      torchShape,
      ours: `${i}.${suffix}`,
      shape,
    });
    switch (l.type) {
      case 'conv2d': {
        const [kh, kw] = two(l.kernel, 1),
          [sh, sw] = two(l.stride, 1),
          [dh, dw] = two(l.dilation, 1);
        const [[pt, pb], [pl, pr]] = convSides(l, inShape(i), (m) => fail(i, m));
        const symmetric = pt === pb && pl === pr;
        if (!symmetric) add(`nn.ZeroPad2d(${`(${pl}, ${pr}, ${pt}, ${pb})`})`, i);
        const args = [`${l.inC}, ${l.outC}, kernel_size=${tuple([kh, kw])}`, `stride=${tuple([sh, sw])}`];
        if (symmetric) args.push(`padding=${tuple([pt, pl])}`);
        args.push(`dilation=${tuple([dh, dw])}`, `bias=${pyBool(l.bias ?? true)}`);
        const index = add(`nn.Conv2d(${args.join(', ')})`, i);
        const tensors = [t('weight', [l.outC, l.inC, kh, kw], [kh, kw, l.inC, l.outC])];
        if (l.bias ?? true) tensors.push(t('bias', [l.outC], [l.outC]));
        layers.push({ layer: i, index, kind: 'conv', tensors, flat: null });
        if (l.activation === 'relu') add('nn.ReLU()', i);
        break;
      }
      case 'linear': {
        const index = add(`nn.Linear(${l.in}, ${l.out}, bias=${pyBool(l.bias ?? true)})`, i);
        const tensors = [t('weight', [l.out, l.in], [l.in, l.out])];
        if (l.bias ?? true) tensors.push(t('bias', [l.out], [l.out]));
        layers.push({ layer: i, index, kind: 'linear', tensors, flat: flattenedFrom(spec, i, shapes) });
        if (l.activation === 'relu') add('nn.ReLU()', i);
        break;
      }
      case 'batchnorm2d': {
        const s = inShape(i);
        if (s && s.length === 1 && flattenedFrom(spec, i, shapes))
          fail(
            i,
            'a batchnorm2d on features flattened from a map orders them HWC here and CHW in PyTorch: not supported',
          );
        const cls = s && s.length === 1 ? 'nn.BatchNorm1d' : 'nn.BatchNorm2d';
        const C = l.channels;
        const index = add(
          `${cls}(${C}, eps=${pyNum(l.eps ?? 1e-5)}, momentum=${l.momentum === null ? 'None' : pyNum(l.momentum ?? 0.1)})`,
          i,
        );
        const tensors = [
          t('weight', [C], [C]),
          t('bias', [C], [C]),
          t('running_mean', [C], [C]),
          t('running_var', [C], [C]),
          t('num_batches_tracked', [], []),
        ];
        layers.push({ layer: i, index, kind: 'bn', tensors, flat: null });
        break;
      }
      case 'maxpool2d':
      case 'avgpool2d': {
        const k = two(l.kernel, 1),
          p = two(l.padding, 0);
        if (p[0] > k[0] / 2 || p[1] > k[1] / 2)
          fail(i, `padding [${p}] is more than half the kernel [${k}]: PyTorch's pooling does not allow it`);
        const args = [`kernel_size=${tuple(k)}`, `stride=${tuple(l.stride === undefined ? k : two(l.stride, 1))}`];
        args.push(`padding=${tuple(p)}`);
        if (l.type === 'avgpool2d') args.push(`count_include_pad=${pyBool(l.countIncludePad ?? false)}`);
        add(`nn.${l.type === 'maxpool2d' ? 'MaxPool2d' : 'AvgPool2d'}(${args.join(', ')})`, i);
        break;
      }
      case 'globalavgpool':
        add('nn.AdaptiveAvgPool2d(1)', i);
        add('nn.Flatten()', i);
        break;
      default:
        add(plainModule(l), i);
    }
  });
  return { modules, layers };
}

function plainModule(l: LayerSpec): string {
  switch (l.type) {
    case 'flatten':
      return 'nn.Flatten()';
    case 'relu':
      return 'nn.ReLU()';
    case 'sigmoid':
      return 'nn.Sigmoid()';
    case 'tanh':
      return 'nn.Tanh()';
    case 'leakyrelu':
      return `nn.LeakyReLU(${pyNum(l.slope)})`;
    case 'dropout':
      return `nn.Dropout(${pyNum(l.p)})`;
    default:
      throw new Error(`webgpu-cnn: torchModules: no module for ${l.type}`);
  }
}

/** A conv layer's padding as [[top, bottom], [left, right]], 'same' resolved (TensorFlow's rule). */
function convSides(
  l: Extract<LayerSpec, { type: 'conv2d' }>,
  input: number[] | null,
  fail: (m: string) => never,
): [[number, number], [number, number]] {
  if (l.padding !== 'same') {
    const [[t, b], [le, r]] = sides(l.padding);
    return [
      [t, b],
      [le, r],
    ];
  }
  const [kh, kw] = two(l.kernel, 1),
    [sh, sw] = two(l.stride, 1),
    [dh, dw] = two(l.dilation, 1);
  const axis = (size: number | null, k: number, s: number, d: number): [number, number] => {
    // stride 1: the total is (k-1)*d whatever the size; otherwise it depends on the size
    if (size === null && s !== 1) fail(`'same' padding with stride ${s} needs the spec's 'input' to be resolved`);
    const total = size === null ? (k - 1) * d : Math.max((Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0);
    const before = Math.floor(total / 2);
    return [before, total - before];
  };
  return [axis(input?.[0] ?? null, kh, sh, dh), axis(input?.[1] ?? null, kw, sw, dw)];
}

/** If layer i (linear or batchnorm2d) reads a flatten of an [H,W,C] map with H*W > 1, that map's shape. */
export function flattenedFrom(spec: ModelSpec, i: number, shapes: number[][] | null): [number, number, number] | null {
  let j = i - 1;
  while (j >= 0 && ['relu', 'leakyrelu', 'sigmoid', 'tanh', 'dropout'].includes(spec.layers[j].type)) j--;
  if (j < 0 || spec.layers[j].type !== 'flatten') return null;
  if (!shapes)
    throw new FormatError(
      'pytorch modules',
      `layers[${i}] follows a flatten: the spec needs 'input' to reorder its weights between CHW and HWC`,
    );
  const s = j === 0 ? spec.input! : shapes[j - 1];
  return s.length === 3 && s[0] * s[1] > 1 ? [s[0], s[1], s[2]] : null;
}

export interface ModuleSourceOptions {
  /** name of the builder function (default "build") */
  name?: string;
}

/**
 * Python source of the nn.Sequential equivalent to `spec`: `build()` returns the module, whose
 * state-dict names are those of exportPytorchStateDict, and `load(path)` builds it and loads
 * such a safetensors file. Input NCHW float32, as PyTorch convolutions take it.
 */
export function pytorchModuleSource(spec: ModelSpec, opts: ModuleSourceOptions = {}): string {
  const name = opts.name ?? 'build';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new RangeError(`webgpu-cnn: pytorchModuleSource: 'name' must be a Python identifier, got ${name}`);
  const { modules } = torchModules(spec);
  const shapes = spec.input ? modelShapes(spec) : null;
  const inp = spec.input ? `[N, ${spec.input[2]}, ${spec.input[0]}, ${spec.input[1]}]` : '[N, C, H, W]';
  const out = shapes ? `[N, ${shapes[shapes.length - 1].join(', ')}]` : 'as the last layer gives';
  const lines = modules.map((m, k) => `        ${m.python},  # ${k}: layers[${m.layer}] ${spec.layers[m.layer].type}`);
  return `# PyTorch module of a webgpu-cnn model, generated from its ModelSpec by pytorchModuleSource.
# Input: float32 NCHW ${inp}. Output: ${out}.
# Weights: the safetensors file of exportPytorchStateDict (same state-dict names), e.g.
#   model = load("model.pt.safetensors")
# Spec: ${JSON.stringify(spec)}
import torch
from torch import nn


def ${name}() -> nn.Sequential:
    return nn.Sequential(
${lines.join('\n')}
    )


def load(path: str, device: str = "cpu") -> nn.Sequential:
    from safetensors.torch import load_file

    model = ${name}()
    model.load_state_dict(load_file(path, device=device))
    return model.to(device)


if __name__ == "__main__":
    model = ${name}()
    print(model)
${
  spec.input
    ? `    print(model(torch.zeros(2, ${spec.input[2]}, ${spec.input[0]}, ${spec.input[1]})).shape)
`
    : ''
}`;
}
