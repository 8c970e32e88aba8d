// PyTorch state-dict import on the host: which tensor of the file belongs to which layer of the
// spec (forward order), and the layout conversions (pytorch-layout.ts). The export:
// pytorch-export.ts; the module list both follow: pytorch-modules.ts.
//
// Placing the file's modules on the spec's layers (conv2d, linear, batchnorm2d), in this order:
//  1. `map` (file key -> our name, per tensor) and `prefixes` (the file's module names of the
//     spec's layers, in forward order) place what they name.
//  2. If the file has a module named as each remaining layer's PyTorch module (its own export;
//     torchvision names for a named/nested spec such as resnet20()), those places. Otherwise,
//     if every remaining module name has the same form up to its numbers (nn.Sequential's
//     "0", "3", "7"; "features.0", "features.4"), the numbers give the forward order.
//  3. Otherwise the names say nothing about order (a state dict keeps registration order, but a
//     safetensors file lists its keys sorted, so "body" comes before "stem" and "top"), and a
//     module is placed by its kind and shapes, only where that is unique. Two layers of equal
//     shapes are an error that names the keys and the options that resolve it: never a guess.

import { brief, FormatError } from './errors.js';
import { describe } from '../tensor/args.js';
import { toFloat32, type SafeTensor, type SafetensorsFile } from './safetensors.js';
import type { ModelSpec } from '../nn/spec.js';
import { linearAfterFlattenFromPytorch, linearOutInToInOut, naturalCompare, pytorchToHwio } from './pytorch-layout.js';
import { torchModules, type TorchKind, type TorchLayer } from './pytorch-modules.js';

export {
  pytorchToHwio,
  hwioToPytorch,
  linearOutInToInOut,
  linearInOutToOutIn,
  linearAfterFlattenFromPytorch,
  linearAfterFlattenToPytorch,
  naturalCompare,
} from './pytorch-layout.js';

/**
 * Options of {@link importPytorchStateDict}: how the file's keys map onto the spec's tensors (by
 * module prefixes, or key by key), and whether tensors no layer uses are allowed (default false: a
 * FormatError).
 */
export interface ImportOptions {
  /** the file's module names (state-dict prefixes) of the spec's conv2d, linear and batchnorm2d
   *  layers, in forward order, e.g. ['stem', 'body', 'top'] */
  prefixes?: string[];
  /** per tensor: the file's key -> our name, e.g. { 'stem.weight': '0.weight', 'stem.bias': '0.bias' } */
  map?: Record<string, string>;
  /** do not fail on tensors of the file that no layer uses */
  allowUnused?: boolean;
}

const SUFFIXES = ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'];
const KIND_NAME: Record<TorchKind, string> = { conv: 'conv2d', linear: 'linear', bn: 'batchnorm2d' };
const HINT =
  "pass { prefixes: [the file's module names of the spec's conv2d/linear/batchnorm2d layers in forward order] } " +
  "or { map: { '<file key>': '<layer>.weight', ... } }";

interface FileModule {
  prefix: string;
  kind: TorchKind | null;
  keys: Map<string, SafeTensor>;
}

/** Group the file's tensors by module prefix ("a.b.weight" -> "a.b") and tell each module's kind. */
function fileModules(file: SafetensorsFile, skip: Set<string>): FileModule[] {
  const byPrefix = new Map<string, FileModule>();
  for (const [k, t] of file.tensors) {
    if (skip.has(k)) continue;
    const dot = k.lastIndexOf('.');
    if (dot < 0 || !SUFFIXES.includes(k.slice(dot + 1))) continue;
    const prefix = k.slice(0, dot);
    if (!byPrefix.has(prefix)) byPrefix.set(prefix, { prefix, kind: null, keys: new Map() });
    byPrefix.get(prefix)!.keys.set(k.slice(dot + 1), t);
  }
  for (const m of byPrefix.values()) {
    const w = m.keys.get('weight');
    m.kind = m.keys.has('running_mean')
      ? 'bn'
      : w?.shape.length === 4
        ? 'conv'
        : w?.shape.length === 2
          ? 'linear'
          : null;
  }
  return [...byPrefix.values()].filter((m) => m.kind !== null);
}

const signature = (kind: TorchKind, weight: readonly number[] | undefined, bias: boolean) =>
  `${KIND_NAME[kind]} weight [${weight ?? ''}]${bias ? ' + bias' : ''}`;

