// ModelSpec types: the JSON description of a network's architecture (src/nn/spec.ts parses and
// validates it; spec-shapes.ts infers shapes and parameter names). Only types and the naming
// rules that every reader of a spec shares live here.

/** A kernel size, stride or padding: one number for both axes, or [height, width]. */
export type Pair = number | [number, number];
/** Explicit padding per side: [[top, bottom], [left, right]]. */
export type SidePadding = [[number, number], [number, number]];
/** The activation fused after a conv2d or linear layer (default 'none'). */
export type Activation = 'none' | 'relu';

/**
 * A 'conv2d' layer: HWIO weight [kernel, inC, outC] and bias [outC] (`bias` default true); stride
 * default 1, padding default 'valid' (as {@link Conv2dGeomOptions}).
 */
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
/**
 * A 'maxpool2d' or 'avgpool2d' layer over NHWC maps: window `kernel`, `stride` (default: the kernel)
 * and symmetric `padding` (default 0).
 */
export interface Pool2dSpec {
  type: 'maxpool2d' | 'avgpool2d';
  kernel: Pair;
  stride?: Pair;
  padding?: Pair;
  /** avgpool2d only: padded cells count in the mean (PyTorch's default; here default false) */
  countIncludePad?: boolean;
}
/** A 'linear' layer [N, in] -> [N, out]: weight [in, out] and bias [out] (`bias` default true). */
export interface LinearSpec {
  type: 'linear';
  in: number;
  out: number;
  bias?: boolean;
  activation?: Activation;
}
/** A 'leakyrelu' layer: x for x > 0, else `slope` * x. */
export interface LeakyReluSpec {
  type: 'leakyrelu';
  slope: number;
}
/** A 'dropout' layer that drops each value with probability `p` in [0, 1) in training mode. */
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
/** A layer without parameters or options: flatten, global average pool, or an activation. */
export interface PlainSpec {
  type: 'flatten' | 'globalavgpool' | 'relu' | 'sigmoid' | 'tanh';
}
/** Layers applied in order; children named `names` (default "0", "1", ...): a nested nn.Sequential. */
export interface SequentialSpec {
  type: 'sequential';
  layers: LayerSpec[];
  names?: string[];
}
/**
 * relu?(body(x) + shortcut(x)), the shortcut being the identity when absent. Names as in
 * torchvision's BasicBlock: a sequential body's children are the block's own ("conv1", "bn1",
 * ...; any other body is "body"), the shortcut is "downsample".
 */
export interface ResidualSpec {
  type: 'residual';
  body: LayerSpec;
  shortcut?: LayerSpec;
  /** ReLU after the sum (default false) */
  relu?: boolean;
}
/** One layer of a {@link ModelSpec}, told apart by its `type`. */
export type LayerSpec =
  | Conv2dSpec
  | Pool2dSpec
  | LinearSpec
  | BatchNormSpec
  | LeakyReluSpec
  | DropoutSpec
  | PlainSpec
  | SequentialSpec
  | ResidualSpec;

/**
 * The JSON description of a network's architecture, stored in model files under
 * {@link ARCH_METADATA_KEY}; {@link parseModelSpec} validates it and {@link Sequential.fromSpec}
 * builds it.
 */
export interface ModelSpec {
  version: 1;
  /** optional input shape [H, W, C] (per sample); when present, layer shapes are checked */
  input?: [number, number, number];
  layers: LayerSpec[];
  /** names of the top-level layers (default "0", "1", ...): the first part of parameter names */
  names?: string[];
}

/** A residual layer's children by name (its parameter names' next part): see ResidualSpec. */
export function residualChildren(l: ResidualSpec): {
  body: [string, LayerSpec][];
  shortcut: [string, LayerSpec] | null;
} {
  const b = l.body;
  const body: [string, LayerSpec][] =
    b.type === 'sequential' ? b.layers.map((c, j) => [childName(b.names, j), c]) : [['body', b]];
  return { body, shortcut: l.shortcut ? ['downsample', l.shortcut] : null };
}

/** The name of child j of a container with optional `names`. */
export const childName = (names: readonly string[] | undefined, j: number): string => names?.[j] ?? String(j);
