// Shared machinery of the conv2d implicit GEMMs (tiled_forward.wgsl, tiled_input_grad.wgsl,
// tiled_weight_grad.wgsl): workgroup tiles, the register-tile multiply-accumulate, the
// register-tile element accessor, and the flat-workgroup-id -> tile mapping.
//
// Each workgroup computes a TM x TN block of C = A·B (A: M x K, B: K x N), stepping through K
// TK at a time. Every step it loads an A tile and a B tile into shared memory (each kernel's
// own loaders do the im2col indexing there: no im2col buffer), then every thread accumulates
// an 8x8 register tile. WG = (TM/8)·(TN/8) threads; thread (tx, ty) = (lid % (TN/8),
// lid / (TN/8)) owns rows ty*8 + i and columns tx + j*(TN/8), i, j in 0..7.
//
// Why 8x8 per thread: each value read from shared memory feeds 8 multiply-adds. That halves
// shared-memory traffic per FMA against 4x4 on GPUs, and it is what matters most on a CPU
// implementation like SwiftShader, where every load with a computed index is emulated lane by
// lane (about as costly as 8 vector multiply-adds) while arithmetic runs 4 lanes wide.
// Columns are strided by TN/8 so that neighbouring threads read neighbouring Bs words and
// write neighbouring outputs (coalesced, no bank conflicts); As rows are padded to TK+1 words.
//
// Host-checked constraints: see src/ops/conv2d/tiled.ts.

override TM: u32 = 64;
override TN: u32 = 64;
override TK: u32 = 16;
override WG: u32 = (TM / 8u) * (TN / 8u);

var<workgroup> As: array<f32, TM * (TK + 1u)>; // As[mm][kk] at mm*(TK+1) + kk
var<workgroup> Bs: array<f32, TK * TN>;        // Bs[kk][nn] at kk*TN + nn

fn store_a(mm: u32, kk: u32, v: f32) {
  As[mm * (TK + 1u) + kk] = v;
}

fn store_b(kk: u32, nn: u32, v: f32) {
  Bs[kk * TN + nn] = v;
}

// Register tile: element (i, j) is acc[2i + j/4][j % 4].
alias RegTile = array<vec4<f32>, 16>;

fn tile_mma(tx: u32, ty: u32, acc: ptr<function, RegTile>) {
  let s = TK + 1u;
  let ar = ty * 8u * s;
  let q = TN / 8u;
  for (var kk = 0u; kk < TK; kk++) {
    let a = ar + kk;
    let a0 = vec4<f32>(As[a], As[a + s], As[a + 2u * s], As[a + 3u * s]);
    let a1 = vec4<f32>(As[a + 4u * s], As[a + 5u * s], As[a + 6u * s], As[a + 7u * s]);
    let b = kk * TN + tx;
    let b0 = vec4<f32>(Bs[b], Bs[b + q], Bs[b + 2u * q], Bs[b + 3u * q]);
    let b1 = vec4<f32>(Bs[b + 4u * q], Bs[b + 5u * q], Bs[b + 6u * q], Bs[b + 7u * q]);
    (*acc)[0] += a0.x * b0;  (*acc)[1] += a0.x * b1;
    (*acc)[2] += a0.y * b0;  (*acc)[3] += a0.y * b1;
    (*acc)[4] += a0.z * b0;  (*acc)[5] += a0.z * b1;
    (*acc)[6] += a0.w * b0;  (*acc)[7] += a0.w * b1;
    (*acc)[8] += a1.x * b0;  (*acc)[9] += a1.x * b1;
    (*acc)[10] += a1.y * b0; (*acc)[11] += a1.y * b1;
    (*acc)[12] += a1.z * b0; (*acc)[13] += a1.z * b1;
    (*acc)[14] += a1.w * b0; (*acc)[15] += a1.w * b1;
  }
}

fn tile_get(acc: ptr<function, RegTile>, i: u32, j: u32) -> f32 {
  return (*acc)[2u * i + j / 4u][j % 4u];
}

// Workgroups are numbered linearly over a grid folded to fit the per-dimension limit; the
// column tile varies fastest (neighbouring workgroups reuse the same A rows from cache).
// Returns (column tile, row tile, z); z >= the real z count means "spare workgroup".
fn tile_coords(wid: vec3<u32>, nwg: vec3<u32>, n_tiles: u32, m_tiles: u32) -> vec3<u32> {
  let lin = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  let q = lin / n_tiles;
  return vec3<u32>(lin % n_tiles, q % m_tiles, q / m_tiles);
}
