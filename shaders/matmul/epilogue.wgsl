// The matmul kernels' epilogue (shared.wgsl, block.wgsl): bias, ReLU and the stores,
// checked against M and N. Included, not a kernel: it uses the includer's `p` (M, N, has_bias,
// relu), `bias` and `c`. The ReLU keeps NaN, as PyTorch (nan.wgsl: never max(r, 0)).
//
//   c[base + m·N + n + j] = relu?(v[j] + bias?[n + j])   for the columns n + j < N of row m < M

//!include "nan.wgsl"

fn store4(base: u32, m: u32, n: u32, v: vec4<f32>) {
  for (var j = 0u; j < 4u; j++) {
    if (n + j < p.N) {
      var r = v[j];
      if (p.has_bias == 1u) { r += bias[n + j]; }
      if (p.relu == 1u) { r = apply_relu(r); }
      c[base + m * p.N + n + j] = r;
    }
  }
}

fn store8(base: u32, m: u32, n: u32, l: vec4<f32>, r: vec4<f32>) {
  if (m < p.M) {
    store4(base, m, n, l);
    store4(base, m, n + 4u, r);
  }
}
