// Pipeline cache, keyed by (shader, entry point, override constants). Layouts come from
// reflection (shaders.ts); the uniform binding, if any, uses a dynamic offset into the queue's
// uniform arena (queue.ts).
//
// Ops are synchronous, so a cache miss at dispatch time compiles with createComputePipeline,
// one pipeline after the other, blocking the caller (in Node, Dawn compiles on the calling
// thread). `prepare(specs)` compiles ahead of time with createComputePipelineAsync, all at once
// (in-flight compiles are de-duplicated, and a spec already compiled costs nothing). The specs
// come from a planning pass (queue.ts PLANNING): TrainStep.prepare() and Evaluator.prepare()
// run their body once without dispatching anything, collect the pipelines it would use, and
// hand them here, so the first real step finds every pipeline compiled.
//
// RULE: a `get()` that misses while the same key is being compiled by `prepare()` compiles it a
// second time (synchronously; ops cannot wait). Await prepare() before the first step.

import { shaderInfo, type EntryInfo } from './shaders.js';

/** WGSL override constants of a pipeline, by name. */
export type Constants = Record<string, number>;

/** One compute pipeline: a shader by name, an entry point and its override constants (the cache key). */
export interface PipelineSpec {
  shader: string;
  entry: string;
  constants?: Constants;
}

/** A compiled compute pipeline with its spec, its reflected entry point and its bind group layout. */
export interface CachedPipeline {
  key: string;
  spec: PipelineSpec;
  shader: string;
  entry: EntryInfo;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** One compile, for the cold-start profile (scripts/cold-start.ts). */
export interface CompileRecord {
  key: string;
  /** 'sync': createComputePipeline on a cache miss; 'async': createComputePipelineAsync */
  how: 'sync' | 'async';
  /** ms from the request to the pipeline (async: to the promise's resolution) */
  ms: number;
  /** ms spent in createShaderModule for this pipeline's module (0 when the module was cached) */
  moduleMs: number;
}

/**
 * The engine's cache of compute pipelines, keyed by shader, entry point and override constants. A miss
 * at dispatch time compiles synchronously; `prepare()` compiles ahead of time with
 * createComputePipelineAsync.
 */
export class PipelineCache {
  private modules = new Map<string, GPUShaderModule>();
  private layouts = new Map<string, GPUBindGroupLayout>();
  private pipelines = new Map<string, CachedPipeline>();
  private inflight = new Map<string, Promise<CachedPipeline>>();
  /** number of pipelines compiled (for tests and stats) */
  compiled = 0;
  /** every compile, in order, with its time (cheap: one entry per pipeline) */
  readonly log: CompileRecord[] = [];
  private lastModuleMs = 0;

  constructor(private device: GPUDevice) {}

  static key(spec: PipelineSpec): string {
    const c = spec.constants;
    const cs = c
      ? Object.keys(c)
          .sort()
          .map((k) => `${k}=${c[k]}`)
          .join(',')
      : '';
    return `${spec.shader}:${spec.entry}{${cs}}`;
  }

  private module(shader: string): GPUShaderModule {
    let m = this.modules.get(shader);
    this.lastModuleMs = 0;
    if (!m) {
      const code = shaderInfo(shader).code;
      const t0 = performance.now();
      m = this.device.createShaderModule({ label: shader, code });
      this.lastModuleMs = performance.now() - t0;
      this.modules.set(shader, m);
    }
    return m;
  }

  /** The reflected entry point of `spec` (checks its override constants); compiles nothing. */
  entryInfo(spec: PipelineSpec): EntryInfo {
    const info = shaderInfo(spec.shader);
    const e = info.entries.get(spec.entry);
    if (!e) throw new Error(`webgpu-cnn: shader '${spec.shader}' has no compute entry point '${spec.entry}'`);
    for (const k of Object.keys(spec.constants ?? {}))
      if (!e.overrides.includes(k))
        throw new Error(
          `webgpu-cnn: ${spec.shader}.${spec.entry} has no override constant '${k}' (has: ${e.overrides.join(', ')})`,
        );
    return e;
  }

