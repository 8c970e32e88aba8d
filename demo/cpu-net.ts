// The same networks in plain JavaScript on the CPU, float32: the baseline the demo measures
// WebGPU against (this is how ConvNetJS trains), and the model a visitor can still train when
// the browser has no WebGPU. Layouts match the engine: NHWC activations, HWIO conv weights,
// [in,out] dense weights, so weights move between backends unchanged.

import { CLASSES, expandSpec, initWeights, type Layer, type NetSpec, type Weights } from './net-spec.js';
import type { DemoModel, Hyper, Stage, StepStats } from './model-api.js';

type L = Layer;

function convForward(
  l: Extract<L, { kind: 'conv' }>,
  x: Float32Array,
  n: number,
  w: Float32Array,
  b: Float32Array,
): Float32Array {
  const [H, W, C] = l.in,
    O = l.cout,
    K = l.kernel,
    p = l.pad;
  const y = new Float32Array(n * H * W * O);
  for (let i = 0; i < n; i++)
    for (let oh = 0; oh < H; oh++)
      for (let ow = 0; ow < W; ow++) {
        const yo = ((i * H + oh) * W + ow) * O;
        for (let o = 0; o < O; o++) y[yo + o] = b[o];
        for (let kh = 0; kh < K; kh++) {
          const ih = oh + kh - p;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < K; kw++) {
            const iw = ow + kw - p;
            if (iw < 0 || iw >= W) continue;
            const xo = ((i * H + ih) * W + iw) * C,
              wo = (kh * K + kw) * C * O;
            for (let c = 0; c < C; c++) {
              const xv = x[xo + c];
              if (xv === 0) continue;
              const wc = wo + c * O;
              for (let o = 0; o < O; o++) y[yo + o] += xv * w[wc + o];
            }
          }
        }
      }
  return y;
}

/** Accumulates dw, db; returns dx unless `needDx` is false. */
function convBackward(
  l: Extract<L, { kind: 'conv' }>,
  x: Float32Array,
  dy: Float32Array,
  n: number,
  w: Float32Array,
  dw: Float32Array,
  db: Float32Array,
  needDx: boolean,
): Float32Array | null {
  const [H, W, C] = l.in,
    O = l.cout,
    K = l.kernel,
    p = l.pad;
  const dx = needDx ? new Float32Array(n * H * W * C) : null;
  for (let i = 0; i < n; i++)
    for (let oh = 0; oh < H; oh++)
      for (let ow = 0; ow < W; ow++) {
        const yo = ((i * H + oh) * W + ow) * O;
        for (let o = 0; o < O; o++) db[o] += dy[yo + o];
        for (let kh = 0; kh < K; kh++) {
          const ih = oh + kh - p;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < K; kw++) {
            const iw = ow + kw - p;
            if (iw < 0 || iw >= W) continue;
            const xo = ((i * H + ih) * W + iw) * C,
              wo = (kh * K + kw) * C * O;
            for (let c = 0; c < C; c++) {
              const xv = x[xo + c],
                wc = wo + c * O;
              let acc = 0;
              for (let o = 0; o < O; o++) {
                const g = dy[yo + o];
                dw[wc + o] += xv * g;
                acc += w[wc + o] * g;
              }
              if (dx) dx[xo + c] += acc;
            }
          }
        }
      }
  return dx;
}

function poolForward(
  l: Extract<L, { kind: 'maxpool' }>,
  x: Float32Array,
  n: number,
): { y: Float32Array; arg: Int32Array } {
  const [H, W, C] = l.in,
    [OH, OW] = l.out;
  const y = new Float32Array(n * OH * OW * C),
    arg = new Int32Array(y.length);
  for (let i = 0; i < n; i++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let c = 0; c < C; c++) {
          let best = -Infinity,
            bi = 0;
          for (let dh = 0; dh < 2; dh++)
            for (let dw = 0; dw < 2; dw++) {
              const j = ((i * H + oh * 2 + dh) * W + ow * 2 + dw) * C + c;
              if (x[j] > best) (best = x[j]), (bi = j);
            }
          const o = ((i * OH + oh) * OW + ow) * C + c;
          y[o] = best;
          arg[o] = bi;
        }
  return { y, arg };
}

function denseForward(
  l: Extract<L, { kind: 'dense' }>,
  x: Float32Array,
  n: number,
  w: Float32Array,
  b: Float32Array,
): Float32Array {
  const I = l.din,
    O = l.dout,
    y = new Float32Array(n * O);
  for (let i = 0; i < n; i++) {
    const yo = i * O;
    for (let o = 0; o < O; o++) y[yo + o] = b[o];
    for (let k = 0; k < I; k++) {
      const xv = x[i * I + k];
      if (xv === 0) continue;
      for (let o = 0; o < O; o++) y[yo + o] += xv * w[k * O + o];
    }
  }
  return y;
}

