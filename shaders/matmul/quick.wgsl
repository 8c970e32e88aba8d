// Matmul, the quick kernel: a small loop that compiles in tens of milliseconds, for the first
// training steps while the fast kernels (subgroup.wgsl, register.wgsl, shared.wgsl: unrolled
// 16 x 8 or 8 x 8 blocks, seconds each to compile on CPU adapters) compile in the background
// (tiered start: src/train/step.ts). Transposes are uniforms, not override constants: one
// pipeline for every product. Contract as matmul/block.wgsl:
//
//   c[z] = relu?( op(a[z]) . op(b[z]) + bias? )        op(X) = X, or X^T when its flag is set
//   a: [batch, M, K]  (ta: [batch, K, M])   b: [batch, K, N]  (tb: [batch, N, K])
//   bias: [N]         c: [batch, M, N]      sa, sb, sc: batch strides in elements
//
// Each invocation owns a 4 x 4 block of c (rows 4y .., columns 4x ..): per k, 4 loads of
// op(A), 4 of op(B), 16 multiply-adds. Rows and columns past the edge are clamped to the last
// one (their results are not stored). The epilogue (bias, ReLU, checked stores) is
// matmul/epilogue.wgsl's.

override WG_X: u32 = 8;
override WG_Y: u32 = 8;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  sa: u32,
  sb: u32,
  sc: u32,
  has_bias: u32,
  relu: u32,
  ta: u32,
  tb: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

//!include "matmul/epilogue.wgsl"

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_quick(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m0 = 4u * gid.y;
  let n0 = 4u * gid.x;
  if (m0 >= p.M || n0 >= p.N) { return; }
  let lanes = vec4<u32>(0u, 1u, 2u, 3u);
  // element strides of op(A)[m, k] and op(B)[k, n]
  let am = select(p.K, 1u, p.ta == 1u);
  let ak = select(1u, p.M, p.ta == 1u);
  let bk = select(p.N, 1u, p.tb == 1u);
  let bn = select(1u, p.K, p.tb == 1u);
  let ai = gid.z * p.sa + min(vec4<u32>(m0) + lanes, vec4<u32>(p.M - 1u)) * am;
  let bi = gid.z * p.sb + min(vec4<u32>(n0) + lanes, vec4<u32>(p.N - 1u)) * bn;
  var acc: array<vec4<f32>, 4>; // acc[i]: row m0+i, columns n0 .. n0+3
  for (var k = 0u; k < p.K; k++) {
    let av = vec4<f32>(a[ai.x + k * ak], a[ai.y + k * ak], a[ai.z + k * ak], a[ai.w + k * ak]);
    let bv = vec4<f32>(b[bi.x + k * bk], b[bi.y + k * bk], b[bi.z + k * bk], b[bi.w + k * bk]);
    acc[0] = fma(vec4<f32>(av.x), bv, acc[0]);
    acc[1] = fma(vec4<f32>(av.y), bv, acc[1]);
    acc[2] = fma(vec4<f32>(av.z), bv, acc[2]);
    acc[3] = fma(vec4<f32>(av.w), bv, acc[3]);
  }
  let base = gid.z * p.sc;
  for (var i = 0u; i < 4u; i++) {
    if (m0 + i < p.M) { store4(base, m0 + i, n0, acc[i]); }
  }
}
