// Where the time of a captured LeNet training step goes: the step (bench/lenet.ts's network,
// SGD momentum) is captured once, then each recorded command is replayed alone, submitted and
// waited for, `reps` times; the table gives the median wall and CPU time per command and per
// op. Not the benchmark (no peer, per-command submits add ~0.1 ms each): a map of the step for
// kernel work. Batch and reps from the command line.
//   node dist-node/profile-step.mjs [batch=64] [reps=3] [fast|quick]
import { initNodeGPU } from '../test/harness/node-gpu.js';
import { engine } from '../src/runtime/engine.js';
import { lenet } from '../src/nn/presets.js';
import { SGD } from '../src/optim/optimizers.js';
import { TrainStep } from '../src/train/step.js';
import { softmaxCrossEntropy } from '../src/ops/loss/index.js';
import { initParams, makeBatch, LR, MOMENTUM, PARAM_NAMES } from '../bench/lenet.js';
import type { Command } from '../src/runtime/queue.js';

const B = Number(process.argv[2] ?? 64);
const reps = Number(process.argv[3] ?? 3);
// 'fast' (default): the kernels a warm step runs; 'quick': a tiered start's first steps
const tier = process.argv[4] === 'quick' ? 'quick' : 'wait';
await initNodeGPU();
const e = engine();
const model = lenet();
const params = model.parameters();
const p0 = initParams();
PARAM_NAMES.forEach((n, i) => params[i].write(p0[n]));
const optimizer = new SGD(params, { lr: LR, momentum: MOMENTUM });
const step = new TrainStep({
  model,
  optimizer,
  loss: softmaxCrossEntropy,
  inputShape: [B, 28, 28, 1],
  capture: true,
  coldStart: tier,
});
const { x, labels } = makeBatch(B);
const log0 = e.queue.pipelines.log.length,
  t0 = performance.now();
step.run(x, labels);
e.flush();
await e.device.queue.onSubmittedWorkDone();
// the first step compiled its pipelines one by one (cold start: scripts/cold-start.ts has the
// whole story, in Node and Chromium, with prepare() and the peers)
const compiles = e.queue.pipelines.log.slice(log0);
console.log(
  `first step ${(performance.now() - t0).toFixed(0)} ms: ${compiles.length} pipelines compiled, ` +
    `${compiles.reduce((s, c) => s + c.ms, 0).toFixed(0)} ms (shader modules ${compiles.reduce((s, c) => s + c.moduleMs, 0).toFixed(0)} ms)`,
);
const cmds = (step as unknown as { plan: { commands: readonly Command[] } }).plan.commands;

const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const rows: { name: string; wall: number; cpu: number }[] = [];
for (const c of cmds) {
  const name =
    c.kind === 'copy' ? `copy ${c.size} B` : `${c.op} ${c.pipeline.shader}.${c.pipeline.entry.name} [${c.workgroups}]`;
  const wall: number[] = [],
    cpu: number[] = [];
  for (let r = 0; r < reps + 1; r++) {
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    e.queue.replay([c]);
    e.flush();
    await e.device.queue.onSubmittedWorkDone();
    const cu = process.cpuUsage(c0);
    if (r > 0) wall.push(performance.now() - t0), cpu.push((cu.user + cu.system) / 1000);
  }
  rows.push({ name, wall: med(wall), cpu: med(cpu) });
}
// the whole step, replayed as one submit
const whole: number[] = [];
for (let r = 0; r < reps; r++) {
  const t0 = performance.now();
  e.queue.replay(cmds);
  e.flush();
  await e.device.queue.onSubmittedWorkDone();
  whole.push(performance.now() - t0);
}
const total = rows.reduce((s, r) => s + r.wall, 0);
console.log(
  `batch ${B}: ${cmds.length} commands; sum of parts ${total.toFixed(1)} ms wall, whole step ${med(whole).toFixed(1)} ms`,
);
for (const r of rows)
  console.log(
    `${r.wall.toFixed(2).padStart(9)} ms ${r.cpu.toFixed(1).padStart(8)} cpu-ms ${((100 * r.wall) / total).toFixed(1).padStart(5)}%  ${r.name}`,
  );
// by kernel, in CPU time: SwiftShader runs in this process, so its CPU time is the steadier
// measure on a shared machine (wall time grows with other load)
const byOp = new Map<string, number>();
for (const r of rows) {
  const k = r.name.split(' [')[0];
  byOp.set(k, (byOp.get(k) ?? 0) + r.cpu);
}
const totalCpu = rows.reduce((s, r) => s + r.cpu, 0);
console.log(`\nby kernel (CPU time, ${totalCpu.toFixed(0)} cpu-ms in all):`);
for (const [k, v] of [...byOp].sort((a, b) => b[1] - a[1]))
  console.log(`${v.toFixed(1).padStart(9)} cpu-ms ${((100 * v) / totalCpu).toFixed(1).padStart(5)}%  ${k}`);
process.exit(0);