  private layout(spec: PipelineSpec, e: EntryInfo): GPUBindGroupLayout {
    const lk = `${spec.shader}:${spec.entry}`;
    let l = this.layouts.get(lk);
    if (!l) {
      l = this.device.createBindGroupLayout({
        label: lk,
        entries: e.bindings.map((b) => ({
          binding: b.binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: b.kind === 'uniform' ? { type: 'uniform', hasDynamicOffset: true } : { type: b.kind },
        })),
      });
      this.layouts.set(lk, l);
    }
    return l;
  }

  private descriptor(spec: PipelineSpec, _e: EntryInfo, layout: GPUBindGroupLayout): GPUComputePipelineDescriptor {
    return {
      label: PipelineCache.key(spec),
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module: this.module(spec.shader), entryPoint: spec.entry, constants: spec.constants },
    };
  }

  /** Cached pipeline, compiled synchronously on a miss. */
  get(spec: PipelineSpec): CachedPipeline {
    const key = PipelineCache.key(spec);
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const e = this.entryInfo(spec);
    const layout = this.layout(spec, e);
    const t0 = performance.now();
    const desc = this.descriptor(spec, e, layout);
    const moduleMs = this.lastModuleMs;
    const pipeline = this.device.createComputePipeline(desc);
    this.compiled++;
    this.log.push({ key, how: 'sync', ms: performance.now() - t0, moduleMs });
    const p = { key, spec: copySpec(spec), shader: spec.shader, entry: e, pipeline, layout };
    this.pipelines.set(key, p);
    return p;
  }

  /** Compile asynchronously; concurrent requests for the same key share one compile. */
  getAsync(spec: PipelineSpec): Promise<CachedPipeline> {
    const key = PipelineCache.key(spec);
    const hit = this.pipelines.get(key);
    if (hit) return Promise.resolve(hit);
    let p = this.inflight.get(key);
    if (!p) {
      const e = this.entryInfo(spec);
      const layout = this.layout(spec, e);
      const t0 = performance.now();
      const desc = this.descriptor(spec, e, layout);
      const moduleMs = this.lastModuleMs;
      p = this.device.createComputePipelineAsync(desc).then(
        (pipeline) => {
          this.compiled++;
          this.log.push({ key, how: 'async', ms: performance.now() - t0, moduleMs });
          const cp = { key, spec: copySpec(spec), shader: spec.shader, entry: e, pipeline, layout };
          this.pipelines.set(key, cp);
          this.inflight.delete(key);
          return cp;
        },
        (err: unknown) => {
          this.inflight.delete(key);
          throw new Error(`webgpu-cnn: compiling ${key} failed: ${(err as Error).message ?? err}`);
        },
      );
      this.inflight.set(key, p);
    }
    return p;
  }

  /**
   * Compile every spec not yet cached with createComputePipelineAsync, at most `concurrency`
   * at a time (default: all at once). Resolves when all are ready; returns how many were
   * compiled by this call. Chromium's GPU process compiles one pipeline after the other and
   * draws no frame meanwhile (measured on SwiftShader: all at once took as long as one at a
   * time, docs/performance.md): a page that must stay responsive asks for 1, which leaves
   * room for frames between compiles. An aborted `signal` stops the lanes after the compiles
   * in flight (rejects: not all compiled).
   */
  async prepare(specs: Iterable<PipelineSpec>, concurrency = Infinity, signal?: AbortSignal): Promise<number> {
    const todo = new Map<string, PipelineSpec>();
    for (const s of specs) {
      const k = PipelineCache.key(s);
      if (!this.pipelines.has(k)) todo.set(k, s);
    }
    const queue = [...todo.values()];
    const lane = async () => {
      for (let s = queue.shift(); s && !signal?.aborted; s = queue.shift()) await this.getAsync(s);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, lane));
    if (signal?.aborted) throw new Error('webgpu-cnn: compiling pipelines: aborted');
    return todo.size;
  }

  /** True when `spec` is compiled and cached. */
  has(spec: PipelineSpec): boolean {
    return this.pipelines.has(PipelineCache.key(spec));
  }

  get size(): number {
    return this.pipelines.size;
  }
}

function copySpec(s: PipelineSpec): PipelineSpec {
  return s.constants
    ? { shader: s.shader, entry: s.entry, constants: { ...s.constants } }
    : { shader: s.shader, entry: s.entry };
}
