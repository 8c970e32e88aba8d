// Autotuning support: a cache of measured kernel choices and the timer that fills it. Which
// kernels exist and when each applies is declared by each op family (src/ops/*/choose.ts, read
// through runtime/select.ts); the tuners beside them (src/ops/*/tune.ts) time the candidates.
// This file knows nothing about kernels.
//
// Ops are synchronous, so they only ever read the in-memory map (`tuned(key)`) and fall back to
// their default on a miss. Tuning is explicit and async: it times the candidates with
// `measure` and records the winner with `remember`, which also persists it. `loadTuning()`
// (called by every tuning entry point, or by the application at start-up) merges persisted
// choices into memory, so a second run reuses them without timing anything.
//
// Keys start with adapterKey(engine): a choice made on one adapter, or with a different
// feature set (e.g. init({ disableFeatures: ['subgroups'] })), is never applied to another.
//
// Persistence (TuneStore): IndexedDB in the browser; in Node a JSON file, path from the
// environment variable WEBGPU_CNN_TUNE_FILE, default .cache/webgpu-cnn-autotune.json (relative
// to the working directory); memoryStore() keeps nothing.

import type { Engine } from './engine.js';

/** Where tuning choices persist: a flat map from key to choice. */
export interface TuneStore {
  readonly describe: string;
  load(): Promise<Record<string, string>>;
  save(all: Record<string, string>): Promise<void>;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';
const NODE_FS = 'node:fs/promises';

/**
 * A tuning store that keeps nothing: every load is empty and saves are dropped (tuned choices last
 * only for this page or process).
 */
export function memoryStore(): TuneStore {
  return { describe: 'memory', load: async () => ({}), save: async () => {} };
}

/** A JSON file (Node). Missing or unreadable files load as empty; writes are atomic (rename). */
export function fileStore(path: string): TuneStore {
  const fs = async () => (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
  return {
    describe: `file ${path}`,
    async load() {
      try {
        const v = JSON.parse(await (await fs()).readFile(path, 'utf8'));
        return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
      } catch {
        return {};
      }
    },
    async save(all) {
      const f = await fs();
      const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '.';
      await f.mkdir(dir, { recursive: true });
      const tmp = `${path}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`;
      await f.writeFile(tmp, `${JSON.stringify(all, null, 1)}\n`);
      await f.rename(tmp, path);
    },
  };
}

/** One IndexedDB record holding the whole map (browser). */
export function indexedDbStore(dbName = 'webgpu-cnn', storeName = 'autotune'): TuneStore {
  const open = () =>
    new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(dbName, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(storeName);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  const run = async <T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await open();
    try {
      return await new Promise<T>((resolve, reject) => {
        const req = f(db.transaction(storeName, mode).objectStore(storeName));
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    } finally {
      db.close();
    }
  };
  return {
    describe: `IndexedDB ${dbName}/${storeName}`,
    load: async () => ((await run('readonly', (s) => s.get('choices'))) as Record<string, string> | undefined) ?? {},
    save: async (all) => void (await run('readwrite', (s) => s.put(all, 'choices'))),
  };
}

export function defaultStore(): TuneStore {
  if (isNode) return fileStore(process.env.WEBGPU_CNN_TUNE_FILE || '.cache/webgpu-cnn-autotune.json');
  if (typeof indexedDB !== 'undefined') return indexedDbStore();
  return memoryStore();
}

let store: TuneStore | null = null;
let loaded: Promise<void> | null = null;
const choices = new Map<string, string>();

/** Use another store (e.g. a test file, or memoryStore() to persist nothing). Memory is kept. */
export function setTuneStore(s: TuneStore): void {
  store = s;
  loaded = null;
}

export function tuneStore(): TuneStore {
  return (store ??= defaultStore());
}

/** Merge the persisted choices into memory (once per store; later calls reuse the first load). */
export function loadTuning(): Promise<void> {
  return (loaded ??= tuneStore()
    .load()
    .then((all) => {
      for (const [k, v] of Object.entries(all)) if (typeof v === 'string' && !choices.has(k)) choices.set(k, v);
    }));
}

/** The remembered choice for a full key (adapterKey + op key), from memory only: ops call this. */
export function tuned(key: string): string | undefined {
  return choices.get(key);
}

/** Record a choice in memory and persist the whole map. */
export async function remember(key: string, choice: string): Promise<void> {
  await loadTuning();
  choices.set(key, choice);
  await tuneStore().save(Object.fromEntries(choices));
}

/** Forget every choice in memory (the store is untouched; the next loadTuning() reads it again). */
export function clearTuning(): void {
  choices.clear();
  loaded = null;
}

/** Identifies the adapter and the features that change which kernels exist. */
export function adapterKey(e: Engine): string {
  const i = e.info;
  return `${i.vendor}/${i.architecture}/${i.device}/${i.description}|${e.features.has('subgroups') ? 'sg' : 'nosg'}`;
}

/**
 * Median wall time (ms) of one call of each of `runs` on the GPU. A sample records `inner`
 * calls, submits them and waits for onSubmittedWorkDone. Per run: an untimed warm-up call
 * (pipeline compiles, pool allocations), then 1 and 4 calls timed to separate the per-call time
 * from the submit-and-wait overhead (milliseconds on SwiftShader), and `inner` chosen so that a
 * sample lasts at least twice that overhead and 2 ms (at most 256 calls). The samples of the
 * runs are interleaved, so that a change in machine load affects them alike.
 */
export async function measure(e: Engine, runs: (() => void)[], samples = 5): Promise<number[]> {
  const timed = async (run: () => void, n: number) => {
    await e.sync();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) run();
    await e.sync();
    return performance.now() - t0;
  };
  const inner: number[] = [];
  for (const run of runs) {
    await timed(run, 1);
    const t1 = await timed(run, 1),
      t4 = await timed(run, 4);
    const per = Math.max((t4 - t1) / 3, t4 / 256, 1e-3);
    const overhead = Math.max(t1 - per, 0);
    inner.push(Math.min(256, Math.max(1, Math.ceil(Math.max(2 * overhead, 2) / per))));
  }
  const times: number[][] = runs.map(() => []);
  for (let s = 0; s < samples; s++)
    for (let i = 0; i < runs.length; i++) times[i].push((await timed(runs[i], inner[i])) / inner[i]);
  return times.map((t) => t.sort((x, y) => x - y)[t.length >> 1]);
}

// ---- shared by the op tuners (src/ops/matmul/tune.ts, src/ops/conv2d/tune.ts) ----

/** Deterministic values in {-1, 0, 1}: products and sums of them are exact in f32 in any order. */
export function ternary(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    (s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5);
    out[i] = ((s >>> 0) % 3) - 1;
  }
  return out;
}

/** What a candidate run hands back: a tensor (only read and disposed here). */
interface RunOutput {
  read(): Promise<ArrayLike<number>>;
  dispose(): void;
}

/**
 * One kernel candidate's result in a tuning run: its median time in ms if it matched the reference, or
 * why it was rejected.
 */
export interface CandidateTiming {
  kernel: string;
  /** median ms (valid candidates) */
  ms?: number;
  /** why the candidate was rejected */
  error?: string;
}

/**
 * Validate each candidate against `reference` (assumed right), bit for bit on ternary data,
 * then time the valid ones together with `measure`. Returns one timing per candidate (invalid
 * ones carry the first wrong element) and the fastest valid candidate (null if none).
 */
export async function validateAndTime<K>(
  e: Engine,
  reference: K,
  list: K[],
  run: (k: K) => RunOutput,
  name: (k: K) => string,
  samples: number,
): Promise<{ timings: CandidateTiming[]; best: K | null }> {
  const timings: CandidateTiming[] = [];
  const ref = run(reference);
  const want = await ref.read();
  ref.dispose();
  const valid: K[] = [];
  for (const k of list) {
    const y = run(k);
    const got = await y.read();
    y.dispose();
    let bad = -1;
    for (let i = 0; i < want.length && bad < 0; i++) if (got[i] !== want[i]) bad = i;
    if (bad < 0) valid.push(k);
    else timings.push({ kernel: name(k), error: `wrong result at ${bad}: ${got[bad]} instead of ${want[bad]}` });
  }
  const ms = await measure(
    e,
    valid.map((k) => () => run(k).dispose()),
    samples,
  );
  let best: K | null = null,
    bestMs = Infinity;
  valid.forEach((k, i) => {
    timings.push({ kernel: name(k), ms: ms[i] });
    if (ms[i] < bestMs) (best = k), (bestMs = ms[i]);
  });
  return { timings, best };
}

/**
 * Lets a tuner see which shapes an op runs: ops call `note(key, item)`; `record(f)` runs f and
 * returns one item per distinct key noted meanwhile (nested records each see everything).
 */
export class ShapeRecorder<T> {
  private active: Map<string, T>[] = [];

  note(key: () => string, item: () => T): void {
    for (const r of this.active) r.set(key(), item());
  }

  async record(f: () => unknown): Promise<T[]> {
    const seen = new Map<string, T>();
    this.active.push(seen);
    try {
      await f();
    } finally {
      this.active = this.active.filter((r) => r !== seen);
    }
    return [...seen.values()];
  }
}
