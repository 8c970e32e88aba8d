// Which pooling kernel runs: the declaration read by chooseKernel (runtime/select.ts), the
// benchmark and the tests.
//   scalar  shaders/pool2d/pool2d.wgsl: a thread per output value, any window, stride, padding
//   vec4    shaders/pool2d/vec4.wgsl: a thread moves 4 channels as vec4 (about 4x fewer loads
//           on CPU adapters, coalesced on GPUs), for non-overlapping windows without padding
//           over C % 4 == 0 channels, every window inside the input (forward); the backward
//           also needs the windows to tile the input exactly (it scatters, writing each dx cell
//           once). 'same' padding with stride = kernel can have no top/left padding and still
//           hang the last windows over the bottom/right edge (OH·KH > H): vec4 does not apply.
// Defaults: vec4 where it applies, on every adapter class.

import type { KernelFamily } from '../../runtime/select.js';
import type { PoolGeometry } from './geometry.js';

/**
 * A pooling kernel: 'scalar' (a thread per output value; any window, stride and padding) or 'vec4' (4
 * channels per thread; needs C % 4 == 0 and non-overlapping, unpadded windows of at most 16 cells
 * inside the input).
 */
export type Pool2dKernel = 'scalar' | 'vec4';

/** A pooling problem: the geometry and the pass (the max backward through argmax, avg scatter). */
export interface PoolProblem {
  g: PoolGeometry;
  pass: 'forward' | 'backward';
}

function vec4Problem({ g, pass }: PoolProblem): string | null {
  if (g.C % 4 !== 0) return 'needs C % 4 == 0';
  if (g.SH !== g.KH || g.SW !== g.KW || g.PT !== 0 || g.PL !== 0)
    return 'needs non-overlapping windows without padding';
  if (g.OH * g.KH > g.H || g.OW * g.KW > g.W) return 'every window must lie inside the input';
  if (g.KH * g.KW > 16) return 'windows of at most 16 cells';
  if (pass === 'backward' && (g.H !== g.OH * g.KH || g.W !== g.OW * g.KW))
    return 'the backward needs windows that tile the input';
  return null;
}

const best = (p: PoolProblem): Pool2dKernel => (vec4Problem(p) === null ? 'vec4' : 'scalar');

/**
 * The pooling kernel family for {@link chooseKernel}: 'vec4' wherever it applies (on every adapter
 * class), else 'scalar'.
 */
export const POOL2D: KernelFamily<PoolProblem, Pool2dKernel> = {
  name: 'pool2d',
  candidates: () => ['vec4', 'scalar'],
  problem: (k, p) => (k === 'vec4' ? vec4Problem(p) : null),
  defaults: { cpu: best, gpu: best },
  key: ({ g, pass }) => `pool2d|${pass}|${g.N}x${g.H}x${g.W}x${g.C}|k${g.KH}x${g.KW}|s${g.SH}x${g.SW}|p${g.PT}x${g.PL}`,
  format: (k) => k,
  parse: (s) => (s === 'vec4' || s === 'scalar' ? s : null),
};
