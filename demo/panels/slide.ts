// "A filter slides over the image": one convolution step by step on the pixel grid. The digit
// is shrunk to 14x14 so the numbers stay readable; zero padding is drawn as a hatched ring;
// each tick moves the window by the stride, multiplies the window by the filter, sums, adds
// the bias and applies ReLU, and writes the result into the output map. Pure canvas; the
// numbers are computed here, exactly as the conv layer does (cross-correlation, like every
// deep learning library: the filter is not flipped).

import { diverging, setupCanvas } from './paint.js';

const N = 14;
const IN_CELL = 22,
  OUT_CELL = 20,
  CALC = 30;

interface Filter {
  name: string;
  k: number;
  w: number[];
  bias: number;
}

const PRESET_FILTERS: Filter[] = [
  { name: 'vertical edges (Sobel)', k: 3, w: [1, 0, -1, 2, 0, -2, 1, 0, -1], bias: 0 },
  { name: 'horizontal edges (Sobel)', k: 3, w: [1, 2, 1, 0, 0, 0, -1, -2, -1], bias: 0 },
  { name: 'blur (3x3 average)', k: 3, w: Array(9).fill(1 / 9), bias: 0 },
  { name: 'diagonal strokes', k: 3, w: [2, -1, -1, -1, 2, -1, -1, -1, 2], bias: 0 },
];

export class SlidePanel {
  private x = new Float32Array(N * N);
  private filters: Filter[] = [...PRESET_FILTERS];
  private f: Filter = PRESET_FILTERS[0];
  private stride = 1;
  private pad = 1;
  private pos = 0;
  private out: (number | null)[] = [];
  private playing = true;
  private lastTick = 0;
  private visible = true;

