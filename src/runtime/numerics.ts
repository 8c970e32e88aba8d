// NaN/Inf check mode: reports the first op whose output holds a non-finite value.
//
// When enabled, every dispatch that writes f32 tensors is followed by a small counting
// dispatch per written tensor (shaders/numerics.wgsl) into a GPU counts buffer; nothing is
// read back until `report()`, so the check keeps the one-encoder batching. Costs one extra
// dispatch per output: a debugging aid, off by default.

import type { BufferPool } from './pool.js';
import type { Queue } from './queue.js';

/** What the check uses of its engine: the pool and the queue (no import of engine.ts: no cycle). */
export interface NumericsHost {
  readonly pool: BufferPool;
  readonly queue: Queue;
}
import type { PooledBuffer } from './pool.js';

export interface NonFiniteReport {
  /** op name (as passed to dispatch) */
  op: string;
  /** shader.entry that wrote the values */
  kernel: string;
  /** number of NaN/Inf values written */
  count: number;
  /** index of that dispatch among those checked since enable()/reset() */
  index: number;
}

const MAX_SLOTS = 1 << 16;

export class NumericsCheck {
  private counts: PooledBuffer | null = null;
  private slots: { op: string; kernel: string }[] = [];
  private busy = false;
  /** f32 element counts of live tensor buffers, by buffer id (maintained by Tensor) */
  readonly sizes = new Map<number, number>();
  enabled = false;

  constructor(private engine: NumericsHost) {}

  enable(): void {
    if (this.enabled) return;
    this.enabled = true;
    this.counts = this.engine.pool.acquire(MAX_SLOTS * 4, 'nonfinite-counts');
    this.reset();
    this.engine.queue.afterDispatch = (cmd) => {
      if (this.busy || !this.counts) return;
      this.busy = true;
      try {
        const bufferBindings = cmd.pipeline.entry.bindings.filter((b) => b.kind !== 'uniform');
        bufferBindings.forEach((b, j) => {
          if (b.kind !== 'storage') return; // only what the dispatch may write
          const buf = cmd.buffers[j];
          const n = this.sizes.get(buf.id);
          if (n === undefined || this.slots.length >= MAX_SLOTS) return;
          const slot = this.slots.length;
          this.slots.push({ op: cmd.op, kernel: cmd.pipeline.key });
          const groups = Math.ceil(n / 256);
          const x = Math.min(groups, 65535);
          this.engine.queue.dispatch({
            shader: 'numerics',
            entry: 'count_nonfinite',
            op: 'numerics-check',
            uniforms: { n, slot },
            buffers: { x: buf, counts: this.counts! },
            workgroups: [x, Math.ceil(groups / x)],
          });
        });
      } finally {
        this.busy = false;
      }
    };
  }

  disable(): void {
    this.enabled = false;
    this.engine.queue.afterDispatch = undefined;
    if (this.counts) this.engine.pool.release(this.counts);
    this.counts = null;
  }

  /** Zero the counters (e.g. at the start of each training step). */
  reset(): void {
    if (!this.counts) return;
    this.engine.queue.write(this.counts, new Uint32Array(MAX_SLOTS));
    this.slots = [];
  }

  /** The first checked dispatch that wrote a non-finite value since reset(), or null. */
  async report(): Promise<NonFiniteReport | null> {
    if (!this.counts) throw new Error('webgpu-cnn: numerics check is not enabled (engine().numerics.enable())');
    const n = this.slots.length;
    if (n === 0) return null;
    const counts = new Uint32Array(await this.engine.queue.read(this.counts, n * 4));
    for (let i = 0; i < n; i++) if (counts[i] > 0) return { ...this.slots[i], count: counts[i], index: i };
    return null;
  }
}
