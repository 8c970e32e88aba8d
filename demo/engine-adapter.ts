// The one place where the demo touches the webgpu-cnn engine API. Everything else in demo/
// talks to a DemoModel (model-api.ts), so following an engine API change is one file.
//
// Runs inside the training worker: WebGPU is available in dedicated workers, and the engine's
// device, buffers and pipelines live there, next to the training loop.

import { init, engine, NoAdapterError, type Engine } from '../src/index.js';
import type { DemoModel } from './model-api.js';
import type { NetSpec } from './net-spec.js';

export class NoWebGpuError extends Error {
  override name = 'NoWebGpuError';
}

export interface GpuBackend {
  /** adapter description for the page ("SwiftShader Device (Subzero)", "NVIDIA ...") */
  adapter: string;
  /** set when the engine cannot run the demo's models yet; the worker then trains on the CPU */
  note?: string;
  createModel(spec: NetSpec, seed: number): DemoModel | null;
  /** called once if the device is lost (driver reset, GPU process crash, destroy) */
  onLost(f: (message: string) => void): void;
  /** test hook: destroy the device as a driver reset would */
  loseDevice(): void;
}

function describe(e: Engine): string {
  const i = e.info;
  return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'WebGPU adapter (no details exposed)';
}

/** Acquire the GPU (again, after a loss). Throws NoWebGpuError with how to enable WebGPU. */
export async function createGpuBackend(): Promise<GpuBackend> {
  let e: Engine;
  try {
    e = await init();
  } catch (err) {
    if (err instanceof NoAdapterError || !('gpu' in navigator)) throw new NoWebGpuError((err as Error).message);
    throw err;
  }
  const lostListeners: ((m: string) => void)[] = [];
  e.onDeviceLost((info) => {
    for (const f of lostListeners) f(`${info.reason}: ${info.message || 'the GPU device was lost'}`);
  });
  return {
    adapter: describe(e),
    note: 'WebGPU is ready, but the engine layers (conv2d, dense, pooling, autograd, optimizers) are not merged into this build yet: training runs in JavaScript on the CPU.',
    createModel: () => null,
    onLost: (f) => lostListeners.push(f),
    loseDevice: () => engine().device.destroy(),
  };
}
