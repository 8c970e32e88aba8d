// The TensorFlow.js peer: @tensorflow/tfjs-core with @tensorflow/tfjs-backend-webgpu 4.22,
// running on the SAME GPUDevice as our engine (WebGPUBackend takes a device in its
// constructor), so both sides see the same adapter, limits and driver in one process.
//
// In Node there is no navigator.gpu; the backend's constructor only checks that one exists, so
// we point globalThis.navigator at Dawn's GPU object (the one the engine was created from).
//
// WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: tfjs submits every 15 dispatches by default. For timing we
// raise it so one run's work is submitted in one go (our timestamp bracket, timing.ts, needs
// that; it only saves tfjs submit overhead). The run's `submit()` flushes tfjs's queue.

import type * as tfNs from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { engine } from '../src/runtime/engine.js';
import type { Impl } from './types.js';

export type TF = typeof tfNs;

let backend: WebGPUBackend | null = null;

/**
 * Start tfjs's WebGPU backend on the engine's device (idempotent per device). tfjs is imported
 * here, dynamically: in Node its platform code needs `require` (bench/node-require.ts) by the
 * time it is evaluated, and pages that never start the peer never load it.
 */
export async function initTfjs(): Promise<TF> {
  const tf = await import('@tensorflow/tfjs-core');
  // tfjs-core alone registers no gradients (the @tensorflow/tfjs umbrella package does this import).
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  const e = engine();
  if (backend && (backend as unknown as { device: GPUDevice }).device === e.device) return tf;
  ensureNavigatorGpu();
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  const info = e.info;
  tf.registerBackend('webgpu', () => {
    backend = new WebGPUBackend(e.device, {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
    } as GPUAdapterInfo);
    return backend;
  });
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: setBackend("webgpu") failed');
  await tf.ready();
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 1 << 30);
  return tf;
}

/**
 * In Node there is no navigator.gpu: point globalThis.navigator at the GPU object the engine
 * was created from (Dawn's), which the peers' backends look for. A no-op in browsers.
 */
export function ensureNavigatorGpu(): void {
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu) return;
  const gpu = engine().keepAlive.find((x) => typeof (x as GPU)?.requestAdapter === 'function');
  Object.defineProperty(globalThis, 'navigator', {
    value: { ...(g.navigator ?? {}), gpu: gpu ?? {} },
    configurable: true,
    writable: true,
  });
}

/** Submit tfjs's recorded commands, if any. */
export function tfSubmit(): void {
  const b = backend as unknown as {
    commandEncoder: GPUCommandEncoder | null;
    endComputePassEncoder(): void;
    submitQueue(): void;
  } | null;
  if (!b?.commandEncoder) return;
  b.endComputePassEncoder();
  b.submitQueue();
}

/**
 * A peer Impl around a tfjs function of already-uploaded inputs. `fn` returns the output; the
 * previous output is disposed on the next run (tfjs frees it after its queue is submitted).
 */
export function tfImpl(fn: () => tfNs.Tensor, inputs: tfNs.Tensor[]): Impl {
  let y: tfNs.Tensor | null = null;
  return {
    run() {
      y?.dispose();
      y = fn();
    },
    submit: tfSubmit,
    async read() {
      if (!y) throw new Error('tfjs peer: read() before run()');
      return Float32Array.from(await y.data());
    },
    dispose() {
      y?.dispose();
      y = null;
      for (const t of inputs) t.dispose();
    },
  };
}
