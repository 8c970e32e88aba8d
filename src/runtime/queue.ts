// FLUSH RULE (who submits, and when):
//   The encoder is submitted only (1) before a readback (`read`), (2) before a host write into a buffer that recorded
//   commands may use (`write`), (3) on an explicit `flush()`, (4) when the uniform arena is full, and (5) when the
//   memory budget would be exceeded and buffers released since the last submit would make room (`reclaim`). Nothing
//   else submits. A training step therefore records into one encoder and is submitted once, when the caller reads the
//   loss or flushes. After each submit the buffer pool may hand out buffers released before it (pool.ts).
//
// UNIFORMS: each dispatch takes a 256-byte-aligned slot in one arena buffer, filled by field
//   name from the reflected struct layout; the whole arena is written with one writeBuffer
//   just before the submit, and bound with a dynamic offset (so bind groups stay cacheable).
//
// CAPTURE: between `beginCapture()` and `endCapture()` every dispatch is also appended to a
//   command list that `replay()` re-encodes later with the same pipelines and buffers and no
//   allocation (used by graph capture of a training step).
//
// HOOK: `afterDispatch` (the NaN/Inf check mode, numerics.ts) runs after each dispatch, a
//   replayed one included; what the hook itself dispatches is never captured. So a replay
//   checks exactly when the check is enabled at replay time, whatever it was at capture time.
//
// PLANNING: between `beginPlanning()` and `endPlanning()` a dispatch is checked exactly as
//   usual (buffers and uniforms against the reflection) and its pipeline spec is noted, but
//   nothing is compiled, encoded or submitted, and copies are dropped. Running a step's body
//   in this mode lists the pipelines the step will use without running it (cold start: they
//   are then compiled concurrently, pipelines.ts `prepare`). What the body allocates is real
//   (pooled buffers, released when its scope ends), and host writes made inside it reach their
//   fresh buffers; no command reads them. Readbacks throw while planning.

import type { BufferPool, PooledBuffer } from './pool.js';
import { PipelineCache, type Constants, type CachedPipeline, type PipelineSpec } from './pipelines.js';
import { writeUniforms } from './shaders.js';

/** One dispatch for {@link Queue.dispatch}: a shader entry point, its uniforms, buffers and workgroup counts. */
export interface DispatchArgs {
  shader: string;
  entry: string;
  constants?: Constants;
  /** uniform struct fields by name */
  uniforms?: Record<string, number | readonly number[]>;
  /** storage buffers by WGSL variable name */
  buffers: Record<string, PooledBuffer>;
  /** workgroup counts */
  workgroups: readonly [number, number?, number?];
  /** the op on whose behalf this runs (errors and debug output name it) */
  op?: string;
}

/** A recorded command (a dispatch or a buffer copy), as `Queue.endCapture()` returns and `Queue.replay()` takes. */
export type Command =
  | {
      kind: 'dispatch';
      pipeline: CachedPipeline;
      buffers: PooledBuffer[];
      uniform: Uint8Array | null;
      workgroups: [number, number, number];
      op: string;
    }
  | { kind: 'copy'; src: PooledBuffer; srcOffset: number; dst: PooledBuffer; dstOffset: number; size: number };

export type DispatchCommand = Extract<Command, { kind: 'dispatch' }>;

const ARENA_SLOT_ALIGN = 256;
const STAGING_USAGE = 0x0001 /* MAP_READ */ | 0x0008; /* COPY_DST */
const UNIFORM_USAGE = 0x0040 /* UNIFORM */ | 0x0008; /* COPY_DST */

