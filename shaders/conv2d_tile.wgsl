// Shared machinery of the conv2d implicit GEMMs (conv2d.wgsl, conv2d_bwd_input.wgsl,
// conv2d_bwd_weight.wgsl): workgroup tiles, the register-tile multiply-accumulate, and the
// mapping from a flat workgroup id to (column tile, row tile, z).
//
// Each workgroup computes a TM x TN block of C = A·B (A: M x K, B: K x N), stepping through K
// TK at a time. Every step the workgroup cooperatively loads an A tile and a B tile into
// shared memory (the kernels' own loaders do the im2col indexing there: no im2col buffer),
// then each thread multiplies its 4x4 register tile: thread (tx, ty) owns rows ty*4..ty*4+3
// and columns tx*4..tx*4+3 of the block. WG = (TM/4)·(TN/4) threads.
//
// Tiles are stored k-major, As[kk][mm] and Bs[kk][nn], as vec4 rows so the inner loop reads
// one vec4 of A and one of B per k and does four vec4 multiply-adds (an outer product).
//
// Host-checked constraints (src/ops/conv2d_tiles.ts): TM, TN multiples of 16 with WG <= 256;
// the loaders additionally need WG % TM == 0, TK % (WG/TM) == 0, WG % TK == 0, TM % (WG/TK) == 0.

override TM: u32 = 64;
override TN: u32 = 64;
override TK: u32 = 16;
override WG: u32 = (TM / 4u) * (TN / 4u);

var<workgroup> As: array<vec4<f32>, TK * TM / 4u>;
var<workgroup> Bs: array<vec4<f32>, TK * TN / 4u>;

fn store_a(kk: u32, mm: u32, v: f32) {
  As[kk * (TM / 4u) + mm / 4u][mm % 4u] = v;
}

fn store_b(kk: u32, nn: u32, v: f32) {
  Bs[kk * (TN / 4u) + nn / 4u][nn % 4u] = v;
}

// acc[i][j] += sum_kk As[kk][ty*4+i] * Bs[kk][tx*4+j]; acc[i] is row i of the register tile.
fn tile_mma(tx: u32, ty: u32, acc_in: mat4x4<f32>) -> mat4x4<f32> {
  var acc = acc_in;
  for (var kk = 0u; kk < TK; kk++) {
    let a = As[kk * (TM / 4u) + ty];
    let b = Bs[kk * (TN / 4u) + tx];
    acc[0] += a.x * b;
    acc[1] += a.y * b;
    acc[2] += a.z * b;
    acc[3] += a.w * b;
  }
  return acc;
}

// Workgroups are numbered linearly over a grid folded to fit the per-dimension limit; the
// column tile varies fastest (neighbouring workgroups reuse the same A rows from cache).
// Returns (column tile, row tile, z); z >= the real z count means "spare workgroup".
fn tile_coords(wid: vec3<u32>, nwg: vec3<u32>, n_tiles: u32, m_tiles: u32) -> vec3<u32> {
  let lin = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  let q = lin / n_tiles;
  return vec3<u32>(lin % n_tiles, q % m_tiles, q / m_tiles);
}
