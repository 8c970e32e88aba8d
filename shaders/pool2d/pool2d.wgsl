// 2-D pooling over NHWC tensors: max and average (any window, stride, padding), global
// average, and their backward passes.
//
//   x, dx: [N,H,W,C]   y, dy, argmax: [N,OH,OW,C]   (global: y, dy: [N,C])
//
// Forward kernels run one thread per OUTPUT element, c fastest (neighbouring threads read
// neighbouring channels, so loads coalesce). Window of output (oh, ow) covers input rows
// oh*SH - PT .. oh*SH - PT + KH - 1 (columns likewise); cells outside the input are padding.
//
// max: padded cells count as -inf (they are skipped, so they never win); ties keep the first
//   cell in (kh, kw) scan order (strict >). `argmax` stores the winner as a flat index into x
//   (((n*H + h)*W + w)*C + c), so the backward needs no recompute. NaN propagates as in
//   PyTorch (`val > maxval || isnan(val)`): a window holding NaN gives NaN, and its LAST NaN
//   in scan order is the argmax that receives the gradient. `max_wins` tests the bits
//   (nan.wgsl), never max() or a bare comparison, which may drop NaN.
// avg: the sum over the cells inside the input, divided by their number (count_pad = 0:
//   PyTorch's count_include_pad=False, TensorFlow's rule) or by KH*KW (count_pad = 1: padded
//   cells count as zeros, PyTorch's default). Windows never pass the padded input's end.
//
// Backward kernels run one thread per INPUT element and GATHER: the thread visits every output
// whose window covers it (rows oh0..oh1, columns ow0..ow1, derived below) in a fixed order and
// sums. With overlapping windows (stride < kernel) several outputs may pick the same input; a
// gather needs no atomics, has no races, and its summation order is fixed (deterministic).
//
// Threads are laid out 1-D and folded into a 2-D grid of workgroups (flat_index); buffers come
// from a pool and may be larger than the tensor, so every thread checks `i < total`.

//!include "common.wgsl"
//!include "nan.wgsl"

override WG: u32 = 256;

struct Pool {
  total: u32,   // threads: N*OH*OW*C (forward) or N*H*W*C (backward)
  H: i32, W: i32, C: i32,
  OH: i32, OW: i32,
  KH: i32, KW: i32,
  SH: i32, SW: i32,
  PT: i32, PL: i32, // padding before the first row / column
  count_pad: i32,   // avg only: 1 divides by KH*KW (padding counted), 0 by the cells inside
}

struct Global {
  total: u32,   // N*C (forward) or N*HW*C (backward)
  HW: u32,
  C: u32,
  inv_hw: f32,
}

@group(0) @binding(0) var<uniform> p: Pool;
@group(0) @binding(1) var<uniform> g: Global;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> argmax: array<u32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read> idx: array<u32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;

// Does cell value `cand` replace the running maximum `best`? PyTorch's rule: cand > best, or
// cand is NaN (a later NaN replaces an earlier one); only a NaN replaces a NaN best.
fn max_wins(cand: f32, best: f32) -> bool {
  return is_nan(cand) || (cand > best && !is_nan(best));
}

// Output element i -> (n, oh, ow, c) with c fastest.
fn out_coords(i: u32) -> vec4<i32> {
  let ii = i32(i);
  let c = ii % p.C;
  let r = ii / p.C;
  let ow = r % p.OW;
  let r2 = r / p.OW;
  return vec4<i32>(r2 / p.OH, r2 % p.OH, ow, c);
}

// Input element i -> (n, h, w, c).
fn in_coords(i: u32) -> vec4<i32> {
  let ii = i32(i);
  let c = ii % p.C;
  let r = ii / p.C;
  let w = r % p.W;
  let r2 = r / p.W;
  return vec4<i32>(r2 / p.H, r2 % p.H, w, c);
}

// First and last output index along one axis whose window [o*S - P, o*S - P + K - 1] contains
// input coordinate `v`: o*S <= v + P  and  o*S >= v + P - K + 1.
fn covering(v: i32, K: i32, S: i32, P: i32, O: i32) -> vec2<i32> {
  let a = v + P - K + 1;
  var lo = 0;
  if (a > 0) { lo = (a + S - 1) / S; }
  let hi = min((v + P) / S, O - 1);
  return vec2<i32>(lo, hi);
}

// Number of input cells (inside the image) in the window starting at `start`.
fn inside(start: i32, K: i32, size: i32) -> i32 {
  return min(start + K, size) - max(start, 0);
}

