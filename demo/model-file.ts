// Saved demo models: safetensors bytes (the format PyTorch and Hugging Face use: a u64
// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
// then the raw little-endian data), with the network spec in the header's __metadata__ so a
// file rebuilds its own network. Plus the browser side: download, upload, IndexedDB.

import { paramList, validateSpec, type NetSpec, type Weights } from './net-spec.js';

const FORMAT = 'webgpu-cnn-demo/1';

export interface ModelFile {
  spec: NetSpec;
  weights: Weights;
  /** free-form notes (steps trained, test accuracy...) */
  meta: Record<string, string>;
}

export function encodeModel(m: ModelFile): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { ...m.meta, format: FORMAT, spec: JSON.stringify(m.spec) } };
  let offset = 0;
  const params = paramList(m.spec);
  for (const p of params) {
    const w = m.weights[p.name];
    if (!w) throw new Error(`save: missing parameter ${p.name}`);
    header[p.name] = { dtype: 'F32', shape: p.shape, data_offsets: [offset, offset + w.data.byteLength] };
    offset += w.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // data starts 8-byte aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const p of params) {
    const d = m.weights[p.name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

export function decodeModel(bytes: Uint8Array): ModelFile {
  if (bytes.length < 8) throw new Error('load: not a safetensors file (shorter than 8 bytes)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n <= 0 || 8 + n > bytes.length) throw new Error(`load: not a safetensors file (header length ${n} for ${bytes.length} bytes)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`load: the safetensors header is not JSON (${(e as Error).message})`);
  }
  const meta = (header.__metadata__ ?? {}) as Record<string, string>;
  if (!meta.spec) throw new Error('load: this safetensors file has no demo network spec in its __metadata__ (was it saved by this demo?)');
  const spec = JSON.parse(meta.spec) as NetSpec;
  const err = validateSpec(spec);
  if (err) throw new Error(`load: the file's network is invalid: ${err}`);
  const weights: Weights = {};
  const base = 8 + n;
  for (const p of paramList(spec)) {
    const e = header[p.name] as { dtype: string; shape: number[]; data_offsets: [number, number] } | undefined;
    if (!e) throw new Error(`load: the file lacks parameter ${p.name}`);
    if (e.dtype !== 'F32') throw new Error(`load: ${p.name} has dtype ${e.dtype}, expected F32`);
    if (JSON.stringify(e.shape) !== JSON.stringify(p.shape)) throw new Error(`load: ${p.name} has shape [${e.shape}], expected [${p.shape}]`);
    const [a, b] = e.data_offsets;
    if (b - a !== p.shape.reduce((x, y) => x * y, 1) * 4 || base + b > bytes.length) throw new Error(`load: ${p.name} has a bad byte range [${a}, ${b})`);
    // copy: the data may not be 4-byte aligned inside the file buffer
    weights[p.name] = { shape: p.shape, data: new Float32Array(bytes.slice(base + a, base + b).buffer) };
  }
  const { format: _f, spec: _s, ...rest } = meta;
  return { spec, weights, meta: rest };
}

export function download(bytes: Uint8Array, filename: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- IndexedDB: one object store of saved models by name ----

const DB = 'webgpu-cnn-demo', STORE = 'models';

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function tx<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = f(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

export function idbSave(name: string, bytes: Uint8Array): Promise<IDBValidKey> {
  return tx('readwrite', (s) => s.put(bytes, name));
}

export async function idbLoad(name: string): Promise<Uint8Array | null> {
  const v = await tx<Uint8Array | undefined>('readonly', (s) => s.get(name));
  return v ?? null;
}

export function idbList(): Promise<string[]> {
  return tx<IDBValidKey[]>('readonly', (s) => s.getAllKeys()).then((k) => k.map(String));
}
