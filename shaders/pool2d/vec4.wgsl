// Max and average pooling over NHWC tensors, fast path for the common case: non-overlapping windows
// (stride = kernel), no padding, C a multiple of 4. One thread owns 4 neighbouring channels of
// one OUTPUT pixel and moves them as vec4: on CPU implementations (SwiftShader) a load with a
// computed index is emulated lane by lane per 32-bit word, so one vec4 load costs about what a
// scalar one does, and the general kernels (pool2d.wgsl, one thread per element, a gather in
// the backward) pay 4x the loads and index arithmetic.
//
//   x, dx: [N,H,W,C]   y, dy, argmax: [N,OH,OW,C]   (bound as vec4 arrays: C/4 vec4 a pixel)
//
// Semantics as in pool2d.wgsl: ties keep the first cell in (kh, kw) scan order (strict >), NaN
// wins as in PyTorch (the last NaN of the window; max_wins4, never max(), see nan.wgsl),
// `argmax` is the winner's flat index into x, ((n·H + h)·W + w)·C + c, so either backward
// can consume it. The backward SCATTERS: output o's window holds input cells no other window
// holds, so the thread writes dy to the winning cell and 0 to the others of its window (max),
// or dy / (KH·KW) to all of them (average: no padding, so every window counts KH·KW cells);
// the host uses it only when the windows tile the input exactly (H = OH·KH, W = OW·KW), so
// every dx cell is written once.

//!include "common.wgsl"
//!include "nan.wgsl"

override WG: u32 = 128;
override KH: u32 = 2;
override KW: u32 = 2;

struct Pool4 {
  total: u32,  // threads: N·OH·OW·C/4
  H: u32, W: u32, C4: u32,  // C4 = C/4
  OH: u32, OW: u32,
}

@group(0) @binding(0) var<uniform> p: Pool4;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> argmax: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> idx: array<vec4<u32>>;
@group(0) @binding(6) var<storage, read_write> dx: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> ym: array<vec4<f32>>;  // the forward's output y

// Per lane: does `cand` replace the running maximum? (pool2d.wgsl max_wins: cand > best, or NaN)
fn max_wins4(cand: vec4<f32>, best: vec4<f32>) -> vec4<bool> {
  return is_nan4(cand) | ((cand > best) & !is_nan4(best));
}

// vec4 index of the window's top-left cell, for thread i = ((n·OH + oh)·OW + ow)·C4 + c4.
fn window_base(i: u32) -> u32 {
  let c4 = i % p.C4;
  let r = i / p.C4;
  let ow = r % p.OW;
  let r2 = r / p.OW;
  let oh = r2 % p.OH;
  let n = r2 / p.OH;
  return ((n * p.H + oh * KH) * p.W + ow * KW) * p.C4 + c4;
}

@compute @workgroup_size(WG)
fn max_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.total) { return; }
  let b = window_base(i);
  var best = x[b];
  var best_j = vec4<u32>(b);
  for (var kh = 0u; kh < KH; kh++) {
    for (var kw = 0u; kw < KW; kw++) {
      let j = b + (kh * p.W + kw) * p.C4;
      let v = x[j];
      let win = max_wins4(v, best);
      best = select(best, v, win);
      best_j = select(best_j, vec4<u32>(j), win);
    }
  }
  y[i] = best;
  argmax[i] = 4u * best_j + vec4<u32>(0u, 1u, 2u, 3u);
}

// Inference: the same without the indices.
@compute @workgroup_size(WG)
fn max_forward4_noidx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.total) { return; }
  let b = window_base(i);
  var best = x[b];
  for (var kh = 0u; kh < KH; kh++) {
    for (var kw = 0u; kw < KW; kw++) {
      let v = x[b + (kh * p.W + kw) * p.C4];
      best = select(best, v, max_wins4(v, best));
    }
  }
  y[i] = best;
}

// The scatter of both backward entries; `g` is 0 on the lanes the ReLU mask clears.
fn scatter(i: u32, g: vec4<f32>) {
  let b = window_base(i);
  let a = idx[i];
  for (var kh = 0u; kh < KH; kh++) {
    for (var kw = 0u; kw < KW; kw++) {
      let j = b + (kh * p.W + kw) * p.C4;
      dx[j] = select(vec4<f32>(0.0), g, a == 4u * j + vec4<u32>(0u, 1u, 2u, 3u));
    }
  }
}

@compute @workgroup_size(WG)
fn max_backward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.total) { return; }
  scatter(i, dy[i]);
}

// The same, with the gradient also masked by the ReLU that produced x (x > 0 or NaN at the
// winning cell, which is relu_pass(y), nan.wgsl): the ReLU's backward pass folded into this
// one (see canPremask in src/autograd/tape.ts).
@compute @workgroup_size(WG)
fn max_backward4_relu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.total) { return; }
  scatter(i, select(vec4<f32>(0.0), dy[i], relu_pass4(ym[i])));
}

// Average pooling: the mean of the window's KH·KW cells (no padding here, so all count).
@compute @workgroup_size(WG)
fn avg_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.total) { return; }
  let b = window_base(i);
  var s = vec4<f32>(0.0);
  for (var kh = 0u; kh < KH; kh++) {
    for (var kw = 0u; kw < KW; kw++) {
      s += x[b + (kh * p.W + kw) * p.C4];
    }
  }
  y[i] = s / f32(KH * KW);
}

@compute @workgroup_size(WG)
fn avg_backward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.total) { return; }
  let b = window_base(i);
  let g = dy[i] / f32(KH * KW);
  for (var kh = 0u; kh < KH; kh++) {
    for (var kw = 0u; kw < KW; kw++) {
      dx[b + (kh * p.W + kw) * p.C4] = g;
    }
  }
}
