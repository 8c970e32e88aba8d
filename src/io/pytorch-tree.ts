// The PyTorch module tree of a spec with named or nested layers ('sequential', 'residual', top-
// level 'names': resnet20()): one PyTorch module per layer of ours, with our names, so the
// state-dict names are ours ("layer2.0.downsample.0.weight", torchvision's) and only layouts
// differ. A flat spec keeps the nn.Sequential of pytorch-modules.ts (its indices differ from
// ours: a fused ReLU is a module of its own there).
//
// One module per layer needs three small classes in the generated source, each with the
// state-dict names of the PyTorch module it extends: ConvLayer (nn.Conv2d with an asymmetric
// zero padding before it and/or a fused ReLU after it), LinearLayer (nn.Linear with a fused
// ReLU), GlobalAvgPool (the mean over H and W, flattened), and Residual:
// relu?(body(x) + downsample(x)) whose body modules are its own children, as in torchvision's
// BasicBlock.

import { FormatError } from './errors.js';
import { childName, layerOutput, modelShapes, residualChildren, type LayerSpec, type ModelSpec } from '../nn/spec.js';
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

/** A spec that names or nests its layers: it gets a module tree (this file), not a flat nn.Sequential. */
export const isTreeSpec = (spec: ModelSpec): boolean =>
  spec.names !== undefined || spec.layers.some((l) => l.type === 'sequential' || l.type === 'residual');

const join = (prefix: string, n: string) => (prefix ? `${prefix}.${n}` : n);
const ACTIVATIONS = ['relu', 'leakyrelu', 'sigmoid', 'tanh', 'dropout'];

interface Walk {
  layers: TorchLayer[];
  /** top-level layer index, for messages and TorchLayer.layer */
  top: number;
  fail: (m: string) => never;
}

/**
 * Python of layer `l` at state-dict path `path` for per-sample input `shape` (null: unknown);
 * `flat` is the [H,W,C] map the input was flattened from (for a linear's weight order).
 * Returns the expression and the output shape / flatten state.
 */
