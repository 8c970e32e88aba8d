// Test panel: the latest test digits with their top-3 classes, the confusion matrix over the
// rolling pass through MNIST's 10,000 standard test digits, and per-class accuracy.

import type { EvalResult } from '../protocol.js';
import { paintDigit, setupCanvas, top } from './paint.js';

export class TestPanel {
  constructor(
    private digits: HTMLElement,
    private confusion: HTMLCanvasElement,
    private perClass: HTMLCanvasElement,
    private summary: HTMLElement,
  ) {
    this.drawConfusion(new Int32Array(100));
    this.drawPerClass(new Int32Array(100));
  }

  update(r: EvalResult): void {
    const of = r.evaluated < r.total ? ` (${r.evaluated.toLocaleString('en')} so far)` : '';
    this.summary.textContent = `${(r.accuracy * 100).toFixed(1)}% correct on MNIST's ${r.total.toLocaleString('en')} standard test digits${of} (step ${r.step})`;
    this.digits.textContent = '';
    for (const s of r.samples) {
      const card = document.createElement('div');
      const t3 = top(s.probs, 3);
      card.className = `test-digit ${t3[0] === s.label ? 'right' : 'wrong'}`;
      const c = document.createElement('canvas');
      paintDigit(c, s.image, 2);
      card.append(c);
      const bars = document.createElement('div');
      bars.className = 'top3';
      for (const k of t3) {
        const b = document.createElement('div');
        b.className = `bar${k === s.label ? ' truth' : ''}`;
        b.innerHTML = `<span class="k">${k}</span><span class="fill" style="width:${(s.probs[k] * 100).toFixed(1)}%"></span>`;
        b.title = `${k}: ${(s.probs[k] * 100).toFixed(1)}%`;
        bars.append(b);
      }
      card.append(bars);
      card.title = `true label ${s.label}`;
      this.digits.append(card);
    }
    this.drawConfusion(r.confusion);
    this.drawPerClass(r.confusion);
  }

  private drawConfusion(m: Int32Array): void {
    const cell = 26,
      pad = 22,
      W = pad + cell * 10,
      H = pad + cell * 10;
    const ctx = setupCanvas(this.confusion, W, H);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, H);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (let t = 0; t < 10; t++) {
      let rowSum = 0;
      for (let p = 0; p < 10; p++) rowSum += m[t * 10 + p];
      ctx.fillStyle = '#555';
      ctx.fillText(String(t), pad / 2, pad + t * cell + cell / 2);
      ctx.fillText(String(t), pad + t * cell + cell / 2, pad / 2);
      for (let p = 0; p < 10; p++) {
        const v = m[t * 10 + p],
          f = rowSum ? v / rowSum : 0;
        // diagonal in blue, mistakes in red, intensity by row fraction
        const a = t === p ? f : Math.min(1, f * 4);
        ctx.fillStyle = t === p ? `rgba(43,95,173,${a})` : `rgba(228,87,46,${a})`;
        ctx.fillRect(pad + p * cell + 1, pad + t * cell + 1, cell - 2, cell - 2);
        if (v) {
          ctx.fillStyle = a > 0.55 ? '#fff' : '#333';
          ctx.fillText(String(v), pad + p * cell + cell / 2, pad + t * cell + cell / 2);
        }
      }
    }
  }

  private drawPerClass(m: Int32Array): void {
    const W = 282,
      H = 130,
      bw = (W - 22) / 10;
    const ctx = setupCanvas(this.perClass, W, H);
    ctx.clearRect(0, 0, W, H);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    for (let t = 0; t < 10; t++) {
      let sum = 0;
      for (let p = 0; p < 10; p++) sum += m[t * 10 + p];
      const acc = sum ? m[t * 11] / sum : 0;
      const bh = acc * (H - 36);
      ctx.fillStyle = acc > 0.95 ? '#2b8a3e' : acc > 0.85 ? '#e8a33d' : '#e4572e';
      ctx.fillRect(22 + t * bw + 3, H - 16 - bh, bw - 6, bh);
      ctx.fillStyle = '#333';
      ctx.fillText(String(t), 22 + t * bw + bw / 2, H - 3);
      if (sum) ctx.fillText(`${Math.round(acc * 100)}`, 22 + t * bw + bw / 2, H - 20 - bh);
    }
  }
}
