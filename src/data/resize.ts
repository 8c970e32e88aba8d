// Resize and centre-crop a picture to a network's input size, on the CPU, the same way in Node
// and in browsers (so a model trained on files from a folder sees the same pixels as one
// predicting from a canvas): HWC RGB f32 in [0, 1].
//
// Geometry: one scale s = max(dstW / srcW, dstH / srcH) for both axes, so the shorter side (in
// proportion to the target) fills the target exactly; the other side is cropped equally on
// both ends. Output pixel x covers the source interval [(x + ox) / s, (x + 1 + ox) / s) with
// ox = (srcW * s - dstW) / 2 (same for y).
// Filter, separable, as OpenCV's INTER_AREA: shrinking (s < 1) averages the source pixels over
// that interval, each weighted by the length of its overlap (area averaging: no aliasing from
// skipped pixels); enlarging (s >= 1) interpolates bilinearly between the two nearest source
// pixel centres, u = (x + 0.5 + ox) / s - 0.5, clamped at the edges.
// Channels: 1 (grey) and 2 (grey + alpha) are replicated to R, G and B; 3 is RGB; 4 is RGBA
// with the alpha ignored (not premultiplied, not composited). Bytes are scaled by 1/255;
// Float32Array inputs are taken as already in [0, 1].

/** Pixel values for {@link resizeCenterCrop}: bytes (scaled by 1/255) or floats already in [0, 1]. */
export type PixelArray = Uint8Array | Uint8ClampedArray | Float32Array;

/** Per output coordinate: the first source index and its weights (which sum to 1). */
interface AxisWeights {
  start: Int32Array;
  weights: Float64Array[];
}

function axisWeights(src: number, dst: number, s: number): AxisWeights {
  const off = (src * s - dst) / 2;
  const start = new Int32Array(dst);
  const weights: Float64Array[] = [];
  for (let x = 0; x < dst; x++) {
    if (s < 1) {
      const a = Math.max(0, (x + off) / s),
        b = Math.min(src, (x + 1 + off) / s);
      const j0 = Math.floor(a),
        j1 = Math.min(src, Math.ceil(b));
      const w = new Float64Array(j1 - j0);
      for (let j = j0; j < j1; j++) w[j - j0] = Math.max(0, Math.min(b, j + 1) - Math.max(a, j));
      const total = w.reduce((t, v) => t + v, 0);
      for (let k = 0; k < w.length; k++) w[k] /= total;
      start[x] = j0;
      weights.push(w);
    } else {
      const u = Math.min(src - 1, Math.max(0, (x + 0.5 + off) / s - 0.5));
      const j0 = Math.min(Math.floor(u), Math.max(0, src - 2));
      const f = u - j0;
      start[x] = j0;
      weights.push(src === 1 ? Float64Array.of(1) : Float64Array.of(1 - f, f));
    }
  }
  return { start, weights };
}

/**
 * `pixels` (srcH rows of srcW pixels of srcChannels values: 1 grey, 2 grey+alpha, 3 RGB,
 * 4 RGBA) scaled so that it covers dstW x dstH and centre-cropped to it: a Float32Array of
 * dstH*dstW*3 RGB values in [0, 1], HWC. Area averaging when shrinking, bilinear when enlarging
 * (see the top of src/data/resize.ts).
 */
export function resizeCenterCrop(
  pixels: PixelArray,
  srcW: number,
  srcH: number,
  srcChannels: number,
  dstW: number,
  dstH: number,
): Float32Array {
  const where = 'resizeCenterCrop';
  for (const [k, v] of Object.entries({ srcW, srcH, dstW, dstH }))
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`webgpu-cnn: ${where}: '${k}' must be an integer >= 1, got ${v}`);
  if (![1, 2, 3, 4].includes(srcChannels))
    throw new RangeError(`webgpu-cnn: ${where}: 'srcChannels' must be 1, 2, 3 or 4, got ${srcChannels}`);
  if (!(pixels instanceof Uint8Array || pixels instanceof Uint8ClampedArray || pixels instanceof Float32Array))
    throw new TypeError(`webgpu-cnn: ${where}: 'pixels' must be a Uint8Array, Uint8ClampedArray or Float32Array`);
  if (pixels.length !== srcW * srcH * srcChannels)
    throw new RangeError(
      `webgpu-cnn: ${where}: 'pixels' must hold ${srcW}x${srcH}x${srcChannels} = ${srcW * srcH * srcChannels} values, got ${pixels.length}`,
    );
  const s = Math.max(dstW / srcW, dstH / srcH);
  const wx = axisWeights(srcW, dstW, s),
    wy = axisWeights(srcH, dstH, s);
  const scale = pixels instanceof Float32Array ? 1 : 1 / 255;
  const grey = srcChannels < 3;
  // horizontal pass for the source rows in use, then the vertical pass (float64 throughout)
  const rows = new Map<number, Float64Array>();
  const row = (y: number): Float64Array => {
    let r = rows.get(y);
    if (r) return r;
    r = new Float64Array(dstW * 3);
    for (let x = 0; x < dstW; x++) {
      const w = wx.weights[x];
      for (let k = 0; k < w.length; k++) {
        const p = (y * srcW + wx.start[x] + k) * srcChannels;
        for (let c = 0; c < 3; c++) r[x * 3 + c] += w[k] * pixels[grey ? p : p + c];
      }
    }
    rows.set(y, r);
    return r;
  };
  const out = new Float32Array(dstW * dstH * 3);
  for (let y = 0; y < dstH; y++) {
    const w = wy.weights[y];
    const acc = new Float64Array(dstW * 3);
    for (let k = 0; k < w.length; k++) {
      const r = row(wy.start[y] + k);
      for (let i = 0; i < acc.length; i++) acc[i] += w[k] * r[i];
    }
    for (let i = 0; i < acc.length; i++) out[y * dstW * 3 + i] = Math.min(1, Math.max(0, acc[i] * scale));
  }
  return out;
}
