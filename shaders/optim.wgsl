// Optimizer kernels: IN-PLACE updates of a parameter and its state (the one documented
// exception to "ops only write tensors they create"), plus global-norm gradient clipping.
//
//   param, grad, vel, m, v, wd_scale: [n] (any shape, flattened; all the same length)
//   hyper: [8] f32, read from a storage buffer (not a uniform) so that a captured training step
//          can be replayed while the host rewrites lr / bias corrections between replays:
//     hyper[0] lr
//     hyper[1] beta1 (Adam) | momentum (SGD)
//     hyper[2] beta2 (Adam)
//     hyper[3] eps   (Adam)
//     hyper[4] weight_decay
//     hyper[5] decoupled: 0 = L2 (wd*p added to the gradient), 1 = decoupled (p -= lr*wd*p)
//     hyper[6] bc1 = 1 - beta1^t   (Adam bias corrections, computed on the host each step)
//     hyper[7] bc2 = 1 - beta2^t
//   wd_scale (the *_masked entries): per-element multiplier of weight_decay, for parameters
//          packed into one flat buffer where some (biases, norms) take no decay.
//
// The updates run one thread per 4 elements (param, grad, vel, m, v, wd_scale are vec4 views,
// e.n = ceil(n / 4) threads): pooled buffers are whole multiples of 256 bytes (see
// src/runtime/pool.ts), so the last vec4 stays inside every buffer; the up to 3 values past
// the tensor's end it updates belong to no tensor. Elements are independent: any dispatch
// order gives the same result.
//
// Clipping by global norm, with no readback:
//   norm_partials: one dispatch per gradient tensor; each workgroup sums the squares of a
//     grid-strided slice in a fixed order, tree-reduces in shared memory and writes one partial
//     at partials[offset + workgroup]. norm_final: one workgroup reduces all partials the same
//     way into norm_sq[0]. Fixed shapes => fixed order => bitwise deterministic.
//   clip_scale: grad *= min(1, max_norm / sqrt(norm_sq[0])) in place.

//!include "common.wgsl"

override WG: u32 = 256;

struct Elem {
  n: u32,
  nesterov: u32, // SGD only: 1 = Nesterov momentum
}

struct Partials {
  n: u32,
  offset: u32, // first partial this dispatch writes
}

struct Final {
  count: u32, // number of partials
}

struct Clip {
  n: u32,
  max_norm: f32,
}

@group(0) @binding(0) var<uniform> e: Elem;
@group(0) @binding(1) var<uniform> pr: Partials;
@group(0) @binding(2) var<uniform> fin: Final;
@group(0) @binding(3) var<uniform> cl: Clip;
@group(0) @binding(4) var<storage, read> hyper: array<f32>;
@group(0) @binding(5) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> vel: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> m: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read_write> v: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read> wd_scale: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read> src: array<f32>;
@group(0) @binding(12) var<storage, read_write> partials: array<f32>;
@group(0) @binding(13) var<storage, read_write> norm_sq: array<f32>;
@group(0) @binding(14) var<storage, read_write> g: array<f32>;

// PyTorch SGD (dampening 0): d = g + wd*p (L2) ; v = mu*v + d ; step = nesterov ? d + mu*v : v ;
// p -= lr*step. Decoupled: p *= 1 - lr*wd first and d = g. momentum 0 gives plain SGD.
fn sgd_update(i: u32, wd: vec4<f32>) {
  let lr = hyper[0];
  let mu = hyper[1];
  let decoupled = hyper[5] != 0.0;
  var p = param[i];
  var d = grad[i];
  if (decoupled) { p = p * (1.0 - lr * wd); } else { d = d + wd * p; }
  let vel_new = mu * vel[i] + d;
  vel[i] = vel_new;
  var step = vel_new;
  if (e.nesterov != 0u) { step = d + mu * vel_new; }
  param[i] = p - lr * step;
}

// Adam / AdamW (PyTorch): g' = g + wd*p unless decoupled (then p *= 1 - lr*wd);
// m = b1*m + (1-b1)*g' ; v = b2*v + (1-b2)*g'^2 ; p -= lr * (m/bc1) / (sqrt(v/bc2) + eps).
fn adam_update(i: u32, wd: vec4<f32>) {
  let lr = hyper[0];
  let b1 = hyper[1];
  let b2 = hyper[2];
  let eps = hyper[3];
  let decoupled = hyper[5] != 0.0;
  var p = param[i];
  var d = grad[i];
  if (decoupled) { p = p * (1.0 - lr * wd); } else { d = d + wd * p; }
  let m_new = b1 * m[i] + (1.0 - b1) * d;
  let v_new = b2 * v[i] + (1.0 - b2) * d * d;
  m[i] = m_new;
  v[i] = v_new;
  param[i] = p - lr * (m_new / hyper[6]) / (sqrt(v_new / hyper[7]) + eps);
}

// Plain SGD without a velocity buffer (momentum is ignored: the caller passes no velocity).
fn sgd_plain_update(i: u32, wd: vec4<f32>) {
  let lr = hyper[0];
  var p = param[i];
  var d = grad[i];
  if (hyper[5] != 0.0) { p = p * (1.0 - lr * wd); } else { d = d + wd * p; }
  param[i] = p - lr * d;
}

@compute @workgroup_size(WG)
fn sgd_plain(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < e.n) { sgd_plain_update(i, vec4<f32>(hyper[4])); }
}

@compute @workgroup_size(WG)
fn sgd_plain_masked(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < e.n) { sgd_plain_update(i, hyper[4] * wd_scale[i]); }
}

@compute @workgroup_size(WG)
fn sgd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < e.n) { sgd_update(i, vec4<f32>(hyper[4])); }
}

@compute @workgroup_size(WG)
fn sgd_masked(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < e.n) { sgd_update(i, hyper[4] * wd_scale[i]); }
}

@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < e.n) { adam_update(i, vec4<f32>(hyper[4])); }
}

@compute @workgroup_size(WG)
fn adam_masked(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i < e.n) { adam_update(i, hyper[4] * wd_scale[i]); }
}

var<workgroup> sh: array<f32, WG>;

// Tree reduction of sh[0..WG) into sh[0]; WG must be a power of two.
fn tree_sum(lid: u32) {
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lid < s) { sh[lid] += sh[lid + s]; }
  }
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn norm_partials(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = wid.x * WG + lid; i < pr.n; i += nwg.x * WG) {
    let s = src[i];
    acc += s * s;
  }
  sh[lid] = acc;
  tree_sum(lid);
  if (lid == 0u) { partials[pr.offset + wid.x] = sh[0]; }
}

@compute @workgroup_size(WG)
fn norm_final(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < fin.count; i += WG) { acc += partials[i]; }
  sh[lid] = acc;
  tree_sum(lid);
  if (lid == 0u) { norm_sq[0] = sh[0]; }
}

@compute @workgroup_size(WG)
fn clip_scale(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= cl.n) { return; }
  let norm = sqrt(norm_sq[0]);
  // Scale only when the norm exceeds max_norm (so a zero norm never divides by zero).
  if (norm > cl.max_norm) { g[i] = g[i] * (cl.max_norm / norm); }
}
