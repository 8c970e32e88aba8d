// Feature maps of one digit: every conv block's output before ReLU, after ReLU and after
// pooling, one tile per channel; then the dense head (hidden units, the 10 logits that "vote",
// and their softmax). With "show gradients" each map shows dLoss/dMap for the true class
// instead: where changing that activation would change the loss most.

import type { Stage } from '../model-api.js';
import { diverging, paintBars, paintMap, setupCanvas, tileLayout } from './paint.js';

export class FeaturePanel {
  /** The view to ask the worker for (the checkbox); a reply is drawn as the view it carries. */
  showGrads = false;

  constructor(
    private maps: HTMLElement,
    private head: HTMLElement,
    private logits: HTMLCanvasElement,
    private probs: HTMLCanvasElement,
  ) {}

  /** Draws one inspection: activations, or (grads, when it was asked with them) gradients. */
  render(stages: Stage[], probs: Float32Array, label: number, grads: boolean): void {
    this.maps.textContent = '';
    this.head.textContent = '';
    this.maps.dataset.view = grads ? 'gradients' : 'activations';
    const width = Math.max(300, this.maps.clientWidth - 150);
    for (const s of stages) {
      const values = grads ? s.grad : s.data;
      if (!values) continue;
      if (s.kind === 'dense' || (s.shape[0] === 1 && s.shape[1] === 1)) {
        // the dense head (hidden units before and after ReLU); the logits get their own chart
        if (s !== stages[stages.length - 1]) this.head.append(this.denseRow(s, values, grads));
        continue;
      }
      const [H, W, C] = s.shape;
      const row = document.createElement('div');
      row.className = `stage stage-${s.kind}`;
      const lab = document.createElement('div');
      lab.className = 'stage-label';
      const what = {
        input: 'input image',
        conv: 'convolution',
        relu: 'after ReLU',
        pool: 'after 2x2 max pool',
        dense: '',
      }[s.kind];
      lab.innerHTML = `<b>${s.name}</b><br>${what}<br><span class="dim">${C} × ${H}x${W}</span>`;
      const c = document.createElement('canvas');
      c.dataset.stage = s.name;
      // small maps get bigger cells, so 7x7 maps are as legible as 28x28 ones
      const { cols, rows, cell, gap } = tileLayout(
        C,
        H,
        W,
        width,
        s.kind === 'input' ? 4 : Math.max(3, Math.min(8, Math.floor(84 / H))),
      );
      const ctx = setupCanvas(c, cols * (W * cell + gap), rows * (H * cell + gap));
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, c.width, c.height);
      // one scale per stage so channels compare; signed data gets the diverging map
      let scale = 0;
      for (let i = 0; i < values.length; i++) scale = Math.max(scale, Math.abs(values[i]));
      const mode = s.kind === 'input' && !grads ? 'gray' : grads || s.kind === 'conv' ? 'signed' : 'act';
      for (let ch = 0; ch < C; ch++)
        paintMap(ctx, values, H, W, {
          off: ch,
          stride: C,
          cell,
          mode,
          px: (ch % cols) * (W * cell + gap),
          py: Math.floor(ch / cols) * (H * cell + gap),
          scale: mode === 'gray' ? 1 : scale,
        });
      row.append(lab, c);
      this.maps.append(row);
    }
    const last = stages[stages.length - 1];
    this.drawLogits(grads && last.grad ? last.grad : last.data, label);
    paintBars(this.probs, probs, { width: 300, height: 120, truth: label });
  }

  private denseRow(s: Stage, v: Float32Array, grad: boolean): HTMLElement {
    const row = document.createElement('div');
    row.className = 'stage';
    const lab = document.createElement('div');
    lab.className = 'stage-label';
    lab.innerHTML = `<b>${s.name}</b><br>${s.kind === 'relu' ? 'after ReLU' : 'hidden units'}<br><span class="dim">${v.length} units</span>`;
    const c = document.createElement('canvas');
    c.dataset.stage = s.name;
    const cols = Math.min(v.length, 64),
      rows = Math.ceil(v.length / cols),
      cell = 10;
    const ctx = setupCanvas(c, cols * cell, rows * cell);
    let scale = 0;
    for (const x of v) scale = Math.max(scale, Math.abs(x));
    paintMap(ctx, v, rows, cols, { px: 0, py: 0, cell, mode: grad || s.kind === 'dense' ? 'signed' : 'act', scale });
    row.append(lab, c);
    return row;
  }

  /** Logits as signed bars: each class's "vote" before softmax. */
  private drawLogits(z: Float32Array, label: number): void {
    const W = 300,
      H = 120,
      bw = W / 10,
      mid = H / 2 - 6;
    const ctx = setupCanvas(this.logits, W, H);
    ctx.clearRect(0, 0, W, H);
    let m = 1e-6;
    for (const v of z) m = Math.max(m, Math.abs(v));
    ctx.strokeStyle = '#999';
    ctx.beginPath();
    ctx.moveTo(0, mid);
    ctx.lineTo(W, mid);
    ctx.stroke();
    ctx.font = '12px system-ui, sans-serif';
    ctx.textAlign = 'center';
    for (let k = 0; k < 10; k++) {
      const h = (z[k] / m) * (mid - 6);
      const [R, G, B] = diverging(z[k] / m);
      ctx.fillStyle = `rgb(${R},${G},${B})`;
      ctx.fillRect(k * bw + 5, h > 0 ? mid - h : mid, bw - 10, Math.abs(h));
      ctx.fillStyle = k === label ? '#000' : '#666';
      ctx.fillText(String(k), k * bw + bw / 2, H - 2);
    }
  }
}
