// Matmul probe harness (bench/probes/matmul): compiles each generated kernel (gen-*.mjs), runs it
// once, checks 2000 sampled outputs against a float64 dot product, then times `reps` runs
// (submit + onSubmittedWorkDone, median). Square n x n x n, n a multiple of every tile size used.
// Runs in a page (chromium.mjs) or in Node on Dawn (node.mjs). Measuring instruments for
// docs/performance.md ("The matmul probes"), not library kernels; the WGSL is generated because
// each variant is a different hand-unrolled register block.
import { bcast } from './gen-wg.mjs';
import { sg } from './gen-quad.mjs';
import { atomicMM } from './gen-atomic.mjs';
async function run(cfgs, n, reps) {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter.requestDevice({ requiredFeatures: adapter.features.has('subgroups') ? ['subgroups'] : [], requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize } });
  const errs = [];
  device.addEventListener('uncapturederror', (e) => errs.push(e.error.message));
  const M = n, N = n, K = n;
  const A = new Float32Array(M * K).map(() => Math.random() * 2 - 1);
  const B = new Float32Array(K * N).map(() => Math.random() * 2 - 1);
  const mk = (data, usage) => { const buf = device.createBuffer({ size: data.byteLength, usage: usage | GPUBufferUsage.COPY_DST }); device.queue.writeBuffer(buf, 0, data); return buf; };
  const ab = mk(A, GPUBufferUsage.STORAGE), bb = mk(B, GPUBufferUsage.STORAGE);
  const cb = device.createBuffer({ size: M * N * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const pb = mk(new Uint32Array([M, N, K, 0]), GPUBufferUsage.UNIFORM);
  const rb = device.createBuffer({ size: M * N * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const out = [];
  const texA = device.createTexture({ size: [K / 4, M], format: 'rgba32float', usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST });
  device.queue.writeTexture({ texture: texA }, A, { bytesPerRow: K * 4 }, [K / 4, M]);
  const texB = device.createTexture({ size: [N / 4, K], format: 'rgba32float', usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST });
  device.queue.writeTexture({ texture: texB }, B, { bytesPerRow: N * 4 }, [N / 4, K]);
  for (const cfg of cfgs) {
    const g = cfg.gen === 'sg' ? sg(cfg) : cfg.gen === 'at' ? atomicMM(cfg) : bcast(cfg);
    const module = device.createShaderModule({ code: g.code });
    const info = await module.getCompilationInfo();
    if (info.messages.some((m) => m.type === 'error')) { out.push({ cfg, error: info.messages.map((m) => m.message).join('; ') }); continue; }
    const bgl = g.tex ? device.createBindGroupLayout({ entries: [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
      { binding: 1, visibility: GPUShaderStage.COMPUTE, texture: { sampleType: 'unfilterable-float' } },
      { binding: 2, visibility: GPUShaderStage.COMPUTE, texture: { sampleType: 'unfilterable-float' } },
      { binding: 3, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } }] })
      : device.createBindGroupLayout({ entries: ['uniform', g.rw ? 'storage' : 'read-only-storage', g.rw ? 'storage' : 'read-only-storage','storage'].map((type, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } })) });
    const pipe = await device.createComputePipelineAsync({ layout: device.createPipelineLayout({ bindGroupLayouts: [bgl] }), compute: { module, entryPoint: 'main' } });
    const bg = device.createBindGroup({ layout: bgl, entries: g.tex ? [{ binding: 0, resource: { buffer: pb } }, { binding: 1, resource: texA.createView() }, { binding: 2, resource: texB.createView() }, { binding: 3, resource: { buffer: cb } }] : [pb, ab, bb, cb].map((buffer, binding) => ({ binding, resource: { buffer } })) });
    const [gx, gy] = g.grid(M, N);
    const once = async () => { const e = device.createCommandEncoder(); const p = e.beginComputePass(); p.setPipeline(pipe); p.setBindGroup(0, bg); p.dispatchWorkgroups(gx, gy); p.end(); device.queue.submit([e.finish()]); await device.queue.onSubmittedWorkDone(); };
    await once();
    const e = device.createCommandEncoder(); e.copyBufferToBuffer(cb, 0, rb, 0, M * N * 4); device.queue.submit([e.finish()]);
    await rb.mapAsync(GPUMapMode.READ); const C = new Float32Array(rb.getMappedRange().slice(0)); rb.unmap();
    let maxErr = 0;
    for (let s = 0; s < 2000; s++) { const i = (s * 7919) % M, j = (s * 104729) % N; let ref = 0; for (let k = 0; k < K; k++) ref += A[i * K + k] * B[k * N + j]; maxErr = Math.max(maxErr, Math.abs(ref - C[i * N + j])); }
    const times = [];
    for (let r = 0; r < reps; r++) { const t = performance.now(); await once(); times.push(performance.now() - t); }
    times.sort((x, y) => x - y);
    const med = times[times.length >> 1];
    // Diagnostic modes drop loads or broadcasts on purpose (their results are wrong); every other
    // kernel must match the float64 sample before its time means anything.
    const diagnostic = !!(cfg.noload || cfg.nobc) || ['noload', 'regA', 'flat', 'noB'].includes(cfg.mode);
    const valid = diagnostic ? 'diagnostic (wrong on purpose)' : maxErr < 1e-3 ? 'ok' : 'INVALID';
    out.push({ cfg, valid, maxErr, ms: med, gflops: (2 * M * N * K) / med / 1e6, errs: errs.splice(0) });
  }
  return out;
}
window.__run = run;
window.__ready = true;
