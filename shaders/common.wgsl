// Shared helpers, included explicitly with `//!include "common.wgsl"`.
//
// 1-D work is spread over a grid of workgroups (the host folds counts above
// maxComputeWorkgroupsPerDimension into y and z, see src/ops/grid.ts). `flat_index` undoes that.

fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, wg_size: u32) -> u32 {
  return ((wid.z * nwg.y + wid.y) * nwg.x + wid.x) * wg_size + lid;
}