function walk(
  l: LayerSpec,
  path: string,
  shape: number[] | null,
  flat: [number, number, number] | null,
  w: Walk,
  indent: string,
): { python: string; shape: number[] | null; flat: [number, number, number] | null } {
  const out = shape ? layerOutput(l, shape, path) : null;
  const t = (suffix: TorchTensor['suffix'], torchShape: number[], ours: number[]): TorchTensor => ({
    suffix,
    torchShape,
    ours: `${path}.${suffix}`,
    shape: ours,
  });
  const at = (m: string) => w.fail(`${path} (${l.type}): ${m}`);
  const push = (kind: TorchLayer['kind'], tensors: TorchTensor[], f: TorchLayer['flat']) =>
    w.layers.push({ layer: w.top, index: w.top, prefix: path, kind, tensors, flat: f });
  switch (l.type) {
    case 'conv2d': {
      const [kh, kw] = two(l.kernel, 1);
      const [[pt, pb], [pl, pr]] = convSides(l, shape, at);
      const symmetric = pt === pb && pl === pr;
      const args = [`${l.inC}, ${l.outC}, kernel_size=${tuple([kh, kw])}`, `stride=${tuple(two(l.stride, 1))}`];
      if (symmetric) args.push(`padding=${tuple([pt, pl])}`);
      args.push(`dilation=${tuple(two(l.dilation, 1))}`, `bias=${pyBool(l.bias ?? true)}`);
      if (!symmetric) args.push(`pad=(${pl}, ${pr}, ${pt}, ${pb})`);
      if (l.activation === 'relu') args.push('relu=True');
      const tensors = [t('weight', [l.outC, l.inC, kh, kw], [kh, kw, l.inC, l.outC])];
      if (l.bias ?? true) tensors.push(t('bias', [l.outC], [l.outC]));
      push('conv', tensors, null);
      const cls = symmetric && l.activation !== 'relu' ? 'nn.Conv2d' : 'ConvLayer';
      return { python: `${cls}(${args.join(', ')})`, shape: out, flat: null };
    }
    case 'linear': {
      const tensors = [t('weight', [l.out, l.in], [l.in, l.out])];
      if (l.bias ?? true) tensors.push(t('bias', [l.out], [l.out]));
      push('linear', tensors, flat);
      const relu = l.activation === 'relu';
      const python = `${relu ? 'LinearLayer' : 'nn.Linear'}(${l.in}, ${l.out}, bias=${pyBool(l.bias ?? true)}${relu ? ', relu=True' : ''})`;
      return { python, shape: out, flat: null };
    }
    case 'batchnorm2d': {
      if (flat)
        at('a batchnorm2d on features flattened from a map orders them HWC here and CHW in PyTorch: not supported');
      const C = l.channels;
      const cls = shape && shape.length === 1 ? 'nn.BatchNorm1d' : 'nn.BatchNorm2d';
      push(
        'bn',
        [
          t('weight', [C], [C]),
          t('bias', [C], [C]),
          t('running_mean', [C], [C]),
          t('running_var', [C], [C]),
          t('num_batches_tracked', [], []),
        ],
        null,
      );
      const python = `${cls}(${C}, eps=${pyNum(l.eps ?? 1e-5)}, momentum=${l.momentum === null ? 'None' : pyNum(l.momentum ?? 0.1)})`;
      return { python, shape: out, flat: null };
    }
    case 'maxpool2d':
    case 'avgpool2d': {
      const k = two(l.kernel, 1),
        p = two(l.padding, 0);
      if (p[0] > k[0] / 2 || p[1] > k[1] / 2)
        at(`padding [${p}] is more than half the kernel [${k}]: PyTorch's pooling does not allow it`);
      const args = [`kernel_size=${tuple(k)}`, `stride=${tuple(l.stride === undefined ? k : two(l.stride, 1))}`];
      args.push(`padding=${tuple(p)}`);
      if (l.type === 'avgpool2d') args.push(`count_include_pad=${pyBool(l.countIncludePad ?? false)}`);
      return {
        python: `nn.${l.type === 'maxpool2d' ? 'MaxPool2d' : 'AvgPool2d'}(${args.join(', ')})`,
        shape: out,
        flat: null,
      };
    }
    case 'globalavgpool':
      return { python: 'GlobalAvgPool()', shape: out, flat: null };
    case 'flatten': {
      if (!shape) at(`the spec needs 'input' to reorder the weights of a linear layer after a flatten (CHW vs HWC)`);
      const f: [number, number, number] | null =
        shape!.length === 3 && shape![0] * shape![1] > 1 ? [shape![0], shape![1], shape![2]] : null;
      return { python: 'nn.Flatten()', shape: out, flat: f };
    }
    case 'sequential': {
      const inner = indent + '    ';
      const items: string[] = [];
      let s = shape,
        f = flat;
      l.layers.forEach((c, j) => {
        const n = childName(l.names, j);
        const r = walk(c, join(path, n), s, f, w, inner + (l.names ? '    ' : ''));
        items.push(l.names ? `${inner}("${n}", ${r.python}),` : `${inner}${r.python},`);
        ({ shape: s, flat: f } = r);
      });
      return {
        python: l.names
          ? `nn.Sequential(OrderedDict([\n${items.join('\n')}\n${indent}]))`
          : `nn.Sequential(\n${items.join('\n')}\n${indent})`,
        shape: s,
        flat: f,
      };
    }
    case 'residual': {
      const inner = indent + '    ';
      const { body } = residualChildren(l);
      const items: string[] = [];
      let s = shape,
        f = flat;
      for (const [n, c] of body) {
        const r = walk(c, join(path, n), s, f, w, inner + '    ');
        items.push(`${inner}    ("${n}", ${r.python}),`);
        ({ shape: s, flat: f } = r);
      }
      const args = [`OrderedDict([\n${items.join('\n')}\n${inner}])`];
      if (l.shortcut)
        args.push(`downsample=${walk(l.shortcut, join(path, 'downsample'), shape, flat, w, inner).python}`);
      if (l.relu) args.push('relu=True');
      return {
        python: `Residual(\n${args.map((a) => `${inner}${a},`).join('\n')}\n${indent})`,
        shape: out,
        flat: null,
      };
    }
    default:
      if (!ACTIVATIONS.includes(l.type)) at('no PyTorch module');
      return { python: plainModule(l), shape: out, flat };
  }
}

