// PyTorch state-dict export: our tensors as the safetensors file that PyTorch's
// load_state_dict accepts for the nn.Sequential of pytorchModuleSource(spec), with that module's
// names ("0.weight", "3.weight", "7.weight" ...), its layouts (OIHW conv weights, [out,in]
// linear weights, CHW-ordered inputs after a flatten) and its dtypes (num_batches_tracked I64).
// Every conversion is a permutation, so importing the export gives back the same bits.

import type { Tensor } from '../tensor/tensor.js';
import { writeSafetensors, type TensorToWrite } from './safetensors.js';
import { parseModelSpec, type ModelSpec } from '../nn/spec.js';
import { hwioToPytorch, linearAfterFlattenToPytorch, linearInOutToOutIn } from './pytorch-layout.js';
import { torchModules } from './pytorch-modules.js';
import { brief, FormatError } from './errors.js';

/** What a model gives to the export (a Sequential built from a spec, or anything shaped so). */
export interface ExportableModel {
  toSpec(): ModelSpec;
  stateDict(): Map<string, Tensor>;
}

/** Host data of our tensors by our names (what decodeModel's params or a read-back state dict hold). */
export type HostState = Map<string, { shape: readonly number[]; data: ArrayLike<number> }>;

/** Encode our tensors (names and layouts of `spec`) as a PyTorch state dict in safetensors. */
export function encodePytorchStateDict(spec: ModelSpec, state: HostState): Uint8Array {
  const clean = parseModelSpec(spec);
  const { layers } = torchModules(clean);
  const out = new Map<string, TensorToWrite>();
  const names = new Set<string>();
  for (const L of layers)
    for (const t of L.tensors) {
      names.add(t.ours);
      const h = state.get(t.ours);
      if (!h) throw new FormatError('pytorch export', `tensor ${brief(t.ours)} [${t.shape}] of the spec is missing`);
      if (h.shape.join() !== t.shape.join())
        throw new FormatError('pytorch export', `${brief(t.ours)} has shape [${h.shape}], the spec needs [${t.shape}]`);
      const key = `${L.prefix}.${t.suffix}`;
      let data: Float32Array | BigInt64Array;
      if (t.suffix === 'num_batches_tracked') data = BigInt64Array.of(BigInt(Math.round(h.data[0])));
      else if (L.kind === 'conv' && t.suffix === 'weight')
        data = hwioToPytorch(h.data, t.shape as [number, number, number, number]);
      else if (L.kind === 'linear' && t.suffix === 'weight')
        data = L.flat
          ? linearAfterFlattenToPytorch(h.data, t.shape[1], L.flat)
          : linearInOutToOutIn(h.data, t.shape as [number, number]);
      else data = Float32Array.from(h.data);
      out.set(key, { shape: t.torchShape, data });
    }
  for (const k of state.keys())
    if (!names.has(k)) throw new FormatError('pytorch export', `tensor ${brief(k)} is not part of the spec`);
  return writeSafetensors(out, { format: 'pt' });
}

/**
 * Read a model's tensors back and encode them as a PyTorch state dict (safetensors bytes) for
 * the nn.Sequential of pytorchModuleSource(model.toSpec()). The spec needs its input shape
 * when a linear layer follows a flatten.
 */
export async function exportPytorchStateDict(model: ExportableModel): Promise<Uint8Array> {
  const spec = model.toSpec();
  const state: HostState = new Map();
  for (const [k, t] of model.stateDict()) state.set(k, { shape: t.shape, data: await t.read() });
  return encodePytorchStateDict(spec, state);
}
