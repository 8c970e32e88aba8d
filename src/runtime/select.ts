// Kernel selection: the one way every op family chooses among its kernels (conv2d's forward,
// input-gradient and weight-gradient passes, matmul, softmax, pooling). Each family declares
// the same four things in one place, its `choose.ts` (src/ops/<family>/choose.ts):
//
//   candidates(p)   the kernels worth trying for problem p: what the autotuner times, the
//                   benchmark sweeps and the tests run
//   problem(k, p)   why kernel k cannot run p on this engine, or null: when each candidate applies
//   defaults        the untuned choice for each adapter class (a missing class does not compile)
//   key(p)          the tuning key of p (adapterKey is prefixed here, so a choice made on one
//                   adapter or feature set never applies to another)
//   quick(p)        optional: the kernel that compiles fastest (small loops, geometry in
//                   uniforms), run while the fast kernels compile (tiered start)
//
// and how a kernel is written as a string (`format` / `parse`: tuning store, options, labels).
//
// The rule (chooseKernel), the same for every family:
//   1. a kernel the caller asked for (an op option, or setKernel for the whole family), when it
//      applies; otherwise the caller's request is dropped for this problem;
//   2. inside withQuickKernels (a tiered start's first steps, src/train/step.ts): the family's
//      quick kernel, when it declares one and it applies;
//   3. else the autotuner's remembered choice for this adapter and key, when it applies;
//   4. else the family's default for this adapter class (which must apply).
// Nothing is timed on first use: tuning is explicit (tuneConv2d, tuneMatmul, ...).
//
// This file knows no kernel: it only holds the declarations' shape and the rule.

import { engine, type Engine } from './engine.js';
import { adapterKey, ShapeRecorder, tuned } from './autotune.js';

/**
 * The adapter classes whose kernel defaults differ. 'cpu': WebGPU/Vulkan implementations that
 * run compute shaders on the CPU (SwiftShader, llvmpipe/lavapipe, WARP, anything describing
 * itself as a software renderer); there workgroup barriers and loads dominate. 'gpu': the rest.
 */
export type AdapterClass = 'cpu' | 'gpu';

const CPU_ADAPTER = /swiftshader|llvmpipe|lavapipe|\bwarp\b|software/i;

/** The class of `e`'s adapter, from its reported vendor, architecture, device and description. */
export function adapterClass(e: Engine = engine()): AdapterClass {
  const i = e.info;
  return CPU_ADAPTER.test(`${i.vendor} ${i.architecture} ${i.device} ${i.description}`) ? 'cpu' : 'gpu';
}

/** True when the adapter runs compute shaders on the CPU (adapterClass(e) === 'cpu'). */
export function isCpuAdapter(e: Engine = engine()): boolean {
  return adapterClass(e) === 'cpu';
}

/** One op family's kernels: P is the problem (shape, geometry), K a kernel of the family. */
export interface KernelFamily<P, K> {
  /** 'conv2d.forward', 'matmul', ...: the name in options, errors and setKernel */
  readonly name: string;
  candidates(p: P, e: Engine): K[];
  problem(k: K, p: P, e: Engine): string | null;
  readonly defaults: { readonly [C in AdapterClass]: (p: P, e: Engine) => K };
  key(p: P): string;
  format(k: K): string;
  parse(s: string): K | null;
  /** the kernel that compiles fastest, for the first steps of a tiered start (rule step 2) */
  readonly quick?: (p: P, e: Engine) => K;
}

let quickDepth = 0;

/**
 * Run `f` (synchronous) with every family that declares a quick kernel choosing it (rule step
 * 2): what a tiered start records its first steps with while the fast kernels compile. Public
 * for forward passes outside a TrainStep (a prediction while the fast kernels compile):
 * `withQuickKernels(() => softmax(model.forward(x)))`. Explicit kernel options still win.
 */
export function withQuickKernels<T>(f: () => T): T {
  quickDepth++;
  try {
    return f();
  } finally {
    quickDepth--;
  }
}

