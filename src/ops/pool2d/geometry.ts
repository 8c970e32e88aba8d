// Pooling geometry: option parsing and validation, output shapes. Shared by the ops (index.ts)
// and the float64 references (reference.ts). No GPU work here.
//
// Padding: 'valid' (none), 'same' (TensorFlow: OH = ceil(H / SH), total padding split with the
// extra cell at the bottom/right), a number, or [ph, pw] (symmetric). Padding must be smaller
// than the kernel so that every window holds at least one input cell (PyTorch asks for at most
// half the kernel; we only need non-empty windows). Every window lies inside the padded input
// (floor mode: PyTorch's ceil_mode=False), so countIncludePad divides by exactly KH*KW.

import { shapeStr, type Shape } from '../../tensor/tensor.js';
import { checkOptions, describe, optionKeys } from '../../tensor/args.js';

/**
 * Options of the pooling ops and layers ({@link maxPool2d}, {@link avgPool2d}): window size, stride,
 * and padding ('valid', the default; 'same' as in TensorFlow; a number or [ph, pw] smaller than the
 * kernel).
 */
export interface Pool2dOptions {
  kernel: number | [number, number];
  /** defaults to the kernel (non-overlapping windows) */
  stride?: number | [number, number];
  padding?: 'valid' | 'same' | number | [number, number];
  /**
   * average pooling only: divide every window by KH*KW, padded cells included (PyTorch's
   * count_include_pad=True, its default), instead of by the cells inside the input (false, the
   * default here: TensorFlow's rule, and what files saved before this option mean). Without
   * padding both are the same.
   */
  countIncludePad?: boolean;
}

const POOL_KEYS = optionKeys<Pool2dOptions>({ kernel: true, stride: true, padding: true, countIncludePad: true });

/** Refuse unknown keys (a misspelt `{ strides: 2 }`) and a non-boolean countIncludePad; `where` names the caller. */
export function checkPoolOptions(where: string, opts: unknown): void {
  checkOptions(where, 'opts', opts, POOL_KEYS);
  const c = (opts as Pool2dOptions | undefined)?.countIncludePad;
  if (c !== undefined && typeof c !== 'boolean')
    throw new TypeError(`webgpu-cnn: ${where}: 'countIncludePad' must be a boolean, got ${describe(c)}`);
}

/** Resolved geometry: everything the kernels and references need. */
export interface PoolGeometry {
  N: number;
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  /** padding before the first row / column (after the last is implied by OH, OW) */
  PT: number;
  PL: number;
  /** average pooling divides by KH*KW (padding counted) instead of the cells inside the input */
  countIncludePad: boolean;
}

function pair(op: string, arg: string, v: number | readonly number[], min: number): [number, number] {
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= min))
    throw new RangeError(
      `webgpu-cnn: ${op}: '${arg}' must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`,
    );
  return [p[0], p[1]];
}

/** Output size and padding of a pooling window over an NHWC shape; validates everything. */
export function poolGeometry(op: string, xShape: Shape, opts: Pool2dOptions, xName = 'x'): PoolGeometry {
  if (xShape.length !== 4)
    throw new RangeError(`webgpu-cnn: ${op}: '${xName}' must have shape [N,H,W,C], got ${shapeStr(xShape)}`);
  checkPoolOptions(op, opts);
  if (!opts || opts.kernel === undefined) throw new TypeError(`webgpu-cnn: ${op}: option 'kernel' is required`);
  const [N, H, W, C] = xShape;
  const [KH, KW] = pair(op, 'kernel', opts.kernel, 1);
  const [SH, SW] = opts.stride === undefined ? [KH, KW] : pair(op, 'stride', opts.stride, 1);
  const pad = opts.padding ?? 'valid';
  let OH: number, OW: number, PT: number, PL: number;
  if (pad === 'same') {
    OH = Math.ceil(H / SH);
    OW = Math.ceil(W / SW);
    PT = Math.floor(Math.max((OH - 1) * SH + KH - H, 0) / 2);
    PL = Math.floor(Math.max((OW - 1) * SW + KW - W, 0) / 2);
  } else {
    const [ph, pw] = pad === 'valid' ? [0, 0] : pair(op, 'padding', pad as number | [number, number], 0);
    if (ph >= KH || pw >= KW)
      throw new RangeError(
        `webgpu-cnn: ${op}: 'padding' [${ph},${pw}] must be smaller than the kernel [${KH},${KW}] (a window must hold an input cell)`,
      );
    if (H + 2 * ph < KH || W + 2 * pw < KW)
      throw new RangeError(
        `webgpu-cnn: ${op}: kernel [${KH},${KW}] is larger than the padded input ${shapeStr(xShape)} (padding [${ph},${pw}])`,
      );
    OH = Math.floor((H + 2 * ph - KH) / SH) + 1;
    OW = Math.floor((W + 2 * pw - KW) / SW) + 1;
    PT = ph;
    PL = pw;
  }
  if (opts.countIncludePad !== undefined && typeof opts.countIncludePad !== 'boolean')
    throw new TypeError(
      `webgpu-cnn: ${op}: 'countIncludePad' must be true or false, got ${JSON.stringify(opts.countIncludePad)}`,
    );
  return { N, H, W, C, OH, OW, KH, KW, SH, SW, PT, PL, countIncludePad: opts.countIncludePad ?? false };
}

/**
 * Output shape [N, OH, OW, C] of pooling an NHWC input of shape `xShape` with `opts`. Throws a
 * RangeError or TypeError on a non-4-D shape or invalid options.
 */
export function pool2dOutputShape(xShape: Shape, opts: Pool2dOptions): [number, number, number, number] {
  const g = poolGeometry('pool2d', xShape, opts);
  return [g.N, g.OH, g.OW, g.C];
}
