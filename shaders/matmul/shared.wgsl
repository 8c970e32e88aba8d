// Tiled, register-blocked (batched) matrix multiply with transpose flags and a fused epilogue.
//
//   c[z] = relu?( op(a[z]) . op(b[z]) + bias? )        op(X) = X, or X^T when its flag is set
//   a: [batch, M, K]  (TA: [batch, K, M])
//   b: [batch, K, N]  (TB: [batch, N, K])
//   bias: [N]         c: [batch, M, N]
//   sa, sb, sc: batch strides in elements (0 broadcasts one matrix over the batch)
//
// Algorithm: workgroup (x, y, z) computes the BM x BN tile of c[z] at rows y*BM, columns x*BN,
// with BM = 8*WG_Y and BN = 8*WG_X; each thread owns an 8x8 block of it, held in 16 vec4
// accumulators (rows 8*ty.., columns 8*tx..). K is walked in steps of BK: the workgroup stages
// an A tile and a B tile in workgroup memory, both k-major and packed as vec4
// (As[k][i] = rows 4i..4i+3 of op(A) at column k; Bs[k][j] = columns 4j..4j+3 of op(B) at
// row k), so per k a thread does 4 vec4 loads for 64 multiply-adds. Transposes only change how
// the tiles are loaded (no transposed copies in memory); they are override constants, so each
// pipeline contains only its own load path (CPU implementations execute both sides of a
// branch under a lane mask, which made run-time flags cost ~25% there).
//
// Global loads: a and b are bound as array<vec4<f32>>. When the contiguous dimension of a
// source is a multiple of 4 (va / vb = 1) threads load whole vec4s; otherwise 4 scalars with
// per-element bounds checks, so any shape works. Out-of-range elements read as 0, so partial
// tiles need no special case in the inner loop; stores are bounds-checked.
// On CPU implementations (SwiftShader) every workgroup-memory or storage access with a computed
// index is a per-lane gather costing tens of cycles: the 8x8 blocking keeps gathers per
// multiply-add low (numbers in scripts/matmul-gflops.ts).

override WG_X: u32 = 8;
override WG_Y: u32 = 8;
override BK: u32 = 16;   // multiple of 4
override TA: bool = false;  // a is stored transposed ([K, M])
override TB: bool = false;  // b is stored transposed ([N, K])

