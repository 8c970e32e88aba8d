// Which matmul kernel runs a product: the declaration read by chooseKernel (the rule, in
// runtime/select.ts), the autotuner (tune.ts), the benchmark and the tests. The kernels
// themselves: kernels.ts.
//
// Defaults: on GPUs the shared-memory kernel (no GPU measurements yet); on CPU adapters
// (SwiftShader) the subgroup kernel (subgroup32 for products of 32 rows or more), or the
// register kernel without the 'subgroups' feature: ~2.7x and ~1.7x the shared kernel's GFLOP
// per CPU-second there (docs/performance.md).

import type { Engine } from '../../runtime/engine.js';
import { chooseKernel, type KernelFamily } from '../../runtime/select.js';
import {
  aligned,
  kernelName,
  kernelProblem,
  parseKernel,
  QUICK,
  SHARED_DEFAULT,
  type Gemm,
  type MatmulKernel,
} from './kernels.js';

const bucket = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(n, 1)));

/** The CPU adapters' default; small products get smaller workgroups. */
function cpuDefault(g: Gemm, e: Engine): MatmulKernel {
  const kind = e.features.has('subgroups') ? 'subgroup' : 'register';
  // fewer than ~4 workgroups of 8x8 invocations: 16 invocations keep both the cores busy and
  // idle lanes few. A workgroup is no taller than the product (an invocation owns 16 rows):
  // 8x8 invocations on a 64-row product would leave half of them without rows (measured: the
  // LeNet dense layer's dX, 64 x 3136 x 128, took 2.4x the time of its forward).
  // With subgroups, 32 rows per invocation once the product has them: half the loads per
  // multiply-add of 16 rows (matmul 1024 on SwiftShader: 8.0 -> 9.0 GFLOP/s in Chromium,
  // 5.1 -> 5.8-6.1 in Node).
  const k32 = kind === 'subgroup' && g.M >= 32;
  const rows = Math.ceil(g.M / (k32 ? 32 : 16));
  const blocks = rows * Math.ceil(g.N / 8) * g.batch;
  const threads = blocks < 256 ? 16 : 64;
  const wgY = Math.min(threads / 4, bucket(rows));
  return { kind: k32 ? 'subgroup32' : kind, wgX: threads / wgY, wgY };
}

/**
 * The matmul kernel family for {@link chooseKernel} and the tuners: its candidates, per-adapter
 * defaults and tuning key (transposes, alignment and power-of-two size buckets).
 */
export const MATMUL: KernelFamily<Gemm, MatmulKernel> = {
  name: 'matmul',
  // a handful: each is a pipeline compile when tuning
  candidates: () => [
    SHARED_DEFAULT,
    { kind: 'register', wgX: 8, wgY: 8 },
    { kind: 'register', wgX: 4, wgY: 4 },
    { kind: 'subgroup', wgX: 8, wgY: 8 },
    { kind: 'subgroup', wgX: 4, wgY: 4 },
    { kind: 'subgroup32', wgX: 8, wgY: 8 },
    { kind: 'subgroup32', wgX: 4, wgY: 4 },
    QUICK,
  ],
  problem: (k, _g, e) => kernelProblem(k, e),
  defaults: { cpu: cpuDefault, gpu: () => SHARED_DEFAULT },
  // transposes, alignment, power-of-two size buckets
  key(g) {
    const { va, vb } = aligned(g);
    return `matmul|t${+g.ta}${+g.tb}|v${+va}${+vb}|${bucket(g.M)}x${bucket(g.N)}x${bucket(g.K)}x${bucket(g.batch)}`;
  },
  format: kernelName,
  parse: parseKernel,
  quick: () => QUICK,
};

/** The kernel for g: `forced` (already checked by the op) or the rule's choice. */
export function matmulKernelFor(g: Gemm, forced?: MatmulKernel): MatmulKernel {
  return forced ?? chooseKernel(MATMUL, g);
}
