// Draw-a-digit: free-hand strokes on a 280x280 canvas, turned into an MNIST-style 28x28 image
// (preprocess.ts: 20x20 box fit, centre of mass at the centre, anti-aliased) and classified
// live while drawing.

import { inkFromRgba, toMnist } from '../preprocess.js';
import { paintBars, paintDigit, top } from './paint.js';

export class DrawPanel {
  private ctx: CanvasRenderingContext2D;
  private drawing = false;
  private last: [number, number] | null = null;
  private pendingPredict = false;
  private busy = false;
  private dirty = false;
  /** the latest 28x28 input and probabilities (read by the e2e test and the feature panel) */
  image: Float32Array = new Float32Array(784);
  probs: Float32Array | null = null;

  constructor(
    private canvas: HTMLCanvasElement,
    private preview: HTMLCanvasElement,
    private bars: HTMLCanvasElement,
    private verdict: HTMLElement,
    private predict: (img: Float32Array) => Promise<Float32Array>,
    private onDigit: (img: Float32Array) => void,
  ) {
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.drawing = true;
      this.last = this.pos(e);
      this.stroke(this.last, this.last);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      const p = this.pos(e);
      this.stroke(this.last!, p);
      this.last = p;
    });
    const end = () => {
      if (!this.drawing) return;
      this.drawing = false;
      this.last = null;
      this.update();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  private pos(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [
      ((e.clientX - r.left) * this.canvas.width) / r.width,
      ((e.clientY - r.top) * this.canvas.height) / r.height,
    ];
  }

  private stroke(a: [number, number], b: [number, number]): void {
    const c = this.ctx;
    c.strokeStyle = '#fff';
    c.lineWidth = this.canvas.width / 11;
    c.lineCap = c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(a[0], a[1]);
    c.lineTo(b[0], b[1]);
    c.stroke();
    this.update();
  }

  clear(): void {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.image = new Float32Array(784);
    this.probs = null;
    paintDigit(this.preview, this.image, 3);
    paintBars(this.bars, new Float32Array(10), { width: 300, height: 130 });
    this.verdict.textContent = 'Draw a digit from 0 to 9 in the black box.';
  }

  /** Preprocess and predict, at most one prediction in flight (latest drawing wins). */
  update(): void {
    this.dirty = true;
    if (this.pendingPredict) return;
    this.pendingPredict = true;
    requestAnimationFrame(() => {
      this.pendingPredict = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.busy || !this.dirty) return;
    this.busy = true;
    this.dirty = false;
    try {
      const { width: w, height: h } = this.canvas;
      const img = toMnist(inkFromRgba(this.ctx.getImageData(0, 0, w, h).data, w, h), w, h);
      this.image = img;
      paintDigit(this.preview, img, 3);
      if (!img.some((v) => v > 0)) return;
      const p = await this.predict(img);
      this.probs = p;
      paintBars(this.bars, p, { width: 300, height: 130 });
      const [a, b] = top(p, 2);
      this.verdict.textContent = `It's a ${a} (${(p[a] * 100).toFixed(1)}%)${p[b] > 0.1 ? `, or maybe a ${b} (${(p[b] * 100).toFixed(0)}%)` : ''}.`;
      this.onDigit(img);
    } catch (e) {
      this.verdict.textContent = `prediction failed: ${(e as Error).message}`;
    } finally {
      this.busy = false;
      if (this.dirty) this.update();
    }
  }
}
