// Elementwise kernels on flat f32 arrays: fill, add, scale (y = alpha * x).
// One thread per element; `n` is the element count (buffers may be larger: pooled).
// x, a, b, y: [n]

//!include "common.wgsl"

override WG: u32 = 256;

struct Params {
  n: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { y[i] = p.alpha; }
}

@compute @workgroup_size(WG)
fn add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { y[i] = a[i] + b[i]; }
}

@compute @workgroup_size(WG)
fn scale(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { y[i] = p.alpha * a[i]; }
}
