// Runs the benchmark: the roofline, then every selected case: set up, validate ours and the
// peers' outputs against the reference, and only then time them. A case whose output fails
// validation is reported 'invalid' and is not timed; a case that throws or raises a WebGPU
// error is reported 'error'. Used by the CLI and the page alike.
//
// Peers: TensorFlow.js on our GPUDevice (timed like ours), and jax-js on a device of its own
// on the same adapter (peer-jax.ts). jax-js is timed with the wall clock; where ours was timed
// with timestamps it is timed again with the wall clock, so the jax/ours ratio compares like
// with like. A jax-js run's WebGPU errors happen on its device, outside our error scopes: its
// output still has to pass the same validation before it is timed.

import { engine } from '../src/runtime/engine.js';
import { allCases, selectCases } from './cases.js';
import { initTfjs, type TF } from './peer-tfjs.js';
import { initJax, JAX_VERSION, type JAX } from './peer-jax.js';
import { measureRoofline } from './roofline.js';
import { measure } from './timing.js';
import type {
  BenchCase,
  BenchOptions,
  CaseResult,
  Impl,
  ImplResult,
  Method,
  Prepared,
  Report,
  Roofline,
} from './types.js';

export const DEFAULTS = { iters: 30, warmup: 3, budgetMs: 1500 } as const;

export interface Hooks {
  /** progress text ("roofline…", "matmul/tiled/256 (3/12)") */
  onStatus?(msg: string): void;
  /** a case finished */
  onResult?(r: CaseResult, index: number, total: number): void;
}

async function captureErrors<T>(device: GPUDevice, fn: () => Promise<T>): Promise<T> {
  device.pushErrorScope('internal');
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T | undefined, failure: unknown;
  try {
    result = await fn();
  } catch (e) {
    failure = e;
  }
  const errs: string[] = [];
  for (const kind of ['validation', 'out-of-memory', 'internal']) {
    const err = await device.popErrorScope();
    if (err) errs.push(`WebGPU ${kind} error: ${err.message}`);
  }
  if (errs.length) throw new Error(errs.join('\n') + (failure ? `\n(and: ${(failure as Error).message})` : ''));
  if (failure) throw failure;
  return result as T;
}

function metrics(
  c: Pick<BenchCase, 'flops' | 'bytes'>,
  ms: number,
  roof: Roofline | null,
): Pick<ImplResult, 'gflops' | 'gbps' | 'roofPct'> {
  const out: Pick<ImplResult, 'gflops' | 'gbps' | 'roofPct'> = {};
  if (c.flops) out.gflops = c.flops / (ms * 1e6);
  if (c.bytes) out.gbps = c.bytes / (ms * 1e6);
  if (roof) {
    const tRoof = Math.max(c.flops / (roof.gflops * 1e9), c.bytes / (roof.gbps * 1e9));
    out.roofPct = (100 * tRoof) / (ms / 1e3);
  }
  return out;
}

/** Validate one implementation (run once, read back, compare); time it only if valid. */
async function runImpl(
  c: BenchCase,
  p: Prepared,
  impl: Impl,
  method: Method,
  o: Required<Pick<BenchOptions, 'iters' | 'warmup' | 'budgetMs'>>,
  roof: Roofline | null,
): Promise<ImplResult> {
  const device = engine().device;
  try {
    return await captureErrors(device, async () => {
      // The validation run is the implementation's first: for whole training steps its wall
      // time (run, submit, read the outputs back) is the cold first step, compiles included
      // (pipelines an earlier case of the same run compiled are warm: run the case alone for
      // the cold figure).
      const t0 = performance.now();
      await impl.prepare?.();
      impl.run();
      impl.submit();
      const out = await impl.read();
      const firstMs = c.wallClock ? performance.now() - t0 : undefined;
      const check = p.validate(out);
      if (!check.ok) return { status: 'invalid', check, firstMs } as ImplResult;
      const timing = await measure(device, impl, { ...o, method: c.wallClock ? 'wall' : method });
      return { status: 'ok', check, timing, firstMs, ...metrics(c, timing.ms, roof) };
    });
  } catch (e) {
    return { status: 'error', error: (e as Error).message };
  }
}

