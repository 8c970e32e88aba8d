// Timing of the conv2d kernels on the LeNet shapes (batch 64, 3x3 'same'): conv1 28x28x1 -> 32
// and conv2 14x14x32 -> 64; forward, input gradient (dX) and weight + bias gradient (dW), for
// each variant ('tiled', 'direct'), and tfjs-webgpu's conv2d forward on the same shapes in
// the same process. Every kernel is validated against the float64 reference before it is
// timed. Not a test and not the benchmark page: a napkin-math check for kernel work.
//   node dist-node/conv2d-timing.mjs [reps]      (default 5)
//   ONLY=conv2 / ONLY=conv1: one shape; NO_TFJS=1: skip tfjs; TILES="TM TN TK": tiled tiles.
// Reports, per row, the median and min of wall time and of this process's CPU time (all
// SwiftShader threads: on a shared machine CPU time is much less sensitive to other load
// than wall time), and the load average when the row was measured. Run on a quiet machine
// for wall-time numbers; with 2 cores wall ~ CPU / 2 at best.
import { loadavg, cpus } from 'node:os';
import { createRequire } from 'node:module';
import { initNodeGPU } from '../test/harness/node-gpu.js';
import { engine } from '../src/runtime/engine.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { convGeometry, ref, type ConvGeometry } from '../src/ops/conv2d/index.js';
import { defaultConv2dTiles } from '../src/ops/conv2d/choose.js';
import { tiledForward, tiledInputGrad, tiledWeightGrad, type ConvTiles } from '../src/ops/conv2d/tiled.js';
import { directForward, directInputGrad, directWeightGrad } from '../src/ops/conv2d/direct.js';
import { randomArray, assertClose } from '../test/harness/assert.js';

const reps = Number(process.argv[2] ?? 5);
const only = process.env.ONLY;
const tileArg = process.env.TILES?.split(/\s+/).map(Number);
const tiles: ConvTiles | undefined = tileArg ? { TM: tileArg[0], TN: tileArg[1], TK: tileArg[2] } : undefined;

type S4 = [number, number, number, number];
const SHAPES: { name: string; x: S4; w: S4 }[] = [
  { name: 'conv1 64x28x28x1->32', x: [64, 28, 28, 1], w: [3, 3, 1, 32] },
  { name: 'conv2 64x14x14x32->64', x: [64, 14, 14, 32], w: [3, 3, 32, 64] },
];

interface Stat {
  wall: number;
  wallMin: number;
  cpu: number;
  cpuMin: number;
  load: number;
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/** Times f (which queues GPU work) to completion: `done` waits for that work. */
async function measure(f: () => Tensor[] | undefined, done: () => Promise<void>): Promise<Stat> {
  for (let i = 0; i < 2; i++) {
    f()?.forEach((t) => t.dispose()); // compile + warm up
    await done();
  }
  const wall: number[] = [],
    cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    const out = f();
    await done();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    out?.forEach((t) => t.dispose());
  }
  return { wall: med(wall), wallMin: Math.min(...wall), cpu: med(cpu), cpuMin: Math.min(...cpu), load: loadavg()[0] };
}

function row(shape: string, pass: string, impl: string, s: Stat, gflop: number): void {
  const f = (v: number) => v.toFixed(0).padStart(6);
  console.log(
    `| ${shape.padEnd(22)} | ${pass.padEnd(7)} | ${impl.padEnd(12)} | ${f(s.cpu)} | ${f(s.cpuMin)} | ${f(s.wall)} | ${f(s.wallMin)} | ` +
      `${(gflop / (s.cpu / 1e3)).toFixed(2).padStart(6)} | ${s.load.toFixed(1).padStart(5)} |`,
  );
}

