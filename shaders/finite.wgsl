// Finiteness flags of a training step: is the loss, is each gradient free of NaN and ±Inf?
// Recorded by the step itself (src/ops/finite.ts, src/train/step.ts), so a captured step
// replays it, and read back with the loss in one small copy: no extra submit or readback.
//
//   status: [words = 2 + P] u32   [0] the loss's (first value's) f32 bits
//                                 [1] 1 if the loss holds a NaN/±Inf (0 otherwise)
//                                 [2 + i] 1 if gradient i holds a NaN/±Inf (0 otherwise)
//   x: the loss (finite_begin) or one gradient (finite_check), n f32 values read as u32 bits:
//      a float comparison could be folded away by a compiler that assumes no NaN.
//
// finite_begin runs first, in one workgroup: it rewrites every word, then (after a storage
// barrier, so its zeros cannot land after a flag) checks the loss, so the flags of a replayed
// step never carry over from the step before. finite_check is one thread per 4 values (a vec4
// load: pooled buffers are whole multiples of 256 bytes, src/runtime/pool.ts); lanes past n
// are ignored, since the pool's slack past a tensor may hold anything. A thread that finds a
// non-finite value stores 1 (atomically: several threads may); a finite gradient costs its
// loads and no store.

//!include "common.wgsl"

override WG: u32 = 256;

struct Params {
  n: u32,      // values in x
  slot: u32,   // finite_check: the word of status to flag
  words: u32,  // finite_begin: words in status (2 + P)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> status: array<atomic<u32>>;

// Does vec4 i of x hold a NaN/±Inf (exponent all ones) among its values below n?
fn nonfinite4(i: u32) -> bool {
  let bad = (x[i] & vec4<u32>(0x7f800000u)) == vec4<u32>(0x7f800000u);
  let inside = vec4<u32>(4u * i) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(p.n);
  return any(bad & inside);
}

@compute @workgroup_size(WG)
fn finite_begin(@builtin(local_invocation_index) lid: u32) {
  for (var k = lid + 1u; k < p.words; k += WG) { atomicStore(&status[k], 0u); }
  if (lid == 0u) { atomicStore(&status[0], x[0].x); }
  storageBarrier();
  for (var i = lid; 4u * i < p.n; i += WG) {
    if (nonfinite4(i)) { atomicStore(&status[1], 1u); }
  }
}

@compute @workgroup_size(WG)
fn finite_check(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WG);
  if (4u * i < p.n && nonfinite4(i)) { atomicStore(&status[p.slot], 1u); }
}
