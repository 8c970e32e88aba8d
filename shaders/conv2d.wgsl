// conv2d forward as a tiled implicit GEMM, with an optional fused bias + ReLU epilogue.
//
// x: [N,H,W,C]  w: [KH,KW,C,O]  bias: [O]  y: [N,OH,OW,O]
//
//   y[m, o] = sum_k A[m, k] · B[k, o]     m = (n, oh, ow) in [0, M = N·OH·OW)
//                                         k = (kh, kw, c) in [0, K = KH·KW·C)
//   A[m, k] = x[n, oh·sh - pt + kh·dh, ow·sw - pl + kw·dw, c]   (0 outside the image: padding)
//   B[k, o] = w viewed as [K, O] (HWIO is already k-major, o contiguous)
//
// The im2col gather happens in the A-tile loader. Each thread loads RA = TK / (WG/TM)
// consecutive k of ONE fixed row m, so the row's (n, oh, ow) is decoded once per thread and
// k's (kh, kw, c) once per K step then advanced by carries: no integer division per element.
// Consecutive k are consecutive channels in memory (NHWC), so loads stay contiguous.
// See conv2d_tile.wgsl for the tiles and the register-tile multiply.

//!include "conv2d_tile.wgsl"

struct FwdParams {
  N: i32, H: i32, W: i32, C: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  stride_h: i32, stride_w: i32, pad_t: i32, pad_l: i32, dil_h: i32, dil_w: i32,
  M: u32, K: u32, n_tiles: u32, m_tiles: u32,
  has_bias: u32, relu: u32,
}

@group(0) @binding(0) var<uniform> p: FwdParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let tc = tile_coords(wid, nwg, p.n_tiles, p.m_tiles);
  if (tc.z >= 1u) { return; } // spare workgroup of the folded grid
  let m0 = tc.y * TM;
  let n0 = tc.x * TN;
  let O = u32(p.O);

  // A loader: fixed row `row`, k segment [kseg, kseg + RA) of each K step.
  let tpr = WG / TM;
  let ra = TK / tpr;
  let row = lid / tpr;
  let kseg = (lid % tpr) * ra;
  let m = m0 + row;
  let m_ok = m < p.M;
  let ohw = u32(p.OH * p.OW);
  let img = i32(m / ohw);
  let r = m % ohw;
  let ih0 = i32(r / u32(p.OW)) * p.stride_h - p.pad_t;
  let iw0 = i32(r % u32(p.OW)) * p.stride_w - p.pad_l;
  let xbase = img * p.H * p.W * p.C;

  let tx = lid % (TN / 4u);
  let ty = lid / (TN / 4u);
  var acc = mat4x4<f32>();
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    let k = k0 + kseg;
    var c = i32(k % u32(p.C));
    let t = k / u32(p.C);
    var kw = i32(t % u32(p.KW));
    var kh = i32(t / u32(p.KW));
    for (var j = 0u; j < ra; j++) {
      let ih = ih0 + kh * p.dil_h;
      let iw = iw0 + kw * p.dil_w;
      var v = 0.0;
      if (m_ok && k + j < p.K && ih >= 0 && ih < p.H && iw >= 0 && iw < p.W) {
        v = x[xbase + (ih * p.W + iw) * p.C + c];
      }
      store_a(kseg + j, row, v);
      c += 1;
      if (c == p.C) { c = 0; kw += 1; if (kw == p.KW) { kw = 0; kh += 1; } }
    }
    // B loader: plain 2-D tile of w viewed as [K, O].
    for (var e = lid; e < TK * TN; e += WG) {
      let kk = k0 + e / TN;
      let nn = n0 + e % TN;
      var v = 0.0;
      if (kk < p.K && nn < O) { v = w[kk * O + nn]; }
      store_b(e / TN, e % TN, v);
    }
    workgroupBarrier();
    acc = tile_mma(tx, ty, acc);
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let mi = m0 + ty * 4u + i;
    if (mi >= p.M) { break; }
    for (var jj = 0u; jj < 4u; jj++) {
      let o = n0 + tx * 4u + jj;
      if (o >= O) { break; }
      var v = acc[i][jj];
      if (p.has_bias != 0u) { v += bias[o]; }
      if (p.relu != 0u) { v = max(v, 0.0); }
      y[mi * O + o] = v;
    }
  }
}
