// Matmul throughput of every kernel variant (src/ops/matmul/kernels.ts), the naive kernel and,
// with TFJS=1, TensorFlow.js's WebGPU backend, in Node on Dawn (SwiftShader when there is no
// GPU). A benchmark script, not a test. Each kernel is validated before it is timed: 64
// sampled outputs against a float64 dot product, within n * u * sum|a_k b_k|.
//
// Two numbers per run: wall-clock GFLOP/s and GFLOP per CPU-second of this process
// (SwiftShader runs the shaders on this process's worker threads), which stays meaningful when
// other processes share the cores. Both are the best over several runs; the variants are
// interleaved round by round so that load changes hit them alike. The load average is printed.
//
// Usage: node dist-node/matmul-gflops.mjs [sizes, default 256,512,1024]
//   env: ROUNDS (default 3), NO_NAIVE=1, TFJS=1, TUNE=1 (also run the autotuner per size)
//
// What limits SwiftShader (2-core AMD EPYC VM, measured while building these kernels):
// - a load with a computed index is a per-lane gather (Subzero: a branch, a load and an insert
//   per lane and component), about 10 cycles per element: a vec4 costs 4x a scalar, but a
//   scalar through array<vec4> costs as much as a vec4 plus the index arithmetic;
// - with loads replaced by constants the 16x8 kernels reach ~5.6 GFLOP per CPU-s: the spilled
//   accumulators (32 vec4 per lane, 16 xmm registers) and Subzero's code set that ceiling;
// - barriers turn each 4-lane group into a coroutine; branches on uniforms run both sides.
// So: shared 64x64 tiles (8x8 per thread) ~0.9-1.0 per CPU-s; register-only 16x8 per thread
// ~1.5-2.0; the same with A shared across a quad by quadBroadcast ~2.2-2.6 (48 element loads
// per 512 multiply-adds per lane).
import { initNodeGPU } from '../test/harness/node-gpu.js';
import { engine } from '../src/runtime/engine.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { matmul } from '../src/ops/matmul/index.js';
import { matmulNaive } from '../bench/naive.js';
import { kernelName, SHARED_DEFAULT, type MatmulKernel } from '../src/ops/matmul/kernels.js';
import { tuneMatmul } from '../src/ops/matmul/tune.js';
import { memoryStore, setTuneStore } from '../src/runtime/autotune.js';
import { randomArray } from '../test/harness/assert.js';
import { cpus, loadavg } from 'node:os';
import { createRequire } from 'node:module';

const sizes = (process.argv[2] ?? '256,512,1024').split(',').map(Number);
const rounds = Number(process.env.ROUNDS ?? 3);

interface Timing {
  wall: number;
  cpu: number;
}
interface Variant {
  name: string;
  run: () => Promise<void> | void;
  check: () => Promise<Float32Array>;
  reps: number;
}

/** Wall and CPU time (ms) of `reps` runs, each waited for; the best of each. */
async function time(run: () => Promise<void> | void, reps: number): Promise<Timing> {
  let wall = Infinity,
    cpu = Infinity;
  for (let r = 0; r < reps; r++) {
    await engine().sync();
    const c0 = process.cpuUsage(),
      t0 = performance.now();
    await run();
    await engine().sync();
    const dt = performance.now() - t0,
      c = process.cpuUsage(c0);
    wall = Math.min(wall, dt);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
  }
  return { wall, cpu };
}

function check(label: string, got: Float32Array, a: Float32Array, b: Float32Array, n: number): void {
  let worst = 0;
  for (let s = 0; s < 64; s++) {
    const i = (s * 7919) % n,
      j = (s * 104729) % n;
    let want = 0,
      mag = 0;
    for (let k = 0; k < n; k++) (want += a[i * n + k] * b[k * n + j]), (mag += Math.abs(a[i * n + k] * b[k * n + j]));
    worst = Math.max(worst, Math.abs(got[i * n + j] - want) / (n * 2 ** -24 * mag));
  }
  if (!(worst <= 1)) throw new Error(`${label}: sampled error exceeds n*u*sum|ab| (ratio ${worst})`);
}

/** Our kernel as a variant: each run records one matmul and disposes the result. */
function ours(name: string, A: Tensor, B: Tensor, k: MatmulKernel | 'naive', reps: number): Variant {
  const once = () => (k === 'naive' ? matmulNaive(A, B) : matmul(A, B, { kernel: k }));
  return {
    name,
    reps,
    run: () => once().dispose(),
    check: async () => {
      const y = once();
      const d = Float32Array.from(await y.read());
      y.dispose();
      return d;
    },
  };
}