function softmaxRows(z: Float32Array, n: number): Float32Array {
  const p = new Float32Array(z.length);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let k = 0; k < CLASSES; k++) m = Math.max(m, z[i * CLASSES + k]);
    let s = 0;
    for (let k = 0; k < CLASSES; k++) s += p[i * CLASSES + k] = Math.exp(z[i * CLASSES + k] - m);
    for (let k = 0; k < CLASSES; k++) p[i * CLASSES + k] /= s;
  }
  return p;
}

interface Trace {
  acts: Float32Array[]; // acts[0] = input, acts[j + 1] = output of layer j
  args: (Int32Array | null)[];
}

export class CpuModel implements DemoModel {
  readonly backend = 'cpu' as const;
  readonly augmentsOnGpu = false;
  readonly layers: Layer[];
  private w: Weights;
  private state = new Map<string, { m: Float32Array; v: Float32Array }>();
  private hyper: Hyper = { lr: 0.01, optimizer: 'adam', momentum: 0.9 };
  private t = 0;
  private stats = { loss: 0, acc: 0, steps: 0 };

  constructor(
    readonly spec: NetSpec,
    seed = 1,
  ) {
    this.layers = expandSpec(spec);
    this.w = initWeights(spec, seed);
  }

  setHyper(h: Hyper): void {
    if (h.optimizer !== this.hyper.optimizer) this.resetOptimizer();
    this.hyper = { ...h };
  }

  private resetOptimizer(): void {
    this.state.clear();
    this.t = 0;
  }

  private forward(x: Float32Array, n: number): Trace {
    const acts = [x],
      args: (Int32Array | null)[] = [];
    for (const l of this.layers) {
      const a = acts[acts.length - 1];
      let y: Float32Array,
        arg: Int32Array | null = null;
      if (l.kind === 'conv') y = convForward(l, a, n, this.w[`${l.name}.weight`].data, this.w[`${l.name}.bias`].data);
      else if (l.kind === 'dense')
        y = denseForward(l, a, n, this.w[`${l.name}.weight`].data, this.w[`${l.name}.bias`].data);
      else if (l.kind === 'relu') y = a.map((v) => Math.max(v, 0));
      else if (l.kind === 'maxpool') ({ y, arg } = poolForward(l, a, n));
      else y = a; // flatten: NHWC is already row-major per image
      acts.push(y);
      args.push(arg);
    }
    return { acts, args };
  }

  /** Backward from dlogits; returns parameter grads and, per activation, dLoss/dAct. */
  private backward(tr: Trace, dlogits: Float32Array, n: number, keepActGrads: boolean) {
    const grads: Weights = {};
    const actGrads: (Float32Array | null)[] = new Array(tr.acts.length).fill(null);
    let dy = dlogits;
    actGrads[tr.acts.length - 1] = dy;
    for (let j = this.layers.length - 1; j >= 0; j--) {
      const l = this.layers[j],
        x = tr.acts[j];
      let dx: Float32Array | null;
      if (l.kind === 'conv' || l.kind === 'dense') {
        const w = this.w[`${l.name}.weight`],
          b = this.w[`${l.name}.bias`];
        const dw = new Float32Array(w.data.length),
          db = new Float32Array(b.data.length);
        if (l.kind === 'conv') dx = convBackward(l, x, dy, n, w.data, dw, db, j > 0);
        else {
          const I = l.din,
            O = l.dout;
          dx = new Float32Array(n * I);
          for (let i = 0; i < n; i++)
            for (let k = 0; k < I; k++) {
              const xv = x[i * I + k];
              let acc = 0;
              for (let o = 0; o < O; o++) {
                const g = dy[i * O + o];
                dw[k * O + o] += xv * g;
                acc += w.data[k * O + o] * g;
              }
              dx[i * I + k] = acc;
            }
          for (let i = 0; i < n; i++) for (let o = 0; o < O; o++) db[o] += dy[i * O + o];
        }
        grads[`${l.name}.weight`] = { shape: w.shape, data: dw };
        grads[`${l.name}.bias`] = { shape: b.shape, data: db };
      } else if (l.kind === 'relu') {
        const y = tr.acts[j + 1];
        dx = dy.map((g, i) => (y[i] > 0 ? g : 0));
      } else if (l.kind === 'maxpool') {
        dx = new Float32Array(x.length);
        const arg = tr.args[j]!;
        for (let i = 0; i < dy.length; i++) dx[arg[i]] += dy[i];
      } else dx = dy;
      if (!dx) break;
      if (keepActGrads) actGrads[j] = dx;
      dy = dx;
    }
    return { grads, actGrads };
  }

