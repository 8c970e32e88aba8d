// Tiled, register-blocked (batched) matrix multiply with transpose flags and a fused epilogue.
//
//   c[z] = relu?( op(a[z]) . op(b[z]) + bias? )        op(X) = X, or X^T when its flag is set
//   a: [batch, M, K]  (ta = 1: [batch, K, M])
//   b: [batch, K, N]  (tb = 1: [batch, N, K])
//   bias: [N]         c: [batch, M, N]
//   sa, sb, sc: batch strides in elements (0 broadcasts one matrix over the batch)
//
// Algorithm: workgroup (x, y, z) computes the BM x BN tile of c[z] at rows y*BM, columns x*BN
// (BM = 4*WG_Y, BN = 4*WG_X); each thread owns a 4x4 block of it in four vec4 accumulators.
// K is walked in steps of BK: the workgroup stages an A tile and a B tile in workgroup memory,
// both k-major and packed as vec4 (As[k][i] = rows 4i..4i+3 of op(A) at column k, Bs[k][j] =
// columns 4j..4j+3 of op(B) at row k), so the inner loop does 2 vec4 loads per 16 FMAs.
// Transposes only change how the tiles are loaded (no transposed copies in memory).
//
// Global loads: a and b are bound as array<vec4<f32>>. When the contiguous dimension of a
// source is a multiple of 4 (va / vb = 1), each thread loads whole vec4s; otherwise it reads 4
// scalars with per-element bounds checks, so any shape works. Out-of-range elements read as 0,
// so partial tiles need no special case in the inner loop; stores are bounds-checked.

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override BK: u32 = 16;   // multiple of 4

struct Params {
  M: u32,
  N: u32,
  K: u32,
  sa: u32,
  sb: u32,
  sc: u32,
  ta: u32,
  tb: u32,
  va: u32,
  vb: u32,
  has_bias: u32,
  relu: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

var<workgroup> As: array<vec4<f32>, BK * WG_Y>;
var<workgroup> Bs: array<vec4<f32>, BK * WG_X>;

// 4 consecutive elements a[i..i+3]; element j exists when ok and col + j < lim.
fn load_a4(i: u32, col: u32, lim: u32, ok: bool, vec: bool) -> vec4<f32> {
  if (!ok || col >= lim) { return vec4<f32>(0.0); }
  if (vec) { return a[i >> 2u]; }
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (col + j < lim) { v[j] = a[(i + j) >> 2u][(i + j) & 3u]; }
  }
  return v;
}

fn load_b4(i: u32, col: u32, lim: u32, ok: bool, vec: bool) -> vec4<f32> {
  if (!ok || col >= lim) { return vec4<f32>(0.0); }
  if (vec) { return b[i >> 2u]; }
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (col + j < lim) { v[j] = b[(i + j) >> 2u][(i + j) & 3u]; }
  }
  return v;
}

// Stage op(A)[m0 .. m0+BM, k0 .. k0+BK] into As (k-major).
fn load_tile_a(base: u32, m0: u32, k0: u32, tid: u32) {
  let kq = BK / 4u;
  for (var s = tid; s < BK * WG_Y; s += WG_X * WG_Y) {
    if (p.ta == 0u) {
      // a is [M, K]: 4 consecutive k of one row, scattered into 4 rows of As
      let r = s / kq;
      let k = 4u * (s % kq);
      let v = load_a4(base + (m0 + r) * p.K + k0 + k, k0 + k, p.K, m0 + r < p.M, p.va == 1u);
      for (var j = 0u; j < 4u; j++) { As[(k + j) * WG_Y + r / 4u][r % 4u] = v[j]; }
    } else {
      // a is [K, M]: 4 consecutive m of one k, already in As's layout
      let k = s / WG_Y;
      let m = 4u * (s % WG_Y);
      As[s] = load_a4(base + (k0 + k) * p.M + m0 + m, m0 + m, p.M, k0 + k < p.K, p.va == 1u);
    }
  }
}

// Stage op(B)[k0 .. k0+BK, n0 .. n0+BN] into Bs (k-major).
fn load_tile_b(base: u32, n0: u32, k0: u32, tid: u32) {
  let kq = BK / 4u;
  for (var s = tid; s < BK * WG_X; s += WG_X * WG_Y) {
    if (p.tb == 0u) {
      // b is [K, N]: 4 consecutive n of one k
      let k = s / WG_X;
      let n = 4u * (s % WG_X);
      Bs[s] = load_b4(base + (k0 + k) * p.N + n0 + n, n0 + n, p.N, k0 + k < p.K, p.vb == 1u);
    } else {
      // b is [N, K]: 4 consecutive k of one column n
      let r = s / kq;
      let k = 4u * (s % kq);
      let v = load_b4(base + (n0 + r) * p.K + k0 + k, k0 + k, p.K, n0 + r < p.N, p.vb == 1u);
      for (var j = 0u; j < 4u; j++) { Bs[(k + j) * WG_X + r / 4u][r % 4u] = v[j]; }
    }
  }
}

fn store_row(base: u32, m: u32, n: u32, v: vec4<f32>) {
  if (m >= p.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (n + j < p.N) {
      var r = v[j];
      if (p.has_bias == 1u) { r += bias[n + j]; }
      if (p.relu == 1u) { r = max(r, 0.0); }
      c[base + m * p.N + n + j] = r;
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
          @builtin(local_invocation_index) tid: u32) {
  let m0 = wid.y * 4u * WG_Y;
  let n0 = wid.x * 4u * WG_X;
  let abase = wid.z * p.sa;
  let bbase = wid.z * p.sb;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    load_tile_a(abase, m0, k0, tid);
    load_tile_b(bbase, n0, k0, tid);
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      let av = As[k * WG_Y + lid.y];
      let bv = Bs[k * WG_X + lid.x];
      acc0 += av.x * bv;
      acc1 += av.y * bv;
      acc2 += av.z * bv;
      acc3 += av.w * bv;
    }
    workgroupBarrier();
  }
  let cbase = wid.z * p.sc;
  let m = m0 + 4u * lid.y;
  let n = n0 + 4u * lid.x;
  store_row(cbase, m, n, acc0);
  store_row(cbase, m + 1u, n, acc1);
  store_row(cbase, m + 2u, n, acc2);
  store_row(cbase, m + 3u, n, acc3);
}
