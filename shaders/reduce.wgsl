// Deterministic sum over a set of axes, in chunks (the host chains stages, see src/ops/reduce.ts).
//
// The host splits x's dimensions into KEPT ones (they index the output, up to 4 after
// coalescing: kshape/kstride) and REDUCED ones (up to 4: rshape/rstride, R elements in all).
// Thread g = chunk * O + o sums the reduced elements [chunk*L, min(R, chunk*L + L)) of output
// o in a fixed order, and writes alpha * sum to y[g]. With one chunk that is the final answer;
// with several, y is a [chunks, O] partial-sum array that the next stage reduces over axis 0.
// No atomics: the summation order depends only on the shapes, so results are reproducible.
//
// Memory order: o is the fastest-varying thread index, so neighbouring threads read
// neighbouring kept elements (a [rows, C] bias gradient reads rows coalesced).
//   x: [kept x reduced, any interleaving]   y: [chunks, O]

//!include "common.wgsl"

override WG: u32 = 256;

struct Params {
  O: u32,
  R: u32,
  L: u32,
  total: u32,
  krank: u32,
  rrank: u32,
  alpha: f32,
  kshape: vec4<u32>,
  kstride: vec4<u32>,
  rshape: vec4<u32>,
  rstride: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn sum_chunks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let g = flat_index(wid, nwg, lid, WG);
  if (g >= p.total) { return; }
  let o = g % p.O;
  let chunk = g / p.O;
  // Offset of output o's first element.
  var rem = o;
  var base = 0u;
  for (var k = 0u; k < p.krank; k++) {
    let d = p.krank - 1u - k;
    base += (rem % p.kshape[d]) * p.kstride[d];
    rem = rem / p.kshape[d];
  }
  let r0 = chunk * p.L;
  let r1 = min(p.R, r0 + p.L);
  // The innermost reduced dimension is walked with its stride; the outer ones are decomposed
  // once per run along it (usually rrank == 1 and there is a single run).
  let inner = p.rshape[p.rrank - 1u];
  let istride = p.rstride[p.rrank - 1u];
  var acc = 0.0;
  var r = r0;
  while (r < r1) {
    var q = r / inner;
    let j = r % inner;
    var off = base;
    for (var k = 1u; k < p.rrank; k++) {
      let d = p.rrank - 1u - k;
      off += (q % p.rshape[d]) * p.rstride[d];
      q = q / p.rshape[d];
    }
    let run = min(r1 - r, inner - j);
    for (var t = 0u; t < run; t++) {
      acc += x[off + (j + t) * istride];
    }
    r += run;
  }
  y[g] = p.alpha * acc;
}
