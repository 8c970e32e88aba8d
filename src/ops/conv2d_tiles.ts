// Tile configuration of the conv2d implicit GEMMs (shaders/conv2d_tile.wgsl) and the folding
// of a linear workgroup count into a grid that fits the per-dimension limit.

import { engine } from '../runtime/engine.js';

/** Workgroup tile: TM x TN outputs, K step TK; (TM/8)·(TN/8) threads with 8x8 outputs each. */
export interface ConvTiles {
  TM: number;
  TN: number;
  TK: number;
}

export const DEFAULT_TILES: Readonly<ConvTiles> = { TM: 64, TN: 64, TK: 16 };

/**
 * Tiles for a GEMM with `cols` output columns (O, or C for the input gradient): narrower
 * column tiles when there are few channels, so little of the tile is padding.
 */
export function pickTiles(cols: number): ConvTiles {
  if (cols <= 16) return { TM: 128, TN: 16, TK: 16 };
  if (cols <= 32) return { TM: 64, TN: 32, TK: 16 };
  return DEFAULT_TILES;
}

/** Throws unless the loaders of all three conv2d GEMMs can use this tile shape. */
export function checkTiles(t: ConvTiles): ConvTiles {
  const { TM, TN, TK } = t;
  const wg = (TM / 8) * (TN / 8);
  const lim = engine().device.limits;
  const shared = 4 * (TM * (TK + 1) + TK * TN);
  const ok =
    [TM, TN, TK].every((v) => Number.isInteger(v) && v > 0) &&
    TM % 8 === 0 && TN % 8 === 0 && wg <= lim.maxComputeInvocationsPerWorkgroup &&
    // forward / backward-input A loaders: whole rows per thread, or TK split evenly per row
    ((wg % TM === 0 && TK % (wg / TM) === 0) || TM % wg === 0) &&
    // backward-input B loader and backward-weight A loader: one k column per thread
    wg % TK === 0 && TM % (wg / TK) === 0 &&
    shared <= lim.maxComputeWorkgroupStorageSize;
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
