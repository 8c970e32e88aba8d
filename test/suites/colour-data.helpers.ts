// Helpers of colour-data.suite.ts: float64 references (resize, normalisation statistics), a
// seeded synthetic colour dataset, and Node temp folders (built-ins imported at call time so
// that the suite still loads in the browser).
import type { ImageDataset } from '../../src/data/dataset.js';

/**
 * Float64 reference of resizeCenterCrop, written in 2-D without its separable weights: scale
 * s = max(dw/sw, dh/sh), centre crop; shrinking integrates the source over each output pixel's
 * rectangle (overlap areas), enlarging interpolates the 4 nearest pixel centres.
 */
export function resizeRef(
  px: ArrayLike<number>,
  sw: number,
  sh: number,
  ch: number,
  dw: number,
  dh: number,
  scale = 1 / 255,
): Float64Array {
  const s = Math.max(dw / sw, dh / sh);
  const ox = (sw * s - dw) / 2,
    oy = (sh * s - dh) / 2;
  const val = (x: number, y: number, c: number) => px[(y * sw + x) * ch + (ch < 3 ? 0 : c)] * scale;
  const overlap = (j: number, a: number, b: number) => Math.max(0, Math.min(b, j + 1) - Math.max(a, j));
  const out = new Float64Array(dw * dh * 3);
  for (let y = 0; y < dh; y++)
    for (let x = 0; x < dw; x++)
      for (let c = 0; c < 3; c++) {
        let v: number;
        if (s < 1) {
          const x0 = (x + ox) / s,
            x1 = (x + 1 + ox) / s,
            y0 = (y + oy) / s,
            y1 = (y + 1 + oy) / s;
          let acc = 0,
            area = 0;
          for (let sy = 0; sy < sh; sy++)
            for (let sx = 0; sx < sw; sx++) {
              const a = overlap(sx, x0, x1) * overlap(sy, y0, y1);
              acc += a * val(sx, sy, c);
              area += a;
            }
          v = acc / area;
        } else {
          const clamp = (t: number, hi: number) => Math.min(hi, Math.max(0, t));
          const u = clamp((x + 0.5 + ox) / s - 0.5, sw - 1),
            w = clamp((y + 0.5 + oy) / s - 0.5, sh - 1);
          const x0 = Math.floor(u),
            y0 = Math.floor(w);
          const x1 = Math.min(x0 + 1, sw - 1),
            y1 = Math.min(y0 + 1, sh - 1);
          const fx = u - x0,
            fy = w - y0;
          v =
            (1 - fy) * ((1 - fx) * val(x0, y0, c) + fx * val(x1, y0, c)) +
            fy * ((1 - fx) * val(x0, y1, c) + fx * val(x1, y1, c));
        }
        out[(y * dw + x) * 3 + c] = v;
      }
  return out;
}

/** Seeded bytes (xorshift32). */
export function randomBytes(n: number, seed: number): Uint8Array {
  let s = seed >>> 0 || 1;
  return Uint8Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) & 0xff;
  });
}

/**
 * `count` HxWx3 pictures of 2 classes told apart by colour: class 0 reddish, class 1 bluish,
 * both with noise and a green level that varies per picture (so the channels' statistics differ).
 */
export function colourDataset(count: number, seed: number, H = 6, W = 6): ImageDataset {
  const noise = randomBytes(count * H * W * 3 + count, seed);
  const images = new Float32Array(count * H * W * 3);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const k = (labels[n] = n % 2);
    const green = noise[count * H * W * 3 + n] / 255;
    for (let i = 0; i < H * W; i++) {
      const o = (n * H * W + i) * 3;
      const r = noise[o] / 1020; // noise in [0, 0.25]
      images[o] = (k === 0 ? 0.6 : 0.2) + r;
      images[o + 1] = 0.5 * green + noise[o + 1] / 1020;
      images[o + 2] = (k === 0 ? 0.2 : 0.6) + noise[o + 2] / 1020;
    }
  }
  return { images, labels, count, height: H, width: W, channels: 3 };
}

/** Per-channel mean and population std in float64 via E[x^2] - E[x]^2. */
export function statsRef(x: ArrayLike<number>, C: number): { mean: number[]; std: number[] } {
  const mean: number[] = [],
    std: number[] = [];
  for (let c = 0; c < C; c++) {
    let s = 0,
      q = 0,
      n = 0;
    for (let i = c; i < x.length; i += C) (s += x[i]), (q += x[i] * x[i]), n++;
    mean.push(s / n);
    std.push(Math.sqrt(Math.max(0, q / n - (s / n) ** 2)));
  }
  return { mean, std };
}

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

/** node:fs/promises, node:path and a fresh temp folder (Node only). */
export async function nodeTemp(prefix: string): Promise<{ fs: Fs; path: Path; dir: string }> {
  const fs = (await import(/* @vite-ignore */ ['node:fs', 'promises'].join('/'))) as Fs;
  const path = (await import(/* @vite-ignore */ ['node', 'path'].join(':'))) as Path;
  const os = (await import(/* @vite-ignore */ ['node', 'os'].join(':'))) as typeof import('node:os');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { fs, path, dir };
}
