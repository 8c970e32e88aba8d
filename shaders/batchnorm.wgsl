// Batch normalisation over the last axis (channels), NHWC: statistics per channel over every
// other axis. With M = N*H*W rows:
//   mean_c = Σ_m x[m,c] / M,  var_c = Σ_m (x[m,c] - mean_c)^2 / M   (two passes: stable)
//   xhat = (x - mean_c) * invstd_c,  invstd_c = 1 / sqrt(var_c + eps),  y = gamma_c * xhat + beta_c
// Training also updates the running statistics in place (PyTorch convention: running_var uses
// the unbiased variance var_c * M / (M - 1)), and `count_batch` adds one to the layer's
// num_batches_tracked (an f32 count: exact to 2^24 batches). The update factor is `momentum`
// (`stats`) or 1 / num_batches_tracked, counted first (`stats_cumulative`: PyTorch's
// momentum=None, a cumulative average over the batches seen). Evaluation uses the running statistics instead
// (`from_running` turns them into mean / invstd for the same `normalize` kernel).
// Backward, with batch statistics (b = batch):
//   dbeta_c = Σ_m dy,  dgamma_c = Σ_m dy * xhat
//   dx = gamma_c * invstd_c * (dy - b * (dbeta_c + xhat * dgamma_c) / M)
// Reductions: one workgroup per channel, WG threads stride over the rows, then a tree
// reduction in workgroup memory.
// x, y, dy, dx: [M,C]   gamma, beta, mean, invstd, running_*, dgamma, dbeta: [C]

//!include "common.wgsl"

override WG: u32 = 256;   // threads per workgroup; <= 256 (size of `red`)

struct Params {
  m: u32,          // rows (N*H*W)
  c: u32,          // channels
  eps: f32,
  momentum: f32,   // running = (1 - momentum) * running + momentum * batch (stats)
  update: u32,     // 1: update running statistics (training forward)
  batch: u32,      // 1: backward through batch statistics; 0: statistics were constants
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> invstd: array<f32>;
@group(0) @binding(7) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(8) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(9) var<storage, read_write> y: array<f32>;
@group(0) @binding(10) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(11) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(12) var<storage, read> mean_in: array<f32>;
@group(0) @binding(13) var<storage, read> invstd_in: array<f32>;
@group(0) @binding(14) var<storage, read> dgamma_in: array<f32>;
@group(0) @binding(15) var<storage, read> dbeta_in: array<f32>;
@group(0) @binding(16) var<storage, read_write> batches: array<f32>;

var<workgroup> red: array<f32, 256>;
var<workgroup> red2: array<f32, 256>;

// Sum `v` over the workgroup; every thread gets the total.
fn wg_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let t = red[0];
  workgroupBarrier();
  return t;
}

// Two sums at once (backward): totals land in red[0], red2[0].
fn wg_sum2(lid: u32, a: f32, b: f32) -> vec2<f32> {
  red[lid] = a;
  red2[lid] = b;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      red[lid] = red[lid] + red[lid + s];
      red2[lid] = red2[lid] + red2[lid + s];
    }
    workgroupBarrier();
  }
  let t = vec2<f32>(red[0], red2[0]);
  workgroupBarrier();
  return t;
}

// One workgroup per channel (wid.x = c). WG must be a power of two.
@compute @workgroup_size(WG)
fn stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  stats_for(wid.x, lid, p.momentum);
}

@compute @workgroup_size(WG)
fn stats_cumulative(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  stats_for(wid.x, lid, 1.0 / batches[0]);
}

// Batch mean / invstd of channel c; with p.update, running = (1 - f) * running + f * batch.
fn stats_for(c: u32, lid: u32, f: f32) {
  if (c >= p.c) { return; }
  var s = 0.0;
  for (var r = lid; r < p.m; r = r + WG) { s = s + x[r * p.c + c]; }
  let mu = wg_sum(lid, s) / f32(p.m);
  var q = 0.0;
  for (var r = lid; r < p.m; r = r + WG) {
    let d = x[r * p.c + c] - mu;
    q = q + d * d;
  }
  let v = wg_sum(lid, q) / f32(p.m);
  if (lid == 0u) {
    mean[c] = mu;
    invstd[c] = inverseSqrt(v + p.eps);
    if (p.update == 1u) {
      let unbiased = select(v, v * f32(p.m) / f32(p.m - 1u), p.m > 1u);
      running_mean[c] = (1.0 - f) * running_mean[c] + f * mu;
      running_var[c] = (1.0 - f) * running_var[c] + f * unbiased;
    }
  }
}

// num_batches_tracked += 1 (one workgroup; one thread writes).
@compute @workgroup_size(WG)
fn count_batch(@builtin(local_invocation_index) lid: u32) {
  if (lid == 0u && p.update == 1u) { batches[0] = batches[0] + 1.0; }
}

// Evaluation: mean / invstd from the running statistics. One thread per channel.
@compute @workgroup_size(WG)
fn from_running(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let c = flat_index(wid, nwg, lid, WG);
  if (c >= p.c) { return; }
  mean[c] = running_mean[c];
  invstd[c] = inverseSqrt(running_var[c] + p.eps);
}

// One thread per element.
@compute @workgroup_size(WG)
fn normalize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.m * p.c) { return; }
  let c = i % p.c;
  y[i] = gamma[c] * (x[i] - mean_in[c]) * invstd_in[c] + beta[c];
}

// One workgroup per channel: dgamma = Σ dy * xhat, dbeta = Σ dy.
@compute @workgroup_size(WG)
fn backward_reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  if (c >= p.c) { return; }
  let mu = mean_in[c];
  let is = invstd_in[c];
  var sg = 0.0;
  var sb = 0.0;
  for (var r = lid; r < p.m; r = r + WG) {
    let i = r * p.c + c;
    sg = sg + dy[i] * (x[i] - mu) * is;
    sb = sb + dy[i];
  }
  let t = wg_sum2(lid, sg, sb);
  if (lid == 0u) {
    dgamma[c] = t.x;
    dbeta[c] = t.y;
  }
}

// One thread per element.
@compute @workgroup_size(WG)
fn backward_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.m * p.c) { return; }
  let c = i % p.c;
  let is = invstd_in[c];
  var g = dy[i];
  if (p.batch == 1u) {
    let xhat = (x[i] - mean_in[c]) * is;
    g = g - (dbeta_in[c] + xhat * dgamma_in[c]) / f32(p.m);
  }
  y[i] = gamma[c] * is * g;
}
