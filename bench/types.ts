// The shape of a benchmark: what a case is, what running it produces. Shared by the Node CLI
// (scripts/bench.ts) and the page (bench/page.ts); nothing here touches the GPU.

import type { AdapterSummary } from '../src/runtime/device.js';

/** One implementation of a case (ours or a peer's), ready to run on already-uploaded inputs. */
export interface Impl {
  /** Optional warm-up before the first run (ours: TrainStep.prepare, the pipelines compiled at once); part of the first run's time */
  prepare?(): Promise<void>;
  /** Record one execution. Must not read back or wait; it may submit (peers do). */
  run(): void;
  /** Submit what `run` recorded (ours: engine flush; tfjs: its command queue). */
  submit(): void;
  /** Read back the output of the last `run` (for validation; never inside the timed loop). */
  read(): Promise<Float32Array>;
  dispose(): void;
  /**
   * Implementations on a device of their own (jax-js): resolves when the last run's work is
   * done. Such an implementation is always timed with the wall clock, and `submit` may leave
   * the dispatch to `wait`. Absent: the work is on the engine's device.
   */
  wait?(): Promise<void>;
}

/** Result of comparing an output with the reference. */
export interface Check {
  ok: boolean;
  /** what the output was compared with, e.g. 'float64 reference' */
  against: string;
  /** elements compared / output size (compared < size: a seeded random sample, see reference.ts) */
  compared: number;
  size: number;
  maxAbs: number;
  maxRel: number;
  /** first failing element, if any */
  worst?: { index: number; got: number; want: number; tol: number };
}

/** A case set up on the GPU: inputs uploaded, our implementation and the peer's, one validator. */
export interface Prepared {
  ours: Impl;
  /** the TensorFlow.js equivalent on the same inputs (absent when tfjs is off or has none) */
  peer?: Impl;
  /** the jax-js equivalent (absent when jax-js is off or the case has none) */
  jax?: Impl;
  /** compare an output (ours or the peer's) with the reference */
  validate(out: Float32Array): Check;
  dispose(): void;
}

export interface SetupContext {
  /** TensorFlow.js, initialised on the engine's device; null when peers are off */
  tf: typeof import('@tensorflow/tfjs-core') | null;
  /** jax-js with its WebGPU backend started (its own device); null when off or for this case */
  jax: typeof import('@jax-js/jax') | null;
}

export interface BenchCase {
  /** unique id: kernel/variant/shape */
  id: string;
  kernel: string;
  /** 'naive' | 'tiled' | a tuned variant name | 'op' (the public op, whatever it dispatches) */
  variant: string;
  /** human-readable shape */
  shape: string;
  /** too slow for SwiftShader: runs only with --large (or ?large=1 on the page) */
  large: boolean;
  /** a device feature the case needs (e.g. 'subgroups'); skipped on devices without it */
  requires?: string;
  /** false: the kernel cannot run this case on the current device (checked after init; skipped) */
  available?: () => boolean;
  /** useful floating-point operations per run (multiply-add = 2) */
  flops: number;
  /** minimum bytes a run must move to/from memory (each input read once, each output written once) */
  bytes: number;
  /** time with the wall clock even where timestamps exist (whole training steps: host time matters) */
  wallClock?: boolean;
  /** tfjs equivalent, in words (empty: no peer) */
  peer: string;
  /** jax-js equivalent, in words (absent or empty: none) */
  jax?: string;
  setup(ctx: SetupContext): Prepared | Promise<Prepared>;
}

export type Method = 'timestamp' | 'wall';

export interface Timing {
  method: Method;
  /** median milliseconds per run */
  ms: number;
  /** milliseconds per run, every timed iteration */
  samples: number[];
  warmup: number;
  /** timestamps only: their granularity in ns (largest power of two dividing all of them, up to 2^20) */
  quantumNs?: number;
}

export interface ImplResult {
  status: 'ok' | 'invalid' | 'error';
  /**
   * wall-clock cases (training steps): ms of the first run (run, submit, read back), compiles
   * included: the cold first step when nothing earlier in the run compiled its pipelines
   */
  firstMs?: number;
  check?: Check;
  timing?: Timing;
  gflops?: number;
  gbps?: number;
  /** % of the roofline: max(flops/peakFlops, bytes/peakBandwidth) / measured time */
  roofPct?: number;
  error?: string;
}

export interface CaseResult {
  id: string;
  kernel: string;
  variant: string;
  shape: string;
  large: boolean;
  flops: number;
  bytes: number;
  peerName: string;
  ours: ImplResult;
  peer?: ImplResult;
  /** peer ms / our ms (same timing method on both sides); > 1: we are faster */
  ratio?: number;
  jaxName?: string;
  jax?: ImplResult;
  /**
   * ours timed again with the wall clock, for the jax-js ratio (present when ours was timed with
   * timestamps: jax-js runs on a device of its own, so only the wall clock sees both)
   */
  oursWall?: Timing;
  /** jax-js ms / our ms, both by the wall clock; > 1: we are faster */
  jaxRatio?: number;
}

export interface Roofline {
  /** measured peak of an FMA-only kernel, GFLOP/s */
  gflops: number;
  /** measured bandwidth of a copy kernel, GB/s (read + write bytes) */
  gbps: number;
  method: Method;
  fmaCheck: Check;
  copyCheck: Check;
}

export interface BenchOptions {
  /** substring or /regex/ over case ids */
  filter?: string;
  large?: boolean;
  /** timed iterations (upper bound; see budgetMs) */
  iters?: number;
  warmup?: number;
  /** time budget per implementation and case; fewer iterations when a run is slow (at least 3) */
  budgetMs?: number;
  /** run the peers, TensorFlow.js and jax-js (default true) */
  peers?: boolean;
  /** run the jax-js peer (default: as `peers`) */
  jax?: boolean;
  /** force wall-clock timing even where timestamp queries exist */
  wall?: boolean;
}

export interface Report {
  tool: 'webgpu-cnn bench';
  date: string;
  runtime: 'node' | 'browser';
  userAgent: string;
  adapter: AdapterSummary;
  /** 'timestamp' when the device has timestamp-query (kernels), else 'wall' */
  method: Method;
  peer: { name: string; version: string; sharedDevice: boolean } | null;
  /** the jax-js peer: on the same adapter, its own device; `error` when it could not start */
  jax: { name: string; version: string; sharedDevice: false } | { error: string } | null;
  roofline: Roofline | null;
  options: BenchOptions;
  results: CaseResult[];
}
