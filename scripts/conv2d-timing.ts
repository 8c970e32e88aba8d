// Quick timing of the conv2d kernels on one shape (default: LeNet conv2, batch 64,
// 14x14x32 -> 64, 3x3 same). Every kernel is validated against the float64 reference before
// it is timed. Not a test and not the benchmark page: a napkin-math check for kernel work.
//   node dist-node/conv2d-timing.mjs [reps] [TM TN TK]   (default: the tiles each op picks)
//   ONLY=fwd: time the tiled forward only. Reports wall time and process CPU time (all
//   SwiftShader threads), which is less sensitive than wall time to other load on the machine.
import { initNodeGPU } from '../test/harness/node-gpu.js';
import { engine } from '../src/runtime/engine.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { conv2dNaive, conv2dForwardGeom, convGeometry, ref } from '../src/ops/conv2d.js';
import { backwardInputGeom, backwardWeightGeom } from '../src/ops/conv2d_backward.js';
import { randomArray, assertClose } from '../test/harness/assert.js';

const reps = Number(process.argv[2] ?? 10);
const tiles = process.argv[5] ? { TM: +process.argv[3], TN: +process.argv[4], TK: +process.argv[5] } : undefined;
const only = process.env.ONLY;
const xs = [64, 14, 14, 32] as const, ws = [3, 3, 32, 64] as const;
const opts = { padding: 'same' as const };

async function time(label: string, flops: number, f: () => Tensor | Tensor[]): Promise<void> {
  for (let i = 0; i < 2; i++) [f()].flat().forEach((t) => t.dispose()); // compile + warm up
  await engine().sync();
  const ms: number[] = [], cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now(), c0 = process.cpuUsage();
    const out = [f()].flat();
    await engine().sync();
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    out.forEach((t) => t.dispose());
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(
    `${label.padEnd(34)} wall median ${med(ms).toFixed(1)} ms (min ${Math.min(...ms).toFixed(1)}), ` +
      `cpu median ${med(cpu).toFixed(1)} ms; ${(flops / med(ms) / 1e6).toFixed(2)} GFLOP/s`,
  );
}

async function main() {
  const e = await initNodeGPU();
  console.log(`adapter: ${e.info.vendor} ${e.info.description}; tiles ${tiles ? JSON.stringify(tiles) : 'picked per op'}; ${reps} reps`);
  const g = convGeometry('timing', xs, ws, opts);
  const xd = randomArray(xs.reduce((a: number, b: number) => a * b, 1), 1), wd = randomArray(ws.reduce((a: number, b: number) => a * b, 1), 2);
  const dyd = randomArray(g.N * g.OH * g.OW * g.O, 3);
  const x = tensor(xd, xs), w = tensor(wd, ws), dy = tensor(dyd, [g.N, g.OH, g.OW, g.O]);
  const K = g.KH * g.KW * g.C, P = g.N * g.OH * g.OW;
  const tol = (k: number) => ({ atol: 2 * k * 2 ** -24, rtol: 2 * k * 2 ** -24 });
  // validate first
  const yRef = ref.forward(xd, wd, g);
  const fwds = [['tiled', conv2dForwardGeom(x, w, g, undefined, false, tiles)]] as [string, Tensor][];
  if (only !== 'fwd') fwds.push(['naive', conv2dNaive(x, w, opts)]);
  for (const [name, y] of fwds) {
    assertClose(`${name} forward`, await y.read(), yRef, tol(K));
    y.dispose();
  }
  const flops = 2 * P * g.O * K;
  if (only === 'fwd') {
    await time('forward tiled', flops, () => conv2dForwardGeom(x, w, g, undefined, false, tiles));
    return e.destroy();
  }
  const dx = backwardInputGeom(dy, w, g, undefined, tiles);
  assertClose('backward input', await dx.read(), ref.backwardInput(dyd, wd, g), tol(g.KH * g.KW * g.O));
  const r = backwardWeightGeom(x, dy, g, true, undefined, tiles);
  assertClose('backward weight', await r.dw.read(), ref.backwardWeight(xd, dyd, g), tol(P));
  [dx, r.dw, r.db!].forEach((t) => t.dispose());

  await time('forward tiled', flops, () => conv2dForwardGeom(x, w, g, undefined, false, tiles));
  await time('forward naive', flops, () => conv2dNaive(x, w, opts));
  await time('backward input (tiled)', flops, () => backwardInputGeom(dy, w, g, undefined, tiles));
  await time('backward weight+bias (split-K)', flops, () => {
    const o = backwardWeightGeom(x, dy, g, true, undefined, tiles);
    return [o.dw, o.db!];
  });
  e.destroy();
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