const overrides = new Map<string, string>();
const recorders = new Map<string, ShapeRecorder<unknown>>();

/**
 * Ask for one kernel (by its formatted name) for every call of a family that does not pass its
 * own, or 'auto' to go back to the rule. For benchmarks and tests; a kernel that cannot run a
 * problem is not used for it (step 1 of the rule).
 */
export function setKernel<P, K>(family: KernelFamily<P, K>, name: string): void {
  if (name === 'auto') overrides.delete(family.name);
  else if (family.parse(name) === null)
    throw new TypeError(`webgpu-cnn: setKernel: ${JSON.stringify(name)} is not a kernel of ${family.name}`);
  else overrides.set(family.name, name);
}

/** The name setKernel gave the family, or 'auto'. */
export function getKernel<P, K>(family: KernelFamily<P, K>): string {
  return overrides.get(family.name) ?? 'auto';
}

/** Full tuning key of p: adapter and features, then the family's own key. */
export function tuneKeyOf<P, K>(family: KernelFamily<P, K>, p: P, e: Engine = engine()): string {
  return `${adapterKey(e)}|${family.key(p)}`;
}

/** The remembered kernel for p, if any and it can run here. */
export function tunedKernel<P, K>(family: KernelFamily<P, K>, p: P, e: Engine = engine()): K | null {
  const t = tuned(tuneKeyOf(family, p, e));
  const k = t === undefined ? null : family.parse(t);
  return k !== null && family.problem(k, p, e) === null ? k : null;
}

/** The default kernel for p on this adapter class. */
export function defaultKernel<P, K>(family: KernelFamily<P, K>, p: P, e: Engine = engine()): K {
  return family.defaults[adapterClass(e)](p, e);
}

/** The kernel that runs p: the rule in the file comment. `requested` may be a kernel or its name. */
export function chooseKernel<P, K>(family: KernelFamily<P, K>, p: P, requested?: K | string): K {
  const e = engine();
  recorders.get(family.name)?.note(
    () => family.key(p),
    () => p,
  );
  const ask = requested === undefined || requested === 'auto' ? overrides.get(family.name) : requested;
  const k = typeof ask === 'string' ? family.parse(ask) : ask;
  if (k !== null && k !== undefined && family.problem(k, p, e) === null) return k;
  if (quickDepth > 0 && family.quick) {
    const q = family.quick(p, e);
    if (family.problem(q, p, e) === null) return q;
  }
  return tunedKernel(family, p, e) ?? defaultKernel(family, p, e);
}

/** The candidates of p that can run here, each once (by name), in the family's order. */
export function runnableCandidates<P, K>(family: KernelFamily<P, K>, p: P, e: Engine = engine()): K[] {
  const seen = new Set<string>();
  return family.candidates(p, e).filter((k) => {
    const n = family.format(k);
    if (seen.has(n) || family.problem(k, p, e) !== null) return false;
    seen.add(n);
    return true;
  });
}

/** Run f and return each distinct problem (by key) that chose a kernel of `family` meanwhile. */
export function recordProblems<P, K>(family: KernelFamily<P, K>, f: () => unknown): Promise<P[]> {
  let r = recorders.get(family.name);
  if (!r) recorders.set(family.name, (r = new ShapeRecorder<unknown>()));
  return r.record(f) as Promise<P[]>;
}

/** Check an op's kernel option: undefined, 'auto', or the name of a kernel of the family. */
export function checkKernelOption<P, K>(op: string, family: KernelFamily<P, K>, v: unknown, examples: string): void {
  if (v === undefined || v === 'auto') return;
  if (typeof v === 'string' && family.parse(v) !== null) return;
  throw new TypeError(
    `webgpu-cnn: ${op}: 'kernel' must be 'auto' or a ${family.name} kernel (${examples}), got ${JSON.stringify(v)}`,
  );
}
