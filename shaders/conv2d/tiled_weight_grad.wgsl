// conv2d backward w.r.t. the weights (and bias), as a tiled implicit GEMM with split-K,
// then a deterministic reduction of the splits.
//
// x: [N,H,W,C]  dy: [N,OH,OW,O]  yact: [N,OH,OW,O] (forward output, for a fused ReLU)
// part_out, parts: [splits, M, O] (partial sums)  dw: [KH,KW,C,O]  db: [O]
//
//   dw[m, o] = sum_p A[m, p] · B[p, o]   m = (kh, kw, c) in [0, Mw = KH·KW·C)
//                                        p = (n, oh, ow) in [0, P = N·OH·OW)
//   A[m, p] = x[n, oh·sh - pt + kh·dh, ow·sw - pl + kw·dw, c]   (0 in the padding)
//   B[p, o] = dy[p, o]  (· relu_pass(yact) when relu_mask != 0: gradient through a fused ReLU)
//
// Bias gradient for free: with a bias, A gets one extra row m = Mw that is all ones, so row
// Mw of the product is db[o] = sum_p dy[p, o]. M = Mw (+ 1 with a bias).
//
// Split-K: the reduction over P is long (batch · pixels) while M x O is small, so one tile
// per workgroup would leave most of the GPU idle. Grid z = split: workgroup (tile, z) reduces
// p in [z·chunk, (z+1)·chunk) into part_out[z]; `reduce_splits` then sums the partials in
// order z = 0, 1, ... for every element. No atomics: results are bitwise reproducible.
//
// A loader: each thread takes ONE p per K step (its (n, oh, ow) decoded once per step) and
// RA = TM / (WG/TK) consecutive m (consecutive channels: contiguous in NHWC), whose
// (kh, kw, c) is decoded once per thread and advanced by carries. The 8x8 register-tile
// multiply is in conv2d/tile.wgsl.

//!include "conv2d/tile.wgsl"
//!include "common.wgsl"
//!include "nan.wgsl"

struct BwdWeightParams {
  N: i32, H: i32, W: i32, C: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  stride_h: i32, stride_w: i32, pad_t: i32, pad_l: i32, dil_h: i32, dil_w: i32,
  M: u32, Mw: u32, P: u32, chunk: u32, splits: u32, n_tiles: u32, m_tiles: u32, relu_mask: u32,
}

@group(0) @binding(0) var<uniform> p: BwdWeightParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> yact: array<f32>;
@group(0) @binding(4) var<storage, read_write> part_out: array<f32>;

@compute @workgroup_size(WG)
fn weight_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let tc = tile_coords(wid, nwg, p.n_tiles, p.m_tiles);
  if (tc.z >= p.splits) { return; } // spare workgroup
  let pstart = tc.z * p.chunk;
  let pend = min(p.P, pstart + p.chunk);
  let plen = select(0u, pend - pstart, pend > pstart);
  let m0 = tc.y * TM;
  let n0 = tc.x * TN;
  let O = u32(p.O);

  // A loader: one p column per thread and K step (its (n, oh, ow) decoded once per step),
  // RA consecutive m from m_s, decoded once before the K loop and advanced by carries.
  let kk_a = lid % TK;
  let ra = TM / (WG / TK);
  let mseg = (lid / TK) * ra;
  let m_s = m0 + mseg;
  let c_s = i32(m_s % u32(p.C));
  let kw_s = i32((m_s / u32(p.C)) % u32(p.KW));
  let kh_s = i32((m_s / u32(p.C)) / u32(p.KW));
  let ohw = u32(p.OH * p.OW);

  let tx = lid % (TN / 8u);
  let ty = lid / (TN / 8u);
  var acc: RegTile;
  for (var k0 = 0u; k0 < plen; k0 += TK) {
    let pk = pstart + k0 + kk_a;
    let p_ok = pk < pend;
    let img = i32(pk / ohw);
    let r = pk % ohw;
    let ihb = i32(r / u32(p.OW)) * p.stride_h - p.pad_t;
    let iwb = i32(r % u32(p.OW)) * p.stride_w - p.pad_l;
    let xb = img * p.H * p.W * p.C;
    var c = c_s;
    var kw = kw_s;
    var kh = kh_s;
    for (var j = 0u; j < ra; j++) {
      let mm = m_s + j;
      let ih = ihb + kh * p.dil_h;
      let iw = iwb + kw * p.dil_w;
      var v = 0.0;
      if (p_ok && mm < p.Mw && ih >= 0 && ih < p.H && iw >= 0 && iw < p.W) {
        v = x[xb + (ih * p.W + iw) * p.C + c];
      }
      if (p_ok && mm == p.Mw) { v = 1.0; } // the bias row
      store_a(mseg + j, kk_a, v);
      c += 1;
      if (c == p.C) { c = 0; kw += 1; if (kw == p.KW) { kw = 0; kh += 1; } }
    }
    for (var e = lid; e < TK * TN; e += WG) {
      let pb = pstart + k0 + e / TN;
      let o = n0 + e % TN;
      var v = 0.0;
      if (pb < pend && o < O) {
        v = dy[pb * O + o];
        if (p.relu_mask != 0u && !relu_pass(yact[pb * O + o])) { v = 0.0; }
      }
      store_b(e / TN, e % TN, v);
    }
    workgroupBarrier();
    tile_mma(tx, ty, &acc);
    workgroupBarrier();
  }

  let zbase = tc.z * p.M;
  for (var i = 0u; i < 8u; i++) {
    let mi = m0 + ty * 8u + i;
    if (mi >= p.M) { break; }
    for (var j = 0u; j < 8u; j++) {
      let o = n0 + tx + j * (TN / 8u);
      if (o >= O) { break; }
      part_out[(zbase + mi) * O + o] = tile_get(&acc, i, j);
    }
  }
}

// ---- deterministic split reduction: dw (rows < Mw) and db (row Mw) ----

override RWG: u32 = 256;

struct ReduceParams {
  total: u32,  // M · O
  dw_len: u32, // Mw · O
  splits: u32,
}

@group(0) @binding(0) var<uniform> rp: ReduceParams;
@group(0) @binding(1) var<storage, read> parts: array<f32>;
@group(0) @binding(2) var<storage, read_write> dwt: array<f32>;
@group(0) @binding(3) var<storage, read_write> dbt: array<f32>;

@compute @workgroup_size(RWG)
fn reduce_splits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, RWG);
  if (i >= rp.total) { return; }
  var s = 0.0;
  for (var z = 0u; z < rp.splits; z++) { s += parts[z * rp.total + i]; }
  if (i < rp.dw_len) { dwt[i] = s; } else { dbt[i - rp.dw_len] = s; }
}
