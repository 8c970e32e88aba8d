// conv2d, the quick kernels: all three passes in small loops that compile in tens of
// milliseconds, for the first training steps while the fast kernels (direct*.wgsl,
// tiled_*.wgsl, which unroll filters and register blocks and take seconds each to compile on
// CPU adapters) compile in the background (tiered start: src/train/step.ts). Any geometry:
// filter size, stride, dilation and padding are uniforms, never override constants, so each
// entry point is one pipeline for every layer.
//
// x: [N,H,W,C]  w: [KH,KW,C,O]  bias: [O]  y, dy: [N,OH,OW,O]  dx: [N,H,W,C]
//
// Blocking, each invocation (4 x 8 accumulators: 12 loads per 32 multiply-adds):
//   forward      4 output pixels along a row (ow) x 8 output channels
//   input_grad   4 input pixels along a row (iw) x 8 input channels; dy arrives masked by any
//                fused ReLU (the caller's job, as for the direct kernels)
//   weight_grad  one tap (kh, kw) x 4 input channels (or the bias row, x = 1) x 8 output
//                channels, over one chunk of the N*OH*OW output pixels: partial sums
//                part[split, m, o] (m = (kh*KW + kw)*C + c; the bias row m = KH*KW*C), summed
//                by conv2d/tiled_weight_grad's reduce_splits
// Edges: loads past an edge are clamped to a valid index and replaced by 0; stores are
// checked. The grid is 1-D, folded (flat_index, ops/grid.ts).

//!include "common.wgsl"
//!include "nan.wgsl"

override WG: u32 = 64;

