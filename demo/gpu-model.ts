// The demo's networks on the GPU, built directly on the engine's kernels (conv2d with fused bias
// + ReLU, max pooling with saved argmax, matmul, softmax cross-entropy, Adam/SGD in place).
// Part of the engine boundary with engine-adapter.ts: only these two files import from src/.
//
// The backward pass is written out layer by layer (the chain rule in the order a textbook
// shows it), with each kernel's backward wrapper; a training step records into one command
// encoder and is submitted when the next batch is written. Loss and accuracy are summed on
// the GPU and read back once per chunk of steps (takeStats).

import {
  accuracy, adamStep, add, augment, biasGrad, conv2d, conv2dBackwardInput, conv2dBackwardWeightBias, keep, makeHyper,
  matmul, maxPool2d, maxPool2dBackward, maxPool2dWithIndices, relu, reluBackward, reshape, scale, scope, sgdStep,
  softmax, softmaxCrossEntropy, sub, tensor, writeHyper, zeros, type Tensor,
} from '../src/index.js';
import { CLASSES, expandSpec, initWeights, paramList, type Layer, type NetSpec, type Weights } from './net-spec.js';
import type { DemoModel, Hyper, Stage, StepStats } from './model-api.js';

type Conv = Extract<Layer, { kind: 'conv' }>;
type Dense = Extract<Layer, { kind: 'dense' }>;
interface Block { conv: Conv; pool: boolean }

const POOL = { kernel: 2, stride: 2 } as const;
const SAME = { padding: 'same' } as const;

/** Per-batch-size input tensors, reused every step (host writes, no allocation). */
interface Inputs { x: Tensor; labels: Tensor; onehot: Tensor; mats: Tensor }

export class GpuModel implements DemoModel {
  readonly backend = 'webgpu' as const;
  readonly augmentsOnGpu = true;
  private blocks: Block[] = [];
  private dense: Dense[] = [];
  private p = new Map<string, Tensor>();
  private m = new Map<string, Tensor>();
  private v = new Map<string, Tensor>();
  private hyper: Hyper = { lr: 0.002, optimizer: 'adam', momentum: 0.9 };
  private hyperT: Tensor;
  private t = 0;
  private inputs = new Map<number, Inputs>();
  private lossSum: Tensor;
  private accSum: Tensor;
  private steps = 0;

  constructor(
    readonly spec: NetSpec,
    seed: number,
  ) {
    const layers = expandSpec(spec);
    layers.forEach((l, i) => {
      if (l.kind === 'conv') this.blocks.push({ conv: l, pool: layers[i + 2]?.kind === 'maxpool' });
      if (l.kind === 'dense') this.dense.push(l);
    });
    const w = initWeights(spec, seed);
    for (const q of paramList(spec)) {
      this.p.set(q.name, keep(tensor(w[q.name].data, q.shape)));
      this.m.set(q.name, keep(zeros(q.shape)));
      this.v.set(q.name, keep(zeros(q.shape)));
    }
    this.hyperT = keep(makeHyper({ kind: 'adam', lr: this.hyper.lr, step: 1 }));
    this.lossSum = keep(zeros([1]));
    this.accSum = keep(zeros([1]));
  }

  private w(name: string): Tensor {
    return this.p.get(name)!;
  }

  setHyper(h: Hyper): void {
    if (h.optimizer !== this.hyper.optimizer) this.resetOptimizer();
    this.hyper = { ...h };
  }

  private resetOptimizer(): void {
    for (const s of [this.m, this.v]) for (const [k, t] of s) t.write(new Float32Array(this.w(k).size));
    this.t = 0;
  }

  private inputsFor(n: number): Inputs {
    let i = this.inputs.get(n);
    if (!i) {
      i = { x: keep(zeros([n, 28, 28, 1])), labels: keep(tensor(new Uint32Array(n), [n], 'u32')), onehot: keep(zeros([n, CLASSES])), mats: keep(zeros([n, 6])) };
      this.inputs.set(n, i);
    }
    return i;
  }

