// The kernel fuzzer's driver: splits a number of cases over the families (conv.ts, pool.ts,
// matmul.ts, softmax.ts, pointwise.ts, optim.ts), draws each case from its own seeded stream, runs it
// under the test harness's WebGPU error capture (a validation, out-of-memory or internal error
// fails the case, as in every suite), checks that it disposed every tensor it made, and
// collects failures with their parameters, so any one can be replayed alone (runOne).
// Used by scripts/kernel-fuzz.ts (thousands of cases) and test/suites/kernel-fuzz.suite.ts.

import { createRng, mixSeed } from '../../src/data/rng.js';
import { engine } from '../../src/runtime/engine.js';
import { bucketSize } from '../../src/runtime/pool.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { runCase } from '../harness/gpu-case.js';
import { Bag, takeWorstRatio, type Family, type Mismatch } from './core.js';
import { convFamilies } from './conv.js';
import { poolFamilies } from './pool.js';
import { matmulFamilies } from './matmul.js';
import { softmaxFamilies } from './softmax.js';
import { pointwiseFamilies } from './pointwise.js';
import { optimFamilies } from './optim.js';

// biome-ignore lint/suspicious/noExplicitAny: families of different parameter types in one list
export const FAMILIES: readonly Family<any>[] = [
  ...convFamilies,
  ...poolFamilies,
  ...matmulFamilies,
  ...softmaxFamilies,
  ...pointwiseFamilies,
  ...optimFamilies,
];

export interface Failure extends Partial<Mismatch> {
  family: string;
  /** index of the case within its family's stream */
  case: number;
  params: unknown;
  /** an exception or WebGPU error instead of (or besides) a wrong value */
  error?: string;
}

export interface FuzzSummary {
  seed: number;
  cases: number;
  ms: number;
  /**
   * per family: the cases, failures, time, the largest |error| / tolerance of any passing
   * element (how much headroom the tolerances leave), and the kernels (shader.entry) it
   * dispatched, with counts
   */
  byFamily: Record<
    string,
    { cases: number; failed: number; ms: number; worstErrorToTolerance: number; kernels: Record<string, number> }
  >;
  failures: Failure[];
}

export interface FuzzOptions {
  /** cases in all, split evenly over the selected families */
  cases: number;
  seed: number;
  /** family names, or prefixes before a '.' ('conv' selects conv.forward, conv.inputGrad, ...) */
  only?: string[];
  /** one line per family as it finishes */
  log?: (line: string) => void;
  caseTimeoutMs?: number;
}

/** The families `only` names (all when empty); an unknown name throws, listing the known ones. */
export function selectFamilies(only: readonly string[] = []): Family[] {
  for (const o of only)
    if (!FAMILIES.some((f) => f.name === o || f.name.startsWith(`${o}.`)))
      throw new RangeError(`kernel-fuzz: unknown family '${o}' (families: ${FAMILIES.map((f) => f.name).join(', ')})`);
  return FAMILIES.filter((f) => !only.length || only.some((o) => f.name === o || f.name.startsWith(`${o}.`)));
}

/** A 32-bit hash of a family name: its stream does not depend on which other families run. */
function nameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Family i's share of `cases` split over `families`. */
export const split = (cases: number, families: number, i: number): number =>
  Math.floor(cases / families) + (i < cases % families ? 1 : 0);

/** The parameters of case `k` of `family` for `seed`. */
export function drawCase(family: Family, seed: number, k: number): unknown {
  return family.draw(createRng(mixSeed(seed, nameHash(family.name), k)));
}

/** Every pool bucket up to 512 KB (the cases' tensors are smaller), 3 buffers of each. */
const POISON_BYTES = [...new Set(Array.from({ length: 2048 }, (_, i) => bucketSize(256 * (i + 1))))].filter(
  (b) => b <= 1 << 19,
);
let nans: Float32Array | null = null;

/**
 * Fill free pool buffers with NaN before a case: tensors made by `tensor()` then have NaN past
 * their end (pooled buffers are larger), and `empty()` outputs start as NaN. A kernel that
 * reads past its input or leaves an output element unwritten shows up as NaN instead of
 * passing on stale, often identical, data from an earlier case.
 */
function poisonPool(): void {
  nans ??= new Float32Array((1 << 19) / 4).fill(NaN);
  const ts: Tensor[] = [];
  for (const b of POISON_BYTES) for (let i = 0; i < 3; i++) ts.push(tensor(nans.subarray(0, b / 4)));
  for (const t of ts) t.dispose();
  engine().flush(); // released buffers become reusable after the submit (pool.ts)
}

/** Run one case; null when it passed. */
export async function runOne(
  family: Family,
  params: unknown,
  timeoutMs = 60_000,
): Promise<Omit<Failure, 'family' | 'case' | 'params'> | null> {
  const e = engine();
  const live = e.liveTensors;
  const bag = new Bag();
  poisonPool();
  let mismatch: Mismatch | null = null;
  try {
    await runCase({
      suite: 'kernel-fuzz',
      name: family.name,
      envs: ['node', 'browser'],
      timeoutMs,
      fn: async () => {
        try {
          mismatch = await family.run(params as never, bag);
        } finally {
          bag.dispose();
        }
      },
    });
  } catch (err) {
    return { error: (err as Error).message };
  }
  if (mismatch) return mismatch;
  if (e.liveTensors !== live) return { error: `${e.liveTensors - live} tensor(s) left alive after the case` };
  return null;
}

export async function runKernelFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const fams = selectFamilies(o.only);
  const failures: Failure[] = [];
  const byFamily: FuzzSummary['byFamily'] = {};
  const t0 = performance.now();
  for (const [fi, family] of fams.entries()) {
    const n = split(o.cases, fams.length, fi);
    const t1 = performance.now();
    let failed = 0,
      worst = 0;
    const kernels: Record<string, number> = {};
    const q = engine().queue,
      prev = q.afterDispatch;
    q.afterDispatch = (cmd) => {
      const k = `${cmd.pipeline.shader}.${cmd.pipeline.entry.name}`;
      kernels[k] = (kernels[k] ?? 0) + 1;
      prev?.(cmd);
    };
    try {
      for (let k = 0; k < n; k++) {
        const params = drawCase(family, o.seed, k);
        takeWorstRatio();
        const f = await runOne(family, params, o.caseTimeoutMs);
        if (f) failures.push({ family: family.name, case: k, params, ...f }), failed++;
        else worst = Math.max(worst, takeWorstRatio());
      }
    } finally {
      q.afterDispatch = prev;
    }
    const ms = Math.round(performance.now() - t1);
    byFamily[family.name] = { cases: n, failed, ms, worstErrorToTolerance: Number(worst.toPrecision(2)), kernels };
    o.log?.(
      `${family.name}: ${n} cases, ${failed} failed, ${ms} ms${n ? ` (${Math.round(ms / n)} ms/case)` : ''}, worst error ${worst.toPrecision(2)} of tolerance`,
    );
  }
  return { seed: o.seed, cases: o.cases, ms: Math.round(performance.now() - t0), byFamily, failures };
}
