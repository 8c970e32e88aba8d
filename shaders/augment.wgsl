// Augmentation of a batch: affine warp (shift, rotation, scale, crop, flip) with bilinear
// sampling, then optionally a colour jitter (brightness, contrast, saturation).
//
// Warp. Each sample has a 2x3 "output -> input" matrix:
//   sx = m0*x + m1*y + m2,  sy = m3*x + m4*y + m5      (x = column, y = row, pixel centres)
// and the output is the input at (sx, sy), bilinear between the 4 surrounding pixels; taps
// outside the image read `fill`. Identity matrices copy exactly (weights are 1 and 0), and so
// do integer translations and mirrors (crop and flip).
// Parameters come from a small storage tensor (not uniforms), so one dispatch handles a whole
// batch with different transforms, and a captured step can re-upload them each replay.
//
// `affine`: rows of 6 (the matrix). One thread per output pixel (all channels).
// `affine_colour`: rows of 9 (matrix, brightness delta, contrast factor, saturation factor).
// One workgroup per image, because contrast needs the image's mean grey:
//   pass 1: each thread warps pixels lid, lid+WG, ... into y, adds delta and clamps to [0,1],
//           and sums their grey; a tree in workgroup memory adds the WG partial sums (WG is a
//           power of two; the order is fixed, so results are reproducible);
//   pass 2: the same thread re-reads the same pixels of y (its own writes: no barrier needed
//           for y) and applies contrast  v = clamp(mean + cf*(v - mean))  then saturation
//           v = clamp(g + sf*(v - g))  with g the pixel's grey (C = 3 only; skipped when the
//           factor is exactly 1, so identity rows copy exactly).
// grey = 0.299 r + 0.587 g + 0.114 b for C = 3, the value itself for C = 1 (the host refuses
// other channel counts). Cost: x read once (4 taps), y written twice and read once; for images
// up to 64x64 a workgroup of 64 threads does <= 64 pixels per thread, so one workgroup per
// image keeps the GPU busy from a batch of a few dozen images.
// Reference: src/data/augment.ts (warpAffine, colourJitter: same formulas in float64).
//
// x: [N,H,W,C]  m: [N,6] or [N,9]  y: [N,H,W,C]

//!include "common.wgsl"

override WG: u32 = 64;

struct Params {
  n: u32,
  h: u32,
  w: u32,
  c: u32,
  fill: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

var<workgroup> part: array<f32, WG>;

fn tap(base: u32, xi: i32, yi: i32, ch: u32) -> f32 {
  if (xi < 0 || yi < 0 || xi >= i32(p.w) || yi >= i32(p.h)) { return p.fill; }
  return x[base + (u32(yi) * p.w + u32(xi)) * p.c + ch];
}

// Warp output pixel i (over N*H*W) of sample s, whose matrix starts at m[k], into y.
fn warp(s: u32, k: u32, i: u32) {
  let hw = p.h * p.w;
  let r = i - s * hw;
  let oy = r / p.w;
  let ox = r - oy * p.w;
  let fx = f32(ox);
  let fy = f32(oy);
  let sx = m[k] * fx + m[k + 1u] * fy + m[k + 2u];
  let sy = m[k + 3u] * fx + m[k + 4u] * fy + m[k + 5u];
  let o = i * p.c;
  // All four taps outside (also catches NaN and huge coordinates before the i32 conversion).
  if (!(sx > -1.0 && sx < f32(p.w) && sy > -1.0 && sy < f32(p.h))) {
    for (var ch = 0u; ch < p.c; ch++) { y[o + ch] = p.fill; }
    return;
  }
  let x0f = floor(sx);
  let y0f = floor(sy);
  let ax = sx - x0f;
  let ay = sy - y0f;
  let x0 = i32(x0f);
  let y0 = i32(y0f);
  let base = s * hw * p.c;
  for (var ch = 0u; ch < p.c; ch++) {
    let top = (1.0 - ax) * tap(base, x0, y0, ch) + ax * tap(base, x0 + 1, y0, ch);
    let bot = (1.0 - ax) * tap(base, x0, y0 + 1, ch) + ax * tap(base, x0 + 1, y0 + 1, ch);
    y[o + ch] = (1.0 - ay) * top + ay * bot;
  }
}

@compute @workgroup_size(WG)
fn affine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG); // output pixel over N*H*W
  let hw = p.h * p.w;
  if (i >= p.n * hw) { return; }
  let s = i / hw;
  warp(s, s * 6u, i);
}

fn grey(o: u32) -> f32 {
  if (p.c == 3u) { return 0.299 * y[o] + 0.587 * y[o + 1u] + 0.114 * y[o + 2u]; }
  return y[o];
}

@compute @workgroup_size(WG)
fn affine_colour(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let s = wid.x + nwg.x * (wid.y + nwg.y * wid.z); // one workgroup per image
  if (s >= p.n) { return; } // the same for the whole workgroup: barriers stay uniform
  let hw = p.h * p.w;
  let k = s * 9u;
  let delta = m[k + 6u];
  let cf = m[k + 7u];
  let sf = m[k + 8u];
  var acc = 0.0;
  for (var r = lid; r < hw; r += WG) {
    let i = s * hw + r;
    warp(s, k, i);
    let o = i * p.c;
    for (var ch = 0u; ch < p.c; ch++) { y[o + ch] = clamp(y[o + ch] + delta, 0.0, 1.0); }
    acc += grey(o);
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { part[lid] += part[lid + stride]; }
    workgroupBarrier();
  }
  let mean = part[0] / f32(hw);
  for (var r = lid; r < hw; r += WG) {
    let o = (s * hw + r) * p.c;
    if (cf != 1.0) {
      for (var ch = 0u; ch < p.c; ch++) { y[o + ch] = clamp(mean + cf * (y[o + ch] - mean), 0.0, 1.0); }
    }
    if (sf != 1.0 && p.c == 3u) {
      let g = grey(o);
      for (var ch = 0u; ch < 3u; ch++) { y[o + ch] = clamp(g + sf * (y[o + ch] - g), 0.0, 1.0); }
    }
  }
}
