// What the PyTorch import, export and module source share: the description of a spec layer's
// PyTorch module and tensors, and small Python-formatting and padding helpers. The module
// lists themselves: pytorch-modules.ts (flat specs, one nn.Sequential) and pytorch-tree.ts
// (specs with named or nested layers: residual networks).

import { sides, type LayerSpec, type Pair } from '../nn/spec.js';

/**
 * Kind of PyTorch module that holds tensors: nn.Conv2d ('conv'), nn.Linear ('linear') or
 * nn.BatchNorm2d/1d ('bn').
 */
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
  /** index of the module in the top-level nn.Sequential (that holds it, for nested specs) */
  index: number;
  /** its module's state-dict prefix: "3" in a flat spec, "layer2.0.downsample.0" in a nested one */
  prefix: string;
  kind: TorchKind;
  tensors: TorchTensor[];
  /** linear after a flatten of an [H,W,C] map with H*W > 1: its input order differs (CHW vs HWC) */
  flat: [number, number, number] | null;
}

/**
 * The PyTorch equivalent of a spec ({@link torchModules}): the Python constructors of its modules in
 * forward order, and the layers that hold tensors with their state-dict names and shapes.
 */
export interface TorchModules {
  /** Python constructors in forward order, with the spec layer each comes from */
  modules: { python: string; layer: number }[];
  layers: TorchLayer[];
}

export const two = (p: Pair | undefined, d: number): [number, number] =>
  p === undefined ? [d, d] : typeof p === 'number' ? [p, p] : p;
export const tuple = ([a, b]: readonly number[]) => `(${a}, ${b})`;
export const pyNum = (v: number) => (Number.isInteger(v) ? `${v}.0` : String(v));
export const pyBool = (b: boolean) => (b ? 'True' : 'False');

export function plainModule(l: LayerSpec): string {
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
export function convSides(
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

/** The end of a generated module file: load() from a safetensors file, and a __main__ that prints the model (and an output shape). */
export function pythonFooter(name: string, spec: { input?: readonly number[] }): string {
  return `def load(path: str, device: str = "cpu") -> nn.Sequential:
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
