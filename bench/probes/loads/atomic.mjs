// Memory-bound copy-and-scale of 2M floats: a float per thread with plain loads/stores, a vec4
// per thread (the library's elementwise kernels), and atomic loads/stores where the 4 lanes of a
// SIMD group touch 4 consecutive words (SwiftShader checks that at run time for atomics only,
// and then does one vector access instead of 4).
export function kernels() {
  const N = 1 << 21;
  const mk = (name, decl, body, per) => ({ name, wg: Math.ceil(N / per / 64), buffers: [4, N, N], bind: [1, 2], code: `
@group(0) @binding(1) var<storage, ${decl.in}> a: ${decl.ta};
@group(0) @binding(2) var<storage, read_write> o: ${decl.to};
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x;
${body}
}` });
  const atomics = { in: 'read_write', ta: 'array<atomic<u32>>', to: 'array<atomic<u32>>' };
  const round = () => [
    mk('plain, a float per thread', { in: 'read', ta: 'array<f32>', to: 'array<f32>' }, '  o[i] = a[i] * 2.0;', 1),
    mk('plain, a vec4 per thread', { in: 'read', ta: 'array<vec4f>', to: 'array<vec4f>' }, '  o[i] = a[i] * 2.0;', 4),
    mk('atomic, a float per thread', atomics, '  atomicStore(&o[i], bitcast<u32>(bitcast<f32>(atomicLoad(&a[i])) * 2.0));', 1),
    mk('atomic, 4 floats per thread 64 apart', atomics, `  let b = (i / 64u) * 256u + i % 64u;
  for (var j = 0u; j < 4u; j++) { atomicStore(&o[b + 64u * j], bitcast<u32>(bitcast<f32>(atomicLoad(&a[b + 64u * j])) * 2.0)); }`, 4),
  ];
  return [...round(), ...round()];
}
