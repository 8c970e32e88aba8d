// Elementwise kernels on f32 arrays.
//
// Same-shape kernels (one thread per 4 elements, `n` = ceil(elements / 4) threads, see below):
//   fill: y = alpha          add: y = a + b      sub: y = a - b      mul: y = a * b
//   scale: y = alpha * a     add_scalar: y = a + alpha
//   scale_by: y = a * b[0]   (a scale factor that lives on the GPU, e.g. an upstream gradient)
//   a, b, y: [n]
//
// Broadcasting kernels (numpy rules, resolved on the host): the output index i is split into
// up to 8 coalesced dimensions `shape` (lo = dims 0..3, hi = dims 4..7, row-major), and each
// input is read at sum(coord[d] * stride[d]) with stride 0 along its broadcast dimensions.
//   binary_bcast: y = a op b   (op 0 add, 1 sub, 2 mul)
//   expand:       y = alpha * a   (broadcast `a` to the output shape: the adjoint of a sum)
//   a: [shape broadcast by sa]  b: [shape broadcast by sb]  y: [n = prod(shape)]

//!include "common.wgsl"

override WG: u32 = 256;

struct Params {
  n: u32,
  alpha: f32,
}

struct BcastParams {
  n: u32,
  rank: u32,
  op: u32,
  alpha: f32,
  shape_lo: vec4<u32>,
  shape_hi: vec4<u32>,
  sa_lo: vec4<u32>,
  sa_hi: vec4<u32>,
  sb_lo: vec4<u32>,
  sb_hi: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> q: BcastParams;

// The same-shape kernels move 4 elements per thread (a4, b4, y4: the same buffers seen as
// vec4 arrays, n4 = ceil(n / 4) threads). Pooled buffers are whole multiples of 256 bytes
// (src/runtime/pool.ts), so the last vec4 stays inside the buffer; the up to 3 values past
// `n` it writes belong to no tensor (the output's buffer is its own). On CPU adapters a
// computed-index load costs about the same for a vec4 as for one f32: ~4x fewer loads.
@group(0) @binding(5) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> y4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { y4[i] = vec4<f32>(p.alpha); }
}

@compute @workgroup_size(WG)
fn add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { y4[i] = a4[i] + b4[i]; }
}

@compute @workgroup_size(WG)
fn sub(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { y4[i] = a4[i] - b4[i]; }
}

@compute @workgroup_size(WG)
fn mul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { y4[i] = a4[i] * b4[i]; }
}

@compute @workgroup_size(WG)
fn scale(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { y4[i] = p.alpha * a4[i]; }
}

@compute @workgroup_size(WG)
fn add_scalar(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { y4[i] = a4[i] + p.alpha; }
}

@compute @workgroup_size(WG)
fn scale_by(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { y4[i] = a4[i] * b[0]; }
}

fn dim8(lo: vec4<u32>, hi: vec4<u32>, d: u32) -> u32 {
  if (d < 4u) { return lo[d]; }
  return hi[d - 4u];
}

// Offsets into a and b of output element i (walks the dimensions from the innermost).
fn bcast_offsets(i: u32) -> vec2<u32> {
  var rem = i;
  var off = vec2<u32>(0u, 0u);
  for (var k = 0u; k < q.rank; k++) {
    let d = q.rank - 1u - k;
    let size = dim8(q.shape_lo, q.shape_hi, d);
    let c = rem % size;
    rem = rem / size;
    off += c * vec2<u32>(dim8(q.sa_lo, q.sa_hi, d), dim8(q.sb_lo, q.sb_hi, d));
  }
  return off;
}

@compute @workgroup_size(WG)
fn binary_bcast(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= q.n) { return; }
  let off = bcast_offsets(i);
  let x = a[off.x];
  let z = b[off.y];
  var r: f32;
  switch (q.op) {
    case 0u: { r = x + z; }
    case 1u: { r = x - z; }
    default: { r = x * z; }
  }
  y[i] = r;
}

@compute @workgroup_size(WG)
fn expand(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= q.n) { return; }
  y[i] = q.alpha * a[bcast_offsets(i).x];
}
