// PyTorch layouts on the host: the conversions between PyTorch's weight layouts and ours, both
// ways (import: pytorch.ts, export: pytorch-export.ts).
//
// PyTorch stores conv weights OIHW [O,I,KH,KW] and linear weights [out,in]; this engine uses
// HWIO [KH,KW,I,O] and [in,out] (y = x·W + b). One more difference matters: PyTorch flattens
// NCHW feature maps in (C,H,W) order, we flatten NHWC in (H,W,C) order, so the linear layer
// right after a flatten also has its input rows permuted CHW -> HWC. See docs/io.md.
// (src/ops/conv2d.ts has oihwToHwio for the ops side; this file stays self-contained.)

function checkLen(fn: string, data: ArrayLike<number>, shape: readonly number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n)
    throw new RangeError(`webgpu-cnn: ${fn}: shape [${shape}] holds ${n} values, data has ${data.length}`);
}

/** Conv weight OIHW [O,I,KH,KW] (PyTorch) -> HWIO [KH,KW,I,O]. */
export function pytorchToHwio(
  data: ArrayLike<number>,
  [O, I, KH, KW]: readonly [number, number, number, number],
): Float32Array {
  checkLen('pytorchToHwio', data, [O, I, KH, KW]);
  const out = new Float32Array(data.length);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let y = 0; y < KH; y++)
        for (let x = 0; x < KW; x++) out[((y * KW + x) * I + i) * O + o] = data[((o * I + i) * KH + y) * KW + x];
  return out;
}

/** Conv weight HWIO [KH,KW,I,O] -> OIHW [O,I,KH,KW] (PyTorch), the inverse of pytorchToHwio. */
export function hwioToPytorch(
  data: ArrayLike<number>,
  [KH, KW, I, O]: readonly [number, number, number, number],
): Float32Array {
  checkLen('hwioToPytorch', data, [KH, KW, I, O]);
  const out = new Float32Array(data.length);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let y = 0; y < KH; y++)
        for (let x = 0; x < KW; x++) out[((o * I + i) * KH + y) * KW + x] = data[((y * KW + x) * I + i) * O + o];
  return out;
}

/** Linear weight [out,in] (PyTorch) -> [in,out]: a transpose. */
export function linearOutInToInOut(data: ArrayLike<number>, [out, inF]: readonly [number, number]): Float32Array {
  checkLen('linearOutInToInOut', data, [out, inF]);
  const r = new Float32Array(data.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) r[i * out + o] = data[o * inF + i];
  return r;
}

/** Linear weight [in,out] -> [out,in] (PyTorch), the inverse of linearOutInToInOut. */
export function linearInOutToOutIn(data: ArrayLike<number>, [inF, out]: readonly [number, number]): Float32Array {
  checkLen('linearInOutToOutIn', data, [inF, out]);
  return linearOutInToInOut(data, [inF, out]);
}

/**
 * Linear weight [out, C*H*W] of a PyTorch layer that follows a flatten of a [C,H,W] map ->
 * [H*W*C, out] for our flatten of the same map stored [H,W,C].
 */
export function linearAfterFlattenFromPytorch(
  data: ArrayLike<number>,
  out: number,
  [H, W, C]: readonly [number, number, number],
): Float32Array {
  const F = H * W * C;
  checkLen('linearAfterFlattenFromPytorch', data, [out, F]);
  const r = new Float32Array(data.length);
  for (let o = 0; o < out; o++)
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) r[((y * W + x) * C + c) * out + o] = data[o * F + (c * H + y) * W + x];
  return r;
}

/** Compare dotted names naturally: "2.weight" < "10.weight", "conv1" < "conv2" < "fc". */
export function naturalCompare(a: string, b: string): number {
  const pa = a.split(/(\d+)/),
    pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    const na = Number(pa[i]),
      nb = Number(pb[i]);
    if (i % 2 === 1 && pa[i] !== '' && pb[i] !== '') return na - nb;
    return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

/**
 * Linear weight [H*W*C, out] of ours that follows a flatten of an [H,W,C] map -> PyTorch's
 * [out, C*H*W] for its flatten of the same map stored [C,H,W]; the inverse of
 * linearAfterFlattenFromPytorch.
 */
export function linearAfterFlattenToPytorch(
  data: ArrayLike<number>,
  out: number,
  [H, W, C]: readonly [number, number, number],
): Float32Array {
  const F = H * W * C;
  checkLen('linearAfterFlattenToPytorch', data, [F, out]);
  const r = new Float32Array(data.length);
  for (let o = 0; o < out; o++)
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) r[o * F + (c * H + y) * W + x] = data[((y * W + x) * C + c) * out + o];
  return r;
}
