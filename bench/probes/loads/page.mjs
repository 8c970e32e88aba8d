// Load/FMA probe harness (bench/probes/loads): compiles each generated kernel, runs it once, then
// times `reps` runs (submit + onSubmittedWorkDone, median). The kernels are measuring instruments
// for docs/performance.md ("Load probes"): they compute nothing worth validating, and are not
// library kernels. A kernel: { name, code, wg (workgroups along x), buffers (sizes in f32; buffer
// 0 is also a uniform of zeros), bind (the binding numbers the shader declares), flops? }.
async function run(cfgs, reps) {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter.requestDevice({ requiredFeatures: adapter.features.has('subgroups') ? ['subgroups'] : [] });
  const errs = [];
  device.addEventListener('uncapturederror', (e) => errs.push(e.error.message));
  const out = [];
  for (const cfg of cfgs) {
    const module = device.createShaderModule({ code: cfg.code });
    const info = await module.getCompilationInfo();
    if (info.messages.some((m) => m.type === 'error')) { out.push({ name: cfg.name, error: info.messages.map((m) => m.message).join('; ') }); continue; }
    const pipe = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const bufs = cfg.buffers.map((n, i) => {
      const b = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | (i === 0 ? GPUBufferUsage.UNIFORM : 0) | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(b, 0, new Float32Array(n).map((_, j) => (i === 0 ? 0 : (j % 7) * 0.01)));
      return b;
    });
    const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: cfg.bind.map((binding) => ({ binding, resource: { buffer: bufs[binding] } })) });
    const once = async () => {
      const e = device.createCommandEncoder(); const p = e.beginComputePass();
      p.setPipeline(pipe); p.setBindGroup(0, bg); p.dispatchWorkgroups(cfg.wg); p.end();
      device.queue.submit([e.finish()]); await device.queue.onSubmittedWorkDone();
    };
    await once();
    const times = [];
    for (let r = 0; r < reps; r++) { const t = performance.now(); await once(); times.push(performance.now() - t); }
    times.sort((x, y) => x - y);
    const ms = times[times.length >> 1];
    out.push({ name: cfg.name, ms, ...(cfg.flops ? { gflops: cfg.flops / ms / 1e6 } : {}), errs: errs.splice(0) });
  }
  return out;
}
window.__run = run;
window.__ready = true;
