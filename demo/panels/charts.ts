// Live loss and accuracy charts (uPlot). Training loss and batch accuracy arrive once per
// chunk of steps; test accuracy once per evaluation. Redraws are throttled to animation frames.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export class Charts {
  private loss: uPlot;
  private acc: uPlot;
  // x: step; series: raw loss, smoothed loss
  private l: [number[], (number | null)[], (number | null)[]] = [[], [], []];
  // x: step; series: train acc (smoothed), test acc (sparse: null where not evaluated)
  private a: [number[], (number | null)[], (number | null)[]] = [[], [], []];
  private ema: number | null = null;
  private emaAcc: number | null = null;
  private dirty = false;

  constructor(lossEl: HTMLElement, accEl: HTMLElement) {
    const width = Math.max(280, Math.min(520, lossEl.clientWidth || 420));
    const axes = (label: string): uPlot.Axis[] => [
      { label: 'training step', stroke: '#555', grid: { stroke: '#eee' } },
      { label, stroke: '#555', grid: { stroke: '#eee' } },
    ];
    this.loss = new uPlot(
      {
        width,
        height: 200,
        title: 'Loss (cross-entropy)',
        axes: axes('loss'),
        scales: { x: { time: false } },
        series: [
          { label: 'step' },
          { label: 'batch loss', stroke: '#c9d6ea', width: 1 },
          { label: 'smoothed', stroke: '#2b5fad', width: 2 },
        ],
      },
      this.l as uPlot.AlignedData,
      lossEl,
    );
    this.acc = new uPlot(
      {
        width,
        height: 200,
        title: 'Accuracy (%)',
        axes: axes('%'),
        scales: { x: { time: false }, y: { range: [0, 100] } },
        series: [
          { label: 'step' },
          { label: 'train (smoothed)', stroke: '#2b5fad', width: 2 },
          { label: 'test', stroke: '#e4572e', width: 2, spanGaps: true, points: { show: true, size: 4 } },
        ],
      },
      this.a as uPlot.AlignedData,
      accEl,
    );
  }

  clear(): void {
    this.l = [[], [], []];
    this.a = [[], [], []];
    this.ema = this.emaAcc = null;
    this.schedule();
  }

  addTrain(step: number, loss: number, acc: number): void {
    // smoothing per chunk: a chunk already averages several steps
    this.ema = this.ema === null ? loss : 0.85 * this.ema + 0.15 * loss;
    this.emaAcc = this.emaAcc === null ? acc : 0.85 * this.emaAcc + 0.15 * acc;
    this.l[0].push(step), this.l[1].push(loss), this.l[2].push(this.ema);
    this.a[0].push(step), this.a[1].push(this.emaAcc * 100), this.a[2].push(null);
    this.schedule();
  }

  addTest(step: number, acc: number): void {
    const x = this.a[0];
    if (x.length && x[x.length - 1] === step) this.a[2][x.length - 1] = acc * 100;
    else if (!x.length || x[x.length - 1] < step) this.a[0].push(step), this.a[1].push(null), this.a[2].push(acc * 100);
    this.schedule();
  }

  private schedule(): void {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => {
      this.dirty = false;
      this.loss.setData(this.l as uPlot.AlignedData);
      this.acc.setData(this.a as uPlot.AlignedData);
    });
  }

  resize(width: number): void {
    this.loss.setSize({ width, height: 200 });
    this.acc.setSize({ width, height: 200 });
  }
}
