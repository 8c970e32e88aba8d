// Which kernel walks the rows of softmax, softmax cross-entropy and the softmax backward: the
// declaration read by chooseKernel (runtime/select.ts), the benchmark and the tests.
//   row     a thread walks each row (no barriers, no workgroup memory)
//   block   a workgroup per row, tree reductions in workgroup memory
// Both give the same results up to summation order, for any number of classes.
// Defaults: 'row' on CPU adapters, where a workgroup barrier runs each 4-lane group as a
// coroutine (256 rows x 1000 classes: 21.8 ms with a workgroup per row, 5.8 ms with a thread
// per row, Node on SwiftShader); on GPUs 'row' up to 32 classes, else 'block'.

import { chooseKernel, type KernelFamily } from '../../runtime/select.js';

/**
 * How softmax, softmax cross-entropy and their backward walk the rows: 'row' (one thread per row) or
 * 'block' (one workgroup per row, reductions in workgroup memory).
 */
export type SoftmaxKernel = 'row' | 'block';
/** The ops' `kernel` option. */
export type SoftmaxKernelChoice = 'auto' | SoftmaxKernel;

/** Rows of a softmax problem: N rows of K classes. */
export interface SoftmaxRows {
  N: number;
  K: number;
}

const ROW_THREAD_MAX_K = 32;
const bucket = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(n, 1)));

/**
 * The softmax kernel family for {@link chooseKernel}: defaults to 'row' on CPU adapters, and on GPUs
 * to 'row' up to 32 classes, else 'block'.
 */
export const SOFTMAX: KernelFamily<SoftmaxRows, SoftmaxKernel> = {
  name: 'softmax',
  candidates: () => ['row', 'block'],
  problem: () => null,
  defaults: { cpu: () => 'row', gpu: (p) => (p.K > ROW_THREAD_MAX_K ? 'block' : 'row') },
  key: (p) => `softmax|${bucket(p.N)}x${bucket(p.K)}`,
  format: (k) => k,
  parse: (s) => (s === 'row' || s === 'block' ? s : null),
};

/** The kernel for N rows of K classes, given the op's option. */
export function softmaxKernelFor(N: number, K: number, requested?: SoftmaxKernelChoice): SoftmaxKernel {
  return chooseKernel(SOFTMAX, { N, K }, requested);
}
