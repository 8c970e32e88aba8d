// Workgroup grids: fold a 1-D workgroup count into x, then y, then z, so that no dimension
// exceeds maxComputeWorkgroupsPerDimension. Shaders undo the fold: flat_index() in common.wgsl
// (threads) or `wid.x + nwg.x * (wid.y + nwg.y * wid.z)` (workgroups), and skip the few ids
// past the count (the grid may hold slightly more workgroups than asked for).

import { engine } from '../runtime/engine.js';

/** A grid of exactly `total` workgroups or slightly more. */
export function foldGrid(total: number): [number, number, number] {
  const max = engine().device.limits.maxComputeWorkgroupsPerDimension;
  if (total <= max) return [total, 1, 1];
  const y = Math.ceil(total / max);
  if (y <= max) return [Math.ceil(total / y), y, 1];
  const z = Math.ceil(total / (max * max));
  return [max, Math.ceil(total / (max * z)), z];
}

/** The grid for `n` threads in workgroups of `wgSize`. */
export function grid1d(n: number, wgSize: number): [number, number, number] {
  return foldGrid(Math.ceil(n / wgSize));
}
