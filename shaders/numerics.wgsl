// NaN/Inf check mode: counts the non-finite values of one buffer into counts[slot].
// Dispatched right after the op that wrote the buffer, so the count reflects that op alone.
// x: [n] (f32 bits read as u32, so NaN payloads are not canonicalised)   counts: [slots]

//!include "common.wgsl"

override WG: u32 = 256;

struct Params {
  n: u32,
  slot: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn count_nonfinite(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (i >= p.n) { return; }
  // exponent all ones = Inf or NaN
  if ((x[i] & 0x7f800000u) == 0x7f800000u) { atomicAdd(&counts[p.slot], 1u); }
}
