// FMA throughput: NA independent vec4 accumulators updated in a loop of 256 iterations (no
// memory traffic). With one accumulator the loop is latency-bound; the step from 1 to 8
// accumulators gives the marginal cost of a fused multiply-add; mul+add for comparison.
export function kernels() {
  const threads = 64 * 1024, IT = 256;
  const mk = (NA, useFma) => {
    let decl = '', body = '', sum = '';
    for (let i = 0; i < NA; i++) {
      decl += `  var a${i} = vec4f(f32(${i}) + x);\n`;
      body += useFma ? `    a${i} = fma(a${i}, m, c);\n` : `    a${i} = a${i} * m + c;\n`;
      sum += `a${i} + `;
    }
    return { name: `${NA} accumulators, ${useFma ? 'fma' : 'mul + add'}`, flops: threads * IT * NA * 8, wg: threads / 64, buffers: [4, 4, threads * 4], bind: [0, 2], code: `
struct P { z: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(2) var<storage, read_write> o: array<vec4f>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let x = f32(g.x) * 1e-6; let m = vec4f(0.999 + f32(p.z)); let c = vec4f(1e-3);
${decl}  for (var i = 0u; i < ${IT}u + p.z; i++) {
${body}  }
  o[g.x] = ${sum}vec4f(0);
}` };
  };
  return [mk(1, true), mk(4, true), mk(8, true), mk(16, true), mk(8, false), mk(1, true), mk(8, true)];
}
