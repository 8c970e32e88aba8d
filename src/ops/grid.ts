// Workgroup-grid helpers: fold a 1-D workgroup count into x (and y when it exceeds the
// per-dimension limit). Shaders undo the fold with flat_index() from common.wgsl.

import { engine } from '../runtime/engine.js';

export function grid1d(n: number, wgSize: number): [number, number] {
  const groups = Math.ceil(n / wgSize);
  const max = engine().device.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y];
}
