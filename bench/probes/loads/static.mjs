// Storage loads by index form. Each thread does 512 loads (as 128 vec4 fused multiply-adds):
//   'static': a constant index into a fixed-size array (SwiftShader: static offsets, one load
//             broadcast to the 4 lanes after a bounds check);
//   'dynamic equal': the same index plus a runtime zero (all lanes read one address, but
//             SwiftShader cannot know it: a per-lane gather);
//   'lane gather': a lane-dependent index (a gather, as in every library kernel);
//   'no loads': the values computed instead (the arithmetic alone).
export function kernels() {
  const NL = 512;
  const mk = (name, idx, decl) => {
    const v = (i) => (decl ? `w[${idx(i)}]` : `x2 + ${i}.0`);
    let body = '';
    for (let i = 0; i < NL; i += 4) body += `  acc = fma(vec4f(x), vec4f(${v(i)}, ${v(i + 1)}, ${v(i + 2)}, ${v(i + 3)}), acc);\n`;
    return { name, wg: 2048, buffers: [4, 4096, 2048 * 64], bind: decl ? [0, 1, 2] : [0, 2], code: `
struct P { z: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
${decl ? `@group(0) @binding(1) var<storage, read> w: ${decl};` : ''}
@group(0) @binding(2) var<storage, read_write> o: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let x = f32(g.x); let x2 = f32(p.z) + x * 0.5; let z = p.z; let l = g.x % 4u;
  var acc = vec4f(0);
${body}  o[g.x] = acc.x + acc.y + acc.z + acc.w;
}` };
  };
  const round = () => [
    mk('no loads', null, null),
    mk('static (constant index, fixed-size array)', (i) => `${i}`, 'array<f32, 4096>'),
    mk('static index, runtime-sized array', (i) => `${i}`, 'array<f32>'),
    mk('dynamic equal (runtime zero + i)', (i) => `z + ${i}u`, 'array<f32>'),
    mk('lane gather (4 * lane + i)', (i) => `l * 4u + ${i}u`, 'array<f32>'),
  ];
  return [...round(), ...round()];
}