/** The engine's command queue (`engine().queue`): records each dispatch into one command encoder until a submit. */
export class Queue {
  readonly pipelines: PipelineCache;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private recorded = 0;
  private arena: GPUBuffer;
  private arenaId = 0;
  private arenaMirror: ArrayBuffer;
  private arenaUsed = 0;
  private bindGroups = new Map<string, GPUBindGroup>();
  private keysByBuffer = new Map<number, string[]>();
  private staging = new Map<number, GPUBuffer[]>();
  private capture: Command[] | null = null;
  private planning: PipelineSpec[] | null = null;
  /** counters for tests and benchmarks */
  readonly counters = { dispatches: 0, submits: 0, bindGroupsCreated: 0 };
  /** debug level: 0 off; 1 submit each dispatch inside error scopes naming the op */
  debug = 0;
  onGpuError?: (message: string, op: string) => void;
  /** called after each recorded or replayed dispatch (the NaN/Inf check mode, see HOOK) */
  afterDispatch?: (cmd: DispatchCommand) => void;
  /** called for each dispatch recorded into a capture (numerics.ts notes what it writes) */
  onCapture?: (cmd: DispatchCommand) => void;
  private inHook = false;

  constructor(
    readonly device: GPUDevice,
    readonly pool: BufferPool,
    arenaBytes = 1 << 20,
  ) {
    this.pipelines = new PipelineCache(device);
    this.arenaMirror = new ArrayBuffer(arenaBytes);
    this.arena = this.makeArena(arenaBytes);
    pool.onDestroy = (b) => this.forgetBuffer(b);
  }

  private makeArena(bytes: number): GPUBuffer {
    this.arenaId++;
    return this.device.createBuffer({ label: 'uniform-arena', size: bytes, usage: UNIFORM_USAGE });
  }

  private forgetBuffer(b: PooledBuffer): void {
    for (const k of this.keysByBuffer.get(b.id) ?? []) this.bindGroups.delete(k);
    this.keysByBuffer.delete(b.id);
  }

  private bindGroup(p: CachedPipeline, buffers: PooledBuffer[], uniformSize: number): GPUBindGroup {
    let key = `${p.shader}:${p.entry.name}|${this.arenaId}`;
    for (const b of buffers) key += `,${b.id}`;
    let bg = this.bindGroups.get(key);
    if (bg) return bg;
    let i = 0;
    bg = this.device.createBindGroup({
      label: key,
      layout: p.layout,
      entries: p.entry.bindings.map((b) =>
        b.kind === 'uniform'
          ? { binding: b.binding, resource: { buffer: this.arena, offset: 0, size: uniformSize } }
          : { binding: b.binding, resource: { buffer: buffers[i++].buffer } },
      ),
    });
    this.counters.bindGroupsCreated++;
    this.bindGroups.set(key, bg);
    for (const b of buffers) {
      let ks = this.keysByBuffer.get(b.id);
      if (!ks) this.keysByBuffer.set(b.id, (ks = []));
      ks.push(key);
    }
    return bg;
  }