struct Params {
  N: i32, H: i32, W: i32, C: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  stride_h: i32, stride_w: i32, pad_t: i32, pad_l: i32, dil_h: i32, dil_w: i32,
  // invocations of the pass; blocks of 4 along the pixel row and along the channels
  total: u32, pblocks: i32, cblocks: i32,
  has_bias: u32, relu: u32,
  // weight_grad: rows of part (KH*KW*C, +1 with the bias row), pixels per split
  M: i32, chunk: i32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;     // x (forward, weight_grad) or dy (input_grad)
@group(0) @binding(2) var<storage, read> wt: array<f32>;      // w, or dy (weight_grad)
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>; // y, dx or part

const LANES = vec4<i32>(0, 1, 2, 3);

// v where `ok`, else 0 (drops the clamped loads past an edge; a select, not a product, so a
// NaN at the clamped position does not leak into the padding)
fn keep(v: vec4<f32>, ok: vec4<bool>) -> vec4<f32> {
  return select(vec4<f32>(0.0), v, ok);
}

// acc += the outer product of col (4 rows) and [lo, hi] (8 columns): acc[2j] and acc[2j+1] are
// row j's columns 0-3 and 4-7. The one multiply-add block of all three passes.
fn outer(acc: ptr<function, array<vec4<f32>, 8>>, col: vec4<f32>, lo: vec4<f32>, hi: vec4<f32>) {
  // written out: a loop over j indexes col dynamically, which SwiftShader runs 2.3x slower
  (*acc)[0] = fma(vec4<f32>(col.x), lo, (*acc)[0]);
  (*acc)[1] = fma(vec4<f32>(col.x), hi, (*acc)[1]);
  (*acc)[2] = fma(vec4<f32>(col.y), lo, (*acc)[2]);
  (*acc)[3] = fma(vec4<f32>(col.y), hi, (*acc)[3]);
  (*acc)[4] = fma(vec4<f32>(col.z), lo, (*acc)[4]);
  (*acc)[5] = fma(vec4<f32>(col.z), hi, (*acc)[5]);
  (*acc)[6] = fma(vec4<f32>(col.w), lo, (*acc)[6]);
  (*acc)[7] = fma(vec4<f32>(col.w), hi, (*acc)[7]);
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let t = flat_index(wid, nwg, lid, WG);
  if (t >= p.total) { return; }
  let i = i32(t);
  let o0 = 8 * (i % p.cblocks);
  let q = i / p.cblocks;
  let ow = 4 * (q % p.pblocks) + LANES;
  let oh = (q / p.pblocks) % p.OH;
  let n = q / (p.pblocks * p.OH);
  let oc = min(o0 + LANES, vec4<i32>(p.O - 1));
  let od = min(o0 + 4 + LANES, vec4<i32>(p.O - 1));
  var acc: array<vec4<f32>, 8>; // acc[2j], acc[2j+1]: pixel ow[j], channels o0 .. o0+3, o0+4 .. o0+7
  for (var kh = 0; kh < p.KH; kh++) {
    let ih = oh * p.stride_h - p.pad_t + kh * p.dil_h;
    if (ih < 0 || ih >= p.H) { continue; }
    for (var kw = 0; kw < p.KW; kw++) {
      let iw = ow * p.stride_w - p.pad_l + kw * p.dil_w;
      let ok = (iw >= vec4<i32>(0)) & (iw < vec4<i32>(p.W)) & (ow < vec4<i32>(p.OW));
      let xb = ((n * p.H + ih) * p.W + clamp(iw, vec4<i32>(0), vec4<i32>(p.W - 1))) * p.C;
      let wb = (kh * p.KW + kw) * p.C * p.O;
      for (var c = 0; c < p.C; c++) {
        let xv = keep(vec4<f32>(src[xb.x + c], src[xb.y + c], src[xb.z + c], src[xb.w + c]), ok);
        let wr = wb + c * p.O;
        let wv = vec4<f32>(wt[wr + oc.x], wt[wr + oc.y], wt[wr + oc.z], wt[wr + oc.w]);
        let wu = vec4<f32>(wt[wr + od.x], wt[wr + od.y], wt[wr + od.z], wt[wr + od.w]);
        outer(&acc, xv, wv, wu);
      }
    }
  }
  for (var j = 0; j < 4; j++) {
    if (ow[j] >= p.OW) { break; }
    let yb = ((n * p.OH + oh) * p.OW + ow[j]) * p.O;
    for (var k = 0; k < 8; k++) {
      let o = o0 + k;
      if (o >= p.O) { break; }
      var v = acc[2 * j + k / 4][k % 4];
      if (p.has_bias != 0u) { v += bias[o]; }
      if (p.relu != 0u) { v = apply_relu(v); } // keeps NaN (nan.wgsl)
      dst[yb + o] = v;
    }
  }
}

@compute @workgroup_size(WG)
fn input_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let t = flat_index(wid, nwg, lid, WG);
  if (t >= p.total) { return; }
  let i = i32(t);
  let c0 = 8 * (i % p.cblocks);
  let q = i / p.cblocks;
  let iw = 4 * (q % p.pblocks) + LANES;
  let ih = (q / p.pblocks) % p.H;
  let n = q / (p.pblocks * p.H);
  let cc = min(c0 + LANES, vec4<i32>(p.C - 1));
  let cd = min(c0 + 4 + LANES, vec4<i32>(p.C - 1));
  var acc: array<vec4<f32>, 8>; // acc[2j], acc[2j+1]: pixel iw[j], channels c0 .. c0+3, c0+4 .. c0+7
  for (var kh = 0; kh < p.KH; kh++) {
    // the output row that read input row ih through tap kh, if any
    let th = ih + p.pad_t - kh * p.dil_h;
    let oh = th / p.stride_h;
    if (th < 0 || oh * p.stride_h != th || oh >= p.OH) { continue; }
    for (var kw = 0; kw < p.KW; kw++) {
      let tw = iw + p.pad_l - kw * p.dil_w;
      let ow = tw / vec4<i32>(p.stride_w);
      let ok = (tw >= vec4<i32>(0)) & (ow * p.stride_w == tw) & (ow < vec4<i32>(p.OW)) & (iw < vec4<i32>(p.W));
      let db = ((n * p.OH + oh) * p.OW + clamp(ow, vec4<i32>(0), vec4<i32>(p.OW - 1))) * p.O;
      let tap = (kh * p.KW + kw) * p.C;
      let wb = (tap + cc) * p.O;
      let wc = (tap + cd) * p.O;
      for (var o = 0; o < p.O; o++) {
        let dv = keep(vec4<f32>(src[db.x + o], src[db.y + o], src[db.z + o], src[db.w + o]), ok);
        let wv = vec4<f32>(wt[wb.x + o], wt[wb.y + o], wt[wb.z + o], wt[wb.w + o]);
        let wu = vec4<f32>(wt[wc.x + o], wt[wc.y + o], wt[wc.z + o], wt[wc.w + o]);
        outer(&acc, dv, wv, wu);
      }
    }
  }
  for (var j = 0; j < 4; j++) {
    if (iw[j] >= p.W) { break; }
    let xb = ((n * p.H + ih) * p.W + iw[j]) * p.C;
    for (var k = 0; k < 8; k++) {
      if (c0 + k >= p.C) { break; }
      dst[xb + c0 + k] = acc[2 * j + k / 4][k % 4];
    }
  }
}