  trainStep(x: Float32Array, y: Uint32Array, n: number, affine?: Float32Array | null): void {
    const inp = this.inputsFor(n);
    const onehot = new Float32Array(n * CLASSES);
    for (let i = 0; i < n; i++) onehot[i * CLASSES + y[i]] = 1;
    inp.x.write(x); // flushes the previous step's commands
    inp.labels.write(y);
    inp.onehot.write(onehot);
    if (affine) inp.mats.write(affine);
    this.t++;
    const h = this.hyper;
    writeHyper(this.hyperT, h.optimizer === 'adam' ? { kind: 'adam', lr: h.lr, step: this.t } : { kind: 'sgd', lr: h.lr, momentum: h.momentum });
    const sums = scope(() => {
      const input = affine ? augment(inp.x, inp.mats) : inp.x;
      // ---- forward, keeping what backward needs ----
      const convSaved: { x: Tensor; a: Tensor; argmax: Tensor | null }[] = [];
      let hT = input;
      for (const b of this.blocks) {
        const a = conv2d(hT, this.w(`${b.conv.name}.weight`), { ...SAME, bias: this.w(`${b.conv.name}.bias`), relu: true });
        let argmax: Tensor | null = null, out = a;
        if (b.pool) ({ y: out, argmax } = maxPool2dWithIndices(a, POOL));
        convSaved.push({ x: hT, a, argmax });
        hT = out;
      }
      const lastMap = hT;
      let f = reshape(hT, [n, this.dense[0].din]);
      const denseIn: Tensor[] = [];
      this.dense.forEach((d, i) => {
        denseIn.push(f);
        f = matmul(f, this.w(`${d.name}.weight`), { bias: this.w(`${d.name}.bias`), relu: i < this.dense.length - 1 });
      });
      const logits = f;
      const loss = softmaxCrossEntropy(logits, inp.labels);
      const acc = accuracy(logits, inp.labels);
      // ---- backward: d loss / d logits = (softmax - onehot) / n, then layer by layer ----
      let g = scale(sub(softmax(logits), inp.onehot), 1 / n);
      const grads = new Map<string, Tensor>();
      for (let i = this.dense.length - 1; i >= 0; i--) {
        const d = this.dense[i], xin = denseIn[i];
        grads.set(`${d.name}.weight`, matmul(xin, g, { transA: true }));
        grads.set(`${d.name}.bias`, biasGrad(g));
        g = matmul(g, this.w(`${d.name}.weight`), { transB: true });
        if (i > 0) g = reluBackward(g, xin); // xin is the previous dense layer's ReLU output
      }
      g = reshape(g, lastMap.shape);
      for (let j = this.blocks.length - 1; j >= 0; j--) {
        const b = this.blocks[j], s = convSaved[j];
        if (s.argmax) g = maxPool2dBackward(g, s.argmax, s.a.shape, POOL);
        const wName = `${b.conv.name}.weight`;
        const r = conv2dBackwardWeightBias(s.x, g, this.w(wName).shape, { ...SAME, reluY: s.a });
        grads.set(wName, r.dw);
        grads.set(`${b.conv.name}.bias`, r.db);
        if (j > 0) g = conv2dBackwardInput(g, this.w(wName), s.x.shape, { ...SAME, reluY: s.a });
      }
      // ---- update in place ----
      for (const [name, p] of this.p) {
        if (h.optimizer === 'adam') adamStep(p, grads.get(name)!, this.m.get(name)!, this.v.get(name)!, this.hyperT);
        else sgdStep(p, grads.get(name)!, this.m.get(name)!, this.hyperT);
      }
      return { loss: add(this.lossSum, loss), acc: add(this.accSum, acc) };
    });
    this.lossSum.dispose();
    this.accSum.dispose();
    this.lossSum = keep(sums.loss);
    this.accSum = keep(sums.acc);
    this.steps++;
  }

  async takeStats(): Promise<StepStats> {
    const [l, a] = await Promise.all([this.lossSum.read(), this.accSum.read()]);
    const k = Math.max(1, this.steps);
    const out = { loss: l[0] / k, acc: a[0] / k, steps: this.steps };
    this.lossSum.dispose();
    this.accSum.dispose();
    this.lossSum = keep(zeros([1]));
    this.accSum = keep(zeros([1]));
    this.steps = 0;
    return out;
  }

