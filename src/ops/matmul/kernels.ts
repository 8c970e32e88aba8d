// The matmul kernels and how each is dispatched. No autograd, no argument checks (index.ts),
// no choice (choose.ts), no timing (tune.ts).
//
//   shared   shaders/matmul/shared.wgsl    64x64 tiles staged in workgroup memory, 8x8 per thread
//   register shaders/matmul/register.wgsl  16x8 per thread from global memory, no barriers
//   subgroup shaders/matmul/subgroup.wgsl  as register, quads share A through quadBroadcast
//                                           (needs the 'subgroups' feature)
//   subgroup32 (same file)                  subgroup with 32 rows per invocation
//   quick    shaders/matmul/quick.wgsl     4x4 per thread in a plain loop, transposes as
//                                           uniforms: one pipeline, compiled in milliseconds
//                                           (the first steps of a tiered start)

import { engine, type Engine } from '../../runtime/engine.js';
import type { PooledBuffer } from '../../runtime/pool.js';
import type { PipelineSpec } from '../../runtime/pipelines.js';

/**
 * A matmul kernel variant and its workgroup shape (`wgX` x `wgY` invocations): 'shared' (tiles in
 * workgroup memory, tile depth `bk`), 'register', 'subgroup' and 'subgroup32' (need the 'subgroups'
 * feature), or 'quick' (compiles fastest).
 */
export type MatmulKernel =
  | { kind: 'shared'; wgX: number; wgY: number; bk: number }
  | { kind: 'register'; wgX: number; wgY: number }
  | { kind: 'subgroup'; wgX: number; wgY: number }
  /** subgroup with 32 rows per invocation (two 16-row blocks sharing each B load) */
  | { kind: 'subgroup32'; wgX: number; wgY: number }
  /** 4x4 per invocation, no unrolling: compiles fast (tiered start), runs ~3-5x slower */
  | { kind: 'quick'; wgX: number; wgY: number };

/** One product: c[z] = op(a[z]) . op(b[z]) for z < batch, op(a) [M,K], op(b) [K,N]. */
export interface Gemm {
  M: number;
  N: number;
  K: number;
  batch: number;
  ta: boolean;
  tb: boolean;
}

/** Stored operands and epilogue of one dispatch. */
export interface GemmArgs {
  buffers: { a: PooledBuffer; b: PooledBuffer; bias: PooledBuffer; c: PooledBuffer };
  /** batch strides in elements (0 broadcasts) */
  sa: number;
  sb: number;
  hasBias: boolean;
  relu: boolean;
}

export const SHARED_DEFAULT: MatmulKernel = { kind: 'shared', wgX: 8, wgY: 8, bk: 16 };
export const QUICK: MatmulKernel = { kind: 'quick', wgX: 8, wgY: 8 };

/** A kernel's name as tuning stores and reports show it, e.g. 'shared 8x8 bk16' or 'register 4x4'. */
export function kernelName(k: MatmulKernel): string {
  return k.kind === 'shared' ? `shared ${k.wgX}x${k.wgY} bk${k.bk}` : `${k.kind} ${k.wgX}x${k.wgY}`;
}

/** Inverse of kernelName; null for anything else (e.g. a stale cache entry). */
export function parseKernel(s: string): MatmulKernel | null {
  const m = /^(shared|register|subgroup|subgroup32|quick) (\d+)x(\d+)(?: bk(\d+))?$/.exec(s);
  if (!m || (m[1] === 'shared') !== (m[4] !== undefined)) return null;
  const [wgX, wgY] = [Number(m[2]), Number(m[3])];
  return m[1] === 'shared'
    ? { kind: 'shared', wgX, wgY, bk: Number(m[4]) }
    : { kind: m[1] as 'register' | 'subgroup' | 'subgroup32' | 'quick', wgX, wgY };
}