@compute @workgroup_size(WG)
fn weight_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let t = flat_index(wid, nwg, lid, WG);
  if (t >= p.total) { return; }
  let i = i32(t);
  let o0 = 8 * (i % p.cblocks);
  let q = i / p.cblocks;
  // block b of this split: tap (kh, kw) and input channels c0 .. c0+3 for b < taps * cq, else
  // the bias row (x = 1); pblocks = taps * cq (+1 with the bias)
  let b = q % p.pblocks;
  let split = q / p.pblocks;
  let cq = (p.C + 3) / 4;
  let is_bias = b >= p.KH * p.KW * cq;
  let c0 = 4 * (b % cq);
  let kw = (b / cq) % p.KW;
  let kh = min(b / (cq * p.KW), p.KH - 1);
  let cc = min(c0 + LANES, vec4<i32>(p.C - 1)) - c0; // channel offsets, clamped
  let oc = min(o0 + LANES, vec4<i32>(p.O - 1));
  let od = min(o0 + 4 + LANES, vec4<i32>(p.O - 1));
  let pixels = p.N * p.OH * p.OW;
  let first = split * p.chunk;
  let last = min(first + p.chunk, pixels);
  var acc: array<vec4<f32>, 8>; // acc[2j], acc[2j+1]: row of channel c0+j (or the bias row), channels o0 .. o0+7
  for (var px = first; px < last; px++) {
    let ow = px % p.OW;
    let oh = (px / p.OW) % p.OH;
    let n = px / (p.OW * p.OH);
    let ih = oh * p.stride_h - p.pad_t + kh * p.dil_h;
    let iw = ow * p.stride_w - p.pad_l + kw * p.dil_w;
    var xv = vec4<f32>(1.0, 0.0, 0.0, 0.0);
    if (!is_bias) {
      if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) { continue; }
      let xb = ((n * p.H + ih) * p.W + iw) * p.C + c0;
      xv = vec4<f32>(src[xb + cc.x], src[xb + cc.y], src[xb + cc.z], src[xb + cc.w]);
    }
    let dyb = px * p.O;
    let dv = vec4<f32>(wt[dyb + oc.x], wt[dyb + oc.y], wt[dyb + oc.z], wt[dyb + oc.w]);
    let du = vec4<f32>(wt[dyb + od.x], wt[dyb + od.y], wt[dyb + od.z], wt[dyb + od.w]);
    outer(&acc, xv, dv, du);
  }
  // rows of part: (kh*KW + kw)*C + c, the bias row last (M - 1)
  let row0 = select((kh * p.KW + kw) * p.C + c0, p.M - 1, is_bias);
  let rows = select(min(4, p.C - c0), 1, is_bias);
  for (var j = 0; j < rows; j++) {
    let pb = (split * p.M + row0 + j) * p.O;
    for (var k = 0; k < 8; k++) {
      if (o0 + k >= p.O) { break; }
      dst[pb + o0 + k] = acc[2 * j + k / 4][k % 4];
    }
  }
}
