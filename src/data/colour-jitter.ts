// Colour jitter of images in [0, 1]: brightness, contrast and saturation with per-sample
// factors, in float64. The reference of the colour stage of shaders/augment.wgsl
// (`affine_colour`), and the CPU path of batches({augment}). Not a warp: augment.ts applies
// the affine part first and calls this on its output.
//
// Per image, in this order, each step clamped to [0, 1] (as torchvision's ColorJitter does
// for float images):
//   brightness  v = clamp(v + delta)
//   contrast    v = clamp(mean + cf·(v − mean)),  mean = the image's mean grey after brightness
//   saturation  v = clamp(g + sf·(v − g)),        g = the pixel's grey
// grey = 0.299 r + 0.587 g + 0.114 b (ITU-R BT.601 luma, as PIL and torchvision) for 3 channels,
// the value itself for 1 channel, so saturation does nothing to 1-channel images. Other
// channel counts are refused. A factor of exactly 1 skips its step (identity rows copy exactly).

/** Weights of r, g, b in the grey value (BT.601 luma). */
export const GREY_WEIGHTS: readonly [number, number, number] = [0.299, 0.587, 0.114];

/** A batch of images: n images of height × width pixels, channels values each (NHWC). */
export interface ImageDims {
  n: number;
  height: number;
  width: number;
  channels: number;
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/** Refuse colour jitter on images that are neither grey (1 channel) nor RGB (3). */
export function checkColourChannels(where: string, channels: number): void {
  if (channels !== 1 && channels !== 3)
    throw new RangeError(
      `webgpu-cnn: ${where}: colour jitter needs 1 (grey) or 3 (RGB) channels, the images have ${channels}`,
    );
}

/**
 * Apply brightness, contrast and saturation to every image (arithmetic in float64, result
 * stored in `out`, which may be `src`). `params` holds one row per image: either the
 * 9 numbers of randomAugment (matrix, then delta, contrast factor, saturation factor) or just
 * the last 3.
 */
export function colourJitter<T extends Float32Array | Float64Array>(
  src: ArrayLike<number>,
  dims: ImageDims,
  params: ArrayLike<number>,
  out: T,
): T {
  const { n, height: H, width: W, channels: C } = dims;
  checkColourChannels('colourJitter', C);
  if (src.length !== n * H * W * C)
    throw new RangeError(`webgpu-cnn: colourJitter: images hold ${src.length} values, want ${n}*${H}*${W}*${C}`);
  const stride = params.length === n * 9 ? 9 : 3;
  if (params.length !== n * stride)
    throw new RangeError(`webgpu-cnn: colourJitter: params hold ${params.length} values, want ${n}*9 or ${n}*3`);
  if (out.length !== src.length)
    throw new RangeError(`webgpu-cnn: colourJitter: output holds ${out.length} values, want ${src.length}`);
  const hw = H * W;
  const v = new Float64Array(hw * C);
  const grey = (o: number) =>
    C === 3 ? GREY_WEIGHTS[0] * v[o] + GREY_WEIGHTS[1] * v[o + 1] + GREY_WEIGHTS[2] * v[o + 2] : v[o];
  for (let s = 0; s < n; s++) {
    const k = s * stride + stride - 3;
    const delta = params[k],
      cf = params[k + 1],
      sf = params[k + 2];
    const base = s * hw * C;
    let sum = 0;
    for (let p = 0; p < hw; p++) {
      for (let ch = 0; ch < C; ch++) v[p * C + ch] = clamp01(src[base + p * C + ch] + delta);
      sum += grey(p * C);
    }
    const mean = sum / hw;
    if (cf !== 1) for (let i = 0; i < v.length; i++) v[i] = clamp01(mean + cf * (v[i] - mean));
    if (sf !== 1 && C === 3)
      for (let p = 0; p < hw; p++) {
        const g = grey(p * C);
        for (let ch = 0; ch < 3; ch++) v[p * 3 + ch] = clamp01(g + sf * (v[p * 3 + ch] - g));
      }
    for (let i = 0; i < v.length; i++) out[base + i] = v[i];
  }
  return out;
}
