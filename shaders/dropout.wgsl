// Inverted dropout with a counter-based generator: element i of the k-th training forward of a
// layer is kept iff u(seed, k, i) >= rate, where u is a 24-bit uniform from a PCG hash of
// (seed, k, i). Kept elements are scaled by 1 / (1 - rate) so evaluation is the identity.
// The seed and the counter k live in a small GPU buffer `state = [seed, k]` that `advance`
// increments after each forward: a captured training step replays with fresh masks and no
// host write. The mask (0 or 1/(1-rate)) is saved for backward: dx = dy * mask.
// x, y, mask, dy, dx: [n]   state: [2] u32

//!include "common.wgsl"

override WG: u32 = 256;

struct Params {
  n: u32,
  rate: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> state: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> counter: array<u32>;
@group(0) @binding(6) var<storage, read> mask_in: array<f32>;

// PCG-RXS-M-XS 32-bit output function (O'Neill), used as an integer hash.
fn pcg_hash(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.n) { return; }
  let h = pcg_hash(pcg_hash(pcg_hash(state[0]) ^ state[1]) ^ i);
  let u = f32(h >> 8u) / 16777216.0;
  let m = select(0.0, 1.0 / (1.0 - p.rate), u >= p.rate);
  mask[i] = m;
  y[i] = x[i] * m;
}

// y = x * mask (backward: x is dy, y is dx).
@compute @workgroup_size(WG)
fn apply_mask(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.n) { return; }
  y[i] = x[i] * mask_in[i];
}

// One thread: the next forward draws a fresh mask.
@compute @workgroup_size(1)
fn advance() {
  counter[1] = counter[1] + 1u;
}