/** Map a PyTorch state dict (as safetensors) onto a spec's tensors: our names and layouts. */
export function importPytorchStateDict(
  file: SafetensorsFile,
  spec: ModelSpec,
  opts: ImportOptions = {},
): Map<string, { shape: number[]; data: Float32Array }> {
  const fail = (m: string): never => {
    throw new FormatError('pytorch import', m);
  };
  // argument kinds first (raw bytes are not a parsed file: readSafetensors(bytes) makes one)
  if (!(file?.tensors instanceof Map))
    throw new TypeError(
      `webgpu-cnn: importPytorchStateDict: 'file' must be a parsed safetensors file (readSafetensors(bytes)), got ${describe(file)}`,
    );
  if (!Array.isArray(spec?.layers))
    throw new TypeError(
      `webgpu-cnn: importPytorchStateDict: 'spec' must be a ModelSpec with 'layers', got ${describe(spec)}`,
    );
  const { layers } = torchModules(spec);
  const placed = new Map<TorchLayer, (suffix: string) => string | undefined>(); // layer -> file key of a suffix
  // 1. explicit: map, then prefixes
  const mapped = new Set<string>();
  if (opts.map) {
    const ours = new Map(layers.flatMap((L) => L.tensors.map((t) => [t.ours, L] as const)));
    const byLayer = new Map<TorchLayer, Map<string, string>>();
    for (const [key, name] of Object.entries(opts.map)) {
      if (!file.tensors.has(key)) fail(`map: the file has no tensor ${brief(key)}`);
      const L = ours.get(name) ?? fail(`map: ${brief(key)} -> ${brief(name)}: the spec has no tensor ${brief(name)}`);
      if (!byLayer.has(L)) byLayer.set(L, new Map());
      byLayer.get(L)!.set(name.slice(name.lastIndexOf('.') + 1), key);
      mapped.add(key);
    }
    for (const [L, m] of byLayer) placed.set(L, (s) => m.get(s));
  }
  const rest = () => layers.filter((L) => !placed.has(L));
  if (opts.prefixes) {
    if (opts.prefixes.length !== rest().length)
      fail(
        `'prefixes' names ${opts.prefixes.length} modules, the spec has ${rest().length} conv2d/linear/batchnorm2d layers${opts.map ? ' not in map' : ''}`,
      );
    rest().forEach((L, k) => placed.set(L, (s) => `${opts.prefixes![k]}.${s}`));
  }
  // 2. and 3. the remaining modules of the file
  const taken = new Set([...(opts.prefixes ?? [])]);
  const free = fileModules(file, mapped).filter((m) => !taken.has(m.prefix));
  const todo = rest();
  // 2a. the file has a module of the right kind named exactly as each layer's PyTorch module
  // (an export of ours; torchvision-style names of a named/nested spec): place them by name
  const byName = new Map(free.map((m) => [m.prefix, m]));
  if (todo.length && todo.every((L) => byName.get(L.prefix)?.kind === L.kind))
    for (const L of todo.splice(0)) placed.set(L, (s) => `${L.prefix}.${s}`);
  if (todo.length) {
    const form = (p: string) => p.replace(/(^|\.)\d+(?=\.|$)/g, '$1#');
    const ordered =
      free.length > 0 && free.every((m) => form(m.prefix) === form(free[0].prefix) && /\d/.test(m.prefix));
    if (ordered) {
      const seq = [...free].sort((a, b) => naturalCompare(a.prefix, b.prefix));
      if (seq.length !== todo.length)
        fail(
          `the spec has ${todo.length} conv2d/linear/batchnorm2d layers to place, the file has ${seq.length} modules ` +
            `(${seq.map((m) => m.prefix).join(', ')}); ${HINT}`,
        );
      todo.forEach((L, k) => {
        if (seq[k].kind !== L.kind)
          fail(
            `in forward order the file's module ${brief(seq[k].prefix)} (${KIND_NAME[seq[k].kind!]}) meets layers[${L.layer}] (${KIND_NAME[L.kind]}); ${HINT}`,
          );
        placed.set(L, (s) => `${seq[k].prefix}.${s}`);
      });
    } else {
      const sigOf = (L: TorchLayer) =>
        signature(
          L.kind,
          L.tensors[0].torchShape,
          L.tensors.some((t) => t.suffix === 'bias'),
        );
      const sigOfFile = (m: FileModule) => signature(m.kind!, m.keys.get('weight')?.shape, m.keys.has('bias'));
      const unplaced: string[] = [];
      for (const L of todo) {
        const want = sigOf(L);
        const same = todo.filter((o) => sigOf(o) === want);
        const cands = free.filter((m) => sigOfFile(m) === want);
        if (same.length === 1 && cands.length === 1) placed.set(L, (s) => `${cands[0].prefix}.${s}`);
        else if (cands.length === 0)
          fail(`layers[${L.layer}] (${want} in PyTorch's layout) matches no module of the file; ${HINT}`);
        else
          unplaced.push(
            `layers[${L.layer}] (${want}) could be any of ${cands.map((m) => brief(`${m.prefix}.weight`)).join(', ')}`,
          );
      }
      if (unplaced.length)
        fail(
          `cannot place the file's modules by forward order: their names carry no order (a safetensors file lists keys sorted), ` +
            `and layers of equal shapes are ambiguous: ${unplaced.join('; ')}. ${HINT}`,
        );
    }
  }
  // convert
  const used = new Set<string>();
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const L of layers) {
    const keyOf = placed.get(L)!;
    for (const t of L.tensors) {
      const key = keyOf(t.suffix);
      const ft = key === undefined ? undefined : file.tensors.get(key);
      if (!ft) {
        if (t.suffix === 'num_batches_tracked') {
          out.set(t.ours, { shape: [], data: new Float32Array(1) }); // PyTorch too loads old files without it
          continue;
        }
        fail(`missing tensor ${brief(key ?? t.ours)} for layers[${L.layer}] (${KIND_NAME[L.kind]}) ${t.suffix}`);
      }
      used.add(key!);
      if (ft!.shape.join() !== t.torchShape.join())
        fail(`${brief(key)} has shape [${ft!.shape}], layers[${L.layer}] needs [${t.torchShape}] (PyTorch layout)`);
      const v = toFloat32(ft!);
      let data = v;
      if (L.kind === 'conv' && t.suffix === 'weight')
        data = pytorchToHwio(v, t.torchShape as [number, number, number, number]);
      else if (L.kind === 'linear' && t.suffix === 'weight')
        data = L.flat
          ? linearAfterFlattenFromPytorch(v, t.torchShape[0], L.flat)
          : linearOutInToInOut(v, t.torchShape as [number, number]);
      out.set(t.ours, { shape: t.shape, data });
    }
  }
  const unused = [...file.tensors.keys()].filter((k) => !used.has(k));
  if (unused.length && !opts.allowUnused)
    fail(
      `tensors no layer uses: ${unused.slice(0, 8).join(', ')}${unused.length > 8 ? ', ...' : ''} (allowUnused: true to ignore)`,
    );
  return out;
}