export async function runCase(
  c: BenchCase,
  tf: TF | null,
  method: Method,
  o: Required<Pick<BenchOptions, 'iters' | 'warmup' | 'budgetMs'>>,
  roof: Roofline | null,
  jax: JAX | null = null,
): Promise<CaseResult> {
  const r: CaseResult = {
    id: c.id,
    kernel: c.kernel,
    variant: c.variant,
    shape: c.shape,
    large: c.large,
    flops: c.flops,
    bytes: c.bytes,
    peerName: c.peer,
    ours: { status: 'error' },
  };
  if (jax && c.jax) r.jaxName = c.jax;
  const e = engine();
  let p: Prepared | null = null;
  try {
    p = await captureErrors(e.device, async () => c.setup({ tf: c.peer ? tf : null, jax: c.jax ? jax : null }));
  } catch (err) {
    r.ours = { status: 'error', error: `setup: ${(err as Error).message}` };
    return r;
  }
  try {
    r.ours = await runImpl(c, p, p.ours, method, o, roof);
    if (p.peer) r.peer = await runImpl(c, p, p.peer, method, o, roof);
    const a = r.ours.timing,
      b = r.peer?.timing;
    if (a && b && a.method === b.method) r.ratio = b.ms / a.ms;
    if (p.jax) {
      r.jax = await runImpl(c, p, p.jax, 'wall', o, roof);
      const j = r.jax.timing;
      if (a && j) {
        let wall = a;
        if (a.method !== 'wall') {
          const ours = p.ours;
          wall = r.oursWall = await captureErrors(e.device, () => measure(e.device, ours, { ...o, method: 'wall' }));
        }
        r.jaxRatio = j.ms / wall.ms;
      }
    }
  } finally {
    p.ours.dispose();
    p.peer?.dispose();
    p.jax?.dispose();
    p.dispose();
    // Give freed buffers back to the device between cases (big shapes would pile up).
    await e.sync();
    e.flush();
    e.pool.trim();
  }
  return r;
}

export async function runBench(opts: BenchOptions = {}, hooks: Hooks = {}): Promise<Report> {
  const e = engine();
  const o = {
    iters: opts.iters ?? DEFAULTS.iters,
    warmup: opts.warmup ?? DEFAULTS.warmup,
    budgetMs: opts.budgetMs ?? DEFAULTS.budgetMs,
  };
  const method: Method = !opts.wall && e.features.has('timestamp-query') ? 'timestamp' : 'wall';
  const cases = selectCases(allCases(), opts.filter, opts.large, e.features);
  if (cases.length === 0)
    throw new Error(
      `bench: no case matches filter '${opts.filter ?? ''}'${opts.large ? '' : ' (large cases need --large)'}`,
    );
  let tf: TF | null = null;
  if (opts.peers !== false) {
    hooks.onStatus?.('starting TensorFlow.js (webgpu backend)…');
    tf = await initTfjs();
  }
  let jax: JAX | null = null,
    jaxError: string | null = null;
  if (opts.peers !== false && opts.jax !== false && cases.some((c) => c.jax)) {
    hooks.onStatus?.('starting jax-js (webgpu backend)…');
    try {
      jax = await initJax();
    } catch (err) {
      jaxError = `jax-js did not start: ${(err as Error).message}`;
      hooks.onStatus?.(jaxError);
    }
  }
  hooks.onStatus?.('measuring the roofline (FMA peak, copy bandwidth)…');
  let roofline: Roofline | null = null;
  try {
    roofline = await captureErrors(e.device, () => measureRoofline(e.device, method));
  } catch (err) {
    hooks.onStatus?.(`roofline failed: ${(err as Error).message}`);
  }
  const report: Report = {
    tool: 'webgpu-cnn bench',
    date: new Date().toISOString(),
    runtime: e.info.runtime,
    userAgent:
      typeof navigator !== 'undefined' && navigator.userAgent
        ? navigator.userAgent
        : `node ${typeof process !== 'undefined' ? process.version : ''}`,
    adapter: e.info,
    method,
    peer: tf ? { name: 'tfjs-backend-webgpu', version: tf.version_core, sharedDevice: true } : null,
    jax: jax
      ? { name: '@jax-js/jax', version: JAX_VERSION, sharedDevice: false }
      : jaxError
        ? { error: jaxError }
        : null,
    roofline,
    options: { ...opts, ...o },
    results: [],
  };
  for (let i = 0; i < cases.length; i++) {
    hooks.onStatus?.(`${cases[i].id} (${i + 1}/${cases.length})`);
    const r = await runCase(cases[i], tf, method, o, roofline, jax);
    report.results.push(r);
    hooks.onResult?.(r, i, cases.length);
  }
  // Measure the roofline again and keep the better of the two: on a shared machine (and on
  // SwiftShader, which is the CPU) one measurement can land in a busy moment. %roof is then
  // recomputed against the final ceilings.
  if (roofline && cases.length > 1) {
    hooks.onStatus?.('measuring the roofline again…');
    try {
      const again = await captureErrors(e.device, () => measureRoofline(e.device, method));
      roofline = {
        ...roofline,
        gflops: Math.max(roofline.gflops, again.gflops),
        gbps: Math.max(roofline.gbps, again.gbps),
      };
      report.roofline = roofline;
      for (const r of report.results)
        for (const x of [r.ours, r.peer, r.jax]) if (x?.timing) Object.assign(x, metrics(r, x.timing.ms, roofline));
    } catch (err) {
      hooks.onStatus?.(`second roofline measurement failed: ${(err as Error).message}`);
    }
  }
  return report;
}