/** Why `k` cannot run on `e`, or null when it can. */
export function kernelProblem(k: MatmulKernel, e: Engine): string | null {
  const lim = e.device.limits;
  const { wgX, wgY } = k;
  if (![wgX, wgY].every((v) => Number.isInteger(v) && v > 0)) return 'workgroup sizes must be positive integers';
  if (wgX * wgY > lim.maxComputeInvocationsPerWorkgroup)
    return `wgX*wgY must be <= ${lim.maxComputeInvocationsPerWorkgroup}`;
  if (k.kind === 'shared') {
    if (!Number.isInteger(k.bk) || k.bk <= 0 || k.bk % 4 !== 0) return 'bk must be a positive multiple of 4';
    if (32 * k.bk * (wgX + wgY) > lim.maxComputeWorkgroupStorageSize)
      return `32*bk*(wgX+wgY) must be <= ${lim.maxComputeWorkgroupStorageSize} bytes`;
  }
  if (k.kind === 'subgroup' || k.kind === 'subgroup32') {
    if (!e.features.has('subgroups')) return "needs the 'subgroups' feature, which this device lacks";
    if (wgX % 4 !== 0) return 'wgX must be a multiple of 4 (quads run along x)';
  }
  return null;
}

export function checkKernel(k: MatmulKernel, op: string, what = 'kernel'): void {
  const why = kernelProblem(k, engine());
  if (why) throw new RangeError(`webgpu-cnn: ${op}: bad ${what} ${JSON.stringify(k)}: ${why}`);
}

/** Contiguous dimensions of the stored operands are multiples of 4 (vector loads). */
export function aligned(g: Gemm): { va: boolean; vb: boolean } {
  return { va: (g.ta ? g.M : g.K) % 4 === 0, vb: (g.tb ? g.K : g.N) % 4 === 0 };
}

/** Pipeline of `k` for `g` (also used to compile ahead of time). */
export function pipelineSpec(k: MatmulKernel, g: Gemm): PipelineSpec {
  const { va, vb } = aligned(g);
  // quick: transposes are uniforms (dispatchGemm), so every product shares one pipeline
  if (k.kind === 'quick')
    return { shader: 'matmul/quick', entry: 'matmul_quick', constants: { WG_X: k.wgX, WG_Y: k.wgY } };
  const c = { WG_X: k.wgX, WG_Y: k.wgY, TA: +g.ta, TB: +g.tb };
  // shared: alignment is a uniform (its loads branch on it); the others: override constants
  if (k.kind === 'shared') return { shader: 'matmul/shared', entry: 'matmul', constants: { ...c, BK: k.bk } };
  if (k.kind === 'subgroup32')
    return { shader: 'matmul/subgroup', entry: 'matmul_subgroup32', constants: { ...c, VA: +va, VB: +vb } };
  const entry = k.kind === 'subgroup' ? 'matmul_subgroup' : 'matmul_register';
  return { shader: `matmul/${k.kind}`, entry, constants: { ...c, VA: +va, VB: +vb } };
}

/** Record one dispatch of kernel `k` for product `g`. */
export function dispatchGemm(k: MatmulKernel, g: Gemm, args: GemmArgs, op: string): void {
  const { va, vb } = aligned(g);
  const spec = pipelineSpec(k, g);
  const uniforms: Record<string, number> = {
    M: g.M,
    N: g.N,
    K: g.K,
    sa: args.sa,
    sb: args.sb,
    sc: g.M * g.N,
    has_bias: +args.hasBias,
    relu: +args.relu,
  };
  if (k.kind === 'shared') Object.assign(uniforms, { va: +va, vb: +vb });
  if (k.kind === 'quick') Object.assign(uniforms, { ta: +g.ta, tb: +g.tb });
  // [columns, rows] of c per invocation
  const perThread =
    k.kind === 'shared' ? [8, 8] : k.kind === 'subgroup32' ? [8, 32] : k.kind === 'quick' ? [4, 4] : [8, 16];
  engine().queue.dispatch({
    ...spec,
    op,
    uniforms,
    buffers: args.buffers,
    workgroups: [Math.ceil(g.N / (perThread[0] * k.wgX)), Math.ceil(g.M / (perThread[1] * k.wgY)), g.batch],
  });
}