// The clamped window: rows hs..he-1, columns ws..we-1 of the input (padding excluded). The
// host only allows padding < kernel, so it is never empty.
fn window(o: vec4<i32>) -> vec4<i32> {
  let h0 = o.y * p.SH - p.PT;
  let w0 = o.z * p.SW - p.PL;
  return vec4<i32>(max(h0, 0), min(h0 + p.KH, p.H), max(w0, 0), min(w0 + p.KW, p.W));
}

@compute @workgroup_size(WG)
fn max_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.total) { return; }
  let o = out_coords(i);
  let r = window(o);
  // Padded cells are skipped, which is what -inf padding means: they never win.
  var best_i = u32(((o.x * p.H + r.x) * p.W + r.z) * p.C + o.w);
  var best = x[best_i];
  for (var h = r.x; h < r.y; h++) {
    for (var w = r.z; w < r.w; w++) {
      let j = u32(((o.x * p.H + h) * p.W + w) * p.C + o.w);
      let v = x[j];
      if (max_wins(v, best)) { best = v; best_i = j; }
    }
  }
  y[i] = best;
  argmax[i] = best_i;
}

// Same as max_forward without the indices (inference: nothing will run the backward).
@compute @workgroup_size(WG)
fn max_forward_noidx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.total) { return; }
  let o = out_coords(i);
  let r = window(o);
  var best = x[((o.x * p.H + r.x) * p.W + r.z) * p.C + o.w];
  for (var h = r.x; h < r.y; h++) {
    for (var w = r.z; w < r.w; w++) {
      let v = x[((o.x * p.H + h) * p.W + w) * p.C + o.w];
      best = select(best, v, max_wins(v, best));
    }
  }
  y[i] = best;
}

// dx[j] = sum of dy[o] over the outputs o covering j whose argmax is j.
@compute @workgroup_size(WG)
fn max_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.total) { return; }
  let v = in_coords(i);
  let rh = covering(v.y, p.KH, p.SH, p.PT, p.OH);
  let rw = covering(v.z, p.KW, p.SW, p.PL, p.OW);
  var acc = 0.0;
  for (var oh = rh.x; oh <= rh.y; oh++) {
    for (var ow = rw.x; ow <= rw.y; ow++) {
      let o = u32(((v.x * p.OH + oh) * p.OW + ow) * p.C + v.w);
      if (idx[o] == i) { acc += dy[o]; }
    }
  }
  dx[i] = acc;
}

@compute @workgroup_size(WG)
fn avg_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.total) { return; }
  let o = out_coords(i);
  let r = window(o);
  var acc = 0.0;
  for (var h = r.x; h < r.y; h++) {
    for (var w = r.z; w < r.w; w++) {
      acc += x[((o.x * p.H + h) * p.W + w) * p.C + o.w];
    }
  }
  var n = (r.y - r.x) * (r.w - r.z);
  if (p.count_pad == 1) { n = p.KH * p.KW; }
  y[i] = acc / f32(n);
}

// dx[j] = sum over outputs o covering j of dy[o] / count(o) (count: as in avg_forward).
@compute @workgroup_size(WG)
fn avg_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.total) { return; }
  let v = in_coords(i);
  let rh = covering(v.y, p.KH, p.SH, p.PT, p.OH);
  let rw = covering(v.z, p.KW, p.SW, p.PL, p.OW);
  var acc = 0.0;
  for (var oh = rh.x; oh <= rh.y; oh++) {
    var ch = inside(oh * p.SH - p.PT, p.KH, p.H);
    if (p.count_pad == 1) { ch = p.KH; }
    for (var ow = rw.x; ow <= rw.y; ow++) {
      var cw = inside(ow * p.SW - p.PL, p.KW, p.W);
      if (p.count_pad == 1) { cw = p.KW; }
      acc += dy[((v.x * p.OH + oh) * p.OW + ow) * p.C + v.w] / f32(ch * cw);
    }
  }
  dx[i] = acc;
}

// Global average: y[n, c] = mean over h, w of x[n, h, w, c]. One thread per (n, c); the loop
// over H*W runs in a fixed order (deterministic), adjacent threads read adjacent channels.
@compute @workgroup_size(WG)
fn global_avg_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= g.total) { return; }
  let n = i / g.C;
  let c = i % g.C;
  var acc = 0.0;
  for (var s = 0u; s < g.HW; s++) { acc += x[(n * g.HW + s) * g.C + c]; }
  y[i] = acc * g.inv_hw;
}

@compute @workgroup_size(WG)
fn global_avg_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= g.total) { return; }
  let c = i % g.C;
  let n = i / (g.HW * g.C);
  dx[i] = dy[n * g.C + c] * g.inv_hw;
}
