// conv2d backward w.r.t. the input, as a tiled implicit GEMM over the flipped filter,
// split by stride phase so that only taps that really contribute are multiplied.
//
// dy: [N,OH,OW,O]  w: [KH,KW,C,O]  yact: [N,OH,OW,O] (forward output, for a fused ReLU)
// dx: [N,H,W,C]
//
//   dx[n,ih,iw,c] = sum over taps (kh,kw) and o of dy[n,oh,ow,o] · w[kh,kw,c,o]
//   where ih = oh·sh - pt + kh·dh, i.e. oh = (ih + pt - kh·dh) / sh when that divides exactly.
//
// Stride phases: an input row ih only receives taps kh with kh·dh ≡ (ih + pt) (mod sh).
// Grouping input pixels by phase (rh, rw) = ((ih+pt) mod sh, (iw+pt) mod sw) makes the set of
// contributing taps the same for every pixel of the group: kh = kh0 + t·step with
// step = sh / gcd(sh, dh), and then oh = oh_base - t·(dh / gcd). So each phase is a dense GEMM
// (z of the grid = phase):
//   M = N · Hp · Wp  (pixels of the phase)   N_gemm = C   K = NKh · NKw · O
//   A[m, k] = dy[n, oh, ow, o] (0 outside [0,OH)x[0,OW))    B[k, c] = w[kh, kw, c, o]
// With stride 1 there is one phase and this is the plain flipped-filter GEMM. A phase with
// no contributing tap (e.g. stride 2, dilation 2, odd phase) has K = 0 and writes zeros.
// With relu_mask != 0, dy is first masked by relu_pass(yact) (yact > 0 or NaN, nan.wgsl): the
// gradient through a fused ReLU.

//!include "conv2d/tile.wgsl"
//!include "nan.wgsl"

struct BwdInputParams {
  N: i32, H: i32, W: i32, C: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  stride_h: i32, stride_w: i32, pad_t: i32, pad_l: i32, dil_h: i32, dil_w: i32,
  n_tiles: u32, m_tiles: u32, relu_mask: u32,
}

@group(0) @binding(0) var<uniform> p: BwdInputParams;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> yact: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

// Taps of one axis contributing to phase r: (first, step, count, output step per tap).
fn phase_taps(r: i32, s: i32, d: i32, k: i32) -> vec4<i32> {
  var first = -1;
  for (var t = 0; t < s; t++) { if ((t * d) % s == r) { first = t; break; } }
  var step = s;
  for (var t = 1; t < s; t++) { if ((t * d) % s == 0) { step = t; break; } }
  var count = 0;
  if (first >= 0 && first < k) { count = (k - first + step - 1) / step; }
  return vec4<i32>(first, step, count, step * d / s);
}

@compute @workgroup_size(WG)
fn input_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let tc = tile_coords(wid, nwg, p.n_tiles, p.m_tiles);
  let sh = p.stride_h;
  let sw = p.stride_w;
  if (tc.z >= u32(sh * sw)) { return; } // spare workgroup
  let rh = i32(tc.z) / sw;
  let rw = i32(tc.z) % sw;
  let ih_first = ((rh - p.pad_t) % sh + sh) % sh;
  let iw_first = ((rw - p.pad_l) % sw + sw) % sw;
  let hp = select(0, (p.H - ih_first + sh - 1) / sh, ih_first < p.H);
  let wp = select(0, (p.W - iw_first + sw - 1) / sw, iw_first < p.W);
  let th_taps = phase_taps(rh, sh, p.dil_h, p.KH);
  let tw_taps = phase_taps(rw, sw, p.dil_w, p.KW);
  let M = u32(p.N * hp * wp);
  let K = u32(th_taps.z * tw_taps.z * p.O);
  let m0 = tc.y * TM;
  if (m0 >= M) { return; } // this phase has fewer row tiles than the grid
  let n0 = tc.x * TN;
  let O = u32(p.O);
  let ntw = tw_taps.z;

  // A loader (as in conv2d.wgsl): RA consecutive k = (tap, o) of RPT rows (input pixels).
  let tpr = max(WG / TM, 1u);
  let rpt = max(TM / WG, 1u);
  let ra = TK / tpr;
  let kseg = (lid % tpr) * ra;
  let hwp = u32(hp * wp);
  // B loader: one k column per thread and K step (decoded once), rows c = n0 + nn.
  let kb_local = lid % TK;

  let tx = lid % (TN / 8u);
  let ty = lid / (TN / 8u);
  var acc: RegTile;
  for (var k0 = 0u; k0 < K; k0 += TK) {
    let k = k0 + kseg;
    let o_s = i32(k % O);
    let tw_s = i32(k / O) % ntw;
    let th_s = i32(k / O) / ntw;
    for (var r = 0u; r < rpt; r++) {
      let row = lid / tpr + r * (WG / tpr);
      let m = m0 + row;
      let m_ok = m < M;
      let img = i32(m / hwp);
      let ih = ih_first + i32((m % hwp) / u32(wp)) * sh;
      let iw = iw_first + i32((m % hwp) % u32(wp)) * sw;
      let oh_b = (ih + p.pad_t - th_taps.x * p.dil_h) / sh; // exact by construction
      let ow_b = (iw + p.pad_l - tw_taps.x * p.dil_w) / sw;
      let ybase = img * p.OH * p.OW * p.O;
      var o = o_s;
      var tw = tw_s;
      var th = th_s;
      for (var j = 0u; j < ra; j++) {
        let oh = oh_b - th * th_taps.w;
        let ow = ow_b - tw * tw_taps.w;
        var v = 0.0;
        if (m_ok && k + j < K && oh >= 0 && oh < p.OH && ow >= 0 && ow < p.OW) {
          let idx = ybase + (oh * p.OW + ow) * p.O + o;
          v = dy[idx];
          if (p.relu_mask != 0u && !relu_pass(yact[idx])) { v = 0.0; }
        }
        store_a(row, kseg + j, v);
        o += 1;
        if (o == p.O) { o = 0; tw += 1; if (tw == ntw) { tw = 0; th += 1; } }
      }
    }
    let kb = k0 + kb_local;
    let tb = i32(kb / O);
    let kh = th_taps.x + (tb / ntw) * th_taps.y;
    let kw = tw_taps.x + (tb % ntw) * tw_taps.y;
    let wbase = (kh * p.KW + kw) * p.C * p.O + i32(kb % O);
    for (var nn = lid / TK; nn < TN; nn += WG / TK) {
      let c = n0 + nn;
      var v = 0.0;
      if (kb < K && c < u32(p.C)) { v = w[wbase + i32(c) * p.O]; }
      store_b(kb_local, nn, v);
    }
    workgroupBarrier();
    tile_mma(tx, ty, &acc);
    workgroupBarrier();
  }

  for (var i = 0u; i < 8u; i++) {
    let mi = m0 + ty * 8u + i;
    if (mi >= M) { break; }
    let n = i32(mi / hwp);
    let ihi = ih_first + i32((mi % hwp) / u32(wp)) * sh;
    let iwi = iw_first + i32((mi % hwp) % u32(wp)) * sw;
    let base = u32(((n * p.H + ihi) * p.W + iwi) * p.C);
    for (var j = 0u; j < 8u; j++) {
      let c = n0 + tx + j * (TN / 8u);
      if (c >= u32(p.C)) { break; }
      dx[base + c] = tile_get(&acc, i, j);
    }
  }
}