  private openPass(): GPUComputePassEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    return this.pass;
  }

  private closePass(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return this.encoder;
  }

  /** Record one dispatch. Buffers and uniforms are checked against the shader's reflection. */
  dispatch(a: DispatchArgs): void {
    const spec: PipelineSpec = { shader: a.shader, entry: a.entry, constants: a.constants };
    const p = this.planning ? null : this.pipelines.get(spec);
    const entry = p ? p.entry : this.pipelines.entryInfo(spec);
    const where = `${a.op ?? a.shader}: ${a.shader}.${a.entry}`;
    const buffers: PooledBuffer[] = [];
    for (const b of entry.bindings) {
      if (b.kind === 'uniform') continue;
      const buf = a.buffers[b.name];
      if (!buf) throw new Error(`webgpu-cnn: ${where}: buffer '${b.name}' not given`);
      buffers.push(buf);
    }
    for (const k of Object.keys(a.buffers))
      if (!entry.bindings.some((b) => b.name === k))
        throw new Error(`webgpu-cnn: ${where}: shader does not use buffer '${k}'`);
    let uniform: Uint8Array | null = null;
    if (entry.uniform) {
      const lay = entry.uniform.layout;
      uniform = new Uint8Array(lay.size);
      writeUniforms(lay, a.uniforms ?? {}, new DataView(uniform.buffer), 0, where);
    } else if (a.uniforms && Object.keys(a.uniforms).length) {
      throw new Error(`webgpu-cnn: ${where}: shader has no uniform buffer`);
    }
    const wg: [number, number, number] = [a.workgroups[0], a.workgroups[1] ?? 1, a.workgroups[2] ?? 1];
    const maxWg = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (wg.some((n) => n > maxWg || n < 0 || !Number.isInteger(n)))
      throw new RangeError(`webgpu-cnn: ${where}: workgroup grid [${wg}] exceeds the limit ${maxWg} per dimension`);
    if (!p) {
      this.planning!.push(spec);
      return;
    }
    const cmd: DispatchCommand = {
      kind: 'dispatch',
      pipeline: p,
      buffers,
      uniform,
      workgroups: wg,
      op: a.op ?? a.shader,
    };
    if (this.capture && !this.inHook) {
      this.capture.push(cmd);
      this.onCapture?.(cmd);
    }
    this.encode(cmd);
    this.hook(cmd);
  }

  /** Run afterDispatch for `cmd`; dispatches it makes are not hooked or captured (see HOOK). */
  private hook(cmd: DispatchCommand): void {
    if (!this.afterDispatch || this.inHook) return;
    this.inHook = true;
    try {
      this.afterDispatch(cmd);
    } finally {
      this.inHook = false;
    }
  }

  /** Record a buffer-to-buffer copy (e.g. a tensor clone). */
  copy(src: PooledBuffer, srcOffset: number, dst: PooledBuffer, dstOffset: number, size: number): void {
    if (this.planning) return;
    const cmd: Command = { kind: 'copy', src, srcOffset, dst, dstOffset, size };
    this.capture?.push(cmd);
    this.encode(cmd);
  }

  private encode(cmd: Command): void {
    if (cmd.kind === 'copy') {
      this.closePass().copyBufferToBuffer(cmd.src.buffer, cmd.srcOffset, cmd.dst.buffer, cmd.dstOffset, cmd.size);
      this.recorded++;
      return;
    }
    if (cmd.workgroups[0] * cmd.workgroups[1] * cmd.workgroups[2] === 0) return;
    let offset = 0;
    const usize = cmd.uniform ? cmd.uniform.byteLength : 0;
    if (cmd.uniform) {
      if (this.arenaUsed + usize > this.arenaMirror.byteLength) this.flush();
      offset = this.arenaUsed;
      new Uint8Array(this.arenaMirror, offset, usize).set(cmd.uniform);
      this.arenaUsed += Math.ceil(usize / ARENA_SLOT_ALIGN) * ARENA_SLOT_ALIGN;
    }
    if (this.debug > 0) this.device.pushErrorScope('validation'), this.device.pushErrorScope('out-of-memory');
    const bg = this.bindGroup(cmd.pipeline, cmd.buffers, usize);
    const pass = this.openPass();
    pass.setPipeline(cmd.pipeline.pipeline);
    if (cmd.uniform) pass.setBindGroup(0, bg, [offset]);
    else pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(cmd.workgroups[0], cmd.workgroups[1], cmd.workgroups[2]);
    this.recorded++;
    this.counters.dispatches++;
    if (this.debug > 0) {
      this.flush();
      const op = cmd.op;
      const report = (e: GPUError | null) => {
        if (e)
          (this.onGpuError ?? ((m, o) => console.error(`webgpu-cnn: GPU error in ${o} (${cmd.pipeline.key}): ${m}`)))(
            e.message,
            op,
          );
      };
      this.device.popErrorScope().then(report);
      this.device.popErrorScope().then(report);
    }
  }

  /** Replay captured commands into the current encoder: no allocation, cached bind groups. */
  replay(cmds: readonly Command[]): void {
    for (const c of cmds) {
      this.encode(c);
      if (c.kind === 'dispatch') this.hook(c);
    }
  }

  beginCapture(): void {
    if (this.capture) throw new Error('webgpu-cnn: capture already in progress');
    this.capture = [];
  }

  endCapture(): Command[] {
    const c = this.capture;
    if (!c) throw new Error('webgpu-cnn: endCapture without beginCapture');
    this.capture = null;
    return c;
  }

  /** Start noting pipeline specs instead of dispatching (see PLANNING). */
  beginPlanning(): void {
    if (this.planning) throw new Error('webgpu-cnn: planning already in progress');
    if (this.capture) throw new Error('webgpu-cnn: planning during a capture');
    this.planning = [];
  }

  /** Stop planning; the specs noted, in dispatch order (with repeats). */
  endPlanning(): PipelineSpec[] {
    const s = this.planning;
    if (!s) throw new Error('webgpu-cnn: endPlanning without beginPlanning');
    this.planning = null;
    return s;
  }

  get isPlanning(): boolean {
    return this.planning !== null;
  }

  get capturing(): boolean {
    return this.capture !== null;
  }

  /** Commands recorded and not yet submitted. */
  get pendingCommands(): number {
    return this.recorded;
  }

  /** Submit everything recorded so far (see FLUSH RULE). */
  flush(): void {
    if (this.recorded === 0 && !this.encoder) {
      this.pool.onSubmit();
      return;
    }
    const enc = this.closePass();
    if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaMirror, 0, this.arenaUsed);
    this.device.queue.submit([enc.finish()]);
    this.counters.submits++;
    this.encoder = null;
    this.recorded = 0;
    this.arenaUsed = 0;
    this.pool.onSubmit();
  }

  /** Depth of all-or-nothing sections (a step that may `discard` its work): > 0, reclaim never submits. */
  atomic = 0;

  /**
   * Called by the pool when the memory budget would be exceeded: make buffers released since
   * the last submit reusable. With nothing recorded no command can use them, so they are free
   * at once; otherwise the recorded work is submitted first (FLUSH RULE (5)), except while
   * capturing, planning or inside an all-or-nothing section, whose work must not run half.
   */
  reclaim(): void {
    if (this.recorded === 0 && !this.encoder) this.pool.onSubmit();
    else if (!this.capture && !this.planning && this.atomic === 0) this.flush();
  }

  /**
   * Drop everything recorded since the last submit without running it. A training step that
   * fails half-way (out of memory, a bad argument) calls this so the part it had recorded,
   * which may include in-place updates (BatchNorm running statistics, the dropout counter),
   * never reaches the GPU. Buffers released meanwhile become reusable: no command will read them.
   * With `debug` > 0 every dispatch is submitted at once, so there is nothing left to drop.
   */
  discard(): void {
    if (this.capture) throw new Error('webgpu-cnn: discard during a capture');
    if (this.pass) this.pass.end();
    this.pass = null;
    this.encoder = null; // never finished, never submitted
    this.recorded = 0;
    this.arenaUsed = 0;
    this.pool.onSubmit();
  }

  /** Host write into a buffer. Flushes first if recorded commands might use the buffer. */
  write(dst: PooledBuffer, data: ArrayBufferView, dstOffset = 0): void {
    if (this.recorded > 0) this.flush();
    this.writeFresh(dst, data, dstOffset);
  }

  /** Host write into a buffer no recorded command can see yet (just acquired from the pool). */
  writeFresh(dst: PooledBuffer, data: ArrayBufferView, dstOffset = 0): void {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength % 4 === 0) this.device.queue.writeBuffer(dst.buffer, dstOffset, bytes);
    else {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      this.device.queue.writeBuffer(dst.buffer, dstOffset, padded);
    }
  }

  /** Read `byteLength` bytes of a buffer back to the host (submits recorded work first). */
  async read(src: PooledBuffer, byteLength: number, srcOffset = 0): Promise<ArrayBuffer> {
    if (this.planning) throw new Error('webgpu-cnn: readback while planning (a planned body must be synchronous)');
    const size = Math.max(4, Math.ceil(byteLength / 4) * 4);
    const list = this.staging.get(size);
    const staging = list?.pop() ?? this.device.createBuffer({ label: 'readback', size, usage: STAGING_USAGE });
    this.closePass().copyBufferToBuffer(src.buffer, srcOffset, staging, 0, size);
    this.recorded++;
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      staging.destroy();
      throw new Error(`webgpu-cnn: readback failed (device lost?): ${(e as Error).message}`);
    }
    const out = staging.getMappedRange(0, size).slice(0, byteLength);
    staging.unmap();
    let l = this.staging.get(size);
    if (!l) this.staging.set(size, (l = []));
    if (l.length < 4) l.push(staging);
    else staging.destroy();
    return out;
  }

  /** Resolves when all submitted work has finished on the GPU. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
  }
}
