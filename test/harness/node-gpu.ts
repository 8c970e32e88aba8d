// Node/Dawn setup for tests, benchmarks and scripts: checks the SwiftShader (or real) Vulkan
// driver is reachable and fails with what to install otherwise. Never skips.

import { existsSync } from 'node:fs';
import { init, type Engine } from '../../src/runtime/engine.js';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export async function initNodeGPU(): Promise<Engine> {
  // Default to SwiftShader (CPU Vulkan, from Debian's chromium) unless a driver is configured;
  // WEBGPU_CNN_SYSTEM_VULKAN=1 uses the system's drivers instead (a real GPU).
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && !process.env.WEBGPU_CNN_SYSTEM_VULKAN)
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  const icd = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  if (icd && !existsSync(icd))
    throw new Error(
      `Vulkan driver manifest ${icd} does not exist: install Debian's chromium package (apt-get install -y chromium) for SwiftShader`,
    );
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (e) {
    throw new Error(`cannot load Dawn's node bindings (npm package 'webgpu'): ${(e as Error).message}. Run npm ci.`);
  }
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create([]);
  try {
    return await init({ gpu });
  } catch (e) {
    throw new Error(
      `${(e as Error).message}\nNo WebGPU adapter in Node. Check: apt-get install -y chromium libvulkan1; ` +
        `VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (set now: ${icd ?? 'unset'}).`,
    );
  }
}
