// Canvas helpers shared by the panels: grey digits, colour maps for activations (sequential)
// and for weights and gradients (diverging around zero), tiled channel grids, bars.

export type Rgb = [number, number, number];

/** Viridis, sampled at 6 stops and interpolated: activations, 0 = dark purple. */
const VIRIDIS: Rgb[] = [
  [68, 1, 84],
  [65, 68, 135],
  [42, 120, 142],
  [34, 168, 132],
  [122, 209, 81],
  [253, 231, 37],
];

export function viridis(t: number): Rgb {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x)),
    f = x - i;
  const a = VIRIDIS[i],
    b = VIRIDIS[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Diverging: -1 blue, 0 near-white, +1 orange-red. */
export function diverging(t: number): Rgb {
  const x = Math.min(1, Math.max(-1, t));
  if (x < 0) return [245 + (33 - 245) * -x, 245 + (102 - 245) * -x, 245 + (172 - 245) * -x];
  return [245 + (214 - 245) * x, 245 + (96 - 245) * x, 245 + (77 - 245) * x];
}

export function setupCanvas(c: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D {
  if (c.width !== w) c.width = w;
  if (c.height !== h) c.height = h;
  const ctx = c.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingEnabled = false;
  return ctx;
}

/**
 * Paint an h x w map (strided view into `data`: element (y, x) at data[off + (y * w + x) * stride])
 * at (px, py), each cell `cell` pixels. `mode` picks the colour map; `scale` normalises.
 */
export function paintMap(
  ctx: CanvasRenderingContext2D,
  data: ArrayLike<number>,
  h: number,
  w: number,
  opts: {
    off?: number;
    stride?: number;
    px: number;
    py: number;
    cell: number;
    mode: 'gray' | 'act' | 'signed';
    scale?: number;
  },
): void {
  const off = opts.off ?? 0,
    stride = opts.stride ?? 1,
    cell = opts.cell;
  let scale = opts.scale;
  if (scale === undefined) {
    scale = 0;
    for (let i = 0; i < h * w; i++) scale = Math.max(scale, Math.abs(data[off + i * stride]));
  }
  const inv = scale > 0 ? 1 / scale : 0;
  const img = ctx.createImageData(w * cell, h * cell);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = data[off + (y * w + x) * stride];
      const rgb: Rgb =
        opts.mode === 'gray'
          ? [v * 255, v * 255, v * 255]
          : opts.mode === 'act'
            ? viridis(v * inv)
            : diverging(v * inv);
      for (let dy = 0; dy < cell; dy++)
        for (let dx = 0; dx < cell; dx++) {
          const o = ((y * cell + dy) * w * cell + x * cell + dx) * 4;
          img.data[o] = rgb[0];
          img.data[o + 1] = rgb[1];
          img.data[o + 2] = rgb[2];
          img.data[o + 3] = 255;
        }
    }
  ctx.putImageData(img, opts.px, opts.py);
}

/** A 28x28 digit (ink in [0, 1]) as white on black, scaled to the canvas. */
export function paintDigit(c: HTMLCanvasElement, img: ArrayLike<number>, cell = 3): void {
  const ctx = setupCanvas(c, 28 * cell, 28 * cell);
  paintMap(ctx, img, 28, 28, { px: 0, py: 0, cell, mode: 'gray' });
}

/** Largest cell size (>= 1) so that n tiles of h x w fit `width` pixels in `cols` columns. */
export function tileLayout(
  n: number,
  _h: number,
  w: number,
  maxWidth: number,
  maxCell = 8,
  gap = 3,
): { cols: number; rows: number; cell: number; gap: number } {
  for (let cell = maxCell; cell >= 1; cell--) {
    const cols = Math.max(1, Math.floor((maxWidth + gap) / (w * cell + gap)));
    if (cols >= Math.min(n, 8) || cell === 1)
      return { cols: Math.min(cols, n), rows: Math.ceil(n / Math.min(cols, n)), cell, gap };
  }
  return { cols: n, rows: 1, cell: 1, gap };
}

/** Bars for 10 class probabilities; the highest is highlighted, `truth` underlined. */
export function paintBars(
  c: HTMLCanvasElement,
  probs: ArrayLike<number>,
  opts: { width?: number; height?: number; truth?: number } = {},
): void {
  const W = opts.width ?? 260,
    H = opts.height ?? 120;
  const ctx = setupCanvas(c, W, H);
  ctx.clearRect(0, 0, W, H);
  const n = probs.length,
    bw = W / n;
  let best = 0;
  for (let k = 1; k < n; k++) if (probs[k] > probs[best]) best = k;
  ctx.font = '12px system-ui, sans-serif';
  ctx.textAlign = 'center';
  for (let k = 0; k < n; k++) {
    const bh = Math.max(1, probs[k] * (H - 34));
    ctx.fillStyle = k === best ? '#e4572e' : '#8aa4c8';
    ctx.fillRect(k * bw + 4, H - 16 - bh, bw - 8, bh);
    ctx.fillStyle = k === opts.truth ? '#111' : '#555';
    ctx.fillText(String(k), k * bw + bw / 2, H - 3);
    if (probs[k] >= 0.01) ctx.fillText(`${Math.round(probs[k] * 100)}`, k * bw + bw / 2, H - 19 - bh);
  }
}

export function variance(c: HTMLCanvasElement): number {
  const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
  let s = 0,
    s2 = 0;
  const n = d.length / 4;
  for (let i = 0; i < d.length; i += 4) {
    const l = (d[i] + d[i + 1] + d[i + 2]) / 3;
    s += l;
    s2 += l * l;
  }
  return s2 / n - (s / n) ** 2;
}

export function top(probs: ArrayLike<number>, k: number): number[] {
  return Array.from(probs, (_, i) => i)
    .sort((a, b) => probs[b] - probs[a])
    .slice(0, k);
}
