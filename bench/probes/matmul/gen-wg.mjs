// default gen: a workgroup of WG lanes covers R rows x WG columns of c. An A tile (R x KT) is
// staged in workgroup memory and read with CONSTANT indices (SwiftShader: one scalar load +
// broadcast per value); each lane gathers its own B[k][col]; acc: R/4 vec4 per lane, in registers.
// mode: '' (the kernel), 'noload' (no tile load, no barrier; wrong), 'noB' (no B loads; wrong),
// 'regA' (A from registers, not memory; wrong), 'flat' (1-D tile, not staged; wrong),
// 'scal' (the tile read per component).
export function bcast({ R = 24, KT = 32, WG = 64, mode = '' } = {}) {
  const NV = R / 4;
  const L = [];
  L.push(`struct Params { M: u32, N: u32, K: u32 }`);
  L.push(`@group(0) @binding(0) var<uniform> p: Params;`);
  L.push(`@group(0) @binding(1) var<storage, read> a: array<f32>;`);
  L.push(`@group(0) @binding(2) var<storage, read> b: array<f32>;`);
  L.push(`@group(0) @binding(3) var<storage, read_write> c: array<f32>;`);
  if (mode === 'flat') L.push(`var<workgroup> Af: array<vec4<f32>, ${NV * KT}>;`);
  L.push(`var<workgroup> As: array<array<vec4<f32>, ${NV}>, ${KT}>;`);
  L.push(`@compute @workgroup_size(${WG})`);
  L.push(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {`);
  L.push(`  let m0 = wid.y * ${R}u; let col = wid.x * ${WG}u + lid; let colc = min(col, p.N - 1u);`);
  for (let j = 0; j < NV; j++) L.push(`  var acc${j} = vec4<f32>(0.0);`);
  if (mode === 'regA') for (let i = 0; i < 8; i++) L.push(`  let ra${i} = vec4<f32>(f32(lid + ${i}u), 1.0, 2.0, 3.0);`);
  L.push(`  for (var kt = 0u; kt < p.K; kt += ${KT}u) {`);
  if (mode !== 'noload' && mode !== 'regA' && mode !== 'flat') {
  L.push(`    workgroupBarrier();`);
  // cooperative load: R*KT elements, element e -> k = e / R, r = e % R (As[k][r/4][r%4])
  L.push(`    for (var e = lid; e < ${R * KT}u; e += ${WG}u) {`);
  L.push(`      let k = e / ${R}u; let r = e % ${R}u; let gk = kt + k; let gr = min(m0 + r, p.M - 1u);`);
  L.push(`      As[k][r / 4u][r % 4u] = select(0.0, a[gr * p.K + min(gk, p.K - 1u)], gk < p.K);`);
  L.push(`    }`);
  L.push(`    workgroupBarrier();`);
  }
  L.push(`    let bb = kt * p.N + colc; let kl = p.K - kt;`);
  for (let k = 0; k < KT; k++) {
    if (mode === 'noB') L.push(`    { let bv = f32(bb + ${k}u);`);
    else L.push(`    { let bv = select(0.0, b[min(bb + ${k}u * p.N, arrayLength(&b) - 1u)], ${k}u < kl);`);
    for (let j = 0; j < NV; j++) L.push(mode === 'regA' ? `      acc${j} = fma(ra${(k*NV+j)%8}, vec4<f32>(bv), acc${j});` : mode === 'flat' ? `      acc${j} = fma(Af[${k*NV+j}], vec4<f32>(bv), acc${j});` : mode === 'scal' ? `      acc${j} = fma(vec4<f32>(As[${k}][${j}].x, As[${k}][${j}].y, As[${k}][${j}].z, As[${k}][${j}].w), vec4<f32>(bv), acc${j});` : `      acc${j} = fma(As[${k}][${j}], vec4<f32>(bv), acc${j});`);
    L.push(`    }`);
  }
  L.push(`  }`);
  L.push(`  if (col < p.N) {`);
  for (let j = 0; j < NV; j++) for (let q = 0; q < 4; q++) {
    const r = 4 * j + q;
    L.push(`    if (m0 + ${r}u < p.M) { c[(m0 + ${r}u) * p.N + col] = acc${j}[${q}]; }`);
  }
  L.push(`  }`);
  L.push(`}`);
  return { code: L.join('\n'), grid: (M, N) => [Math.ceil(N / WG), Math.ceil(M / R), 1] };
}
