// Matmul autotuning: time the candidates of choose.ts on this device for one
// product shape and remember the fastest for the shape's bucket (runtime/autotune.ts persists
// it). Explicit and async, because ops are synchronous: call it once before training (or let
// tuneMatmulsIn find the products of a step); afterwards matmul/bmm and their backward products
// pick the remembered kernel synchronously, in this process and in later ones.
//
// Every candidate is validated before it is timed: on integer data in {-1, 0, 1} every sum is
// exact in f32 in any order, so each kernel must reproduce the shared-memory kernel's result
// bit for bit. A kernel that does not (e.g. if a device broke the subgroup kernel's quad
// assumption) is reported and never chosen.

import { engine } from '../../runtime/engine.js';
import { loadTuning, remember, ternary, validateAndTime, type CandidateTiming } from '../../runtime/autotune.js';
import { empty, tensor, type Tensor } from '../../tensor/tensor.js';
import { recordProblems, runnableCandidates, tunedKernel, tuneKeyOf } from '../../runtime/select.js';
import {
  SHARED_DEFAULT,
  dispatchGemm,
  kernelName,
  kernelProblem,
  pipelineSpec,
  type Gemm,
  type MatmulKernel,
} from './kernels.js';
import { MATMUL } from './choose.js';

/**
 * Options of {@link tuneMatmul}: transposes and bmm batch of the problem, the variants to try, timed
 * samples per variant (default 5), and `force` to time again.
 */
export interface TuneMatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** batch of a bmm (default 1) */
  batch?: number;
  /** variants to try (default: the candidates of choose.ts that run on this device) */
  candidates?: MatmulKernel[];
  /** timed samples per variant (median; default 5) */
  samples?: number;
  /** time again even if a choice is remembered for this bucket */
  force?: boolean;
}

/**
 * Result of {@link tuneMatmul}: the bucket's key, the chosen kernel, whether it was remembered rather
 * than timed, and each variant's timing.
 */
export interface TuneResult {
  /** the bucket's key (adapter, transposes, alignment, sizes) */
  key: string;
  kernel: MatmulKernel;
  /** true when the choice was remembered and nothing was timed */
  cached: boolean;
  /** per variant: median ms, or why it was rejected */
  timings: CandidateTiming[];
}

/** Pick (and remember) the fastest matmul kernel for op(a) [M,K] . op(b) [K,N] on this device. */
export async function tuneMatmul(M: number, N: number, K: number, opts: TuneMatmulOptions = {}): Promise<TuneResult> {
  const e = engine();
  await loadTuning();
  const g: Gemm = { M, N, K, batch: opts.batch ?? 1, ta: !!opts.transA, tb: !!opts.transB };
  if (![M, N, K, g.batch].every((v) => Number.isInteger(v) && v > 0))
    throw new RangeError(
      `webgpu-cnn: tuneMatmul: sizes must be positive integers, got M=${M} N=${N} K=${K} batch=${g.batch}`,
    );
  const key = tuneKeyOf(MATMUL, g, e);
  const known = tunedKernel(MATMUL, g, e);
  if (known && !opts.force) return { key, kernel: known, cached: true, timings: [] };

  const list = (opts.candidates ?? runnableCandidates(MATMUL, g, e)).filter((k) => !kernelProblem(k, e));
  if (!list.length) throw new RangeError('webgpu-cnn: tuneMatmul: no candidate kernel can run on this device');
  // compile every pipeline first, concurrently, so that no timing includes a compile
  await Promise.all([SHARED_DEFAULT, ...list].map((k) => e.queue.pipelines.getAsync(pipelineSpec(k, g))));
  const a = tensor(ternary(g.batch * M * K, 1), [g.batch * M * K]);
  const b = tensor(ternary(g.batch * K * N, 2), [g.batch * K * N]);
  const run = (k: MatmulKernel): Tensor => {
    const c = empty([g.batch * M * N]);
    dispatchGemm(
      k,
      g,
      {
        buffers: { a: a.buffer, b: b.buffer, bias: a.buffer, c: c.buffer },
        sa: M * K,
        sb: K * N,
        hasBias: false,
        relu: false,
      },
      'tuneMatmul',
    );
    return c;
  };
  let result: { timings: CandidateTiming[]; best: MatmulKernel | null };
  try {
    result = await validateAndTime(e, SHARED_DEFAULT, list, run, kernelName, opts.samples ?? 5);
  } finally {
    a.dispose();
    b.dispose();
  }
  const { timings, best } = result;
  if (!best) throw new Error(`webgpu-cnn: tuneMatmul: every candidate failed validation: ${JSON.stringify(timings)}`);
  await remember(key, kernelName(best));
  return { key, kernel: best, cached: false, timings };
}

/** Run `f` (e.g. one training step), then tune every matmul/bmm product it ran (forward and backward). */
export async function tuneMatmulsIn(
  f: () => unknown,
  opts: Omit<TuneMatmulOptions, 'transA' | 'transB' | 'batch'> = {},
): Promise<TuneResult[]> {
  const out: TuneResult[] = [];
  for (const g of await recordProblems(MATMUL, f))
    out.push(await tuneMatmul(g.M, g.N, g.K, { ...opts, transA: g.ta, transB: g.tb, batch: g.batch }));
  return out;
}