  /** Logits of a forward pass without saving anything for backward. */
  private logits(x: Tensor, n: number): Tensor {
    let h = x;
    for (const b of this.blocks) {
      h = conv2d(h, this.w(`${b.conv.name}.weight`), { ...SAME, bias: this.w(`${b.conv.name}.bias`), relu: true });
      if (b.pool) h = maxPool2d(h, POOL);
    }
    h = reshape(h, [n, this.dense[0].din]);
    this.dense.forEach((d, i) => {
      h = matmul(h, this.w(`${d.name}.weight`), { bias: this.w(`${d.name}.bias`), relu: i < this.dense.length - 1 });
    });
    return h;
  }

  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    const probs = scope(() => softmax(this.logits(tensor(x, [n, 28, 28, 1]), n)));
    try {
      return (await probs.read()) as Float32Array;
    } finally {
      probs.dispose();
    }
  }

  async inspect(x: Float32Array, label: number, grads: boolean): Promise<Stage[]> {
    // Unfused forward so that each stage (conv, ReLU, pool, dense) is its own tensor.
    const meta: Omit<Stage, 'data' | 'grad'>[] = [{ name: 'input', kind: 'input', block: 0, shape: [28, 28, 1] }];
    const out = scope(() => {
      const acts: Tensor[] = [tensor(x.subarray(0, 784), [1, 28, 28, 1])];
      const at = () => acts[acts.length - 1];
      const poolIdx = new Map<number, Tensor>();
      for (const b of this.blocks) {
        const c = b.conv;
        acts.push(conv2d(at(), this.w(`${c.name}.weight`), { ...SAME, bias: this.w(`${c.name}.bias`) }));
        meta.push({ name: c.name, kind: 'conv', block: c.block, shape: c.out });
        acts.push(relu(at()));
        meta.push({ name: `relu${c.block}`, kind: 'relu', block: c.block, shape: c.out });
        if (b.pool) {
          const r = maxPool2dWithIndices(at(), POOL);
          poolIdx.set(acts.length, r.argmax);
          acts.push(r.y);
          meta.push({ name: `pool${c.block}`, kind: 'pool', block: c.block, shape: [r.y.shape[1], r.y.shape[2], r.y.shape[3]] });
        }
      }
      let f = reshape(at(), [1, this.dense[0].din]);
      this.dense.forEach((d, i) => {
        const z = matmul(f, this.w(`${d.name}.weight`), { bias: this.w(`${d.name}.bias`) });
        acts.push(z);
        meta.push({ name: d.name, kind: 'dense', block: d.block, shape: d.out });
        f = z;
        if (i < this.dense.length - 1) {
          f = relu(z);
          acts.push(f);
          meta.push({ name: `${d.name}.relu`, kind: 'relu', block: d.block, shape: d.out });
        }
      });
      if (!grads) return { acts, dacts: [] as (Tensor | null)[] };
      // d loss / d stage for the cross-entropy of `label`, walking the stages backwards.
      const onehot = new Float32Array(CLASSES);
      onehot[label] = 1;
      const dacts: (Tensor | null)[] = new Array(acts.length).fill(null);
      let g = sub(softmax(at()), tensor(onehot, [1, CLASSES]));
      for (let k = acts.length - 1; k >= 1; k--) {
        dacts[k] = g;
        const s = meta[k];
        if (s.kind === 'relu') g = reluBackward(g, acts[k]);
        else if (s.kind === 'pool') g = maxPool2dBackward(g, poolIdx.get(k)!, acts[k - 1].shape, POOL);
        else if (s.kind === 'dense') {
          g = matmul(g, this.w(`${s.name}.weight`), { transB: true });
          if (acts[k - 1].rank === 4) g = reshape(g, acts[k - 1].shape); // back from flat to the map
        } else if (s.kind === 'conv') {
          if (k === 1) break;
          g = conv2dBackwardInput(g, this.w(`${s.name}.weight`), acts[k - 1].shape, SAME);
        }
      }
      return { acts, dacts };
    });
    try {
      const data = await Promise.all(out.acts.map((t) => t.read() as Promise<Float32Array>));
      const gr = await Promise.all(out.dacts.map((t) => (t ? (t.read() as Promise<Float32Array>) : Promise.resolve(undefined))));
      return meta.map((m, i) => ({ ...m, data: data[i], grad: gr[i] }));
    } finally {
      for (const t of [...out.acts, ...out.dacts]) t?.dispose();
    }
  }

  async getWeights(): Promise<Weights> {
    const out: Weights = {};
    for (const [k, t] of this.p) out[k] = { shape: [...t.shape], data: (await t.read()) as Float32Array };
    return out;
  }

  setWeights(w: Weights): void {
    for (const [k, t] of this.p) {
      const src = w[k];
      if (!src || src.data.length !== t.size) throw new Error(`load: parameter ${k} expects shape [${t.shape}], the file has ${src ? `[${src.shape}]` : 'none'}`);
      t.write(src.data);
    }
    this.resetOptimizer();
  }

  dispose(): void {
    for (const s of [this.p, this.m, this.v]) for (const t of s.values()) t.dispose();
    for (const i of this.inputs.values()) for (const t of Object.values(i)) t.dispose();
    this.hyperT.dispose();
    this.lossSum.dispose();
    this.accSum.dispose();
  }
}
