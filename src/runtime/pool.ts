// Size-bucketed GPU buffer pool.
//
// Ownership: a buffer handed out by `acquire` belongs to exactly one owner (a Tensor, or a
// captured step plan) until that owner calls `release`. A released buffer goes to `pending`,
// not to the free lists: the command encoder that is still being recorded may use it. It
// becomes reusable only when the queue submits that encoder (`onSubmit`), so GPU work that
// used it is always ordered before any later host write (queue.writeBuffer) into it.
//
// Sizes are rounded up to buckets of 1/4 of a power of two (at most 25% waste), at least 256
// bytes, so the same training step finds the same buffers again.
//
// BUDGET: released buffers count as free at once. When an allocation would exceed the budget,
// the pool destroys its free buffers, then asks the queue to make the pending ones reusable
// (`reclaim`: at once when nothing is recorded, else by submitting what is recorded, unless
// a capture, a planning pass or an all-or-nothing training step is being recorded) and
// destroys those too. Only then is OutOfMemoryError thrown.
// RULE: every bucket is a whole multiple of 256 bytes. Kernels that view a tensor's buffer as
// vec4 (elementwise, activations, optimizers) rely on it: the last vec4 of a tensor whose size
// is not a multiple of 4 still lies inside its buffer. Do not make buckets finer than 16 bytes.

export const BUFFER_USAGE = GPUBufferUsageFlags();

function GPUBufferUsageFlags(): number {
  // GPUBufferUsage is a global in browsers and after Object.assign(globalThis, globals) in Node;
  // the numeric values are fixed by the spec.
  return 0x0080 /* STORAGE */ | 0x0004 /* COPY_SRC */ | 0x0008; /* COPY_DST */
}

let nextId = 1;

/**
 * Thrown when an allocation would take the engine's buffers over `InitOptions.memoryBudget` even after
 * the pool has freed every released buffer it safely can.
 */
export class OutOfMemoryError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'OutOfMemoryError';
  }
}

/**
 * A GPU buffer lent by the engine's pool: one owner (a tensor or a captured plan) holds it until it is
 * released. `size` is the bucket size, which may exceed what was asked.
 */
export interface PooledBuffer {
  readonly id: number;
  readonly buffer: GPUBuffer;
  /** allocated size in bytes (the bucket) */
  readonly size: number;
}

/** GPU memory counters of the engine's buffer pool (bytes and counts), as returned by {@link memory}. */
export interface MemoryStats {
  /** bytes of GPU buffers the pool has created and not destroyed */
  bytesAllocated: number;
  /** bytes in buffers currently owned (tensors, plans) */
  bytesInUse: number;
  /** bytes in free buffers, ready for reuse (includes pending-until-submit) */
  bytesPooled: number;
  buffersAllocated: number;
  /** cumulative number of createBuffer calls */
  createCount: number;
  /** cumulative number of acquisitions served from the free lists */
  reuseCount: number;
}

export function bucketSize(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes));
  const p = 2 ** Math.floor(Math.log2(b));
  const step = Math.max(p / 4, 256);
  return Math.ceil(b / step) * step;
}

/**
 * The engine's size-bucketed GPU buffer pool (`engine().pool`). Sizes are rounded up to buckets of at
 * least 256 bytes (above that, at most 25% waste); a released buffer becomes reusable once the work
 * recorded with it is submitted.
 */
export class BufferPool {
  private free = new Map<number, PooledBuffer[]>();
  private pending: PooledBuffer[] = [];
  private inUse = new Set<PooledBuffer>();
  private stats = { bytesAllocated: 0, bytesPooled: 0, buffersAllocated: 0, createCount: 0, reuseCount: 0 };
  /** called when a buffer is destroyed, so caches keyed by buffer id can drop entries */
  onDestroy?: (b: PooledBuffer) => void;
  /**
   * Set by the queue: make the buffers released since the last submit reusable now, when that
   * is safe (see Queue.reclaim). Lets a budget count released buffers as free at once.
   */
  reclaim?: () => void;
  /** optional cap on bytesAllocated (InitOptions.memoryBudget); Infinity = only the device's limits */
  budget = Infinity;

  constructor(
    private device: GPUDevice,
    private maxBufferSize: number,
  ) {}

  acquire(bytes: number, label?: string): PooledBuffer {
    const size = bucketSize(bytes);
    const list = this.free.get(size);
    const hit = list?.pop();
    if (hit) {
      this.stats.reuseCount++;
      this.stats.bytesPooled -= size;
      this.inUse.add(hit);
      return hit;
    }
    if (size > this.maxBufferSize)
      throw new RangeError(
        `webgpu-cnn: a buffer of ${bytes} bytes exceeds this device's maxBufferSize (${this.maxBufferSize})`,
      );
    if (this.stats.bytesAllocated + size > this.budget) {
      this.trim(); // free pooled buffers first (only those already submitted)
      if (this.stats.bytesAllocated + size > this.budget && this.pending.length) {
        this.reclaim?.(); // released but not yet submitted: free them too when that is safe
        this.trim();
      }
      if (this.stats.bytesAllocated + size > this.budget)
        throw new OutOfMemoryError(
          `webgpu-cnn: out of GPU memory budget: ${size} more bytes would make ${this.stats.bytesAllocated + size}, ` +
            `over the budget of ${this.budget} bytes`,
        );
    }
    const buffer = this.device.createBuffer({ size, usage: BUFFER_USAGE, label });
    const pb: PooledBuffer = { id: nextId++, buffer, size };
    this.stats.bytesAllocated += size;
    this.stats.buffersAllocated++;
    this.stats.createCount++;
    this.inUse.add(pb);
    return pb;
  }

  /** Give a buffer back. It is reusable after the next submit (see the rule at the top). */
  release(b: PooledBuffer): void {
    if (!this.inUse.delete(b)) throw new Error(`webgpu-cnn: buffer ${b.id} released twice`);
    this.pending.push(b);
    this.stats.bytesPooled += b.size;
  }

  /** The queue calls this right after it submits: pending buffers become reusable. */
  onSubmit(): void {
    for (const b of this.pending) {
      let list = this.free.get(b.size);
      if (!list) this.free.set(b.size, (list = []));
      list.push(b);
    }
    this.pending.length = 0;
  }

  /** Destroy all free buffers (after a submit), returning their memory to the device. */
  trim(): void {
    for (const list of this.free.values())
      for (const b of list) {
        b.buffer.destroy();
        this.stats.bytesAllocated -= b.size;
        this.stats.bytesPooled -= b.size;
        this.stats.buffersAllocated--;
        this.onDestroy?.(b);
      }
    this.free.clear();
  }

  memory(): MemoryStats {
    let bytesInUse = 0;
    for (const b of this.inUse) bytesInUse += b.size;
    return { ...this.stats, bytesInUse };
  }
}