  constructor(
    private grid: HTMLCanvasElement,
    private calc: HTMLCanvasElement,
    private text: HTMLElement,
    private controls: {
      filter: HTMLSelectElement;
      stride: HTMLSelectElement;
      pad: HTMLSelectElement;
      speed: HTMLInputElement;
      play: HTMLButtonElement;
      step: HTMLButtonElement;
    },
  ) {
    this.fillFilterOptions();
    controls.filter.addEventListener('change', () => {
      this.f = this.filters[Number(controls.filter.value)] ?? this.filters[0];
      this.restart();
    });
    controls.stride.addEventListener('change', () => ((this.stride = Number(controls.stride.value)), this.restart()));
    controls.pad.addEventListener('change', () => ((this.pad = Number(controls.pad.value)), this.restart()));
    controls.play.addEventListener('click', () => {
      this.playing = !this.playing;
      controls.play.textContent = this.playing ? '❙❙ pause' : '▶ play';
    });
    controls.step.addEventListener('click', () => {
      this.playing = false;
      controls.play.textContent = '▶ play';
      this.tick();
    });
    new IntersectionObserver((es) => (this.visible = es.some((e) => e.isIntersecting))).observe(grid);
    const loop = (t: number) => {
      const every = 1000 / Number(controls.speed.value);
      if (this.playing && this.visible && t - this.lastTick > every) {
        this.lastTick = t;
        this.tick();
      }
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
    this.restart();
  }

  private fillFilterOptions(): void {
    const sel = this.controls.filter,
      cur = sel.value;
    sel.textContent = '';
    this.filters.forEach((f, i) => sel.append(new Option(f.name, String(i))));
    sel.value = cur && Number(cur) < this.filters.length ? cur : '0';
  }

  /** The digit, shrunk 28 -> 14 by 2x2 averages. */
  setDigit(img: Float32Array): void {
    for (let y = 0; y < N; y++)
      for (let x = 0; x < N; x++)
        this.x[y * N + x] =
          (img[2 * y * 28 + 2 * x] +
            img[2 * y * 28 + 2 * x + 1] +
            img[(2 * y + 1) * 28 + 2 * x] +
            img[(2 * y + 1) * 28 + 2 * x + 1]) /
          4;
    this.restart();
  }

  /** First-layer filters of the model, offered as "learned filter #i" (weights HWIO, Cin = 1). */
  setLearned(shape: number[], data: Float32Array, bias?: Float32Array): void {
    const [k, , cin, cout] = shape;
    if (cin !== 1) return;
    const learned: Filter[] = [];
    for (let o = 0; o < Math.min(cout, 8); o++) {
      const w: number[] = [];
      for (let i = 0; i < k * k; i++) w.push(data[i * cout + o]);
      learned.push({ name: `learned conv1 filter #${o + 1} (${k}x${k})`, k, w, bias: bias ? bias[o] : 0 });
    }
    const wasLearned = this.f.name.startsWith('learned');
    const idx = Number(this.controls.filter.value);
    this.filters = [...PRESET_FILTERS, ...learned];
    this.fillFilterOptions();
    if (wasLearned) {
      this.f = this.filters[idx] ?? this.filters[0];
      this.controls.filter.value = String(this.filters.indexOf(this.f));
    }
  }

  private get outSize(): number {
    return Math.floor((N + 2 * this.pad - this.f.k) / this.stride) + 1;
  }

  private restart(): void {
    this.pos = 0;
    this.out = new Array(Math.max(0, this.outSize) ** 2).fill(null);
    this.draw();
  }

  private at(y: number, x: number): number {
    return y < 0 || x < 0 || y >= N || x >= N ? 0 : this.x[y * N + x];
  }

  private tick(): void {
    const o = this.outSize;
    if (o <= 0) return;
    if (this.pos >= o * o) this.restart();
    const r = Math.floor(this.pos / o),
      c = this.pos % o;
    let s = this.f.bias;
    for (let i = 0; i < this.f.k; i++)
      for (let j = 0; j < this.f.k; j++)
        s += this.at(r * this.stride + i - this.pad, c * this.stride + j - this.pad) * this.f.w[i * this.f.k + j];
    this.out[this.pos] = s;
    this.pos++;
    this.draw();
  }

  private draw(): void {
    const P = N + 2 * this.pad,
      o = this.outSize,
      k = this.f.k;
    const W = P * IN_CELL + 40 + Math.max(o, 1) * OUT_CELL + 2,
      H = Math.max(P * IN_CELL, o * OUT_CELL) + 24;
    const ctx = setupCanvas(this.grid, W, H);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, H);
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillStyle = '#333';
    ctx.fillText(`input ${N}x${N}, padding ${this.pad}`, 0, 12);
    const ox = P * IN_CELL + 40;
    ctx.fillText(`output ${o}x${o} (stride ${this.stride})`, ox, 12);
    const top = 20;
    for (let y = 0; y < P; y++)
      for (let x = 0; x < P; x++) {
        const iy = y - this.pad,
          ix = x - this.pad,
          inside = iy >= 0 && ix >= 0 && iy < N && ix < N;
        if (inside) {
          const g = Math.round(this.x[iy * N + ix] * 255);
          ctx.fillStyle = `rgb(${g},${g},${g})`;
        } else ctx.fillStyle = '#e9ecf2';
        ctx.fillRect(x * IN_CELL, top + y * IN_CELL, IN_CELL - 1, IN_CELL - 1);
        if (!inside) {
          ctx.strokeStyle = '#c5cbd6';
          ctx.beginPath();
          ctx.moveTo(x * IN_CELL, top + (y + 1) * IN_CELL - 1);
          ctx.lineTo((x + 1) * IN_CELL - 1, top + y * IN_CELL);
          ctx.stroke();
        }
      }
    // output map so far
    for (let i = 0; i < o * o; i++) {
      const v = this.out[i],
        r = Math.floor(i / o),
        c = i % o;
      if (v === null) ctx.fillStyle = '#f4f5f8';
      else {
        const [R, G, B] = diverging(v / 2);
        ctx.fillStyle = `rgb(${R},${G},${B})`;
      }
      ctx.fillRect(ox + c * OUT_CELL, top + r * OUT_CELL, OUT_CELL - 1, OUT_CELL - 1);
    }
    const cur = this.pos - 1;
    if (cur >= 0 && cur < o * o) {
      const r = Math.floor(cur / o),
        c = cur % o;
      ctx.strokeStyle = '#e4572e';
      ctx.lineWidth = 3;
      ctx.strokeRect(
        c * this.stride * IN_CELL - 1,
        top + r * this.stride * IN_CELL - 1,
        k * IN_CELL + 1,
        k * IN_CELL + 1,
      );
      ctx.strokeRect(ox + c * OUT_CELL - 1, top + r * OUT_CELL - 1, OUT_CELL + 1, OUT_CELL + 1);
      // a line from the window to its output cell
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo((c * this.stride + k) * IN_CELL, top + (r * this.stride + k / 2) * IN_CELL);
      ctx.lineTo(ox + c * OUT_CELL, top + (r + 0.5) * OUT_CELL);
      ctx.stroke();
      this.drawCalc(r, c);
    } else this.drawCalc(-1, -1);
  }