struct Params {
  M: u32,
  N: u32,
  K: u32,
  sa: u32,
  sb: u32,
  sc: u32,
  va: u32,   // a's contiguous dimension is a multiple of 4: vec4 loads
  vb: u32,
  has_bias: u32,
  relu: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

var<workgroup> As: array<vec4<f32>, BK * 2u * WG_Y>;
var<workgroup> Bs: array<vec4<f32>, BK * 2u * WG_X>;

// Element i of a (0 when !ok; the clamped read of an out-of-range index is discarded).
fn a_el(i: u32, ok: bool) -> f32 { return select(0.0, a[i >> 2u][i & 3u], ok); }
fn b_el(i: u32, ok: bool) -> f32 { return select(0.0, b[i >> 2u][i & 3u], ok); }

// a[i .. i+3]: element j exists when ok and col + j < lim; one vec4 load when aligned (vec).
fn load_a4(i: u32, col: u32, lim: u32, ok: bool, vec: bool) -> vec4<f32> {
  if (!ok || col >= lim) { return vec4<f32>(0.0); }
  if (vec) { return a[i >> 2u]; }
  return vec4<f32>(a_el(i, true), a_el(i + 1u, col + 1u < lim), a_el(i + 2u, col + 2u < lim), a_el(i + 3u, col + 3u < lim));
}

fn load_b4(i: u32, col: u32, lim: u32, ok: bool, vec: bool) -> vec4<f32> {
  if (!ok || col >= lim) { return vec4<f32>(0.0); }
  if (vec) { return b[i >> 2u]; }
  return vec4<f32>(b_el(i, true), b_el(i + 1u, col + 1u < lim), b_el(i + 2u, col + 2u < lim), b_el(i + 3u, col + 3u < lim));
}

// Stage op(A)[m0 .. m0+BM, k0 .. k0+BK] into As (k-major).
fn load_tile_a(base: u32, m0: u32, k0: u32, tid: u32, trans: bool, vec: bool) {
  let BM = 8u * WG_Y;
  for (var s = tid; s < BK * 2u * WG_Y; s += WG_X * WG_Y) {
    if (!trans) {
      // a is [M, K]: 4 consecutive k of row r, scattered into 4 k-rows of As
      let r = s / (BK / 4u);
      let k = 4u * (s % (BK / 4u));
      let v = load_a4(base + (m0 + r) * p.K + k0 + k, k0 + k, p.K, m0 + r < p.M, vec);
      let q = k * (BM / 4u) + r / 4u;
      let e = r % 4u;
      As[q][e] = v.x;
      As[q + BM / 4u][e] = v.y;
      As[q + BM / 2u][e] = v.z;
      As[q + 3u * BM / 4u][e] = v.w;
    } else {
      // a is [K, M]: 4 consecutive m at one k, already in As's layout
      let k = s / (BM / 4u);
      let m = 4u * (s % (BM / 4u));
      As[s] = load_a4(base + (k0 + k) * p.M + m0 + m, m0 + m, p.M, k0 + k < p.K, vec);
    }
  }
}

// Stage op(B)[k0 .. k0+BK, n0 .. n0+BN] into Bs (k-major).
fn load_tile_b(base: u32, n0: u32, k0: u32, tid: u32, trans: bool, vec: bool) {
  let BN = 8u * WG_X;
  for (var s = tid; s < BK * 2u * WG_X; s += WG_X * WG_Y) {
    if (!trans) {
      // b is [K, N]: 4 consecutive n at one k
      let k = s / (BN / 4u);
      let n = 4u * (s % (BN / 4u));
      Bs[s] = load_b4(base + (k0 + k) * p.N + n0 + n, n0 + n, p.N, k0 + k < p.K, vec);
    } else {
      // b is [N, K]: 4 consecutive k of column r
      let r = s / (BK / 4u);
      let k = 4u * (s % (BK / 4u));
      let v = load_b4(base + (n0 + r) * p.K + k0 + k, k0 + k, p.K, n0 + r < p.N, vec);
      let q = k * (BN / 4u) + r / 4u;
      let e = r % 4u;
      Bs[q][e] = v.x;
      Bs[q + BN / 4u][e] = v.y;
      Bs[q + BN / 2u][e] = v.z;
      Bs[q + 3u * BN / 4u][e] = v.w;
    }
  }
}

//!include "matmul/epilogue.wgsl"

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
          @builtin(local_invocation_index) tid: u32) {
  let m0 = wid.y * 8u * WG_Y;
  let n0 = wid.x * 8u * WG_X;
  let abase = wid.z * p.sa;
  let bbase = wid.z * p.sb;
  var c0l = vec4<f32>(0.0);
  var c0r = vec4<f32>(0.0);
  var c1l = vec4<f32>(0.0);
  var c1r = vec4<f32>(0.0);
  var c2l = vec4<f32>(0.0);
  var c2r = vec4<f32>(0.0);
  var c3l = vec4<f32>(0.0);
  var c3r = vec4<f32>(0.0);
  var c4l = vec4<f32>(0.0);
  var c4r = vec4<f32>(0.0);
  var c5l = vec4<f32>(0.0);
  var c5r = vec4<f32>(0.0);
  var c6l = vec4<f32>(0.0);
  var c6r = vec4<f32>(0.0);
  var c7l = vec4<f32>(0.0);
  var c7r = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // (the flags are passed down so that reflection sees the entry point use them)
    load_tile_a(abase, m0, k0, tid, TA, p.va == 1u);
    load_tile_b(bbase, n0, k0, tid, TB, p.vb == 1u);
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      let a0 = As[k * 2u * WG_Y + 2u * lid.y];
      let a1 = As[k * 2u * WG_Y + 2u * lid.y + 1u];
      let b0 = Bs[k * 2u * WG_X + 2u * lid.x];
      let b1 = Bs[k * 2u * WG_X + 2u * lid.x + 1u];
      c0l += a0.x * b0;  c0r += a0.x * b1;
      c1l += a0.y * b0;  c1r += a0.y * b1;
      c2l += a0.z * b0;  c2r += a0.z * b1;
      c3l += a0.w * b0;  c3r += a0.w * b1;
      c4l += a1.x * b0;  c4r += a1.x * b1;
      c5l += a1.y * b0;  c5r += a1.y * b1;
      c6l += a1.z * b0;  c6r += a1.z * b1;
      c7l += a1.w * b0;  c7r += a1.w * b1;
    }
    workgroupBarrier();
  }
  let cbase = wid.z * p.sc;
  let m = m0 + 8u * lid.y;
  let n = n0 + 8u * lid.x;
  let cs = cols(n);
  store8(cbase, m + 0u, n, cs, c0l, c0r);
  store8(cbase, m + 1u, n, cs, c1l, c1r);
  store8(cbase, m + 2u, n, cs, c2l, c2r);
  store8(cbase, m + 3u, n, cs, c3l, c3r);
  store8(cbase, m + 4u, n, cs, c4l, c4r);
  store8(cbase, m + 5u, n, cs, c5l, c5r);
  store8(cbase, m + 6u, n, cs, c6l, c6r);
  store8(cbase, m + 7u, n, cs, c7l, c7r);
}
