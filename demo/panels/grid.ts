// "An image is a grid of numbers": the digit at 8 px per pixel, and under the mouse a 7x7
// window printed as the numbers the network actually receives (0 = black, 1 = full ink).

import { paintMap, setupCanvas } from './paint.js';

const CELL = 8,
  WIN = 7,
  ZOOM = 34;

export class GridPanel {
  private img: Float32Array = new Float32Array(784);
  private wx = 10;
  private wy = 8;

  constructor(
    private digit: HTMLCanvasElement,
    private numbers: HTMLCanvasElement,
  ) {
    digit.addEventListener('pointermove', (e) => {
      const r = digit.getBoundingClientRect();
      const x = Math.floor(((e.clientX - r.left) / r.width) * 28),
        y = Math.floor(((e.clientY - r.top) / r.height) * 28);
      this.wx = Math.max(0, Math.min(28 - WIN, x - (WIN >> 1)));
      this.wy = Math.max(0, Math.min(28 - WIN, y - (WIN >> 1)));
      this.draw();
    });
  }

  setDigit(img: Float32Array): void {
    this.img = img;
    // start on the inkiest window so the numbers are interesting
    let best = -1;
    for (let y = 0; y <= 28 - WIN; y += 3)
      for (let x = 0; x <= 28 - WIN; x += 3) {
        let s = 0,
          edge = 0;
        for (let j = 0; j < WIN; j++)
          for (let i = 0; i < WIN; i++) {
            const v = img[(y + j) * 28 + x + i];
            s += v;
            if (v > 0.05 && v < 0.95) edge++;
          }
        const score = edge + s * 0.2;
        if (score > best) (best = score), (this.wx = x), (this.wy = y);
      }
    this.draw();
  }

  private draw(): void {
    const ctx = setupCanvas(this.digit, 28 * CELL, 28 * CELL);
    paintMap(ctx, this.img, 28, 28, { px: 0, py: 0, cell: CELL, mode: 'gray', scale: 1 });
    ctx.strokeStyle = '#e4572e';
    ctx.lineWidth = 2;
    ctx.strokeRect(this.wx * CELL + 1, this.wy * CELL + 1, WIN * CELL - 2, WIN * CELL - 2);
    const z = setupCanvas(this.numbers, WIN * ZOOM, WIN * ZOOM);
    z.font = '12px ui-monospace, monospace';
    z.textAlign = 'center';
    z.textBaseline = 'middle';
    for (let j = 0; j < WIN; j++)
      for (let i = 0; i < WIN; i++) {
        const v = this.img[(this.wy + j) * 28 + this.wx + i];
        const g = Math.round(v * 255);
        z.fillStyle = `rgb(${g},${g},${g})`;
        z.fillRect(i * ZOOM, j * ZOOM, ZOOM, ZOOM);
        z.fillStyle = v > 0.5 ? '#000' : '#ddd';
        z.fillText(v === 0 ? '0' : v.toFixed(2).replace(/^0/, ''), i * ZOOM + ZOOM / 2, j * ZOOM + ZOOM / 2);
      }
    z.strokeStyle = '#e4572e';
    z.lineWidth = 2;
    z.strokeRect(1, 1, WIN * ZOOM - 2, WIN * ZOOM - 2);
  }
}
