// Cold start of the LeNet training step (bench/lenet.ts's network, SGD momentum): what a user
// meets first. Times, from a process or page that has compiled nothing yet:
//   build    the model, the optimizer and the TrainStep (weights uploaded)
//   prepare  TrainStep.prepare(): the planning pass and the concurrent compiles (mode 'prepare')
//            (mode 'tiered', the default: none; the first step runs on the quick kernels)
//   first    the first run() (records the step, compiles on cache misses in mode 'sync') and
//            the wait for its loss
//   cold     build + prepare + first: the "first training step"
//   steady   the median of the next steps (run + read the loss), as the benchmark times them
// and every pipeline compile (pipelines.ts keeps a log: sync or async, ms, shader-module ms).
// `isolatedCompiles` compiles the same pipelines one at a time on a fresh GPUDevice, so each
// gets its own time (in Chromium createComputePipeline returns at once and the compile happens
// in the GPU process; only the async form's promise shows how long it takes).
//
// Peers, in the same process or page: jax-js (jit of valueAndGrad + momentum, its first call
// traces and compiles) and tfjs-webgpu (optimizer.minimize; compiles its programs on first use).
// Their "first" is from building the step to its first result on the host side.
//
// Shared by scripts/cold-start.ts (Node, and Chromium through bench/cold.html).

import { lenet } from '../src/nn/presets.js';
import { SGD } from '../src/optim/optimizers.js';
import { TrainStep } from '../src/train/step.js';
import { softmaxCrossEntropy } from '../src/ops/loss/index.js';
import { engine } from '../src/runtime/engine.js';
import { PipelineCache, type CompileRecord, type PipelineSpec } from '../src/runtime/pipelines.js';
import { initParams, LR, makeBatch, MOMENTUM, PARAM_NAMES } from './lenet.js';
import { jaxLenetStep } from './lenet-jax.js';
import { tfjsLenetStep } from './lenet-tfjs.js';
import { initJax } from './peer-jax.js';
import { initTfjs } from './peer-tfjs.js';

export interface ColdResult {
  who: 'ours' | 'jax-js' | 'tfjs';
  mode?: ColdMode;
  /** library start-up (device, backend), not part of `cold` */
  initMs?: number;
  buildMs: number;
  prepareMs?: number;
  /** ours: the planning pass inside prepare */
  planMs?: number;
  /** the first step: run (and, ours in 'sync' mode, its compiles) until its result is back */
  firstMs: number;
  /** ours: the synchronous part of the first run (recording, sync compiles) */
  recordMs?: number;
  /** build + prepare + first */
  coldMs: number;
  /** ours: the kernels the first step ran ('quick' when tiered) */
  firstKernels?: 'quick' | 'fast' | null;
  /** ours, tiered: median of the steps on the quick kernels, the samples, steps run before the fast kernels were ready */
  quickMs?: number;
  quickSamples?: number[];
  quickSteps?: number;
  /** ours, tiered: from build to the fast kernels compiled */
  fastReadyMs?: number;
  /** median of `steadySteps` later steps (tiered: after the switch to the fast kernels) */
  steadyMs: number;
  steadySamples: number[];
  /** ours: pipelines compiled from build to the end of the first step, and their log */
  pipelines?: number;
  compiles?: CompileRecord[];
  /** ours: the pipelines of the step (for isolatedCompiles) */
  specs?: PipelineSpec[];
  error?: string;
}

const now = () => performance.now();
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];

export type ColdMode = 'sync' | 'prepare' | 'tiered';

/**
 * Our step, cold. 'sync': coldStart 'wait', the first step straight away (it compiles the fast
 * kernels on its cache misses); 'prepare': coldStart 'wait', `await step.prepare()` first;
 * 'tiered' (the default a user gets): the first step straight away on the quick kernels, the
 * fast ones compiling in the background. Tiered also reports the quick steps' time, when the
 * fast kernels were ready (from build), and the steady step after the switch.
 */
export async function oursCold(B: number, mode: ColdMode, steadySteps = 5): Promise<ColdResult> {
  const e = engine();
  const cache = e.queue.pipelines;
  const log0 = cache.log.length;
  const p0 = initParams(),
    { x, labels } = makeBatch(B);
  const t0 = now();
  const model = lenet();
  const params = model.parameters();
  PARAM_NAMES.forEach((n, i) => params[i].write(p0[n]));
  const optimizer = new SGD(params, { lr: LR, momentum: MOMENTUM });
  const step = new TrainStep({
    model,
    optimizer,
    loss: softmaxCrossEntropy,
    inputShape: [B, 28, 28, 1],
    coldStart: mode === 'tiered' ? 'tiered' : 'wait',
  });
  const t1 = now();
  let prepareMs: number | undefined, planMs: number | undefined;
  if (mode === 'prepare') {
    const info = await step.prepare();
    planMs = info.planMs;
    prepareMs = now() - t1;
  }
  const t2 = now();
  step.run(x, labels);
  const recordMs = now() - t2;
  const loss = await step.readLoss();
  const t3 = now();
  if (!Number.isFinite(loss)) throw new Error(`cold start: the first step's loss is ${loss}`);
  const firstKernels = step.kernels;
  const compiles = cache.log.slice(log0);
  const step1 = async () => {
    const s0 = now();
    step.run(x, labels);
    await step.readLoss();
    return now() - s0;
  };
  // tiered: steps on the quick kernels while the fast ones compile, then wait for them
  const quickSamples: number[] = [];
  let fastReadyMs: number | undefined, quickSteps: number | undefined;
  if (mode === 'tiered') {
    for (let i = 0; i < 3 && step.kernels === 'quick'; i++) quickSamples.push(await step1());
    await step.prepare({ wait: 'fast' });
    fastReadyMs = now() - t0;
    quickSteps = step.steps;
    await step1(); // the re-capture with the fast kernels
    if (step.kernels !== 'fast') throw new Error(`cold start: after the switch the step runs ${step.kernels} kernels`);
  }
  const specs = step.pipelineSpecs(); // a planning pass: nothing compiled or run
  const steadySamples: number[] = [];
  for (let i = 0; i < steadySteps; i++) steadySamples.push(await step1());
  step.dispose();
  optimizer.dispose();
  model.dispose();
  return {
    who: 'ours',
    mode,
    buildMs: t1 - t0,
    prepareMs,
    planMs,
    recordMs,
    firstMs: t3 - t2,
    coldMs: t3 - t0,
    firstKernels,
    quickMs: quickSamples.length ? median(quickSamples) : undefined,
    quickSamples,
    quickSteps,
    fastReadyMs,
    steadyMs: median(steadySamples),
    steadySamples,
    pipelines: compiles.length,
    compiles,
    specs,
  };
}

