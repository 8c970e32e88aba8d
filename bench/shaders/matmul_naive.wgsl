// Naive (batched) matrix multiply: one thread per output element, K loop straight from global
// memory, no tiling, no reuse. Kept as the baseline of the matmul benchmark and as a second,
// independent GPU implementation in tests; the kernels of shaders/matmul/ are what ops use.
// Same contract as shaders/matmul/shared.wgsl:
//   c[z] = relu?( op(a[z]) . op(b[z]) + bias? )
//   a: [batch, M, K] (ta: [batch, K, M])  b: [batch, K, N] (tb: [batch, N, K])
//   bias: [N]  c: [batch, M, N]

override WG_X: u32 = 16;
override WG_Y: u32 = 16;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  sa: u32,
  sb: u32,
  sc: u32,
  ta: u32,
  tb: u32,
  has_bias: u32,
  relu: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_naive(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  let m = gid.y;
  if (m >= p.M || n >= p.N) { return; }
  // element (m, k) of op(A) is at ia + k * dak; (k, n) of op(B) at ib + k * dbk
  let ia = gid.z * p.sa + select(m * p.K, m, p.ta == 1u);
  let dak = select(1u, p.M, p.ta == 1u);
  let ib = gid.z * p.sb + select(n, n * p.K, p.tb == 1u);
  let dbk = select(p.N, 1u, p.tb == 1u);
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) {
    acc += a[ia + k * dak] * b[ib + k * dbk];
  }
  if (p.has_bias == 1u) { acc += bias[n]; }
  if (p.relu == 1u) { acc = max(acc, 0.0); }
  c[gid.z * p.sc + m * p.N + n] = acc;
}
