// A measured roofline for this adapter: peak FLOP/s of a register-only FMA kernel and the
// bandwidth of a copy kernel (bench/roofline.wgsl). Both outputs are validated before timing.
// Sizes grow (x4) until a run takes a few milliseconds, so the same code fits SwiftShader and
// an H100. Percent of roofline for a case = max(flops/peakFlops, bytes/peakBandwidth) / time.
//
// These pipelines are built straight on the device, not through the engine's queue: they are
// measuring instruments, not ops.

import source from './roofline.wgsl?raw';
import { checkOutput } from './reference.js';
import { measure, type TimeOptions } from './timing.js';
import type { Check, Method, Roofline, Timing } from './types.js';

const WG = 256;
const LOOPS = 1024;
const M = 0.999,
  K = 0.001;
const STORAGE = 0x0080,
  COPY_SRC = 0x0004,
  COPY_DST = 0x0008,
  UNIFORM = 0x0040,
  MAP_READ = 0x0001;

async function readBuffer(device: GPUDevice, buf: GPUBuffer, bytes: number): Promise<Float32Array> {
  const staging = device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buf, 0, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MAP_READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}

function grid(groups: number): [number, number] {
  if (groups <= 65535) return [groups, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y];
}

interface Probe {
  run(): void;
  submit(): void;
  check(): Promise<Check>;
  dispose(): void;
}

function probe(device: GPUDevice, entry: 'fma_peak' | 'copy', n: number, src?: Float32Array): Probe {
  const module = device.createShaderModule({ label: 'roofline', code: source });
  const pipeline = device.createComputePipeline({
    label: `roofline.${entry}`,
    layout: 'auto',
    compute: { module, entryPoint: entry, constants: { WG, LOOPS } },
  });
  const params = device.createBuffer({ size: 16, usage: UNIFORM | COPY_DST });
  const u = new DataView(new ArrayBuffer(16));
  u.setFloat32(0, M, true);
  u.setFloat32(4, K, true);
  u.setUint32(8, n, true);
  device.queue.writeBuffer(params, 0, u.buffer);
  const buffers: GPUBuffer[] = [params];
  const make = (usage: number) => {
    const b = device.createBuffer({ size: n * 16, usage: STORAGE | usage });
    buffers.push(b);
    return b;
  };
  let out: GPUBuffer;
  const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: params } }];
  if (entry === 'fma_peak') {
    out = make(COPY_SRC);
    entries.push({ binding: 1, resource: { buffer: out } });
  } else {
    const s = make(COPY_DST);
    device.queue.writeBuffer(s, 0, src!);
    out = make(COPY_SRC);
    entries.push({ binding: 2, resource: { buffer: s } }, { binding: 3, resource: { buffer: out } });
  }
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  const [gx, gy] = grid(Math.ceil(n / WG));
  let pending: GPUCommandBuffer[] = [];
  return {
    run() {
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(gx, gy);
      pass.end();
      pending.push(enc.finish());
    },
    submit() {
      device.queue.submit(pending);
      pending = [];
    },
    async check() {
      const got = await readBuffer(device, out, n * 16);
      if (entry === 'copy') return checkOutput(got, n * 4, (i) => [src![i], Math.abs(src![i])], 1);
      return checkOutput(got, n * 4, (i) => fmaRef(i >> 2, i & 3), LOOPS * 8);
    },
    dispose() {
      for (const b of buffers) b.destroy();
    },
  };
}

/** float64 value of component c of thread t of fma_peak, and the sum of |chains|. */
function fmaRef(t: number, c: number): [number, number] {
  const start = [Math.fround(t * 1e-7), 0.1, 0.2, 0.3][c];
  let sum = 0,
    abs = 0;
  for (let j = 0; j < 8; j++) {
    let a = start + 0.01 * j;
    for (let l = 0; l < LOOPS; l++) a = a * M + K;
    sum += a;
    abs += Math.abs(a);
  }
  return [sum, abs];
}

async function grow(
  device: GPUDevice,
  make: (n: number) => Probe,
  n0: number,
  nMax: number,
  o: TimeOptions,
): Promise<{ n: number; timing: Timing; check: Check }> {
  for (let n = n0; ; n *= 4) {
    const p = make(n);
    try {
      p.run();
      p.submit();
      const check = await p.check();
      if (!check.ok) return { n, timing: { method: o.method, ms: NaN, samples: [], warmup: 0 }, check };
      const timing = await measure(device, p, o);
      if (timing.ms >= 2 || n * 4 > nMax) return { n, timing, check };
    } finally {
      p.dispose();
    }
  }
}

/** Measure the FMA peak and the copy bandwidth of `device`. */
export async function measureRoofline(device: GPUDevice, method: Method, iters = 10): Promise<Roofline> {
  const o: TimeOptions = { warmup: 2, iters, budgetMs: 1000, method };
  const fma = await grow(device, (n) => probe(device, 'fma_peak', n), 1 << 12, 1 << 22, o);
  const maxBytes = Math.min(256 << 20, device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  let src: Float32Array | null = null;
  const copy = await grow(
    device,
    (n) => {
      if (!src || src.length < n * 4) {
        src = new Float32Array(n * 4);
        for (let i = 0; i < src.length; i++) src[i] = (i % 1009) - 504.5;
      }
      return probe(device, 'copy', n, src.subarray(0, n * 4));
    },
    1 << 16,
    Math.floor(maxBytes / 16),
    o,
  );
  const flops = fma.n * LOOPS * 8 * 4 * 2;
  return {
    gflops: flops / (fma.timing.ms * 1e6),
    gbps: (copy.n * 32) / (copy.timing.ms * 1e6),
    method: fma.timing.method === 'timestamp' && copy.timing.method === 'timestamp' ? 'timestamp' : 'wall',
    fmaCheck: fma.check,
    copyCheck: copy.check,
  };
}
