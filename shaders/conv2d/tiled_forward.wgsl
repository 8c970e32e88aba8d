// conv2d forward as a tiled implicit GEMM, with an optional fused bias + ReLU epilogue.
//
// x: [N,H,W,C]  w: [KH,KW,C,O]  bias: [O]  y: [N,OH,OW,O]
//
//   y[m, o] = sum_k A[m, k] · B[k, o]     m = (n, oh, ow) in [0, M = N·OH·OW)
//                                         k = (kh, kw, c) in [0, K = KH·KW·C)
//   A[m, k] = x[n, oh·sh - pt + kh·dh, ow·sw - pl + kw·dw, c]   (0 outside the image: padding)
//   B[k, o] = w viewed as [K, O] (HWIO is already k-major, o contiguous)
//
// The im2col gather happens in the A-tile loader. A thread loads RA = TK / TPR consecutive k
// of RPT rows (TPR threads share a row when WG > TM; a thread takes several rows when
// WG < TM). k's (kh, kw, c) is decoded once per K step and then advanced by carries, a row's
// (n, oh, ow) once per row and step: no integer division per element (divisions by runtime
// values are slow everywhere and lane-by-lane on CPU implementations). Consecutive k are
// consecutive channels in memory (NHWC). See conv2d/tile.wgsl for tiles and the 8x8 multiply.

//!include "conv2d/tile.wgsl"
//!include "nan.wgsl"

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
  let C = u32(p.C);
  let ohw = u32(p.OH * p.OW);

  let tpr = max(WG / TM, 1u); // threads per A row
  let rpt = max(TM / WG, 1u); // A rows per thread
  let ra = TK / tpr;
  let kseg = (lid % tpr) * ra;

  let tx = lid % (TN / 8u);
  let ty = lid / (TN / 8u);
  var acc: RegTile;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    let k = k0 + kseg;
    let c_s = i32(k % C);
    let kw_s = i32((k / C) % u32(p.KW));
    let kh_s = i32((k / C) / u32(p.KW));
    for (var r = 0u; r < rpt; r++) {
      let row = lid / tpr + r * (WG / tpr);
      let m = m0 + row;
      let m_ok = m < p.M;
      let q = m % ohw;
      let ih0 = i32(q / u32(p.OW)) * p.stride_h - p.pad_t;
      let iw0 = i32(q % u32(p.OW)) * p.stride_w - p.pad_l;
      let xb = i32(m / ohw) * p.H * p.W * p.C;
      var c = c_s;
      var kw = kw_s;
      var kh = kh_s;
      for (var j = 0u; j < ra; j++) {
        let ih = ih0 + kh * p.dil_h;
        let iw = iw0 + kw * p.dil_w;
        var v = 0.0;
        if (m_ok && k + j < p.K && ih >= 0 && ih < p.H && iw >= 0 && iw < p.W) {
          v = x[xb + (ih * p.W + iw) * p.C + c];
        }
        store_a(row, kseg + j, v);
        c += 1;
        if (c == p.C) { c = 0; kw += 1; if (kw == p.KW) { kw = 0; kh += 1; } }
      }
    }
    // B loader: plain 2-D tile of w viewed as [K, O], along o.
    for (var e = lid; e < TK * TN; e += WG) {
      let kk = k0 + e / TN;
      let nn = n0 + e % TN;
      var v = 0.0;
      if (kk < p.K && nn < O) { v = w[kk * O + nn]; }
      store_b(e / TN, e % TN, v);
    }
    workgroupBarrier();
    tile_mma(tx, ty, &acc);
    workgroupBarrier();
  }

  for (var i = 0u; i < 8u; i++) {
    let mi = m0 + ty * 8u + i;
    if (mi >= p.M) { break; }
    for (var j = 0u; j < 8u; j++) {
      let o = n0 + tx + j * (TN / 8u);
      if (o >= O) { break; }
      var v = tile_get(&acc, i, j);
      if (p.has_bias != 0u) { v += bias[o]; }
      if (p.relu != 0u) { v = apply_relu(v); } // keeps NaN (nan.wgsl)
      y[mi * O + o] = v;
    }
  }
}
