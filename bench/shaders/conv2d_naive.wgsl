// conv2d forward, naive: one thread per output element, looping over the kernel taps and
// input channels straight from global memory. Kept as the baseline of the benchmark page and
// as a second, independent GPU implementation; training uses shaders/conv2d/ (tiled or direct).
//
// x: [N,H,W,C]  w: [KH,KW,C,O]  bias: [O]  y: [N,OH,OW,O]

//!include "common.wgsl"

override WG: u32 = 256;

struct NaiveParams {
  N: i32, H: i32, W: i32, C: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  stride_h: i32, stride_w: i32, pad_t: i32, pad_l: i32, dil_h: i32, dil_w: i32,
  total: u32, has_bias: u32, relu: u32,
}

@group(0) @binding(0) var<uniform> p: NaiveParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn forward_naive(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.total) { return; }
  let o = i32(i % u32(p.O));
  let m = i32(i / u32(p.O));
  let ow = m % p.OW;
  let oh = (m / p.OW) % p.OH;
  let n = m / (p.OW * p.OH);
  var s = 0.0;
  for (var kh = 0; kh < p.KH; kh++) {
    let ih = oh * p.stride_h - p.pad_t + kh * p.dil_h;
    if (ih < 0 || ih >= p.H) { continue; }
    for (var kw = 0; kw < p.KW; kw++) {
      let iw = ow * p.stride_w - p.pad_l + kw * p.dil_w;
      if (iw < 0 || iw >= p.W) { continue; }
      let xb = ((n * p.H + ih) * p.W + iw) * p.C;
      let wb = (kh * p.KW + kw) * p.C * p.O + o;
      for (var c = 0; c < p.C; c++) {
        s += x[xb + c] * w[wb + c * p.O];
      }
    }
  }
  if (p.has_bias != 0u) { s += bias[o]; }
  if (p.relu != 0u) { s = max(s, 0.0); }
  y[i] = s;
}
