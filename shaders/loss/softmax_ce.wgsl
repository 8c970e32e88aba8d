// Softmax, softmax cross-entropy (fused forward + gradient), argmax and hit counting.
//
//   softmax_ce:  one workgroup per row n of x: [N,K], labels: u32 [N]
//       m = max_k x[n,k];  s = sum_k exp(x[n,k] - m)                       (numerically stable)
//       loss[n] = m + log(s) - x[n, labels[n]]                             (= -log softmax)
//       dx[n,k] = (exp(x[n,k] - m) / s - (k == labels[n])) * inv_n        (d mean-loss / dx)
//     A label >= K makes loss[n] NaN (visible in the mean) rather than reading out of bounds.
//   softmax_ce_row: the same, one thread per row (few classes, or a CPU adapter)
//   softmax:          y[n,k] = exp(x[n,k] - m) / s                  (softmax_row: a thread per row)
//   softmax_backward: dx[n,k] = y[n,k] * (dy[n,k] - sum_j dy[n,j] y[n,j])   (y = softmax output;
//                     softmax_backward_row: a thread per row)
//   argmax:      one thread per row: idx[n] = first k with the largest x[n,k]
//   hits:        one thread per row: hit[n] = 1.0 if argmax(x[n]) == labels[n] else 0.0
// Row reductions are tree reductions in workgroup memory (fixed order: deterministic).
// Rows beyond 65535 workgroups fold into the y dimension of the grid.

//!include "common.wgsl"

override WG: u32 = 64;   // power of two

struct Params {
  N: u32,
  K: u32,
  inv_n: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read> y: array<f32>;
@group(0) @binding(6) var<storage, read> dy: array<f32>;
@group(0) @binding(7) var<storage, read_write> probs: array<f32>;
@group(0) @binding(8) var<storage, read_write> idx: array<u32>;

var<workgroup> red: array<f32, WG>;

const LOWEST: f32 = -3.40282346e38;  // the lowest finite f32 (rounded)

fn wg_max(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn wg_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

// Row max and sum of exp(x - max) of row `base` (all threads of the workgroup get both).
fn row_stats(base: u32, lid: u32) -> vec2<f32> {
  var m = LOWEST;
  for (var k = lid; k < p.K; k += WG) { m = max(m, x[base + k]); }
  m = wg_max(m, lid);
  var s = 0.0;
  for (var k = lid; k < p.K; k += WG) { s += exp(x[base + k] - m); }
  return vec2<f32>(m, wg_sum(s, lid));
}

// The same statistics walked by one thread (the thread-per-row kernels).
fn row_stats_seq(base: u32) -> vec2<f32> {
  var m = LOWEST;
  for (var k = 0u; k < p.K; k++) { m = max(m, x[base + k]); }
  var s = 0.0;
  for (var k = 0u; k < p.K; k++) { s += exp(x[base + k] - m); }
  return vec2<f32>(m, s);
}

@compute @workgroup_size(WG)
fn softmax_ce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.N) { return; }
  let base = row * p.K;
  let st = row_stats(base, lid);
  let lab = labels[row];
  for (var k = lid; k < p.K; k += WG) {
    let q = exp(x[base + k] - st.x) / st.y;
    dx[base + k] = (q - select(0.0, 1.0, k == lab)) * p.inv_n;
  }
  if (lid == 0u) {
    if (lab < p.K) {
      loss[row] = st.x + log(st.y) - x[base + lab];
    } else {
      // NaN for an out-of-range label (built at run time: WGSL constants may not be NaN)
      loss[row] = bitcast<f32>(0x7fc00000u | (lab & 0u));
    }
  }
}

// softmax_ce for few classes (the host picks it for K <= 32): one THREAD per row, the row
// walked sequentially; no workgroup memory and no barriers, which a CPU implementation pays
// for dearly (a 10-class head spent ~8 ms per batch of 64 in the per-row workgroups on
// SwiftShader). Same formulas and results (up to the summation order) as softmax_ce.
@compute @workgroup_size(WG)
fn softmax_ce_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let row = flat_index(wid, nwg, lid, WG);
  if (row >= p.N) { return; }
  let base = row * p.K;
  let st = row_stats_seq(base);
  let m = st.x;
  let s = st.y;
  let lab = labels[row];
  for (var k = 0u; k < p.K; k++) {
    let q = exp(x[base + k] - m) / s;
    dx[base + k] = (q - select(0.0, 1.0, k == lab)) * p.inv_n;
  }
  if (lab < p.K) {
    loss[row] = m + log(s) - x[base + lab];
  } else {
    loss[row] = bitcast<f32>(0x7fc00000u | (lab & 0u)); // NaN, as in softmax_ce
  }
}

@compute @workgroup_size(WG)
fn softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.N) { return; }
  let base = row * p.K;
  let st = row_stats(base, lid);
  for (var k = lid; k < p.K; k += WG) { probs[base + k] = exp(x[base + k] - st.x) / st.y; }
}

// softmax and softmax_backward with one THREAD per row (the host's choice for few classes or a
// CPU adapter, as for softmax_ce_row): no workgroup memory, no barriers.
@compute @workgroup_size(WG)
fn softmax_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let row = flat_index(wid, nwg, lid, WG);
  if (row >= p.N) { return; }
  let base = row * p.K;
  let st = row_stats_seq(base);
  for (var k = 0u; k < p.K; k++) { probs[base + k] = exp(x[base + k] - st.x) / st.y; }
}

@compute @workgroup_size(WG)
fn softmax_backward_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_index) lid: u32) {
  let row = flat_index(wid, nwg, lid, WG);
  if (row >= p.N) { return; }
  let base = row * p.K;
  var d = 0.0;
  for (var k = 0u; k < p.K; k++) { d += dy[base + k] * y[base + k]; }
  for (var k = 0u; k < p.K; k++) { dx[base + k] = y[base + k] * (dy[base + k] - d); }
}

@compute @workgroup_size(WG)
fn softmax_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.N) { return; }
  let base = row * p.K;
  var d = 0.0;
  for (var k = lid; k < p.K; k += WG) { d += dy[base + k] * y[base + k]; }
  d = wg_sum(d, lid);
  for (var k = lid; k < p.K; k += WG) { dx[base + k] = y[base + k] * (dy[base + k] - d); }
}

fn row_argmax(base: u32) -> u32 {
  var best = 0u;
  var v = x[base];
  for (var k = 1u; k < p.K; k++) {
    let c = x[base + k];
    if (c > v) { v = c; best = k; }
  }
  return best;
}

@compute @workgroup_size(WG)
fn argmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let row = flat_index(wid, nwg, lid, WG);
  if (row < p.N) { idx[row] = row_argmax(row * p.K); }
}

@compute @workgroup_size(WG)
fn hits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = flat_index(wid, nwg, lid, WG);
  if (row < p.N) { loss[row] = select(0.0, 1.0, row_argmax(row * p.K) == labels[row]); }
}
