// Which conv2d kernel runs each pass. Two variants of forward, input gradient and weight
// gradient (plus the naive forward kept for benchmarks):
//   'tiled'  – shared-memory implicit GEMMs (conv2d.wgsl, conv2d_bwd_*.wgsl): the choice for
//              real GPUs, any geometry.
//   'direct' – register-blocked direct convolution with quad-shared operands, no shared
//              memory, no barriers (conv2d_direct*.wgsl): 3-4x faster on CPU implementations
//              (SwiftShader, measured in scripts/conv2d-timing.ts). Needs the 'subgroups'
//              feature and filters up to 5x5; the input gradient also stride 1.
//
// The rule ('auto'): direct when the adapter is a CPU implementation and the direct kernel can
// run the geometry, else tiled; in Node and in browsers (pages and workers) alike. (Browsers
// once defaulted to tiled because the demo's gradient view came out blank with direct in its
// worker. The kernels were not the cause: the demo dropped the gradients toggle's inspection
// while another was in flight and drew that reply as gradients it did not carry, with either
// variant; its e2e test only caught it with direct because the faster training changed how
// many inspections had been drawn. Fixed in demo/main.ts + demo/refresh.ts.)
// An explicit variant (the `variant` option of the ops, or setConv2dVariant for every call) is
// used when it can run the geometry and falls back to tiled otherwise. An autotuner can time
// both through the same switch: conv2dVariantsFor() lists what can run.

import { engine } from '../runtime/engine.js';
import type { ConvGeometry } from './conv2d_geometry.js';
import { directForwardConfig, directInputGradConfig } from './conv2d_direct.js';
import { directWeightGradConfig } from './conv2d_direct_dw.js';

export type Conv2dVariant = 'tiled' | 'direct';
export type Conv2dVariantChoice = Conv2dVariant | 'auto';
export type Conv2dPass = 'forward' | 'inputGrad' | 'weightGrad';

let defaultChoice: Conv2dVariantChoice = 'auto';

/** The variant used by calls that do not pass one ('auto' restores the rule). */
export function setConv2dVariant(v: Conv2dVariantChoice): void {
  if (v !== 'auto' && v !== 'tiled' && v !== 'direct')
    throw new TypeError(`webgpu-cnn: setConv2dVariant: expected 'auto', 'tiled' or 'direct', got ${JSON.stringify(v)}`);
  defaultChoice = v;
}

export function getConv2dVariant(): Conv2dVariantChoice {
  return defaultChoice;
}

/** True for software WebGPU/Vulkan implementations that run compute shaders on the CPU. */
export function isCpuAdapter(): boolean {
  const i = engine().info;
  return /swiftshader|llvmpipe|lavapipe|\bwarp\b/i.test(`${i.vendor} ${i.architecture} ${i.device} ${i.description}`);
}

function directRuns(g: ConvGeometry, pass: Conv2dPass): boolean {
  if (pass === 'forward') return directForwardConfig(g) !== null;
  if (pass === 'inputGrad') return directInputGradConfig(g) !== null;
  return directWeightGradConfig(g) !== null;
}

/** Variants that can run this pass of this geometry on the current engine. */
export function conv2dVariantsFor(g: ConvGeometry, pass: Conv2dPass): Conv2dVariant[] {
  return directRuns(g, pass) ? ['tiled', 'direct'] : ['tiled'];
}

/** The variant that runs `pass` for geometry g, given a requested choice (default: the global one). */
export function pickConv2dVariant(g: ConvGeometry, pass: Conv2dPass, requested?: Conv2dVariantChoice): Conv2dVariant {
  const want = requested ?? defaultChoice;
  if (want === 'tiled') return 'tiled';
  if (want === 'direct') return directRuns(g, pass) ? 'direct' : 'tiled';
  return isCpuAdapter() && directRuns(g, pass) ? 'direct' : 'tiled';
}

export function checkVariant(op: string, v: unknown): void {
  if (v !== undefined && v !== 'auto' && v !== 'tiled' && v !== 'direct')
    throw new TypeError(`webgpu-cnn: ${op}: 'variant' must be 'auto', 'tiled' or 'direct', got ${JSON.stringify(v)}`);
}
