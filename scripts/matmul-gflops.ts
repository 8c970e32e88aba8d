// Matmul throughput: the tiled kernel (shaders/matmul.wgsl) vs the naive one (one thread per
// output), in Node on Dawn (SwiftShader when there is no GPU). A benchmark script, not a test.
// Each kernel is validated before it is timed: 64 sampled outputs against a float64 dot product,
// within n * u * sum|a_k b_k|.
//
// Two numbers per run: wall-clock GFLOP/s (best of several runs), and GFLOP per CPU-second of
// this process (SwiftShader runs the shader on this process's worker threads), which stays
// meaningful when other processes share the cores.
//
// Usage: node dist-node/matmul-gflops.mjs [sizes, default 256,512,1024] [tiles wgX,wgY,bk]
//
// Notes on SwiftShader (what limits it, measured on a 2-core AMD EPYC VM):
// - every storage or workgroup-memory access with a computed index is a per-lane gather
//   (~30 cycles per 4-lane gather); arithmetic runs at a few GFLOP/s per core;
// - workgroups with barriers run each 4-lane subgroup as a coroutine (switches at barriers);
// - branches on uniforms execute both sides under a mask: the transposes are override constants.
// A 4x4 per-thread block gave ~0.45 GFLOP per CPU-second at 512^3, the 8x8 block ~1.0; a
// variant without workgroup memory that shares A values across the 4 lanes of a subgroup with
// subgroupBroadcast reached ~2.0-2.4 (prototype, not shipped: needs the 'subgroups' feature).
import { initNodeGPU } from '../test/harness/node-gpu.js';
import { engine } from '../src/runtime/engine.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { matmul, matmulNaive } from '../src/ops/matmul.js';
import { randomArray } from '../test/harness/assert.js';
import { cpus } from 'node:os';

const sizes = (process.argv[2] ?? '256,512,1024').split(',').map(Number);
const t = process.argv[3]?.split(',').map(Number);
const tiles = t ? { wgX: t[0], wgY: t[1], bk: t[2] } : undefined;

/** Best wall time and best CPU time (ms) over runs of at most `maxReps`, stopping after `minMs`. */
async function time(run: () => Tensor, minMs: number, maxReps: number): Promise<{ wall: number; cpu: number }> {
  let wall = Infinity, cpu = Infinity, total = 0, reps = 0;
  while (reps < maxReps && (reps === 0 || total < minMs)) {
    await engine().sync();
    const c0 = process.cpuUsage(), t0 = performance.now();
    const y = run();
    await engine().sync();
    const dt = performance.now() - t0, c = process.cpuUsage(c0);
    y.dispose();
    wall = Math.min(wall, dt);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
    total += dt;
    reps++;
  }
  return { wall, cpu };
}

async function check(label: string, y: Tensor, a: Float32Array, b: Float32Array, n: number): Promise<void> {
  const got = await y.read();
  let worst = 0;
  for (let s = 0; s < 64; s++) {
    const i = (s * 7919) % n, j = (s * 104729) % n;
    let want = 0, mag = 0;
    for (let k = 0; k < n; k++) (want += a[i * n + k] * b[k * n + j]), (mag += Math.abs(a[i * n + k] * b[k * n + j]));
    worst = Math.max(worst, Math.abs(got[i * n + j] - want) / (n * 2 ** -24 * mag));
  }
  if (!(worst <= 1)) throw new Error(`${label}: sampled error exceeds n*u*sum|ab| (ratio ${worst})`);
}

const fmt = (flop: number, r: { wall: number; cpu: number }) =>
  `${r.wall.toFixed(0).padStart(6)} ms ${(flop / r.wall / 1e6).toFixed(2).padStart(6)} GFLOP/s (${(flop / r.cpu / 1e6).toFixed(2)} per CPU-s)`;

await initNodeGPU();
console.log(`# ${engine().info.description || engine().info.vendor}; tiles ${tiles ? JSON.stringify(tiles) : 'default'}; ${cpus().length} CPUs`);
for (const n of sizes) {
  const a = randomArray(n * n, 1), b = randomArray(n * n, 2);
  const A = tensor(a, [n, n]), B = tensor(b, [n, n]);
  const flop = 2 * n ** 3;
  const yt = matmul(A, B, { tiles }); // also compiles the pipeline
  await check(`tiled ${n}`, yt, a, b, n);
  yt.dispose();
  const tt = await time(() => matmul(A, B, { tiles }), 2000, 10);
  let naive = 'skipped (NO_NAIVE)';
  if (!process.env.NO_NAIVE) {
    const yn = matmulNaive(A, B);
    await check(`naive ${n}`, yn, a, b, n);
    yn.dispose();
    naive = fmt(flop, await time(() => matmulNaive(A, B), 1, n >= 1024 ? 1 : 3));
  }
  console.log(`${n}^3  tiled ${fmt(flop, tt)}   naive ${naive}`);
  A.dispose();
  B.dispose();
}
engine().destroy();
