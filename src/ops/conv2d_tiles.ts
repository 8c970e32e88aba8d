// Tile configuration of the conv2d implicit GEMMs (shaders/conv2d_tile.wgsl) and the folding
// of a linear workgroup count into a grid that fits the per-dimension limit.

import { engine } from '../runtime/engine.js';

/** Workgroup tile: TM x TN outputs, K step TK; (TM/4)·(TN/4) threads with 4x4 outputs each. */
export interface ConvTiles {
  TM: number;
  TN: number;
  TK: number;
}

export const DEFAULT_TILES: Readonly<ConvTiles> = { TM: 64, TN: 64, TK: 16 };

/** Throws unless the loaders of all three conv2d GEMMs can use this tile shape. */
export function checkTiles(t: ConvTiles): ConvTiles {
  const { TM, TN, TK } = t;
  const wg = (TM / 4) * (TN / 4);
  const maxWg = engine().device.limits.maxComputeInvocationsPerWorkgroup;
  const shared = 4 * TK * (TM + TN);
  const ok =
    [TM, TN, TK].every((v) => Number.isInteger(v) && v > 0) &&
    TM % 16 === 0 && TN % 16 === 0 && wg <= maxWg &&
    wg % TM === 0 && TK % (wg / TM) === 0 && // forward / backward-input A loaders
    wg % TK === 0 && TM % (wg / TK) === 0 && // backward-weight A loader, backward-input B loader
    shared <= engine().device.limits.maxComputeWorkgroupStorageSize;
  if (!ok) throw new RangeError(`webgpu-cnn: conv2d: unsupported tile shape ${JSON.stringify(t)} (workgroup ${wg} threads, ${shared} bytes shared)`);
  return t;
}

export function tileConstants(t: ConvTiles): Record<string, number> {
  return { TM: t.TM, TN: t.TN, TK: t.TK };
}

/** A grid of exactly `total` workgroups or slightly more (shaders skip ids >= total). */
export function foldGrid(total: number): [number, number, number] {
  const max = engine().device.limits.maxComputeWorkgroupsPerDimension;
  if (total <= max) return [total, 1, 1];
  const y = Math.ceil(total / max);
  if (y <= max) return [Math.ceil(total / y), y, 1];
  const z = Math.ceil(total / (max * max));
  return [max, Math.ceil(total / (max * z)), z];
}
