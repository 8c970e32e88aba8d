// Training checkpoints: everything needed to continue a run exactly where it stopped, in one
// safetensors file (src/io/safetensors.ts). Not a model file (src/io/model-file.ts): that one
// holds weights for inference; a checkpoint adds the optimizer and the random state.
//
// File layout (all tensors F32, names by model path):
//   "model.<name>"                  parameters and buffers (model.stateDict(): weights, biases,
//                                   BatchNorm running statistics)
//   "optimizer.<slot>.<param name>" optimizer state: SGD 'velocity', Adam/AdamW 'm' and 'v'
//   metadata "webgpu-cnn.checkpoint" JSON with the scalar state:
//     { version: 1,
//       optimizer: { kind: 'sgd'|'adam'|'adamw', t, lr, params },  t = updates applied; the lr
//                  schedule and Adam's bias corrections continue from update t + 1
//       data: { seed, epoch, batch } | null,   the next batch: the data order is a pure function
//                  of (seed, epoch) and augmentation of (seed, epoch, batch) (src/data/batch.ts)
//       dropout: { "<module path>": [seed, counter] } }   each Dropout layer's GPU mask state
//   other metadata strings: the caller's own (`metadata`)
//
// Restoring writes into the existing tensors (tensor.write), so a captured TrainStep stays
// valid; after a device loss, build the model and optimizer again on the new engine and restore
// into those. Everything is checked before anything is written: a checkpoint of another
// architecture or optimizer leaves the target untouched.

import { shapeStr, type Tensor } from '../tensor/tensor.js';
import { FormatError, brief } from '../io/errors.js';
import { readSafetensors, toFloat32, writeSafetensors, type TensorToWrite } from '../io/safetensors.js';
import { Dropout } from '../nn/dropout.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizers.js';

/**
 * The safetensors `__metadata__` key under which a checkpoint stores its scalar state as JSON:
 * `'webgpu-cnn.checkpoint'` (reserved: callers' metadata may not use it).
 */
export const CHECKPOINT_METADATA_KEY = 'webgpu-cnn.checkpoint';
export const CHECKPOINT_VERSION = 1;

/** Where the data order stands: the next batch to train on is batch `batch` of epoch `epoch`. */
export interface DataPosition {
  seed: number;
  epoch: number;
  batch: number;
}

/**
 * What {@link saveCheckpoint} saves: the model (parameters, buffers, dropout state), the optimizer
 * (its state tensors and update count), and optionally the data position and extra metadata strings.
 */
export interface TrainingState {
  model: Module;
  optimizer: Optimizer;
  /** the data position to resume at (e.g. fit's StepInfo.resumeAt) */
  data?: DataPosition;
  /** extra strings to store (the checkpoint key is reserved) */
  metadata?: Record<string, string>;
}

/**
 * The scalar state of a checkpoint ({@link readCheckpointInfo}): optimizer kind, update count `t`, lr
 * and parameter count; the data position (null if none was saved); each Dropout layer's [seed,
 * counter] by module path; the caller's metadata.
 */
export interface CheckpointInfo {
  /** optimizer kind and updates applied so far (the optimizer's `t`) */
  optimizer: { kind: string; t: number; lr: number; params: number };
  data: DataPosition | null;
  dropout: Record<string, [number, number]>;
  /** the caller's metadata (without the checkpoint key) */
  metadata: Record<string, string>;
}

const fail = (msg: string): never => {
  throw new FormatError('checkpoint', msg);
};

/** Tensors a checkpoint of (model, optimizer) holds, by file name, in a stable order. */
function stateTensors(model: Module, optimizer: Optimizer | undefined): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [n, t] of model.stateDict()) out.set(`model.${n}`, t);
  if (!optimizer) return out;
  const names = new Map<Tensor, string>(model.namedParameters().map(([n, t]) => [t, n]));
  for (const s of optimizer.stateSlots()) {
    const p = optimizer.params[s.param];
    out.set(`optimizer.${s.slot}.${names.get(p) ?? `#${s.param}`}`, s.tensor);
  }
  return out;
}

function dropoutLayers(model: Module): [string, Dropout][] {
  return model.namedModules().filter((e): e is [string, Dropout] => e[1] instanceof Dropout);
}

function checkPosition(where: string, d: unknown): DataPosition {
  const p = d as DataPosition;
  const ok =
    typeof d === 'object' &&
    d !== null &&
    Object.keys(d).sort().join() === 'batch,epoch,seed' &&
    [p.seed, p.epoch, p.batch].every((v) => Number.isInteger(v) && v >= 0) &&
    p.seed <= 0xffffffff;
  if (!ok)
    throw new FormatError(where, `'data' must be {seed, epoch, batch} of integers >= 0 (seed < 2^32), got ${brief(d)}`);
  return { seed: p.seed, epoch: p.epoch, batch: p.batch };
}

