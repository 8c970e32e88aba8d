// Shared part of the register-blocked matmul kernels WITHOUT workgroup memory
// (subgroup.wgsl, register.wgsl); included, not a kernel itself. Contract as
// matmul.wgsl:
//
//   c[z] = relu?( op(a[z]) . op(b[z]) + bias? )        op(X) = X, or X^T when its flag is set
//   a: [batch, M, K]  (TA: [batch, K, M])
//   b: [batch, K, N]  (TB: [batch, N, K])
//   bias: [N]         c: [batch, M, N]
//   sa, sb, sc: batch strides in elements (0 broadcasts one matrix over the batch)
//
// Each invocation owns a 16 x 8 block of c (rows m0 .. m0+15, columns n0 .. n0+7), held in 32
// vec4 accumulators (acc[2i], acc[2i+1] = row i, columns 0-3 and 4-7). K is walked 4 at a time.
// The loaders below fetch op(A) and op(B) k-major, so that the multiply-add code is the same
// for every transpose: A as 4 rows x 4 k (one vec4 of 4 rows per k), B as 4 k x 8 columns.
//
// Edges: loads are not bounds-checked along M and N (WebGPU keeps reads inside the buffer, and
// rows or columns past the edge only feed outputs that are never stored); stores are checked.
// The last, partial K step zeroes the k values past K in BOTH operands (kvalid < 4), so stale
// buffer contents (possibly NaN) never reach a stored output.
// All K steps, the partial last one included, run through one loop with kvalid = min(4, K - k),
// so the step's code is inlined once: a separate tail step doubled the code and the pipeline's
// compile time (subgroup32 on SwiftShader: 2.4 -> 1.4 s), for no GFLOP/s measurable there.
// Vector loads need the contiguous dimension of a source to be a multiple of 4 (VA / VB);
// otherwise 4 scalar loads. Transposes and alignment are override constants: each pipeline
// contains only its own load path (CPU implementations execute both sides of a branch on a
// run-time flag).

override WG_X: u32 = 8;     // multiple of 4 (the subgroup kernel's quads run along x)
override WG_Y: u32 = 8;
override TA: bool = false;  // a is stored transposed ([K, M])
override TB: bool = false;  // b is stored transposed ([N, K])
override VA: bool = true;   // a's contiguous dimension (TA ? M : K) is a multiple of 4
override VB: bool = true;   // b's contiguous dimension (TB ? K : N) is a multiple of 4

