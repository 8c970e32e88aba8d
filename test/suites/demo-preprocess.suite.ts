// The demo's draw-a-digit preprocessing (demo/preprocess.ts): MNIST's recipe of a 20x20
// bounding-box fit (aspect kept, anti-aliased) centred by centre of mass in a 28x28 field.
// Pure TS: no GPU work, so the cases are cheap in both Node and Chromium.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual } from '../harness/assert.js';
import { boundingBox, centerOfMass, inkFromRgba, toMnist } from '../../demo/preprocess.js';

const W = 140,
  H = 140;

function canvas(): Float32Array {
  return new Float32Array(W * H);
}

function fillRect(ink: Float32Array, x0: number, y0: number, w: number, h: number, v = 1): Float32Array {
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) ink[y * W + x] = v;
  return ink;
}

/** A thick "7"-like stroke: horizontal bar and a diagonal, so nothing is symmetric. */
function seven(dx: number, dy: number, k: number): Float32Array {
  const ink = canvas();
  fillRect(ink, dx, dy, 30 * k, 5 * k);
  for (let t = 0; t < 40 * k; t++) fillRect(ink, dx + Math.round(30 * k - 4 * k - t * 0.45), dy + t, 4 * k, 1);
  return ink;
}

function extent(img: Float32Array, thr = 0.5): { w: number; h: number } {
  const bb = boundingBox(img, 28, 28, thr)!;
  return { w: bb.x1 - bb.x0 + 1, h: bb.y1 - bb.y0 + 1 };
}

suite(
  'demo-preprocess',
  (test) => {
    test('an empty drawing gives an all-zero 28x28 image', () => {
      const out = toMnist(canvas(), W, H);
      assertEqual(out.length, 784, 'size');
      assert(
        out.every((v) => v === 0),
        'all zeros',
      );
    });

    test('a tall 40x80 bar fits a 20-pixel-tall box, keeps its 1:2 aspect ratio and its ink mass scaled by s^2', () => {
      const ink = fillRect(canvas(), 17, 23, 40, 80);
      const out = toMnist(ink, W, H);
      const e = extent(out);
      assertEqual([e.w, e.h], [10, 20], 'extent (w, h) of pixels > 0.5');
      const s = 20 / 80;
      // The box filter preserves mass exactly (weights of one target pixel sum to s when inside):
      // only f32 rounding over ~3200 terms differs.
      assertClose('mass', [centerOfMass(out, 28, 28).mass], [40 * 80 * s * s], { atol: 1e-3, rtol: 1e-4 });
      assert(
        out.every((v) => v >= 0 && v <= 1),
        'values in [0, 1]',
      );
    });

    test('the centre of mass lands on (14, 14) for an asymmetric digit', () => {
      const out = toMnist(seven(10, 12, 2), W, H);
      const c = centerOfMass(out, 28, 28);
      // Area sampling moves the discrete centroid by a fraction of a pixel at most (the
      // intra-pixel distribution of ink is lost); MNIST itself rounds to whole pixels.
      assertClose('centre of mass', [c.x, c.y], [14, 14], { atol: 0.15, rtol: 0 });
      const e = extent(out, 0.05);
      assert(Math.max(e.w, e.h) >= 19 && Math.max(e.w, e.h) <= 21, `longest side ~20 px, got ${e.w}x${e.h}`);
    });

    test('translation and scale of the drawing do not change the result', () => {
      const a = toMnist(seven(5, 5, 2), W, H);
      const b = toMnist(seven(60, 40, 2), W, H);
      // Integer translation by whole source pixels: the same sums in the same order up to f32
      // rounding of the coverage bounds.
      assertClose('translated', b, a, { atol: 1e-5, rtol: 0 });
      const c = toMnist(seven(8, 3, 3), W, H);
      // Scaling by 3/2 changes the rasterised stroke (rounding of the diagonal), so compare
      // the images as a whole: mean absolute difference under 1% of full ink (measured ~0.1%).
      let diff = 0;
      for (let i = 0; i < 784; i++) diff += Math.abs(c[i] - a[i]);
      console.log(`  scale 2 vs 3: mean |diff| = ${(diff / 784).toFixed(4)}`);
      assert(diff / 784 < 0.01, `scaled drawing differs too much: mean |diff| ${diff / 784}`);
    });

    test('shrinking anti-aliases: a diagonal line gives grey edge pixels, not only 0 and 1', () => {
      const ink = canvas();
      for (let t = 0; t < 120; t++) fillRect(ink, 10 + t, 10 + t, 6, 1);
      const out = toMnist(ink, W, H);
      const grey = out.filter((v) => v > 0.05 && v < 0.95).length;
      assert(grey >= 20, `expected many intermediate values, got ${grey}`);
    });

    test('inkFromRgba reads white-on-black, black-on-white and alpha-only strokes', () => {
      const px = (r: number, g: number, b: number, a: number) => [r, g, b, a];
      const rgba = [...px(255, 255, 255, 255), ...px(0, 0, 0, 255), ...px(255, 255, 255, 0), ...px(128, 128, 128, 255)];
      assertClose('light on dark', inkFromRgba(rgba, 4, 1), [1, 0, 0, 128 / 255], { atol: 1e-3 });
      assertClose('dark on light', inkFromRgba(rgba, 4, 1, true), [0, 1, 0, 127 / 255], { atol: 1e-3 });
    });
  },
  { envs: ['node', 'browser'], timeoutMs: 20_000 },
);
