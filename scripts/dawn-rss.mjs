// Process RSS of plain Dawn (the `webgpu` package), WITHOUT webgpu-cnn: N submits of an empty
// command buffer, one dispatch, 40 dispatches ('many'), a dispatch plus a writeBuffer, or a
// dispatch plus a copy and a mapAsync readback ('read'), printing the RSS (after a GC) five
// times. Used to tell the soak test's RSS growth apart from the library's own memory.
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json XDG_RUNTIME_DIR=/tmp \
//     node --expose-gc scripts/dawn-rss.mjs empty|dispatch|many|write|read [N]
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
const device = await adapter.requestDevice();
globalThis.__keep = [gpu, adapter, device]; // Dawn aborts later if the GPU object is collected
const mode = process.argv[2] ?? 'empty';
const N = Number(process.argv[3] ?? 20000);
const buf = device.createBuffer({ size: 1024, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
const buf2 = device.createBuffer({ size: 1024, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
const stag = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const mod = device.createShaderModule({ code: '@group(0) @binding(0) var<storage, read_write> a: array<f32>; @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { if (g.x < 256u) { a[g.x] = a[g.x] + 1.0; } }' });
const pipe = device.createComputePipeline({ layout: 'auto', compute: { module: mod, entryPoint: 'main' } });
const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
const data = new Float32Array(256);
const rss = () => (process.memoryUsage().rss / 2 ** 20).toFixed(1);
for (let i = 1; i <= N; i++) {
  const enc = device.createCommandEncoder();
  if (mode !== 'empty') {
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe); pass.setBindGroup(0, bg); for (let d = 0; d < (mode === "many" ? 40 : 1); d++) pass.dispatchWorkgroups(4); pass.end();
  }
  if (mode === 'write' || mode === 'read') device.queue.writeBuffer(buf2, 0, data);
  if (mode === 'read') enc.copyBufferToBuffer(buf, 0, stag, 0, 16);
  device.queue.submit([enc.finish()]);
  if (mode === 'read') { await stag.mapAsync(GPUMapMode.READ); stag.unmap(); }
  else if (i % 50 === 0) await device.queue.onSubmittedWorkDone();
  if (i % (N / 5) === 0) { globalThis.gc?.(); console.log(mode, i, rss()); }
}
process.exit(0);
