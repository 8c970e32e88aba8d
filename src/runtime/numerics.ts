// NaN/Inf check mode: reports the first op whose output holds a non-finite value.
//
// When enabled, every dispatch that writes f32 tensors is followed by a small counting
// dispatch per written tensor (shaders/numerics.wgsl) into a GPU counts buffer; nothing is
// read back until `report()`, so the check keeps the one-encoder batching. Costs one extra
// dispatch per output: a debugging aid, off by default.
//
// Captured steps (src/autograd/capture.ts): the counting dispatches are never part of a plan;
// a replay runs the hook again for each replayed dispatch (queue.ts HOOK), so a replayed step
// is checked, op by op, whenever the check is enabled. What a dispatch writes is looked up by
// tensor size (`sizes`), and a plan's intermediates are disposed tensors by replay time: so
// every captured dispatch's outputs and sizes are noted at capture time (`onCapture`, always,
// enabled or not), and a replay checks those.

import type { BufferPool } from './pool.js';
import type { DispatchCommand, Queue } from './queue.js';

/** What the check uses of its engine: the pool and the queue (no import of engine.ts: no cycle). */
export interface NumericsHost {
  readonly pool: BufferPool;
  readonly queue: Queue;
}
import type { PooledBuffer } from './pool.js';

/**
 * The first dispatch whose output held NaN or Inf, as found by the NaN/Inf check mode
 * (`engine().numerics`, off by default).
 */
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

/** One f32 tensor a dispatch may write: its buffer and its number of values. */
interface Output {
  buf: PooledBuffer;
  n: number;
}

/**
 * NaN/Inf check mode (`engine().numerics`, off by default): when enabled, each dispatch that writes
 * f32 tensors is followed by a counting dispatch, and `report()` names the first op that wrote a
 * non-finite value. A debugging aid: one extra dispatch per output.
 */
export class NumericsCheck {
  private counts: PooledBuffer | null = null;
  private slots: { op: string; kernel: string }[] = [];
  /** outputs of captured dispatches, noted when they were captured */
  private captured = new WeakMap<DispatchCommand, Output[]>();
  /** f32 element counts of live tensor buffers, by buffer id (maintained by Tensor) */
  readonly sizes = new Map<number, number>();
  enabled = false;

  constructor(private engine: NumericsHost) {
    engine.queue.onCapture = (cmd) => void this.captured.set(cmd, this.outputs(cmd));
  }

  /** The live f32 tensors `cmd` binds writable (storage, not read-only), with their sizes. */
  private outputs(cmd: DispatchCommand): Output[] {
    const out: Output[] = [];
    cmd.pipeline.entry.bindings
      .filter((b) => b.kind !== 'uniform')
      .forEach((b, j) => {
        if (b.kind !== 'storage') return; // only what the dispatch may write
        const buf = cmd.buffers[j];
        const n = this.sizes.get(buf.id);
        if (n !== undefined) out.push({ buf, n });
      });
    return out;
  }

  enable(): void {
    if (this.enabled) return;
    this.enabled = true;
    this.counts = this.engine.pool.acquire(MAX_SLOTS * 4, 'nonfinite-counts');
    this.reset();
    // The queue never hooks or captures what this hook dispatches (queue.ts HOOK).
    this.engine.queue.afterDispatch = (cmd) => {
      if (!this.counts) return;
      for (const { buf, n } of this.captured.get(cmd) ?? this.outputs(cmd)) {
        if (this.slots.length >= MAX_SLOTS) return;
        const slot = this.slots.length;
        this.slots.push({ op: cmd.op, kernel: cmd.pipeline.key });
        const groups = Math.ceil(n / 256);
        const x = Math.min(groups, 65535);
        this.engine.queue.dispatch({
          shader: 'numerics',
          entry: 'count_nonfinite',
          op: 'numerics-check',
          uniforms: { n, slot },
          buffers: { x: buf, counts: this.counts },
          workgroups: [x, Math.ceil(groups / x)],
        });
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