/** TensorFlow.js's WebGPU backend on the engine's device (TFJS=1). */
async function tfjsVariant(a: Float32Array, b: Float32Array, n: number): Promise<Variant & { dispose(): void }> {
  const g = globalThis as unknown as { require?: NodeJS.Require; navigator?: { gpu?: unknown } };
  g.require ??= createRequire(import.meta.url); // tfjs-core's Node platform calls require('util')
  if (!g.navigator?.gpu)
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: engine().keepAlive[0] }, configurable: true });
  const tf = await import('@tensorflow/tfjs-core');
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  if (tf.getBackend() !== 'webgpu') {
    // the package registers a backend on its own device when imported: use the engine's instead
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => new WebGPUBackend(engine().device));
    if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: setBackend("webgpu") failed');
  }
  const A = tf.tensor2d(a, [n, n]),
    B = tf.tensor2d(b, [n, n]);
  // (await data() submits tfjs's queue and reads n^2 floats back: ~1% of the 256^3 time here)
  const once = async () => {
    const y = tf.matMul(A, B);
    const d = Float32Array.from(await y.data());
    y.dispose();
    return d;
  };
  return {
    name: `tfjs ${tf.version_core}`,
    reps: 1,
    run: async () => void (await once()),
    check: once,
    dispose: () => (A.dispose(), B.dispose()),
  };
}

const fmt = (flop: number, r: Timing) =>
  `${r.wall.toFixed(0).padStart(6)} ms ${(flop / r.wall / 1e6).toFixed(2).padStart(6)} GFLOP/s  ${r.cpu.toFixed(0).padStart(6)} CPU-ms ${(flop / r.cpu / 1e6).toFixed(2).padStart(6)} per CPU-s`;

await initNodeGPU();
setTuneStore(memoryStore()); // TUNE=1 must not write into the working directory
const e = engine();
const kernels: MatmulKernel[] = [SHARED_DEFAULT, { kind: 'register', wgX: 8, wgY: 8 }];
if (e.features.has('subgroups'))
  kernels.push({ kind: 'subgroup', wgX: 8, wgY: 8 }, { kind: 'subgroup32', wgX: 8, wgY: 8 });
console.log(
  `# ${e.info.description || e.info.vendor}; ${cpus().length} CPUs; load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; best of ${rounds} rounds`,
);
for (const n of sizes) {
  const a = randomArray(n * n, 1),
    b = randomArray(n * n, 2);
  const A = tensor(a, [n, n]),
    B = tensor(b, [n, n]);
  const flop = 2 * n ** 3;
  const variants: Variant[] = kernels.map((k) => ours(kernelName(k), A, B, k, 2));
  if (!process.env.NO_NAIVE) variants.push(ours('naive 16x16', A, B, 'naive', 1));
  const tfv = process.env.TFJS ? await tfjsVariant(a, b, n) : null;
  if (tfv) variants.push(tfv);
  for (const v of variants) check(`${v.name} ${n}`, await v.check(), a, b, n); // also compiles
  const best = new Map<string, Timing>();
  for (let r = 0; r < rounds; r++)
    for (const v of variants) {
      if (v.name.startsWith('naive') && r > 0 && n >= 1024) continue; // ~10 s a run
      const t = await time(v.run, v.reps),
        p = best.get(v.name);
      best.set(v.name, p ? { wall: Math.min(p.wall, t.wall), cpu: Math.min(p.cpu, t.cpu) } : t);
    }
  const base = best.get(kernelName(SHARED_DEFAULT))!;
  for (const [name, t] of best)
    console.log(`${n}^3  ${name.padEnd(18)} ${fmt(flop, t)}   x${(base.cpu / t.cpu).toFixed(2)} vs shared per CPU-s`);
  if (process.env.TUNE) {
    const r = await tuneMatmul(n, n, n, { samples: 3 });
    console.log(
      `${n}^3  autotune picks ${kernelName(r.kernel)} (${r.timings.map((t) => `${t.kernel} ${t.ms?.toFixed(1) ?? t.error} ms`).join(', ')})`,
    );
  }
  tfv?.dispose();
  A.dispose();
  B.dispose();
}
console.log(
  `# load average at the end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
engine().destroy();