/**
 * A peer's step, cold: `make` builds it (timed as build), then the first `step()` (its
 * compiles) and `steadySteps` more, each until its result is back.
 */
async function peerCold(
  who: 'jax-js' | 'tfjs',
  initMs: number,
  make: () => { step(): Promise<void>; dispose(): void },
  steadySteps: number,
): Promise<ColdResult> {
  const t0 = now();
  const impl = make();
  const t1 = now();
  await impl.step();
  const t2 = now();
  const steadySamples: number[] = [];
  for (let i = 0; i < steadySteps; i++) {
    const s0 = now();
    await impl.step();
    steadySamples.push(now() - s0);
  }
  impl.dispose();
  return {
    who,
    initMs,
    buildMs: t1 - t0,
    firstMs: t2 - t1,
    coldMs: t2 - t0,
    steadyMs: median(steadySamples),
    steadySamples,
  };
}

/** jax-js, cold (its first call traces, fuses and compiles the jitted step). */
export async function jaxCold(B: number, steadySteps = 3): Promise<ColdResult> {
  const i0 = now();
  const jax = await initJax();
  const initMs = now() - i0;
  const p0 = initParams(),
    { x, labels } = makeBatch(B);
  return peerCold(
    'jax-js',
    initMs,
    () => {
      const impl = jaxLenetStep(jax, B, p0, x, labels);
      return {
        step: async () => {
          impl.run();
          await impl.wait!();
        },
        dispose: () => impl.dispose(),
      };
    },
    steadySteps,
  );
}

/** tfjs-webgpu on the engine's device, cold (programs compile on first use). */
export async function tfjsCold(B: number, steadySteps = 2): Promise<ColdResult> {
  const i0 = now();
  const tf = await initTfjs();
  const initMs = now() - i0;
  const p0 = initParams(),
    { x, labels } = makeBatch(B);
  const dev = engine().device;
  return peerCold(
    'tfjs',
    initMs,
    () => {
      const impl = tfjsLenetStep(tf, B, p0, x, labels);
      return {
        step: async () => {
          impl.run();
          impl.submit();
          await dev.queue.onSubmittedWorkDone();
        },
        dispose: () => impl.dispose(),
      };
    },
    steadySteps,
  );
}

export interface IsolatedCompile {
  key: string;
  /** createShaderModule (0 when the module was made for an earlier pipeline) */
  moduleMs: number;
  /** createComputePipelineAsync until its promise resolves, nothing else compiling */
  pipelineMs: number;
  /** the WGSL of its module, lines (includes resolved) */
  lines: number;
}

/**
 * Compile `specs` one at a time on `device` (a fresh one: Dawn and SwiftShader cache pipelines
 * per device), then all at once on `device2` (fresh too) for the concurrent wall time.
 */
export async function isolatedCompiles(
  device: GPUDevice,
  device2: GPUDevice | null,
  specs: PipelineSpec[],
  code: (shader: string) => string,
): Promise<{ each: IsolatedCompile[]; serialMs: number; concurrentMs?: number }> {
  const cache = new PipelineCache(device);
  const each: IsolatedCompile[] = [];
  const t0 = now();
  for (const s of specs) {
    await cache.getAsync(s);
    const r = cache.log[cache.log.length - 1];
    each.push({ key: r.key, moduleMs: r.moduleMs, pipelineMs: r.ms, lines: code(s.shader).split('\n').length });
  }
  const serialMs = now() - t0;
  let concurrentMs: number | undefined;
  if (device2) {
    const c2 = new PipelineCache(device2);
    const t1 = now();
    await c2.prepare(specs);
    concurrentMs = now() - t1;
  }
  return { each, serialMs, concurrentMs };
}

/** A new GPUDevice on a new adapter of `gpu`, with the engine's features (no shared caches). */
export async function freshDevice(gpu: GPU): Promise<GPUDevice> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('cold start: no second adapter');
  const requiredFeatures = [...engine().features].filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  return adapter.requestDevice({ requiredFeatures, requiredLimits: engine().info.limits });
}

/** The LeNet step's pipelines at batch B, from a planning pass (nothing compiled). */
export function lenetStepSpecs(B: number): PipelineSpec[] {
  const model = lenet();
  const optimizer = new SGD(model.parameters(), { lr: LR, momentum: MOMENTUM });
  const step = new TrainStep({ model, optimizer, loss: softmaxCrossEntropy, inputShape: [B, 28, 28, 1] });
  try {
    return step.pipelineSpecs();
  } finally {
    step.dispose();
    optimizer.dispose();
    model.dispose();
  }
}
