// The PyTorch nn.Sequential that computes what a ModelSpec computes: its modules in forward
// order, the state-dict names and PyTorch-layout shapes of their tensors, and its Python source.
// Shared by the import (pytorch.ts) and the export (pytorch-export.ts). Specs with named or
// nested layers (sequential, residual: ResNets) get a module tree with our names instead:
// pytorch-tree.ts.
//
// One spec layer can be several PyTorch modules, and every module takes an index, so the names
// differ from ours: a conv2d with a fused ReLU is nn.Conv2d then nn.ReLU, a globalavgpool is
// nn.AdaptiveAvgPool2d(1) then nn.Flatten, and a conv whose padding is asymmetric (explicit
// [[t,b],[l,r]], or 'same' with an odd total) gets an nn.ZeroPad2d before it. lenet()'s
// parameters 0/2/5/6 are 0/3/7/9 in PyTorch.
//
// Not here: the weight layout conversions (pytorch-layout.ts) and file handling.

import { FormatError } from './errors.js';
import { modelShapes, type ModelSpec } from '../nn/spec.js';
import {
  convSides,
  plainModule,
  pyBool,
  pyNum,
  pythonFooter,
  tuple,
  two,
  type TorchLayer,
  type TorchModules,
  type TorchTensor,
} from './pytorch-common.js';
import { isTreeSpec, treeModules, treeModuleSource } from './pytorch-tree.js';

export type { TorchKind, TorchLayer, TorchModules, TorchTensor } from './pytorch-common.js';

/** The modules of the nn.Sequential equivalent to `spec`. Throws what has no PyTorch equivalent. */
export function torchModules(spec: ModelSpec): TorchModules {
  if (isTreeSpec(spec)) return treeModules(spec);
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
        layers.push({ layer: i, index, prefix: String(index), kind: 'conv', tensors, flat: null });
        if (l.activation === 'relu') add('nn.ReLU()', i);
        break;
      }
      case 'linear': {
        const index = add(`nn.Linear(${l.in}, ${l.out}, bias=${pyBool(l.bias ?? true)})`, i);
        const tensors = [t('weight', [l.out, l.in], [l.in, l.out])];
        if (l.bias ?? true) tensors.push(t('bias', [l.out], [l.out]));
        layers.push({
          layer: i,
          index,
          prefix: String(index),
          kind: 'linear',
          tensors,
          flat: flattenedFrom(spec, i, shapes),
        });
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
        layers.push({ layer: i, index, prefix: String(index), kind: 'bn', tensors, flat: null });
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

/** Options of {@link pytorchModuleSource}. A name that is not a Python identifier throws a RangeError. */
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
  if (isTreeSpec(spec)) return treeModuleSource(spec, name);
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


${pythonFooter(name, spec)}`;
}
