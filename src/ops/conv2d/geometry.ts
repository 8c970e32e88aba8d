// conv2d geometry: option parsing and validation, output shapes, weight layout conversion.
// Shared by the kernels (index.ts, tiled.ts, direct.ts) and the float64 references
// (reference.ts). No GPU work here.
//
// Layouts: x [N,H,W,C] (NHWC), w [KH,KW,C,O] (HWIO), y [N,OH,OW,O].
// Padding: 'valid' = 0; a number or [ph,pw] = symmetric zero padding (PyTorch's padding=p);
// [[top,bottom],[left,right]] = explicit, possibly asymmetric, zero padding (PyTorch's
// nn.ZeroPad2d before the conv); 'same' = TensorFlow's rule, OH = ceil(H/stride), total padding
// max((OH-1)*s + (KH-1)*d + 1 - H, 0) with the odd pixel at the bottom/right (for stride 1 that
// is PyTorch's padding='same' too). Kernels only need the top/left padding: the bottom/right
// side is implied by OH/OW and the bounds checks.

import { shapeStr, type Shape } from '../../tensor/tensor.js';

/** Stride, padding and dilation of a conv2d; a pair is [height, width], a number is both. */
export interface Conv2dGeomOptions {
  /** default 1 */
  stride?: number | readonly [number, number];
  /**
   * default 'valid' (none); a number or [ph, pw]: that many zeros on both sides; explicit
   * [[top, bottom], [left, right]]; 'same': TensorFlow's rule, OH = ceil(H / stride)
   */
  padding?:
    | 'valid'
    | 'same'
    | number
    | readonly [number, number]
    | readonly [readonly [number, number], readonly [number, number]];
  /** default 1 */
  dilation?: number | readonly [number, number];
}

/** Every number a conv2d kernel needs. pt/pl: top/left padding. */
export interface ConvGeometry {
  N: number;
  H: number;
  W: number;
  C: number;
  O: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  OH: number;
  OW: number;
}

/**
 * The largest stride, dilation or padding accepted: 32-bit index arithmetic in the kernels
 * (offset = oh*stride - pad + kh*dilation) stays exact for any tensor a device can hold. Beyond
 * it (dilation 2**32) the kernels would wrap and compute wrong values.
 */
export const MAX_GEOM = 65535;

function pair(op: string, name: string, v: unknown, def: number, min: number): [number, number] {
  if (v === undefined) return [def, def];
  const arr = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(arr) || arr.length !== 2)
    throw new TypeError(`webgpu-cnn: ${op}: '${name}' must be a number or [number, number], got ${JSON.stringify(v)}`);
  for (const n of arr)
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > MAX_GEOM)
      throw new RangeError(
        `webgpu-cnn: ${op}: '${name}' must be ${min > 0 ? 'a positive' : 'a non-negative'} integer <= ${MAX_GEOM} (or a pair of them), got ${JSON.stringify(v)}`,
      );
  return [arr[0], arr[1]];
}

function checkShape4(op: string, name: string, s: Shape, legend: string): void {
  if (s?.length !== 4)
    throw new RangeError(`webgpu-cnn: ${op}: '${name}' must have rank 4 ${legend}, got shape ${shapeStr(s ?? [])}`);
  for (const d of s)
    if (!Number.isInteger(d) || d < 1)
      throw new RangeError(
        `webgpu-cnn: ${op}: '${name}' ${legend} must have positive integer dimensions, got ${shapeStr(s)}`,
      );
}

/** Validate shapes and options and compute the geometry. Errors name the op and the argument. */
export function convGeometry(
  op: string,
  xShape: Shape,
  wShape: Shape,
  opts: Conv2dGeomOptions = {},
  names = { x: 'x', w: 'w' },
): ConvGeometry {
  checkShape4(op, names.x, xShape, '[N,H,W,C]');
  checkShape4(op, names.w, wShape, '[KH,KW,C,O]');
  const [N, H, W, C] = xShape;
  const [KH, KW, WC, O] = wShape;
  if (WC !== C)
    throw new RangeError(
      `webgpu-cnn: ${op}: '${names.w}' must have shape [KH,KW,${C},O] to match x's ${C} channels, got ${shapeStr(wShape)}`,
    );
  const [sh, sw] = pair(op, 'stride', opts.stride, 1, 1);
  const [dh, dw] = pair(op, 'dilation', opts.dilation, 1, 1);
  const ekh = (KH - 1) * dh + 1,
    ekw = (KW - 1) * dw + 1; // effective (dilated) kernel
  let pt: number, pl: number, OH: number, OW: number;
  const padding = opts.padding ?? 'valid';
  if (padding === 'same') {
    OH = Math.ceil(H / sh);
    OW = Math.ceil(W / sw);
    pt = Math.floor(Math.max((OH - 1) * sh + ekh - H, 0) / 2);
    pl = Math.floor(Math.max((OW - 1) * sw + ekw - W, 0) / 2);
  } else {
    if (typeof padding === 'string' && padding !== 'valid')
      throw new TypeError(
        `webgpu-cnn: ${op}: 'padding' must be 'valid', 'same', a number, [ph, pw] or [[top, bottom], [left, right]], got '${padding}'`,
      );
    const [[top, pb], [left, pr]] = sidePadding(op, padding);
    pt = top;
    pl = left;
    if (H + pt + pb < ekh || W + pl + pr < ekw)
      throw new RangeError(
        `webgpu-cnn: ${op}: kernel ${KH}x${KW}${dh > 1 || dw > 1 ? ` (dilated to ${ekh}x${ekw})` : ''} is larger than the padded input ` +
          `${H + pt + pb}x${W + pl + pr} (x ${shapeStr(xShape)}, padding ${JSON.stringify(padding)})`,
      );
    OH = Math.floor((H + pt + pb - ekh) / sh) + 1;
    OW = Math.floor((W + pl + pr - ekw) / sw) + 1;
  }
  return { N, H, W, C, O, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW };
}

