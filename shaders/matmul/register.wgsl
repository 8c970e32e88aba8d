// Matmul without workgroup memory and without subgroups: each invocation loads everything its
// 16 x 8 block needs. Contract, block layout and edge handling: matmul/block.wgsl.
//
//   a: [batch, M, K] (TA: [batch, K, M])  b: [batch, K, N] (TB: [batch, N, K])
//   bias: [N]  c: [batch, M, N] = relu?(op(a) . op(b) + bias?)
//
// Algorithm: invocation (x, y) of the grid owns the 16 x 8 block of c at rows 16y, columns 8x;
// per K step of 4 it loads op(A) rows 16y .. 16y+15 (16 vec4 loads) and op(B) (8 vec4 loads)
// for 512 multiply-adds. The fallback of matmul/subgroup.wgsl where the 'subgroups' feature is
// missing: twice the A loads, still no barrier. On CPU implementations (SwiftShader) it beats
// the shared-memory kernel (matmul.wgsl), whose barriers and workgroup-memory gathers cost more
// than the extra loads; on GPUs the autotuner decides.

//!include "matmul/block.wgsl"

fn step(acc: ptr<function, array<vec4<f32>, 32>>, abase: u32, bbase: u32, m0: u32, n0: u32, k: u32, kvalid: u32) {
  let h0 = load_a(abase, m0, k, kvalid);
  let h1 = load_a(abase, m0 + 4u, k, kvalid);
  let h2 = load_a(abase, m0 + 8u, k, kvalid);
  let h3 = load_a(abase, m0 + 12u, k, kvalid);
  let v = load_b(bbase, n0, k, kvalid);
  mac(acc, h0[0], h1[0], h2[0], h3[0], v[0], v[1]);
  mac(acc, h0[1], h1[1], h2[1], h3[1], v[2], v[3]);
  mac(acc, h0[2], h1[2], h2[2], h3[2], v[4], v[5]);
  mac(acc, h0[3], h1[3], h2[3], h3[3], v[6], v[7]);
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_register(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m0 = 16u * gid.y;
  let n0 = 8u * gid.x;
  let abase = gid.z * p.sa;
  let bbase = gid.z * p.sb;
  var acc: array<vec4<f32>, 32>;
  // every K step, the partial last one too (block.wgsl, "Edges")
  for (var k = 0u; k < p.K; k += 4u) {
    step(&acc, abase, bbase, m0, n0, k, min(4u, p.K - k));
  }
  store_block(&acc, gid.z * p.sc, m0, n0);
}
