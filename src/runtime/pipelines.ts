// Pipeline cache, keyed by (shader, entry point, override constants). Layouts come from
// reflection (shaders.ts); the uniform binding, if any, uses a dynamic offset into the queue's
// uniform arena (queue.ts).
//
// Ops are synchronous, so a cache miss at dispatch time compiles with createComputePipeline.
// `preparePipelines()` compiles ahead of time with createComputePipelineAsync (in-flight
// compiles are de-duplicated); model code calls it before the first step so the UI never
// stalls on a compile.

import { shaderInfo, type EntryInfo } from './shaders.js';

export type Constants = Record<string, number>;

export interface PipelineSpec {
  shader: string;
  entry: string;
  constants?: Constants;
}

export interface CachedPipeline {
  key: string;
  shader: string;
  entry: EntryInfo;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class PipelineCache {
  private modules = new Map<string, GPUShaderModule>();
  private layouts = new Map<string, GPUBindGroupLayout>();
  private pipelines = new Map<string, CachedPipeline>();
  private inflight = new Map<string, Promise<CachedPipeline>>();
  /** number of pipelines compiled (for tests and stats) */
  compiled = 0;

  constructor(private device: GPUDevice) {}

  static key(spec: PipelineSpec): string {
    const c = spec.constants;
    const cs = c ? Object.keys(c).sort().map((k) => `${k}=${c[k]}`).join(',') : '';
    return `${spec.shader}:${spec.entry}{${cs}}`;
  }

  private module(shader: string): GPUShaderModule {
    let m = this.modules.get(shader);
    if (!m) {
      m = this.device.createShaderModule({ label: shader, code: shaderInfo(shader).code });
      this.modules.set(shader, m);
    }
    return m;
  }

  private entryInfo(spec: PipelineSpec): EntryInfo {
    const info = shaderInfo(spec.shader);
    const e = info.entries.get(spec.entry);
    if (!e) throw new Error(`webgpu-cnn: shader '${spec.shader}' has no compute entry point '${spec.entry}'`);
    for (const k of Object.keys(spec.constants ?? {}))
      if (!e.overrides.includes(k))
        throw new Error(`webgpu-cnn: ${spec.shader}.${spec.entry} has no override constant '${k}' (has: ${e.overrides.join(', ')})`);
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
    const pipeline = this.device.createComputePipeline(this.descriptor(spec, e, layout));
    this.compiled++;
    const p = { key, shader: spec.shader, entry: e, pipeline, layout };
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
      p = this.device.createComputePipelineAsync(this.descriptor(spec, e, layout)).then((pipeline) => {
        this.compiled++;
        const cp = { key, shader: spec.shader, entry: e, pipeline, layout };
        this.pipelines.set(key, cp);
        this.inflight.delete(key);
        return cp;
      });
      this.inflight.set(key, p);
    }
    return p;
  }

  get size(): number {
    return this.pipelines.size;
  }
}