/** Read the training state back from the GPU and encode it (one readback per tensor). */
export async function saveCheckpoint(s: TrainingState): Promise<Uint8Array> {
  const { model, optimizer } = s;
  if (s.metadata && CHECKPOINT_METADATA_KEY in s.metadata)
    throw new Error(`webgpu-cnn: saveCheckpoint: metadata key '${CHECKPOINT_METADATA_KEY}' is reserved`);
  const data = s.data ? checkPosition('saveCheckpoint', s.data) : null;
  const list = [...stateTensors(model, optimizer)];
  for (const [n, t] of list)
    if (t.dtype !== 'f32') throw new TypeError(`webgpu-cnn: saveCheckpoint: '${n}' is ${t.dtype}, expected f32`);
  const drops = dropoutLayers(model);
  const [values, dropStates] = await Promise.all([
    Promise.all(list.map(([, t]) => t.read() as Promise<Float32Array>)),
    Promise.all(drops.map(([, d]) => d.state.read() as Promise<Uint32Array>)),
  ]);
  const tensors = new Map<string, TensorToWrite>(list.map(([n, t], i) => [n, { shape: t.shape, data: values[i] }]));
  const header = {
    version: CHECKPOINT_VERSION,
    optimizer: { kind: optimizer.kind, t: optimizer.t, lr: optimizer.lr, params: optimizer.params.length },
    data,
    dropout: Object.fromEntries(drops.map(([n], i) => [n, [dropStates[i][0], dropStates[i][1]]])),
  };
  return writeSafetensors(tensors, { ...s.metadata, [CHECKPOINT_METADATA_KEY]: JSON.stringify(header) });
}

/** The scalar state of a checkpoint (validated), without loading it anywhere. */
export function readCheckpointInfo(bytes: ArrayBuffer | ArrayBufferView): CheckpointInfo {
  return parseInfo(readSafetensors(bytes).metadata);
}

function parseInfo(metadata: Record<string, string>): CheckpointInfo {
  const raw = metadata[CHECKPOINT_METADATA_KEY];
  if (raw === undefined)
    fail(`metadata key '${CHECKPOINT_METADATA_KEY}' is missing (a model file, not a training checkpoint?)`);
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(raw);
  } catch {
    return fail(`metadata '${CHECKPOINT_METADATA_KEY}' is not valid JSON`);
  }
  if (typeof h !== 'object' || h === null) fail(`metadata '${CHECKPOINT_METADATA_KEY}' must be a JSON object`);
  if (h.version !== CHECKPOINT_VERSION)
    fail(`version ${brief(h.version)} is not supported (this reader: ${CHECKPOINT_VERSION})`);
  const o = h.optimizer as CheckpointInfo['optimizer'];
  if (
    typeof o !== 'object' ||
    o === null ||
    !['sgd', 'adam', 'adamw'].includes(o.kind) ||
    !Number.isInteger(o.t) ||
    o.t < 0 ||
    !Number.isInteger(o.params) ||
    typeof o.lr !== 'number'
  )
    fail(`'optimizer' must be {kind: 'sgd'|'adam'|'adamw', t, lr, params}, got ${brief(o)}`);
  const data = h.data === null ? null : checkPosition('checkpoint', h.data);
  const dropout = h.dropout as Record<string, [number, number]>;
  if (typeof dropout !== 'object' || dropout === null) fail(`'dropout' must be an object, got ${brief(dropout)}`);
  for (const [k, v] of Object.entries(dropout))
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff))
      fail(`dropout state of layer ${brief(k)} must be [seed, counter] (u32), got ${brief(v)}`);
  const user = { ...metadata };
  delete user[CHECKPOINT_METADATA_KEY];
  return { optimizer: { kind: o.kind, t: o.t, lr: o.lr, params: o.params }, data, dropout, metadata: user };
}

/**
 * Restore a checkpoint into `model` and (when given) `optimizer`, which must have the same
 * architecture and optimizer kind as the saved ones. All checks pass before the first write.
 * Without `optimizer`, only the model's tensors and dropout state are restored.
 */
export function loadCheckpoint(
  bytes: ArrayBuffer | ArrayBufferView,
  target: { model: Module; optimizer?: Optimizer },
): CheckpointInfo {
  const f = readSafetensors(bytes);
  const info = parseInfo(f.metadata);
  const { model, optimizer } = target;
  if (optimizer) {
    if (optimizer.kind !== info.optimizer.kind)
      fail(`saved for a '${info.optimizer.kind}' optimizer, the target is '${optimizer.kind}'`);
    if (optimizer.params.length !== info.optimizer.params)
      fail(`saved for ${info.optimizer.params} parameters, the optimizer has ${optimizer.params.length}`);
  }
  const want = stateTensors(model, optimizer);
  const writes: [Tensor, Float32Array | Uint32Array][] = [];
  for (const [n, t] of want) {
    const st = f.tensors.get(n);
    if (!st) fail(`tensor ${brief(n)} ${shapeStr(t.shape)} is missing`);
    if (st!.dtype !== 'F32') fail(`tensor ${brief(n)} is ${st!.dtype}, expected F32`);
    if (st!.shape.join() !== t.shape.join())
      fail(`tensor ${brief(n)} has shape ${shapeStr(st!.shape)}, the target needs ${shapeStr(t.shape)}`);
    writes.push([t, toFloat32(st!)]);
  }
  for (const n of f.tensors.keys())
    if (!want.has(n) && !(n.startsWith('optimizer.') && !optimizer))
      fail(`tensor ${brief(n)} has no place in the target model/optimizer`);
  const drops = dropoutLayers(model);
  const saved = Object.keys(info.dropout).sort().join(),
    have = drops
      .map(([n]) => n)
      .sort()
      .join();
  if (saved !== have) fail(`dropout layers differ: saved [${saved}], the model has [${have}]`);
  for (const [n, d] of drops) writes.push([d.state, Uint32Array.from(info.dropout[n])]);
  for (const [t, data] of writes) t.write(data);
  if (optimizer) optimizer.t = info.optimizer.t;
  return info;
}
