// Saved demo models in the browser: download a .safetensors file, and keep models in
// IndexedDB. The bytes themselves are the engine's model format (engine-adapter.ts:
// encodeDemoModel / decodeDemoModel), made and read in the worker.

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

const DB = 'webgpu-cnn-demo',
  STORE = 'models';

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