/** 'valid', a number, [ph, pw] or [[t, b], [l, r]] as [[top, bottom], [left, right]] (validated). */
export function sidePadding(op: string, padding: unknown): [[number, number], [number, number]] {
  if (padding === 'valid')
    return [
      [0, 0],
      [0, 0],
    ];
  if (Array.isArray(padding) && padding.length === 2 && padding.every(Array.isArray)) {
    const [t, b] = pair(op, 'padding[0]', padding[0], 0, 0);
    const [l, r] = pair(op, 'padding[1]', padding[1], 0, 0);
    return [
      [t, b],
      [l, r],
    ];
  }
  const [ph, pw] = pair(op, 'padding', padding, 0, 0);
  return [
    [ph, ph],
    [pw, pw],
  ];
}

/** Output shape [N,OH,OW,O] of conv2d(x, w, opts) (validates like conv2d does). */
export function conv2dOutputShape(
  xShape: Shape,
  wShape: Shape,
  opts: Conv2dGeomOptions = {},
): [number, number, number, number] {
  const g = convGeometry('conv2dOutputShape', xShape, wShape, opts);
  return [g.N, g.OH, g.OW, g.O];
}

/** The uniform fields every conv2d kernel shares (names as in the WGSL structs). */
export function geometryUniforms(g: ConvGeometry): Record<string, number> {
  return {
    N: g.N,
    H: g.H,
    W: g.W,
    C: g.C,
    O: g.O,
    OH: g.OH,
    OW: g.OW,
    KH: g.KH,
    KW: g.KW,
    stride_h: g.sh,
    stride_w: g.sw,
    pad_t: g.pt,
    pad_l: g.pl,
    dil_h: g.dh,
    dil_w: g.dw,
  };
}

function checkLayout(op: string, data: ArrayLike<number>, shape: readonly number[], legend: string): void {
  if (!Array.isArray(shape) || shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d < 1))
    throw new RangeError(
      `webgpu-cnn: ${op}: shape must be ${legend} with positive integers, got ${JSON.stringify(shape)}`,
    );
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  if (data.length !== n)
    throw new RangeError(`webgpu-cnn: ${op}: shape ${shapeStr(shape)} holds ${n} elements, data has ${data.length}`);
}

/** PyTorch weights [O,I,KH,KW] to our HWIO [KH,KW,I,O]. */
export function oihwToHwio(data: ArrayLike<number>, shape: readonly [number, number, number, number]): Float32Array {
  checkLayout('oihwToHwio', data, shape, '[O,I,KH,KW]');
  const [O, I, KH, KW] = shape;
  const out = new Float32Array(data.length);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let kh = 0; kh < KH; kh++)
        for (let kw = 0; kw < KW; kw++) out[((kh * KW + kw) * I + i) * O + o] = data[((o * I + i) * KH + kh) * KW + kw];
  return out;
}

/** Our HWIO [KH,KW,I,O] back to PyTorch's [O,I,KH,KW]. */
export function hwioToOihw(data: ArrayLike<number>, shape: readonly [number, number, number, number]): Float32Array {
  checkLayout('hwioToOihw', data, shape, '[KH,KW,I,O]');
  const [KH, KW, I, O] = shape;
  const out = new Float32Array(data.length);
  for (let kh = 0; kh < KH; kh++)
    for (let kw = 0; kw < KW; kw++)
      for (let i = 0; i < I; i++)
        for (let o = 0; o < O; o++) out[((o * I + i) * KH + kh) * KW + kw] = data[((kh * KW + kw) * I + i) * O + o];
  return out;
}