  /** Mean cross-entropy, accuracy and parameter gradients of a batch (no update). */
  gradients(x: Float32Array, y: Uint32Array, n: number): { loss: number; acc: number; grads: Weights } {
    const tr = this.forward(x, n);
    const p = softmaxRows(tr.acts[tr.acts.length - 1], n);
    let loss = 0,
      correct = 0;
    const dl = new Float32Array(p.length);
    for (let i = 0; i < n; i++) {
      const row = p.subarray(i * CLASSES, (i + 1) * CLASSES);
      loss -= Math.log(Math.max(row[y[i]], 1e-30));
      let best = 0;
      for (let k = 1; k < CLASSES; k++) if (row[k] > row[best]) best = k;
      if (best === y[i]) correct++;
      for (let k = 0; k < CLASSES; k++) dl[i * CLASSES + k] = (row[k] - (k === y[i] ? 1 : 0)) / n;
    }
    return { loss: loss / n, acc: correct / n, grads: this.backward(tr, dl, n, false).grads };
  }

  trainStep(x: Float32Array, y: Uint32Array, n: number): void {
    const { loss, acc, grads } = this.gradients(x, y, n);
    this.stats.loss += loss;
    this.stats.acc += acc;
    this.stats.steps++;
    this.apply(grads);
  }

  private apply(grads: Weights): void {
    const h = this.hyper;
    this.t++;
    const b1 = 0.9,
      b2 = 0.999,
      eps = 1e-8;
    const c1 = 1 - b1 ** this.t,
      c2 = 1 - b2 ** this.t;
    for (const [name, g] of Object.entries(grads)) {
      const p = this.w[name].data;
      let s = this.state.get(name);
      if (!s) this.state.set(name, (s = { m: new Float32Array(p.length), v: new Float32Array(p.length) }));
      if (h.optimizer === 'sgd') {
        for (let i = 0; i < p.length; i++) {
          s.m[i] = h.momentum * s.m[i] + g.data[i];
          p[i] -= h.lr * s.m[i];
        }
      } else {
        for (let i = 0; i < p.length; i++) {
          s.m[i] = b1 * s.m[i] + (1 - b1) * g.data[i];
          s.v[i] = b2 * s.v[i] + (1 - b2) * g.data[i] * g.data[i];
          p[i] -= (h.lr * (s.m[i] / c1)) / (Math.sqrt(s.v[i] / c2) + eps);
        }
      }
    }
  }

  async takeStats(): Promise<StepStats> {
    const s = this.stats,
      k = Math.max(s.steps, 1);
    this.stats = { loss: 0, acc: 0, steps: 0 };
    return { loss: s.loss / k, acc: s.acc / k, steps: s.steps };
  }

  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    const tr = this.forward(x, n);
    return softmaxRows(tr.acts[tr.acts.length - 1], n);
  }

  async inspect(x: Float32Array, label: number, grads: boolean): Promise<Stage[]> {
    const tr = this.forward(x, 1);
    let actGrads: (Float32Array | null)[] = [];
    if (grads) {
      const p = softmaxRows(tr.acts[tr.acts.length - 1], 1);
      const dl = p.map((v, k) => v - (k === label ? 1 : 0));
      actGrads = this.backward(tr, dl, 1, true).actGrads;
    }
    const stages: Stage[] = [{ name: 'input', kind: 'input', block: 0, shape: [28, 28, 1], data: x.slice(0, 784) }];
    this.layers.forEach((l, j) => {
      if (l.kind === 'flatten') return;
      const kind = l.kind === 'maxpool' ? 'pool' : l.kind;
      stages.push({
        name: l.name,
        kind,
        block: l.block,
        shape: l.out,
        data: tr.acts[j + 1],
        grad: actGrads[j + 1] ?? undefined,
      });
    });
    return stages;
  }

  async getWeights(): Promise<Weights> {
    const out: Weights = {};
    for (const [k, v] of Object.entries(this.w)) out[k] = { shape: [...v.shape], data: v.data.slice() };
    return out;
  }

  setWeights(w: Weights): void {
    for (const [k, v] of Object.entries(this.w)) {
      const src = w[k];
      if (!src || src.data.length !== v.data.length)
        throw new Error(
          `load: parameter ${k} expects shape [${v.shape}], the file has ${src ? `[${src.shape}]` : 'none'}`,
        );
      v.data.set(src.data);
    }
    this.resetOptimizer();
  }

  dispose(): void {
    this.state.clear();
  }
}
