// Affine augmentation (shift, rotation, scale) with bilinear sampling.
// One thread per output pixel (all channels). Each sample has a 2x3 "output -> input" matrix:
//   sx = m0*x + m1*y + m2,  sy = m3*x + m4*y + m5      (x = column, y = row, pixel centres)
// and the output is the input at (sx, sy), bilinear between the 4 surrounding pixels; taps
// outside the image read `fill`. Identity matrices copy exactly (weights are 1 and 0).
// Matrices come from a small storage tensor (not uniforms), so one dispatch handles a whole
// batch with different transforms, and a captured step can re-upload them each replay.
// Reference: src/data/augment.ts (warpAffine, same formulas in float64).
//
// x: [N,H,W,C]  m: [N,6]  y: [N,H,W,C]

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

fn tap(base: u32, xi: i32, yi: i32, ch: u32) -> f32 {
  if (xi < 0 || yi < 0 || xi >= i32(p.w) || yi >= i32(p.h)) { return p.fill; }
  return x[base + (u32(yi) * p.w + u32(xi)) * p.c + ch];
}

@compute @workgroup_size(WG)
fn affine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG); // output pixel over N*H*W
  let hw = p.h * p.w;
  if (i >= p.n * hw) { return; }
  let s = i / hw;
  let r = i - s * hw;
  let oy = r / p.w;
  let ox = r - oy * p.w;
  let k = s * 6u;
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