/** The module tree of a named/nested spec: top-level modules (Python expressions) and the layers with tensors. */
export function treeModules(spec: ModelSpec): TorchModules {
  const layers: TorchLayer[] = [];
  const modules: TorchModules['modules'] = [];
  let shape: number[] | null = spec.input ? [...spec.input] : null,
    flat: [number, number, number] | null = null;
  spec.layers.forEach((l, i) => {
    const fail = (m: string): never => {
      throw new FormatError('pytorch modules', `layers[${i}]: ${m}`);
    };
    const r = walk(l, childName(spec.names, i), shape, flat, { layers, top: i, fail }, '        ');
    modules.push({ python: r.python, layer: i });
    ({ shape, flat } = r);
  });
  return { modules, layers };
}

const CLASSES = `class ConvLayer(nn.Conv2d):
    """nn.Conv2d with an optional zero padding (left, right, top, bottom) before it and ReLU after it."""

    def __init__(self, *args, pad=None, relu=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.pad, self.relu = pad, relu

    def forward(self, x):
        y = super().forward(x if self.pad is None else F.pad(x, self.pad))
        return F.relu(y) if self.relu else y


class LinearLayer(nn.Linear):
    """nn.Linear with a ReLU after it."""

    def __init__(self, *args, relu=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.relu = relu

    def forward(self, x):
        y = super().forward(x)
        return F.relu(y) if self.relu else y


class GlobalAvgPool(nn.Module):
    """[N, C, H, W] -> [N, C]: the mean over H and W."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


class Residual(nn.Module):
    """relu?(body(x) + downsample(x)), downsample the identity when None. The body's modules are
    this module's own children (torchvision's BasicBlock names: conv1, bn1, ..., downsample)."""

    def __init__(self, body: "OrderedDict[str, nn.Module]", downsample=None, relu=False):
        super().__init__()
        self.body_names = list(body)
        for name, module in body.items():
            self.add_module(name, module)
        self.downsample = downsample
        self.relu_out = relu

    def forward(self, x):
        y = x
        for name in self.body_names:
            y = getattr(self, name)(y)
        y = y + (x if self.downsample is None else self.downsample(x))
        return F.relu(y) if self.relu_out else y
`;

/** Python source of a named/nested spec's module tree (see pytorchModuleSource). */
export function treeModuleSource(spec: ModelSpec, name: string): string {
  const { modules } = treeModules(spec);
  const shapes = spec.input ? modelShapes(spec) : null;
  const inp = spec.input ? `[N, ${spec.input[2]}, ${spec.input[0]}, ${spec.input[1]}]` : '[N, C, H, W]';
  const out = shapes ? `[N, ${shapes[shapes.length - 1].join(', ')}]` : 'as the last layer gives';
  const items = modules.map((m, i) =>
    spec.names ? `        ("${spec.names[i]}", ${m.python}),` : `        ${m.python},`,
  );
  const top = spec.names
    ? `nn.Sequential(OrderedDict([\n${items.join('\n')}\n    ]))`
    : `nn.Sequential(\n${items.join('\n')}\n    )`;
  return `# PyTorch module of a webgpu-cnn model, generated from its ModelSpec by pytorchModuleSource.
# Input: float32 NCHW ${inp}. Output: ${out}.
# Weights: the safetensors file of exportPytorchStateDict (same state-dict names), e.g.
#   model = load("model.pt.safetensors")
# Spec: ${JSON.stringify(spec)}
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


${CLASSES}

def ${name}() -> nn.Sequential:
    return ${top}


${pythonFooter(name, spec)}`;
}
