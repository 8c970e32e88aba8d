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
// used when it can run the geometry and falls back to tiled otherwise.
//
// Autotuning (conv2d_tune.ts) times the variants, and the tiled kernels' tile shapes, per
// adapter, pass and geometry, and remembers the fastest (runtime/autotune.ts persists it).
// 'auto' then follows the remembered choice; without one, the rule above. The tiled kernels
// take remembered tiles whenever they run (conv2dTilesFor), whichever way they were chosen.

import { engine } from '../runtime/engine.js';
import { adapterKey, ShapeRecorder, tuned } from '../runtime/autotune.js';
import type { ConvGeometry } from './conv2d_geometry.js';
import { checkTiles, pickTiles, type ConvTiles } from './conv2d_tiles.js';
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
  passes.note(() => conv2dTuneKey(g, pass), () => ({ g, pass }));
  const want = requested ?? defaultChoice;
  if (want === 'tiled') return 'tiled';
  if (want === 'direct') return directRuns(g, pass) ? 'direct' : 'tiled';
  const t = tunedConv2d(g, pass);
  if (t) return t.variant;
  return isCpuAdapter() && directRuns(g, pass) ? 'direct' : 'tiled';
}

// ---- remembered choices (written by conv2d_tune.ts) ----

/** A kernel for one pass: the direct kernel, or the tiled one with a tile shape. */
export type Conv2dKernel = { variant: 'direct' } | { variant: 'tiled'; tiles: ConvTiles };

const passCols = (g: ConvGeometry, pass: Conv2dPass) => (pass === 'inputGrad' ? g.C : g.O);

/** The tiled kernels' default tile shape for this pass (by output columns: conv2d_tiles.ts). */
export function defaultConv2dTiles(g: ConvGeometry, pass: Conv2dPass): ConvTiles {
  return pickTiles(passCols(g, pass));
}

/** Autotuning key: adapter, pass and the whole geometry. */
export function conv2dTuneKey(g: ConvGeometry, pass: Conv2dPass): string {
  return `${adapterKey(engine())}|conv2d|${pass}|${g.N}x${g.H}x${g.W}x${g.C}>${g.O}|k${g.KH}x${g.KW}|s${g.sh}x${g.sw}|d${g.dh}x${g.dw}|p${g.pt}x${g.pl}`;
}

export function formatConv2dKernel(k: Conv2dKernel): string {
  return k.variant === 'direct' ? 'direct' : `tiled:${k.tiles.TM}x${k.tiles.TN}x${k.tiles.TK}`;
}

export function parseConv2dKernel(s: string): Conv2dKernel | null {
  if (s === 'direct') return { variant: 'direct' };
  const m = /^tiled:(\d+)x(\d+)x(\d+)$/.exec(s);
  return m ? { variant: 'tiled', tiles: { TM: +m[1], TN: +m[2], TK: +m[3] } } : null;
}

/** Can `k` run this pass of g here? (A remembered choice may come from another version.) */
export function conv2dKernelRuns(k: Conv2dKernel, g: ConvGeometry, pass: Conv2dPass): boolean {
  if (k.variant === 'direct') return directRuns(g, pass);
  try {
    checkTiles(k.tiles);
    return true;
  } catch {
    return false;
  }
}

/** The remembered kernel for this pass of g, if any and runnable here. */
export function tunedConv2d(g: ConvGeometry, pass: Conv2dPass): Conv2dKernel | null {
  const t = tuned(conv2dTuneKey(g, pass));
  const k = t ? parseConv2dKernel(t) : null;
  return k && conv2dKernelRuns(k, g, pass) ? k : null;
}

/** Tiles the tiled kernel uses for this pass of g: the remembered ones, else the default. */
export function conv2dTilesFor(g: ConvGeometry, pass: Conv2dPass): ConvTiles {
  const t = tunedConv2d(g, pass);
  return t?.variant === 'tiled' ? t.tiles : defaultConv2dTiles(g, pass);
}

const passes = new ShapeRecorder<{ g: ConvGeometry; pass: Conv2dPass }>();

/** Run `f` and return each (geometry, pass) that conv2d ops chose a kernel for meanwhile. */
export function recordConv2dPasses(f: () => unknown): Promise<{ g: ConvGeometry; pass: Conv2dPass }[]> {
  return passes.record(f);
}

export function checkVariant(op: string, v: unknown): void {
  if (v !== undefined && v !== 'auto' && v !== 'tiled' && v !== 'direct')
    throw new TypeError(`webgpu-cnn: ${op}: 'variant' must be 'auto', 'tiled' or 'direct', got ${JSON.stringify(v)}`);
}