struct Params {
  M: u32,
  N: u32,
  K: u32,
  sa: u32,
  sb: u32,
  sc: u32,
  has_bias: u32,
  relu: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

// a[i .. i+3]: one vector load when aligned, else 4 scalar loads.
fn a4(i: u32) -> vec4<f32> {
  if (VA) { return a[i >> 2u]; }
  return vec4<f32>(a[i >> 2u][i & 3u], a[(i + 1u) >> 2u][(i + 1u) & 3u], a[(i + 2u) >> 2u][(i + 2u) & 3u], a[(i + 3u) >> 2u][(i + 3u) & 3u]);
}

fn b4(i: u32) -> vec4<f32> {
  if (VB) { return b[i >> 2u]; }
  return vec4<f32>(b[i >> 2u][i & 3u], b[(i + 1u) >> 2u][(i + 1u) & 3u], b[(i + 2u) >> 2u][(i + 2u) & 3u], b[(i + 3u) >> 2u][(i + 3u) & 3u]);
}

// h[j] = op(A)[r .. r+3, k+j] (0 where k+j >= K).
fn load_a(base: u32, r: u32, k: u32, kvalid: u32) -> array<vec4<f32>, 4> {
  var h: array<vec4<f32>, 4>;
  if (TA) {
    // a is [K, M]: rows r..r+3 are consecutive in each k-row
    h[0] = a4(base + k * p.M + r);
    h[1] = a4(base + (k + 1u) * p.M + r);
    h[2] = a4(base + (k + 2u) * p.M + r);
    h[3] = a4(base + (k + 3u) * p.M + r);
  } else {
    // a is [M, K]: k..k+3 are consecutive in each row; transpose in registers
    let r0 = a4(base + r * p.K + k);
    let r1 = a4(base + (r + 1u) * p.K + k);
    let r2 = a4(base + (r + 2u) * p.K + k);
    let r3 = a4(base + (r + 3u) * p.K + k);
    h[0] = vec4<f32>(r0.x, r1.x, r2.x, r3.x);
    h[1] = vec4<f32>(r0.y, r1.y, r2.y, r3.y);
    h[2] = vec4<f32>(r0.z, r1.z, r2.z, r3.z);
    h[3] = vec4<f32>(r0.w, r1.w, r2.w, r3.w);
  }
  h[1] = select(vec4<f32>(0.0), h[1], kvalid > 1u);
  h[2] = select(vec4<f32>(0.0), h[2], kvalid > 2u);
  h[3] = select(vec4<f32>(0.0), h[3], kvalid > 3u);
  return h;
}

// v[2j], v[2j+1] = op(B)[k+j, n0 .. n0+3], op(B)[k+j, n0+4 .. n0+7] (0 where k+j >= K).
fn load_b(base: u32, n0: u32, k: u32, kvalid: u32) -> array<vec4<f32>, 8> {
  var v: array<vec4<f32>, 8>;
  if (TB) {
    // b is [N, K]: k..k+3 are consecutive for each column; transpose in registers
    let c0 = b4(base + n0 * p.K + k);
    let c1 = b4(base + (n0 + 1u) * p.K + k);
    let c2 = b4(base + (n0 + 2u) * p.K + k);
    let c3 = b4(base + (n0 + 3u) * p.K + k);
    let c4 = b4(base + (n0 + 4u) * p.K + k);
    let c5 = b4(base + (n0 + 5u) * p.K + k);
    let c6 = b4(base + (n0 + 6u) * p.K + k);
    let c7 = b4(base + (n0 + 7u) * p.K + k);
    v[0] = vec4<f32>(c0.x, c1.x, c2.x, c3.x);
    v[1] = vec4<f32>(c4.x, c5.x, c6.x, c7.x);
    v[2] = vec4<f32>(c0.y, c1.y, c2.y, c3.y);
    v[3] = vec4<f32>(c4.y, c5.y, c6.y, c7.y);
    v[4] = vec4<f32>(c0.z, c1.z, c2.z, c3.z);
    v[5] = vec4<f32>(c4.z, c5.z, c6.z, c7.z);
    v[6] = vec4<f32>(c0.w, c1.w, c2.w, c3.w);
    v[7] = vec4<f32>(c4.w, c5.w, c6.w, c7.w);
  } else {
    // b is [K, N]: columns n0..n0+7 are consecutive in each k-row
    // (unrolled by hand: a dynamically indexed private array would live in memory)
    v[0] = b4(base + k * p.N + n0);
    v[1] = b4(base + k * p.N + n0 + 4u);
    v[2] = b4(base + (k + 1u) * p.N + n0);
    v[3] = b4(base + (k + 1u) * p.N + n0 + 4u);
    v[4] = b4(base + (k + 2u) * p.N + n0);
    v[5] = b4(base + (k + 2u) * p.N + n0 + 4u);
    v[6] = b4(base + (k + 3u) * p.N + n0);
    v[7] = b4(base + (k + 3u) * p.N + n0 + 4u);
  }
  v[2] = select(vec4<f32>(0.0), v[2], kvalid > 1u);
  v[3] = select(vec4<f32>(0.0), v[3], kvalid > 1u);
  v[4] = select(vec4<f32>(0.0), v[4], kvalid > 2u);
  v[5] = select(vec4<f32>(0.0), v[5], kvalid > 2u);
  v[6] = select(vec4<f32>(0.0), v[6], kvalid > 3u);
  v[7] = select(vec4<f32>(0.0), v[7], kvalid > 3u);
  return v;
}

// Row i of the block += s * [bl, br]. (Called with constant i only: after inlining, the
// accumulators are addressed statically and stay out of per-lane gathers.)
fn row(acc: ptr<function, array<vec4<f32>, 32>>, i: u32, s: f32, bl: vec4<f32>, br: vec4<f32>) {
  (*acc)[2u * i] = fma(vec4<f32>(s), bl, (*acc)[2u * i]);
  (*acc)[2u * i + 1u] = fma(vec4<f32>(s), br, (*acc)[2u * i + 1u]);
}

// One k for the whole block: s0 .. s3 = op(A) rows 0-3, 4-7, 8-11, 12-15 of the block at this k;
// bl, br = op(B) columns 0-3, 4-7 at this k.
fn mac(acc: ptr<function, array<vec4<f32>, 32>>, s0: vec4<f32>, s1: vec4<f32>, s2: vec4<f32>, s3: vec4<f32>, bl: vec4<f32>, br: vec4<f32>) {
  row(acc, 0u, s0.x, bl, br);
  row(acc, 1u, s0.y, bl, br);
  row(acc, 2u, s0.z, bl, br);
  row(acc, 3u, s0.w, bl, br);
  row(acc, 4u, s1.x, bl, br);
  row(acc, 5u, s1.y, bl, br);
  row(acc, 6u, s1.z, bl, br);
  row(acc, 7u, s1.w, bl, br);
  row(acc, 8u, s2.x, bl, br);
  row(acc, 9u, s2.y, bl, br);
  row(acc, 10u, s2.z, bl, br);
  row(acc, 11u, s2.w, bl, br);
  row(acc, 12u, s3.x, bl, br);
  row(acc, 13u, s3.y, bl, br);
  row(acc, 14u, s3.z, bl, br);
  row(acc, 15u, s3.w, bl, br);
}

//!include "matmul/epilogue.wgsl"

// Write the block with the epilogue (bias, ReLU; rows past M skipped by store8). A loop, so its
// body is compiled once; it indexes a copy of the accumulators, so that acc itself keeps the
// constant indices of row() everywhere.
fn store_block(acc: ptr<function, array<vec4<f32>, 32>>, base: u32, m0: u32, n0: u32) {
  let cs = cols(n0);
  let v = *acc;
  for (var i = 0u; i < 16u; i++) {
    store8(base, m0 + i, n0, cs, v[2u * i], v[2u * i + 1u]);
  }
}
