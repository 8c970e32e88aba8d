// Device acquisition: one `init()` for the browser (navigator.gpu) and Node (Dawn's `webgpu`
// package). Not the place for pipelines or buffers: see pipelines.ts, pool.ts, queue.ts.
//
// In Node the caller passes the GPU object made by `webgpu`'s `create([])` (see README), or
// `init()` imports `webgpu` itself. The library never downloads or installs anything.

/** Optional features requested when the adapter has them. */
export const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

/** Limits the engine asks for: the adapter's maximum for each (bigger tensors, bigger tiles). */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const;

/**
 * What the engine knows of its adapter and device (`engine().info`): adapter info strings (empty
 * where unknown), the device's features (sorted), selected device limits, and the runtime.
 */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  limits: Record<string, number>;
  /** 'browser' or 'node' */
  runtime: 'browser' | 'node';
}

export interface DeviceContext {
  gpu: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
  info: AdapterSummary;
  features: Set<string>;
}

/** Options of {@link init}. Unknown keys throw a TypeError before any device is requested. */
export interface InitOptions {
  /** A GPU object (Node: `create([])` from the `webgpu` package). Defaults to navigator.gpu. */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /** Features not to request even if present (e.g. to test the fallback paths). */
  disableFeatures?: string[];
  /** Cap on the bytes of GPU buffers the engine allocates (clear error instead of a device OOM). */
  memoryBudget?: number;
  /** Debug level: 1 = submit each dispatch inside error scopes and report errors with the op name. */
  debug?: number;
}

/**
 * Thrown by {@link init} when there is no WebGPU (no `navigator.gpu`, or in Node the `webgpu` package
 * fails to import) or `requestAdapter()` returns null; the message says how to get one.
 */
export class NoAdapterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoAdapterError';
  }
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

async function findGPU(opts: InitOptions): Promise<GPU> {
  if (opts.gpu) return opts.gpu;
  if (typeof navigator !== 'undefined' && (navigator as Navigator).gpu) return (navigator as Navigator).gpu;
  if (isNode) {
    // Dawn's node bindings. The specifier is built at run time so that bundlers for the
    // browser do not try to resolve it.
    const name = 'webgpu';
    let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
    try {
      mod = await import(/* @vite-ignore */ name);
    } catch (e) {
      throw new NoAdapterError(
        `webgpu-cnn: no WebGPU in this Node.js process. Install Dawn's bindings: npm install webgpu ` +
          `(import failed: ${(e as Error).message})`,
      );
    }
    Object.assign(globalThis, mod.globals);
    return mod.create([]);
  }
  throw new NoAdapterError(
    'webgpu-cnn: this browser has no WebGPU (navigator.gpu is undefined). Use a recent Chrome/Edge, ' +
      'or start Chromium with --enable-unsafe-webgpu (on Linux also --enable-features=Vulkan); ' +
      'pages must be served over https or http://localhost.',
  );
}

export async function acquireDevice(opts: InitOptions = {}): Promise<DeviceContext> {
  const gpu = await findGPU(opts);
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) {
    const hint = isNode
      ? "In Node, Dawn needs a Vulkan driver: on a machine without a GPU install Debian's chromium and " +
        'libvulkan1 and set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader).'
      : 'In Chromium without a GPU, pass --enable-unsafe-webgpu --enable-features=Vulkan ' +
        '--use-vulkan=swiftshader --use-webgpu-adapter=swiftshader.';
    throw new NoAdapterError(`webgpu-cnn: requestAdapter() returned null: no WebGPU adapter. ${hint}`);
  }
  const disabled = new Set(opts.disableFeatures ?? []);
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f) && !disabled.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const ai = adapter.info ?? ({} as GPUAdapterInfo);
  const limits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) limits[name] = (device.limits as unknown as Record<string, number>)[name];
  const info: AdapterSummary = {
    vendor: ai.vendor ?? '',
    architecture: ai.architecture ?? '',
    device: ai.device ?? '',
    description: ai.description ?? '',
    features: [...device.features].sort(),
    limits,
    runtime: isNode ? 'node' : 'browser',
  };
  return { gpu, adapter, device, info, features: new Set(device.features as unknown as Iterable<string>) };
}
