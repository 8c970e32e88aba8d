// Roofline probes for the benchmark (bench/roofline.ts), not library kernels.
//
// fma_peak: the FLOP ceiling. Each thread runs 8 independent vec4 FMA chains for LOOPS steps
//   (a = a*m + k, m and k from a uniform so nothing folds at compile time): 8*4*2*LOOPS FLOPs
//   per thread, all in registers; one vec4 store at the end so the work is observable.
// copy: the bandwidth ceiling. dst[i] = src[i] on vec4s: 32 bytes moved per element.
// Both fold a 1-D index over a 2-D grid of workgroups (more than 65535 groups).
//
// acc: [n] vec4   src, dst: [n] vec4

override WG: u32 = 256;
override LOOPS: u32 = 1024;

struct Params {
  m: f32,
  k: f32,
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> acc: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn fma_peak(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let m = vec4<f32>(p.m);
  let k = vec4<f32>(p.k);
  var a0 = vec4<f32>(f32(i) * 1e-7, 0.1, 0.2, 0.3);
  var a1 = a0 + 0.01;
  var a2 = a0 + 0.02;
  var a3 = a0 + 0.03;
  var a4 = a0 + 0.04;
  var a5 = a0 + 0.05;
  var a6 = a0 + 0.06;
  var a7 = a0 + 0.07;
  for (var l = 0u; l < LOOPS; l++) {
    a0 = fma(a0, m, k);
    a1 = fma(a1, m, k);
    a2 = fma(a2, m, k);
    a3 = fma(a3, m, k);
    a4 = fma(a4, m, k);
    a5 = fma(a5, m, k);
    a6 = fma(a6, m, k);
    a7 = fma(a7, m, k);
  }
  if (i < p.n) { acc[i] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)); }
}

@compute @workgroup_size(WG)
fn copy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i < p.n) { dst[i] = src[i]; }
}
