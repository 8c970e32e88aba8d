// gen 'at': SwiftShader serves ATOMIC loads through a run-time check (plain loads with computed
// indices are always per-lane gathers): when all 4 lanes of a SIMD group read the same address
// it does one scalar load + broadcast, when they read consecutive addresses one vector load.
// Lane l of a group of 4 consecutive x owns columns nq + 4c + l (c < CB): B loads are
// consecutive across lanes, A loads identical. plain: the same kernel with ordinary loads.
// (Needs read_write bindings for a and b: WGSL atomics cannot be read-only.)
export function atomicMM({ RB = 16, CB = 8, KS = 4, WX = 8, WY = 8, plain = false } = {}) {
  const L = [];
  const ty = plain ? 'f32' : 'atomic<u32>';
  const ld = (arr, idx) => plain ? `${arr}[${idx}]` : `bitcast<f32>(atomicLoad(&${arr}[${idx}]))`;
  L.push(`struct Params { M: u32, N: u32, K: u32 }`);
  L.push(`@group(0) @binding(0) var<uniform> p: Params;`);
  L.push(`@group(0) @binding(1) var<storage, ${plain ? 'read' : 'read_write'}> a: array<${ty}>;`);
  L.push(`@group(0) @binding(2) var<storage, ${plain ? 'read' : 'read_write'}> b: array<${ty}>;`);
  L.push(`@group(0) @binding(3) var<storage, read_write> c: array<f32>;`);
  L.push(`@compute @workgroup_size(${WX}, ${WY})`);
  L.push(`fn main(@builtin(global_invocation_id) gid: vec3<u32>) {`);
  L.push(`  let m0 = ${RB}u * gid.y; let nl = ${4 * CB}u * (gid.x >> 2u) + (gid.x & 3u);`);
  L.push(`  var acc: array<f32, ${RB * CB}>;`);
  L.push(`  for (var k = 0u; k < p.K; k += ${KS}u) {`);
  for (let j = 0; j < KS; j++) {
    for (let cc = 0; cc < CB; cc++) L.push(`    let b${j}_${cc} = ${ld('b', `(k + ${j}u) * p.N + nl + ${4 * cc}u`)};`);
    for (let r = 0; r < RB; r++) {
      L.push(`    { let av = ${ld('a', `(m0 + ${r}u) * p.K + k + ${j}u`)};`);
      for (let cc = 0; cc < CB; cc++) L.push(`      acc[${r * CB + cc}] = fma(av, b${j}_${cc}, acc[${r * CB + cc}]);`);
      L.push(`    }`);
    }
  }
  L.push(`  }`);
  for (let r = 0; r < RB; r++) for (let cc = 0; cc < CB; cc++)
    L.push(`  c[(m0 + ${r}u) * p.N + nl + ${4 * cc}u] = acc[${r * CB + cc}];`);
  L.push(`}`);
  return { code: L.join('\n'), grid: (M, N) => [Math.ceil(N / CB / WX), Math.ceil(M / RB / WY), 1], rw: !plain };
}
