// gen 'sg': the structure of matmul_subgroup32 (a thread owns RB rows x CB columns; the 4 lanes of a
// quad own the same rows, each loads RB/4 of them and shares them), generated flat so parts can
// be switched off. Aligned shapes only. Options:
//   RB, CB      block per thread (RB multiple of 4, CB multiple of 4); WX, WY workgroup
//   KS          k per loop step (multiple of 4)
//   order       'k': all multiply-adds of one k, then the next k; 'sub': SR x SC sub-blocks, k inside
//   bc          how A values reach the other lanes: 'quad' (quadBroadcast, the library's),
//               'swap' (quadSwapX/Y/Diagonal: slot t of lane l holds lane l^t's rows; the rows
//               are then lane-permuted, and the stores undo it), 'sgb' (subgroupBroadcast)
//   tex         load A and B through rgba32float textures (textureLoad) instead of storage
//   diagnostics noload (operands computed, not loaded), nobc (no broadcast): wrong results,
//               they measure what the loads and the broadcasts cost
export function sg({ RB = 32, CB = 8, SR = 4, SC = 1, KS = 4, WX = 8, WY = 8, order = 'sub', nobc = false, noload = false, bc = 'quad', tex = false } = {}) {
  const Q = RB / 4;            // rows each quad lane loads
  const CV = CB / 4;           // vec4 column groups
  const L = [];
  L.push(`enable subgroups;`);
  L.push(`struct Params { M: u32, N: u32, K: u32 }`);
  L.push(`@group(0) @binding(0) var<uniform> p: Params;`);
  if (tex) {
    L.push(`@group(0) @binding(1) var ta: texture_2d<f32>;`);
    L.push(`@group(0) @binding(2) var tb: texture_2d<f32>;`);
  } else {
  L.push(`@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;`);
  L.push(`@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;`);
  }
  L.push(`@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;`);
  L.push(`@compute @workgroup_size(${WX}, ${WY})`);
  L.push(`fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {`);
  L.push(`  let m0 = ${RB}u * gid.y; let n0 = ${CB}u * gid.x; let rl = m0 + ${Q}u * (lane & 3u);`);
  L.push(`  var acc: array<vec4<f32>, ${RB * CV}>;`);
  L.push(`  for (var k = 0u; k < p.K; k += ${KS}u) {`);
  // A: lane loads rows rl..rl+Q-1, KS k's (KS/4 vec4 each)
  for (let i = 0; i < Q; i++) for (let v = 0; v < KS / 4; v++)
    L.push(tex ? `    let h${i}_${v} = textureLoad(ta, vec2<u32>(k / 4u + ${v}u, rl + ${i}u), 0);` : noload ? `    let h${i}_${v} = vec4<f32>(f32(k + ${i}u), f32(rl), 1.0, f32(${v}u));` : `    let h${i}_${v} = a[((rl + ${i}u) * p.K + k) / 4u + ${v}u];`);
  // B: KS rows of CB columns
  for (let j = 0; j < KS; j++) for (let cv = 0; cv < CV; cv++)
    L.push(tex ? `    let b${j}_${cv} = textureLoad(tb, vec2<u32>(n0 / 4u + ${cv}u, k + ${j}u), 0);` : noload ? `    let b${j}_${cv} = vec4<f32>(f32(k + ${j}u), f32(n0), 1.0, f32(${cv}u));` : `    let b${j}_${cv} = b[((k + ${j}u) * p.N + n0) / 4u + ${cv}u];`);
  // broadcast A values: row r of block = lane r / Q, its row r % Q
  const comp = ['x', 'y', 'z', 'w'];
  const swaps = ['', 'quadSwapX', 'quadSwapY', 'quadSwapDiagonal'];
  if (bc === 'swap') {
    // slot t of lane l holds h of lane l ^ t: row (Q * (l ^ t) + i) of the block
    for (let i = 0; i < Q; i++) for (let v = 0; v < KS / 4; v++) for (let t = 1; t < 4; t++)
      L.push(`    let h${i}_${v}_${t} = ${swaps[t]}(h${i}_${v});`);
  }
  for (let r = 0; r < RB; r++) for (let j = 0; j < KS; j++)
    if (bc === 'swap') { const t = Math.floor(r / Q), i = r % Q; L.push(`    let s${r}_${j} = h${i}_${j >> 2}${t ? '_' + t : ''}.${comp[j & 3]};`); }
    else if (bc === 'sgb') L.push(`    let s${r}_${j} = subgroupBroadcast(h${r % Q}_${j >> 2}.${comp[j & 3]}, ${Math.floor(r / Q)}u);`);
    else L.push(nobc ? `    let s${r}_${j} = h${r % Q}_${j >> 2}.${comp[j & 3]};` : `    let s${r}_${j} = quadBroadcast(h${r % Q}_${j >> 2}.${comp[j & 3]}, ${Math.floor(r / Q)}u);`);
  const fma = (r, cv, j) => L.push(`    acc[${r * CV + cv}] = fma(vec4<f32>(s${r}_${j}), b${j}_${cv}, acc[${r * CV + cv}]);`);
  if (order === 'sub') {
    for (let r0 = 0; r0 < RB; r0 += SR) for (let c0 = 0; c0 < CV; c0 += SC)
      for (let j = 0; j < KS; j++) for (let r = r0; r < r0 + SR; r++) for (let cv = c0; cv < c0 + SC; cv++) fma(r, cv, j);
  } else {
    for (let j = 0; j < KS; j++) for (let r = 0; r < RB; r++) for (let cv = 0; cv < CV; cv++) fma(r, cv, j);
  }
  L.push(`  }`);
  for (let r = 0; r < RB; r++) for (let cv = 0; cv < CV; cv++)
    L.push(bc === 'swap' ? `  c[((m0 + ${Q}u * ((lane & 3u) ^ ${Math.floor(r / Q)}u) + ${r % Q}u) * p.N + n0) / 4u + ${cv}u] = acc[${r * CV + cv}];` : `  c[((m0 + ${r}u) * p.N + n0) / 4u + ${cv}u] = acc[${r * CV + cv}];`);
  L.push(`}`);
  return { code: L.join('\n'), grid: (M, N) => [Math.ceil(N / CB / WX), Math.ceil(M / RB / WY), 1], tex };
}
