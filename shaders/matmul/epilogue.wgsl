// The matmul kernels' epilogue (shared.wgsl, block.wgsl, quick.wgsl): bias, ReLU and the
// stores, checked against M and N. Included, not a kernel: it uses the includer's `p` (M, N,
// has_bias, relu), `bias` and `c`. The ReLU keeps NaN, as PyTorch (nan.wgsl: never max(r, 0)).
//
//   c[base + m·N + n + j] = relu?(v[j] + bias?[n + j])   for the columns n + j < N of row m < M
//
// store8 (the blocked kernels, called once per row of an invocation's block): the columns'
// bias and which columns exist are computed once per block (cols), and the flags are applied
// with select, not branches. Per row that leaves the row check and one guard per store: a
// branch per column for the bias and for the ReLU made the stores most of a blocked kernel's
// code, and of its compile time on SwiftShader (subgroup32: about three quarters).

//!include "nan.wgsl"

// Columns n .. n+3 (l) and n+4 .. n+7 (r) of a block: their bias (0 past N) and which exist.
struct Cols {
  bl: vec4<f32>,
  br: vec4<f32>,
  okl: vec4<bool>,
  okr: vec4<bool>,
}

fn bias4(j: vec4<u32>, ok: vec4<bool>) -> vec4<f32> {
  let last = max(p.N, 1u) - 1u;
  let v = vec4<f32>(bias[min(j.x, last)], bias[min(j.y, last)], bias[min(j.z, last)], bias[min(j.w, last)]);
  return select(vec4<f32>(0.0), v, ok);
}

fn cols(n: u32) -> Cols {
  let jl = vec4<u32>(n) + vec4<u32>(0u, 1u, 2u, 3u);
  let jr = jl + vec4<u32>(4u);
  let okl = jl < vec4<u32>(p.N);
  let okr = jr < vec4<u32>(p.N);
  return Cols(bias4(jl, okl), bias4(jr, okr), okl, okr);
}

// bias (exactly v without one: no + 0.0, which would turn -0.0 into +0.0), then ReLU
fn finish4(v: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  let r = select(v, v + b, p.has_bias == 1u);
  return select(r, apply_relu4(r), p.relu == 1u);
}

// Row m, columns n .. n+7 (cs = cols(n)) of c.
fn store8(base: u32, m: u32, n: u32, cs: Cols, l: vec4<f32>, r: vec4<f32>) {
  if (m < p.M) {
    let vl = finish4(l, cs.bl);
    let vr = finish4(r, cs.br);
    let i = base + m * p.N + n;
    if (cs.okl.x) { c[i] = vl.x; }
    if (cs.okl.y) { c[i + 1u] = vl.y; }
    if (cs.okl.z) { c[i + 2u] = vl.z; }
    if (cs.okl.w) { c[i + 3u] = vl.w; }
    if (cs.okr.x) { c[i + 4u] = vr.x; }
    if (cs.okr.y) { c[i + 5u] = vr.y; }
    if (cs.okr.z) { c[i + 6u] = vr.z; }
    if (cs.okr.w) { c[i + 7u] = vr.w; }
  }
}

// Row m, columns n .. n+3 (the quick kernel, in a loop: compiled once).
fn store4(base: u32, m: u32, n: u32, v: vec4<f32>) {
  let j = vec4<u32>(n) + vec4<u32>(0u, 1u, 2u, 3u);
  let ok = j < vec4<u32>(p.N);
  let w = finish4(v, bias4(j, ok));
  let i = base + m * p.N + n;
  if (ok.x) { c[i] = w.x; }
  if (ok.y) { c[i + 1u] = w.y; }
  if (ok.z) { c[i + 2u] = w.z; }
  if (ok.w) { c[i + 3u] = w.w; }
}
