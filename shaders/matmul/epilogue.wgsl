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

// Four columns n .. n+3: which exist (< N), and their bias (0 past N).
struct Col4 {
  b: vec4<f32>,
  ok: vec4<bool>,
}

fn col4(n: u32) -> Col4 {
  let j = vec4<u32>(n) + vec4<u32>(0u, 1u, 2u, 3u);
  let ok = j < vec4<u32>(p.N);
  let last = max(p.N, 1u) - 1u;
  let b = vec4<f32>(bias[min(j.x, last)], bias[min(j.y, last)], bias[min(j.z, last)], bias[min(j.w, last)]);
  return Col4(select(vec4<f32>(0.0), b, ok), ok);
}

// The 8 columns of a block, computed once per block: cols(n) = columns n .. n+7.
struct Cols {
  l: Col4,
  r: Col4,
}

fn cols(n: u32) -> Cols {
  return Cols(col4(n), col4(n + 4u));
}

// c[i .. i+3] = v with bias, then ReLU, on the columns that exist. The bias leaves v exactly as
// it is without one (no + 0.0, which would turn -0.0 into +0.0).
fn put4(i: u32, v: vec4<f32>, cs: Col4) {
  let r = select(v, v + cs.b, p.has_bias == 1u);
  let w = select(r, apply_relu4(r), p.relu == 1u);
  if (cs.ok.x) { c[i] = w.x; }
  if (cs.ok.y) { c[i + 1u] = w.y; }
  if (cs.ok.z) { c[i + 2u] = w.z; }
  if (cs.ok.w) { c[i + 3u] = w.w; }
}

// Row m, columns n .. n+7 (cs = cols(n)) of c.
fn store8(base: u32, m: u32, n: u32, cs: Cols, l: vec4<f32>, r: vec4<f32>) {
  if (m < p.M) {
    let i = base + m * p.N + n;
    put4(i, l, cs.l);
    put4(i + 4u, r, cs.r);
  }
}

// Row m, columns n .. n+3 (the quick kernel, in a loop: compiled once).
fn store4(base: u32, m: u32, n: u32, v: vec4<f32>) {
  put4(base + m * p.N + n, v, col4(n));
}