  private drawCalc(r: number, c: number): void {
    const k = this.f.k,
      g = k * CALC,
      W = 3 * g + 120,
      H = g + 22;
    const ctx = setupCanvas(this.calc, W, H);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, H);
    ctx.font = '11px ui-monospace, monospace';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    const terms: string[] = [];
    let sum = 0;
    const block = (x0: number, title: string, val: (i: number, j: number) => number, color: (v: number) => string) => {
      ctx.fillStyle = '#333';
      ctx.fillText(title, x0 + g / 2, 8);
      for (let i = 0; i < k; i++)
        for (let j = 0; j < k; j++) {
          const v = val(i, j);
          ctx.fillStyle = color(v);
          ctx.fillRect(x0 + j * CALC, 18 + i * CALC, CALC - 1, CALC - 1);
          ctx.fillStyle = '#111';
          ctx.fillText(
            Math.abs(v) < 0.005 ? '0' : v.toFixed(2).replace('0.', '.'),
            x0 + j * CALC + CALC / 2,
            18 + i * CALC + CALC / 2,
          );
        }
    };
    const xv = (i: number, j: number) =>
      r < 0 ? 0 : this.at(r * this.stride + i - this.pad, c * this.stride + j - this.pad);
    const wv = (i: number, j: number) => this.f.w[i * k + j];
    const gray = (v: number) => `rgb(${255 - v * 90},${255 - v * 90},${255 - v * 60})`;
    const div = (s: number) => (v: number) => {
      const [R, G, B] = diverging(v / s);
      return `rgb(${R},${G},${B})`;
    };
    const wmax = Math.max(...this.f.w.map(Math.abs), 1e-6);
    block(0, 'window x', xv, gray);
    block(g + 40, 'filter w', wv, div(wmax));
    block(2 * g + 80, 'x · w', (i, j) => xv(i, j) * wv(i, j), div(wmax));
    ctx.font = '20px system-ui, sans-serif';
    ctx.fillStyle = '#333';
    ctx.fillText('×', g + 20, 18 + g / 2);
    ctx.fillText('=', 2 * g + 60, 18 + g / 2);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) {
        const p = xv(i, j) * wv(i, j);
        sum += p;
        if (Math.abs(p) > 0.005) terms.push(`${xv(i, j).toFixed(2)}×${wv(i, j).toFixed(2)}`);
      }
    sum += this.f.bias;
    if (r < 0) {
      this.text.textContent = 'Press play: the window moves by the stride; each position gives one output number.';
      return;
    }
    const shown =
      terms.length > 6 ? `${terms.slice(0, 6).join(' + ')} + … (${terms.length - 6} more)` : terms.join(' + ') || '0';
    this.text.textContent =
      `output[${r}][${c}] = Σ x·w + b = ${shown}${this.f.bias ? ` + ${this.f.bias.toFixed(2)}` : ''} = ${sum.toFixed(3)}` +
      `   →  ReLU: ${Math.max(0, sum).toFixed(3)}`;
  }
}