async function tfjsSetup() {
  const webgpu = await import('webgpu');
  (globalThis as { navigator?: unknown }).navigator = { gpu: webgpu.create([]) };
  // Loaded from node_modules at run time (their CommonJS builds), not bundled by Vite.
  const require = createRequire(import.meta.url);
  const tf = require('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
  require('@tensorflow/tfjs-backend-webgpu');
  await tf.setBackend('webgpu');
  await tf.ready();
  // tfjs keeps a compute pass and a command encoder open across ops: end both, then wait.
  const backend = tf.backend() as unknown as {
    endComputePassEncoder(): void;
    submitQueue(): void;
    commandEncoder: unknown;
    device: GPUDevice;
  };
  const done = async () => {
    backend.endComputePassEncoder();
    if (backend.commandEncoder) backend.submitQueue();
    await backend.device.queue.onSubmittedWorkDone();
  };
  return { tf, done };
}

async function main() {
  const e = await initNodeGPU();
  console.log(
    `adapter: ${e.info.vendor} ${e.info.description}; tiled tiles: ${tiles ? JSON.stringify(tiles) : 'picked per op'}; ${reps} reps`,
  );
  console.log(
    `load average at start (1/5/15 min): ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}; ${cpus().length} CPUs`,
  );
  const tfjs = process.env.NO_TFJS
    ? null
    : await tfjsSetup().catch((err) => (console.log(`tfjs-webgpu unavailable: ${err.message}`), null));
  console.log(
    '\n| shape                  | pass    | kernel       | cpu ms | cpu min | wall ms | wall min | GFLOP/s (cpu) | load1 |',
  );
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|');
  const sync = () => engine().sync();
  for (const sh of SHAPES.filter((s) => !only || s.name.startsWith(only))) {
    const g: ConvGeometry = convGeometry('timing', sh.x, sh.w, { padding: 'same' });
    const n = (s: S4) => s[0] * s[1] * s[2] * s[3];
    const xd = randomArray(n(sh.x), 1),
      wd = randomArray(n(sh.w), 2),
      bd = randomArray(g.O, 3);
    const dyd = randomArray(g.N * g.OH * g.OW * g.O, 4);
    const x = tensor(xd, sh.x),
      w = tensor(wd, sh.w),
      b = tensor(bd, [g.O]),
      dy = tensor(dyd, [g.N, g.OH, g.OW, g.O]);
    const K = g.KH * g.KW * g.C,
      P = g.N * g.OH * g.OW;
    const gflop = (2 * P * g.O * K) / 1e9;
    const tol = (k: number) => ({ atol: 2 * k * 2 ** -24, rtol: 2 * k * 2 ** -24 });
    const yRef = ref.forward(xd, wd, g, bd),
      dxRef = ref.inputGrad(dyd, wd, g),
      dwRef = ref.weightGrad(xd, dyd, g);
    const passes = {
      forward: {
        tiled: () => [tiledForward(x, w, g, b, false, tiles ?? defaultConv2dTiles(g, 'forward'))],
        direct: () => [directForward(x, w, g, b, false)],
      },
      dX: {
        tiled: () => [tiledInputGrad(dy, w, g, undefined, tiles ?? defaultConv2dTiles(g, 'inputGrad'))],
        direct: () => [directInputGrad(dy, w, g)],
      },
      dW: {
        tiled: () => {
          const r = tiledWeightGrad(x, dy, g, true, undefined, tiles ?? defaultConv2dTiles(g, 'weightGrad'));
          return [r.dw, r.db!];
        },
        direct: () => {
          const r = directWeightGrad(x, dy, g, true);
          return [r.dw, r.db!];
        },
      },
    };
    const want = { forward: [yRef], dX: [dxRef], dW: [dwRef, ref.biasGrad(dyd, g.O)] };
    const tols = { forward: tol(K + 1), dX: tol(g.KH * g.KW * g.O), dW: tol(P) };
    for (const [pass, impls] of Object.entries(passes) as [keyof typeof passes, Record<string, () => Tensor[]>][]) {
      for (const [impl, f] of Object.entries(impls)) {
        const out = f();
        for (const [i, t] of out.entries())
          assertClose(`${sh.name} ${pass} ${impl}`, await t.read(), want[pass][i], tols[pass]);
        out.forEach((t) => t.dispose());
        row(sh.name, pass, impl, await measure(f, sync), gflop);
      }
    }
    if (tfjs) {
      const { tf } = tfjs;
      // tfjs: its conv2d kernel and the two gradient kernels its autodiff runs (no bias: ours
      // fuse it, a negligible epilogue / one extra GEMM row)
      const tx = tf.tensor4d(Float32Array.from(xd), sh.x),
        tw = tf.tensor4d(Float32Array.from(wd), sh.w);
      const tdy = tf.tensor4d(Float32Array.from(dyd), [g.N, g.OH, g.OW, g.O]);
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
      const run = (k: string, inputs: object, a: object) =>
        tf
          .engine()
          .runKernel(k, inputs as never, { ...attrs, ...a } as never) as import('@tensorflow/tfjs-core').Tensor;
      const tfPasses: [
        string,
        () => import('@tensorflow/tfjs-core').Tensor,
        Float64Array,
        { atol: number; rtol: number },
      ][] = [
        ['forward', () => tf.conv2d(tx, tw, 1, 'same'), ref.forward(xd, wd, g), tol(K)],
        ['dX', () => run('Conv2DBackpropInput', { dy: tdy, filter: tw }, { inputShape: sh.x }), dxRef, tols.dX],
        ['dW', () => run('Conv2DBackpropFilter', { x: tx, dy: tdy }, { filterShape: sh.w }), dwRef, tols.dW],
      ];
      for (const [pass, f, want1, tl] of tfPasses) {
        const ty = f();
        assertClose(`${sh.name} ${pass} tfjs-webgpu`, await ty.data(), want1, tl);
        ty.dispose();
        row(
          sh.name,
          pass,
          'tfjs-webgpu',
          await measure(() => {
            f().dispose();
          }, tfjs.done),
          gflop,
        );
      }
      for (const t of [tx, tw, tdy]) t.dispose();
    }
    for (const t of [x, w, b, dy]) t.dispose();
  }
  console.log(
    `\nload average at end (1/5/15 min): ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}`,
  );
  e.destroy();
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
