// Turns a free-hand drawing into an MNIST-like 28x28 image, the way the MNIST digits were made
// (LeCun et al.): the digit's bounding box is scaled to fit a 20x20 box keeping its aspect
// ratio, anti-aliased, then the image is placed in a 28x28 field so that its centre of mass
// sits at the field's centre (14, 14). Pure TS, no DOM: unit-tested in
// test/suites/demo-preprocess.suite.ts.
//
// Both steps are one mapping, target = (source - com) * s + 14, with s = 20 / max(bw, bh).
// The resampling is an area average (a box filter over the source rectangle that each target
// pixel covers), separable into a horizontal and a vertical pass: it anti-aliases when
// shrinking, and preserves ink mass up to the factor s^2, so the centre of mass lands on 14.

export const FIELD = 28;
export const BOX = 20;

/** Pixel coordinates use centres at i + 0.5, so a field of 28 has its centre at 14. */
export interface Box {
  x0: number;
  y0: number;
  /** inclusive */
  x1: number;
  y1: number;
}

/** Bounding box of pixels with ink > threshold, or null for an empty drawing. */
export function boundingBox(ink: ArrayLike<number>, w: number, h: number, threshold = 0.05): Box | null {
  let x0 = w,
    y0 = h,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (ink[y * w + x] > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

/** Ink-weighted centroid (pixel centres at i + 0.5) and total mass. */
export function centerOfMass(ink: ArrayLike<number>, w: number, h: number): { x: number; y: number; mass: number } {
  let m = 0,
    sx = 0,
    sy = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = ink[y * w + x];
      m += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  return m > 0 ? { x: sx / m, y: sy / m, mass: m } : { x: w / 2, y: h / 2, mass: 0 };
}

/**
 * For each target index t in [0, n), the source pixels overlapping the interval
 * [(t - c)/s + com, (t + 1 - c)/s + com) and their overlap lengths (times s, so weights of
 * one target pixel sum to 1 when it is fully inside the source).
 */
function coverage(
  n: number,
  srcLen: number,
  s: number,
  com: number,
  c: number,
): { idx: Int32Array; wt: Float32Array; start: Int32Array } {
  const idx: number[] = [],
    wt: number[] = [],
    start = new Int32Array(n + 1);
  for (let t = 0; t < n; t++) {
    start[t] = idx.length;
    const a = (t - c) / s + com,
      b = (t + 1 - c) / s + com;
    for (let i = Math.max(0, Math.floor(a)); i < Math.min(srcLen, Math.ceil(b)); i++) {
      const overlap = Math.min(b, i + 1) - Math.max(a, i);
      if (overlap > 0) idx.push(i), wt.push(overlap * s);
    }
  }
  start[n] = idx.length;
  return { idx: Int32Array.from(idx), wt: Float32Array.from(wt), start };
}

/**
 * MNIST-style 28x28 image (ink in [0, 1], row-major) from a drawing `ink` of w x h pixels
 * (ink in [0, 1]: 0 background, 1 full stroke). An empty drawing gives all zeros.
 */
export function toMnist(ink: ArrayLike<number>, w: number, h: number): Float32Array {
  const out = new Float32Array(FIELD * FIELD);
  const bb = boundingBox(ink, w, h);
  if (!bb) return out;
  const s = BOX / Math.max(bb.x1 - bb.x0 + 1, bb.y1 - bb.y0 + 1);
  const com = centerOfMass(ink, w, h);
  const cx = coverage(FIELD, w, s, com.x, FIELD / 2);
  const cy = coverage(FIELD, h, s, com.y, FIELD / 2);
  // Horizontal pass: tmp[y][tx] for every source row y.
  const tmp = new Float32Array(h * FIELD);
  for (let y = 0; y < h; y++)
    for (let tx = 0; tx < FIELD; tx++) {
      let acc = 0;
      for (let k = cx.start[tx]; k < cx.start[tx + 1]; k++) acc += cx.wt[k] * ink[y * w + cx.idx[k]];
      tmp[y * FIELD + tx] = acc;
    }
  // Vertical pass.
  for (let ty = 0; ty < FIELD; ty++)
    for (let tx = 0; tx < FIELD; tx++) {
      let acc = 0;
      for (let k = cy.start[ty]; k < cy.start[ty + 1]; k++) acc += cy.wt[k] * tmp[cy.idx[k] * FIELD + tx];
      out[ty * FIELD + tx] = Math.min(1, Math.max(0, acc));
    }
  return out;
}

/** Ink from canvas RGBA pixels drawn as dark strokes on white or light strokes on transparent. */
export function inkFromRgba(rgba: ArrayLike<number>, w: number, h: number, darkOnLight = false): Float32Array {
  const ink = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) {
    const a = rgba[i * 4 + 3] / 255;
    const lum = (0.299 * rgba[i * 4] + 0.587 * rgba[i * 4 + 1] + 0.114 * rgba[i * 4 + 2]) / 255;
    ink[i] = darkOnLight ? (1 - lum) * a : a * lum;
  }
  return ink;
}
