// Activation functions and their backward kernels, one thread per element (`n` elements;
// pooled buffers may be larger). `alpha` is the leaky-ReLU slope (unused elsewhere).
//
//   relu:             out = x > 0 or x is NaN ? x : 0      (nan.wgsl: relu(NaN) = NaN, as PyTorch)
//   relu_backward:    out = x > 0 or x is NaN ? dy : 0     x = the forward OUTPUT y (y > 0 <=> x > 0);
//                                                         PyTorch's `y <= 0 ? 0 : dy`: NaN passes dy
//   leaky:            out = x > 0 ? x : alpha * x          (NaN: alpha * NaN = NaN, as PyTorch)
//   leaky_backward:   out = dy * (x > 0 ? 1 : alpha)   x = the forward INPUT (alpha may be <= 0);
//                                                         NaN x gives alpha * dy, as PyTorch
//   sigmoid:          out = 1 / (1 + exp(-x)), evaluated without overflow on either side
//   sigmoid_backward: out = dy * x * (1 - x)   x = the forward output
//   tanh_fwd:         out = tanh(x)            (x clamped to +-10: tanh(10) rounds to 1 in f32,
//                                             and some tanh implementations give NaN for huge x)
//   tanh_backward:    out = dy * (1 - x * x)   x = the forward output
//   x, dy, out: [4·n] seen as n vec4: one thread per 4 elements. Pooled buffers are whole
//   multiples of 256 bytes (src/runtime/pool.ts), so the last vec4 stays inside the buffer;
//   the up to 3 values it writes past the tensor's end belong to no tensor. On CPU adapters
//   a computed-index load costs about the same for a vec4 as for one f32: ~4x fewer loads.

//!include "common.wgsl"
//!include "nan.wgsl"

override WG: u32 = 256;

struct Params {
  n: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

const Z = vec4<f32>(0.0);

@compute @workgroup_size(WG)
fn relu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { out[i] = apply_relu4(x[i]); }
}

@compute @workgroup_size(WG)
fn relu_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { out[i] = select(Z, dy[i], relu_pass4(x[i])); }
}

@compute @workgroup_size(WG)
fn leaky(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { let v = x[i]; out[i] = select(p.alpha * v, v, v > Z); }
}

@compute @workgroup_size(WG)
fn leaky_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { out[i] = select(vec4<f32>(p.alpha), vec4<f32>(1.0), x[i] > Z) * dy[i]; }
}

@compute @workgroup_size(WG)
fn sigmoid(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) {
    // exp of a non-positive number only: no overflow, and 1/(1+e) keeps full precision.
    let e = exp(-abs(x[i]));
    out[i] = select(e / (1.0 + e), 1.0 / (1.0 + e), x[i] >= Z);
  }
}

@compute @workgroup_size(WG)
fn sigmoid_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { let s = x[i]; out[i] = dy[i] * s * (1.0 - s); }
}

@compute @workgroup_size(WG)
fn tanh_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { out[i] = tanh(clamp(x[i], vec4<f32>(-10.0), vec4<f32>(10.0))); }
}

@compute @workgroup_size(WG)
fn tanh_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < p.n) { let t = x[i]; out[i] = dy[i] * (1.0 - t * t); }
}
