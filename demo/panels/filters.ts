// First-layer filters as they learn: each conv1 filter (K x K weights, one input channel)
// drawn with a diverging map (blue negative, red positive), each normalised on its own so
// that structure shows even while the weights are small.

import { paintMap, setupCanvas } from './paint.js';

export class FiltersPanel {
  constructor(
    private canvas: HTMLCanvasElement,
    private caption: HTMLElement,
  ) {}

  update(shape: number[], data: Float32Array, step: number): void {
    const [k, , cin, cout] = shape;
    const cell = Math.max(4, Math.floor(60 / k)),
      gap = 6;
    const cols = Math.min(cout, 8),
      rows = Math.ceil(cout / cols);
    const ctx = setupCanvas(this.canvas, cols * (k * cell + gap), rows * (k * cell + gap));
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    for (let o = 0; o < cout; o++) {
      // weights HWIO: element (y, x) of filter o for input channel 0 is data[(y*k + x)*cin*cout + o]
      paintMap(ctx, data, k, k, {
        off: o,
        stride: cin * cout,
        cell,
        mode: 'signed',
        px: (o % cols) * (k * cell + gap),
        py: Math.floor(o / cols) * (k * cell + gap),
      });
    }
    let norm = 0;
    for (const v of data) norm += v * v;
    this.caption.textContent = `${cout} filters of ${k}x${k} at step ${step} · weight norm ${Math.sqrt(norm).toFixed(2)}`;
  }
}
