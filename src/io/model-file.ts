// Model files: parameters as F32 safetensors plus the architecture (ModelSpec JSON) in the
// metadata key "webgpu-cnn.arch". encodeModel/decodeModel work on host arrays; saveModel and
// loadModel move GPU tensors (read back / upload) around them.
//
// When a spec is present, the parameter set must match modelParams(spec) exactly (names and
// shapes), on writing and on reading: a file never silently carries weights for another net.

import { tensor, type Tensor } from '../tensor/tensor.js';
import { brief, FormatError } from './errors.js';
import { readSafetensors, toFloat32, writeSafetensors } from './safetensors.js';
import { ARCH_METADATA_KEY, modelParams, parseModelSpec, type ModelSpec } from '../nn/spec.js';

/** A tensor's f32 values on the host: shape and row-major data. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * A decoded model file ({@link decodeModel}): its architecture (null if the file has none), f32
 * parameters by name, and its metadata strings.
 */
export interface ModelFile {
  spec: ModelSpec | null;
  params: Map<string, HostTensor>;
  /** all metadata strings, the arch key included */
  metadata: Record<string, string>;
}

function checkAgainstSpec(spec: ModelSpec, shapes: Map<string, readonly number[]>, where: string): void {
  const want = modelParams(spec);
  for (const p of want) {
    const got = shapes.get(p.name);
    if (!got) throw new FormatError(where, `parameter ${brief(p.name)} [${p.shape}] of the spec is missing`);
    if (got.join() !== p.shape.join())
      throw new FormatError(where, `parameter ${brief(p.name)} has shape [${got}], the spec needs [${p.shape}]`);
  }
  const names = new Set(want.map((p) => p.name));
  for (const k of shapes.keys())
    if (!names.has(k)) throw new FormatError(where, `parameter ${brief(k)} is not part of the spec`);
}

/** Encode parameters (and the spec, if given) as a safetensors file. */
export function encodeModel(
  spec: ModelSpec | null,
  params: Map<string, HostTensor> | Record<string, HostTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const map = params instanceof Map ? params : new Map(Object.entries(params));
  const meta = { ...metadata };
  if (spec) {
    const clean = parseModelSpec(spec);
    checkAgainstSpec(clean, new Map([...map].map(([k, v]) => [k, v.shape])), 'model file');
    meta[ARCH_METADATA_KEY] = JSON.stringify(clean);
  }
  return writeSafetensors(map, meta);
}

/** Decode a model file: f32 parameters, the spec (if the file has one) validated and checked against them. */
export function decodeModel(bytes: ArrayBuffer | ArrayBufferView): ModelFile {
  const f = readSafetensors(bytes);
  const arch = f.metadata[ARCH_METADATA_KEY];
  let spec: ModelSpec | null = null;
  try {
    if (arch !== undefined) spec = parseModelSpec(arch);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    throw new FormatError(
      'model file',
      `metadata ${brief(ARCH_METADATA_KEY)}: ${e.message.replace(/^webgpu-cnn: /, '')}`,
    );
  }
  if (spec) checkAgainstSpec(spec, new Map([...f.tensors].map(([k, t]) => [k, t.shape])), 'model file');
  const params = new Map<string, HostTensor>();
  for (const [k, t] of f.tensors) params.set(k, { shape: t.shape, data: toFloat32(t) });
  return { spec, params, metadata: f.metadata };
}

/** Read GPU parameters back and encode them (one readback per tensor). */
export async function saveModel(
  spec: ModelSpec | null,
  params: Record<string, Tensor> | Map<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<Uint8Array> {
  const host = new Map<string, HostTensor>();
  for (const [k, t] of params instanceof Map ? params : Object.entries(params)) {
    if (t.dtype !== 'f32')
      throw new TypeError(`webgpu-cnn: saveModel: parameter ${JSON.stringify(k)} is ${t.dtype}, only f32 is saved`);
    host.set(k, { shape: [...t.shape], data: (await t.read()) as Float32Array });
  }
  return encodeModel(spec, host, metadata);
}

/** Decode a model file and upload its parameters as new GPU tensors (named after their keys). */
export function loadModel(bytes: ArrayBuffer | ArrayBufferView): {
  spec: ModelSpec | null;
  params: Map<string, Tensor>;
  metadata: Record<string, string>;
} {
  const f = decodeModel(bytes);
  const params = new Map<string, Tensor>();
  try {
    for (const [k, p] of f.params) {
      const t = tensor(p.data, p.shape);
      t.name = k;
      params.set(k, t);
    }
  } catch (e) {
    // all or nothing: out of memory at the n-th tensor frees the n-1 uploaded before it
    for (const t of params.values()) t.dispose();
    if (e instanceof Error && !e.message.includes('in loadModel')) e.message += ' (in loadModel)';
    throw e;
  }
  return { spec: f.spec, params, metadata: f.metadata };
}
