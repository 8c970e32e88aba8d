// The engine: the small backend contract everything else uses. It is the device, the buffer
// pool and the queue, and nothing more. `init()` makes the current engine; ops use
// `engine()` to reach it.
//
// Device loss: when the device is lost the engine is marked lost, 'devicelost' listeners are
// called, and every later op throws. Calling `init()` again makes a fresh engine; tensors of
// the lost one are dead (restore weights from a checkpoint).

import { acquireDevice, type AdapterSummary, type InitOptions } from './device.js';
import { BufferPool, type MemoryStats } from './pool.js';
import { Queue } from './queue.js';
import { NumericsCheck } from './numerics.js';

/** Why the device was lost: `reason` from GPUDeviceLostInfo ('unknown' when absent) and its message. */
export interface DeviceLostInfo {
  reason: string;
  message: string;
}

/**
 * The current GPU backend: the device, its buffer pool and its command queue. Made by {@link init} or
 * {@link useDevice} and reached with {@link engine}; once the device is lost every op throws and
 * `init()` must be called again.
 */
export class Engine {
  readonly pool: BufferPool;
  readonly queue: Queue;
  /** NaN/Inf check mode (off by default), see numerics.ts */
  readonly numerics: NumericsCheck;
  /** live tensors (count), maintained by Tensor */
  liveTensors = 0;
  lost: DeviceLostInfo | null = null;
  private lostListeners = new Set<(info: DeviceLostInfo) => void>();

  /**
   * The GPU and adapter objects are kept referenced for the engine's lifetime: in Node, when
   * Dawn's GPU object (from `create([])`) is garbage-collected, its native instance is freed
   * under the live device and SwiftShader crashes (futex / mutex aborts) at a random later GC.
   */
  keepAlive: unknown[] = [];

  constructor(
    readonly device: GPUDevice,
    readonly info: AdapterSummary,
    readonly features: Set<string>,
  ) {
    this.pool = new BufferPool(device, device.limits.maxBufferSize);
    this.queue = new Queue(device, this.pool);
    this.pool.reclaim = () => this.queue.reclaim();
    this.numerics = new NumericsCheck(this);
    device.lost.then((l) => {
      this.lost = { reason: l.reason ?? 'unknown', message: l.message };
      for (const f of this.lostListeners) f(this.lost);
    });
  }

  get maxBindingBytes(): number {
    return this.device.limits.maxStorageBufferBindingSize;
  }

  memory(): MemoryStats & { liveTensors: number } {
    return { ...this.pool.memory(), liveTensors: this.liveTensors };
  }

  onDeviceLost(f: (info: DeviceLostInfo) => void): () => void {
    this.lostListeners.add(f);
    return () => this.lostListeners.delete(f);
  }

  checkAlive(op: string): void {
    if (this.lost)
      throw new Error(
        `webgpu-cnn: ${op}: the GPU device was lost (${this.lost.reason}: ${this.lost.message}); call init() again`,
      );
  }

  /** Submit recorded work. */
  flush(): void {
    this.queue.flush();
  }

  /** Wait for all submitted work. */
  sync(): Promise<void> {
    return this.queue.sync();
  }

  destroy(): void {
    this.queue.flush();
    this.device.destroy();
  }
}

let current: Engine | null = null;

/** WEBGPU_CNN_DEBUG=1 (Node env) or globalThis.WEBGPU_CNN_DEBUG = 1 (browser). */
function debugLevelFromEnv(): number {
  const g = (globalThis as { WEBGPU_CNN_DEBUG?: unknown }).WEBGPU_CNN_DEBUG;
  const v = g ?? (typeof process !== 'undefined' ? process.env?.WEBGPU_CNN_DEBUG : undefined);
  return Number(v ?? 0) || 0;
}

/** Make `e` the current engine (tests and multi-device apps). */
export function setEngine(e: Engine): void {
  current = e;
}
const engineListeners = new Set<(e: Engine) => void>();

/** Acquire a device and make it the current engine. Safe to call again after device loss. */
export async function init(opts: InitOptions = {}): Promise<Engine> {
  checkInitOptions(opts); // before a device is requested: a bad option changes nothing
  const ctx = await acquireDevice(opts);
  current = new Engine(ctx.device, ctx.info, ctx.features);
  current.keepAlive.push(ctx.gpu, ctx.adapter);
  if (opts.memoryBudget !== undefined) current.pool.budget = opts.memoryBudget;
  current.queue.debug = opts.debug ?? debugLevelFromEnv();
  for (const f of engineListeners) f(current);
  return current;
}

const INIT_KEYS = Object.keys({
  gpu: true,
  powerPreference: true,
  disableFeatures: true,
  memoryBudget: true,
  debug: true,
} satisfies Record<keyof InitOptions, true>);

/** init's options: known keys only, a budget that is a positive finite number of bytes. */
function checkInitOptions(opts: unknown): void {
  const bad = (m: string, E: ErrorConstructor = TypeError) => {
    throw new E(`webgpu-cnn: init: ${m}`);
  };
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts))
    bad(`'opts' must be an options object, got ${opts}`);
  const o = opts as InitOptions;
  for (const k of Object.keys(o))
    if (!INIT_KEYS.includes(k)) bad(`unknown option '${k}' in 'opts' (known: ${INIT_KEYS.join(', ')})`);
  const b = o.memoryBudget;
  if (b !== undefined && typeof b !== 'number')
    bad(`'memoryBudget' must be a number of bytes, got ${typeof b} ${String(b)}`);
  if (b !== undefined && !(b > 0 && Number.isFinite(b)))
    bad(`'memoryBudget' must be a positive finite number of bytes, got ${b}`, RangeError);
  if (o.debug !== undefined && !(typeof o.debug === 'number' && Number.isInteger(o.debug) && o.debug >= 0))
    bad(`'debug' must be an integer >= 0, got ${String(o.debug)}`);
  if (
    o.disableFeatures !== undefined &&
    !(Array.isArray(o.disableFeatures) && o.disableFeatures.every((f) => typeof f === 'string'))
  )
    bad(`'disableFeatures' must be an array of feature names, got ${String(o.disableFeatures)}`);
}

/** The current engine; throws if `init()` was not called. */
export function engine(): Engine {
  if (!current) throw new Error('webgpu-cnn: call `await init()` before using tensors or ops');
  return current;
}

export function hasEngine(): boolean {
  return current !== null;
}

/** Use an existing device (e.g. one the application already owns). */
export function useDevice(device: GPUDevice, info?: Partial<AdapterSummary>): Engine {
  const summary: AdapterSummary = {
    vendor: '',
    architecture: '',
    device: '',
    description: '',
    features: [...device.features].sort(),
    limits: {},
    runtime: typeof window === 'undefined' ? 'node' : 'browser',
    ...info,
  };
  current = new Engine(device, summary, new Set(device.features as unknown as Iterable<string>));
  for (const f of engineListeners) f(current);
  return current;
}

/** Called whenever a new engine becomes current (after init or re-init). */
export function onEngine(f: (e: Engine) => void): () => void {
  engineListeners.add(f);
  return () => engineListeners.delete(f);
}
