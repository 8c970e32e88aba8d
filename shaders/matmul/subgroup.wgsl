// Matmul without workgroup memory: the 4 invocations of a quad share their A values through
// quadBroadcast. Contract, block layout and edge handling: matmul/block.wgsl.
//
//   a: [batch, M, K] (TA: [batch, K, M])  b: [batch, K, N] (TB: [batch, N, K])
//   bias: [N]  c: [batch, M, N] = relu?(op(a) . op(b) + bias?)
//
// Algorithm: invocation (x, y) of the grid owns the 16 x 8 block of c at rows 16y, columns 8x.
// The 4 invocations of a quad (consecutive in x) have the same 16 rows. Per K step of 4, quad
// lane q loads only rows 4q .. 4q+3 of those 16 (4 vec4 loads) plus its own 4 x 8 slice of
// op(B) (8 vec4 loads); quadBroadcast then gives every lane all 16 rows, for 512 multiply-adds
// per lane. A is thus read once per quad instead of once per lane, without workgroup memory or
// barriers.
//
// Why: on CPU implementations (SwiftShader, 4-lane subgroups) every load with a computed index
// is a per-lane gather costing about 10 cycles per element, and a barrier turns each 4-lane
// group into a coroutine; here a step does 48 element loads per lane for 512 multiply-adds and
// there is no barrier (measurements in scripts/matmul-gflops.ts).
//
// Assumes that a quad is 4 invocations with consecutive local_invocation_index, which holds on
// SwiftShader, NVIDIA, AMD, Intel and Apple for WG_X a multiple of 4 (WGSL does not promise
// it): the tests check it on the machine they run on, and the autotuner validates every
// kernel against another before timing it. Needs the 'subgroups' feature; quadBroadcast's
// lane index must be a constant, hence the unrolled calls.

enable subgroups;

//!include "matmul/block.wgsl"

// One K step (4 k) of a 16-row block: h = this lane's 4 rows of it (load_a), v = op(B) (load_b);
// quadBroadcast gives every lane all 16 rows.
fn mac_quad(acc: ptr<function, array<vec4<f32>, 32>>, h: array<vec4<f32>, 4>, v: array<vec4<f32>, 8>) {
  mac(acc, quadBroadcast(h[0], 0u), quadBroadcast(h[0], 1u), quadBroadcast(h[0], 2u), quadBroadcast(h[0], 3u), v[0], v[1]);
  mac(acc, quadBroadcast(h[1], 0u), quadBroadcast(h[1], 1u), quadBroadcast(h[1], 2u), quadBroadcast(h[1], 3u), v[2], v[3]);
  mac(acc, quadBroadcast(h[2], 0u), quadBroadcast(h[2], 1u), quadBroadcast(h[2], 2u), quadBroadcast(h[2], 3u), v[4], v[5]);
  mac(acc, quadBroadcast(h[3], 0u), quadBroadcast(h[3], 1u), quadBroadcast(h[3], 2u), quadBroadcast(h[3], 3u), v[6], v[7]);
}

fn step(acc: ptr<function, array<vec4<f32>, 32>>, abase: u32, bbase: u32, r: u32, n0: u32, k: u32, kvalid: u32) {
  mac_quad(acc, load_a(abase, r, k, kvalid), load_b(bbase, n0, k, kvalid));
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_subgroup(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let m0 = 16u * gid.y;
  let n0 = 8u * gid.x;
  let r = m0 + 4u * (lane & 3u);
  let abase = gid.z * p.sa;
  let bbase = gid.z * p.sb;
  var acc: array<vec4<f32>, 32>;
  // no early exit for out-of-range invocations: every lane of a quad takes part in the broadcasts
  // every K step, the partial last one too (block.wgsl, "Edges")
  for (var k = 0u; k < p.K; k += 4u) {
    step(&acc, abase, bbase, r, n0, k, min(4u, p.K - k));
  }
  store_block(&acc, gid.z * p.sc, m0, n0);
}

// The same with 32 rows per invocation (two 16-row halves sharing each B load): per K step of
// 4 a lane loads 8 vec4 of A and 8 of B for 1024 multiply-adds, half the loads per multiply-add
// of matmul_subgroup (measured faster on CPU implementations, where loads dominate).
fn step32(acc: ptr<function, array<vec4<f32>, 32>>, acc2: ptr<function, array<vec4<f32>, 32>>, abase: u32, bbase: u32, r: u32, n0: u32, k: u32, kvalid: u32) {
  let v = load_b(bbase, n0, k, kvalid);
  mac_quad(acc, load_a(abase, r, k, kvalid), v);         // rows r .. r+3 (first half)
  mac_quad(acc2, load_a(abase, r + 16u, k, kvalid), v);  // rows r+16 .. r+19 (second half)
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_subgroup32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let m0 = 32u * gid.y;
  let n0 = 8u * gid.x;
  let r = m0 + 4u * (lane & 3u);
  let abase = gid.z * p.sa;
  let bbase = gid.z * p.sb;
  var acc: array<vec4<f32>, 32>;
  var acc2: array<vec4<f32>, 32>;
  // every K step, the partial last one too (block.wgsl, "Edges")
  for (var k = 0u; k < p.K; k += 4u) {
    step32(&acc, &acc2, abase, bbase, r, n0, k, min(4u, p.K - k));
  }
  store_block(&acc, gid.z * p.sc, m0, n0);
  store_block(&acc2, gid.z * p.sc, m0 + 16u, n0);
}
