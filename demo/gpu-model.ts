// The demo's networks on the GPU with the engine's training stack: the network is an
// nn.Sequential built from the engine ModelSpec of the demo's NetSpec (conv2d with fused bias +
// ReLU, max pooling, flatten, linear), trained by a captured TrainStep (forward, softmax
// cross-entropy, autograd backward, Adam/SGD update recorded once, then replayed each step with
// one submit and no allocation). Part of the engine boundary with engine-adapter.ts: only these
// two files import from src/.
//
// Augmentation runs inside the captured step (the engine's GPU warp, matrices written before
// each replay). Loss and accuracy are summed on the GPU after each step and read back once per
// chunk of steps (takeStats). Inspection runs an unfused forward of one image with the same
// parameters, so conv output, ReLU and pooling are separate stages, and walks back through them
// with the kernels' backward functions for the gradient view.

import {
  Adam,
  SGD,
  Module,
  Sequential,
  TrainStep,
  accuracy,
  add,
  augment,
  conv2d,
  keep,
  matmul,
  preparePipelines,
  relu,
  reshape,
  scope,
  softmax,
  softmaxCrossEntropy,
  sub,
  tensor,
  empty,
  engine,
  zeros,
  type Optimizer,
  type PrepareInfo,
  type Shape,
  type Tensor,
  withQuickKernels,
} from '../src/index.js';
import { conv2dInputGrad, maxPool2dBackward, maxPool2dWithIndices, reluBackward } from '../src/kernels.js';
import { toModelSpec } from './model-files.js';
import { CLASSES, expandSpec, initWeights, paramList, type Layer, type NetSpec, type Weights } from './net-spec.js';
import { EVAL_CHUNK, type DemoModel, type Hyper, type Stage, type StepStats } from './model-api.js';

type Conv = Extract<Layer, { kind: 'conv' }>;
type Dense = Extract<Layer, { kind: 'dense' }>;
interface Block {
  conv: Conv;
  pool: boolean;
}

const POOL = { kernel: 2, stride: 2 } as const;
const SAME = { padding: 'same' } as const;

/** The network behind the engine's augmentation kernel (so the warp is part of the captured step). */
class Augmented extends Module {
  constructor(
    readonly inner: Module,
    readonly matrices: Tensor,
  ) {
    super();
    this.addChild('inner', inner);
  }
  forward(x: Tensor): Tensor {
    return this.inner.forward(augment(x, this.matrices));
  }
  outputShape(s: Shape): Shape {
    return this.inner.outputShape(s);
  }
  toString(): string {
    return `Augmented(${this.inner})`;
  }
}

/** One captured step per (batch size, augmentation on/off), with its accuracy output. */
interface Step {
  step: TrainStep;
  acc: Tensor | null;
  mats: Tensor | null;
  ready: Promise<PrepareInfo> | null;
}

export class GpuModel implements DemoModel {
  readonly backend = 'webgpu' as const;
  readonly augmentsOnGpu = true;
  private blocks: Block[] = [];
  private dense: Dense[] = [];
  private net: Sequential;
  /** demo parameter name (conv1.weight) -> the Sequential's tensor (0.weight) */
  private p = new Map<string, Tensor>();
  private hyper: Hyper = { lr: 0.002, optimizer: 'adam', momentum: 0.9 };
  private opt: Optimizer;
  private steps = new Map<string, Step>();
  private lossSum: Tensor;
  private accSum: Tensor;
  private count = 0;

  constructor(
    readonly spec: NetSpec,
    seed: number,
  ) {
    const layers = expandSpec(spec);
    layers.forEach((l, i) => {
      if (l.kind === 'conv') this.blocks.push({ conv: l, pool: layers[i + 2]?.kind === 'maxpool' });
      if (l.kind === 'dense') this.dense.push(l);
    });
    const { model, names } = toModelSpec(spec);
    this.net = Sequential.fromSpec(model);
    const own = this.net.stateDict();
    for (const q of paramList(spec)) this.p.set(q.name, own.get(names.get(q.name)!)!);
    this.writeWeights(initWeights(spec, seed)); // the CPU model's initial weights, seed for seed
    this.opt = this.makeOptimizer();
    this.lossSum = keep(zeros([1]));
    this.accSum = keep(zeros([1]));
  }

  private w(name: string): Tensor {
    return this.p.get(name)!;
  }

  /** The optimizer reads the current lr at every step, so lr edits apply live. */
  private makeOptimizer(): Optimizer {
    const params = this.net.parameters();
    const lr = () => this.hyper.lr;
    return this.hyper.optimizer === 'adam'
      ? new Adam(params, { lr })
      : new SGD(params, { lr, momentum: this.hyper.momentum });
  }

  /** New optimizer state (zero moments, t = 0); captured steps refer to the old one: drop them. */
  private resetOptimizer(): void {
    this.dropSteps();
    this.opt.dispose();
    this.opt = this.makeOptimizer();
  }

  private dropSteps(): void {
    for (const s of this.steps.values()) {
      s.step.dispose();
      s.acc?.dispose();
      s.mats?.dispose();
    }
    this.steps.clear();
  }

  setHyper(h: Hyper): void {
    const reset = h.optimizer !== this.hyper.optimizer || (h.optimizer === 'sgd' && h.momentum !== this.hyper.momentum);
    this.hyper = { ...h };
    if (reset) this.resetOptimizer();
  }

  private stepFor(n: number, augmented: boolean): Step {
    const key = `${n}:${augmented}`;
    let s = this.steps.get(key);
    if (!s) {
      const mats = augmented ? keep(zeros([n, 6])) : null;
      const entry: Step = { step: null as unknown as TrainStep, acc: null, mats, ready: null };
      entry.step = new TrainStep({
        model: mats ? new Augmented(this.net, mats) : this.net,
        optimizer: this.opt,
        inputShape: [n, 28, 28, 1],
        // Runs once, while the step is captured; replays rewrite the kept accuracy tensor.
        loss: (logits, labels) => {
          const acc = accuracy(logits, labels);
          // planning passes (prepare, the tiered start's fast compile) run this too, and free
          // what they make: only a real capture may replace the kept tensor
          if (!engine().queue.isPlanning) {
            entry.acc?.dispose();
            entry.acc = keep(acc);
          }
          return softmaxCrossEntropy(logits, labels);
        },
      });
      this.steps.set(key, (s = entry));
    }
    return s;
  }

  private predictReady: Promise<PrepareInfo> | null = null;
  /** set once evaluation's fast kernels are compiled; until then it runs on the quick ones */
  private evalFast = false;
  private evalFastStarted = false;

  /** Evaluation's forward pass (softmax of the logits) of `x`, on the kernel tier it has now. */
  private probs(x: () => Tensor): Tensor {
    const f = () => softmax(this.net.forward(x()));
    return scope(() => (this.evalFast ? f() : withQuickKernels(f)));
  }

  /**
   * Cold start, tiered like TrainStep's: compile the quick kernels of evaluation (a forward
   * pass and softmax of EVAL_CHUNK digits) and of the training step (TrainStep.prepare)
   * concurrently. Evaluation is asked first: the page evaluates as soon as it opens, and the
   * compiles of one device may run one after the other in the order asked (Chromium's GPU
   * process does). The step shares the forward pipelines (compiles in flight are shared,
   * pipelines.ts). predict() and trainStep() wait for theirs. The fast kernels compile after
   * the first training step (startFast): a page that only predicts stays on the quick ones,
   * and nothing compiles ahead of a first step the user is waiting for.
   */
  async prepare(n: number, augmented: boolean): Promise<{ pipelines: number; compiled: number; ms: number }> {
    const t0 = performance.now();
    // one compile at a time: Chromium's GPU process draws no frame while it compiles, and
    // compiling several at once is no faster there (docs/performance.md, "Cold start")
    const opts = { concurrency: 1 };
    this.predictReady ??= preparePipelines(
      () => withQuickKernels(() => softmax(this.net.forward(empty([EVAL_CHUNK, 28, 28, 1])))),
      opts,
    );
    const s = this.stepFor(n, augmented);
    s.ready ??= s.step.prepare(opts);
    const infos = await Promise.all([s.ready, this.predictReady]);
    return {
      pipelines: infos.reduce((a, i) => a + i.pipelines, 0),
      compiled: infos.reduce((a, i) => a + i.compiled, 0),
      ms: performance.now() - t0,
    };
  }

  /**
   * After the first training step: the step's fast kernels (TrainStep compiles them in the
   * background, one at a time), then evaluation's, which mostly share them. Evaluation switches
   * when they are ready; its results differ from the quick kernels' by rounding only.
   */
  private startFast(s: Step): void {
    if (this.evalFastStarted) return;
    this.evalFastStarted = true;
    s.step
      .prepare({ wait: 'fast' })
      .then(() => preparePipelines(() => softmax(this.net.forward(empty([EVAL_CHUNK, 28, 28, 1]))), { concurrency: 1 }))
      .then(
        () => (this.evalFast = true),
        () => {}, // a failed compile leaves evaluation on the quick kernels, which work
      );
  }

  async trainStep(x: Float32Array, y: Uint32Array, n: number, affine?: Float32Array | null): Promise<void> {
    const s = this.stepFor(n, !!affine);
    // a step whose warm-up is in flight waits for it (instead of compiling the same pipelines
    // a second time, synchronously); a step never prepared compiles what it misses as it runs
    if (s.ready) await s.ready;
    if (affine) s.mats!.write(affine);
    s.step.run(x, y);
    this.startFast(s);
    const sums = scope(() => ({ loss: add(this.lossSum, s.step.loss), acc: add(this.accSum, s.acc!) }));
    this.lossSum.dispose();
    this.accSum.dispose();
    this.lossSum = keep(sums.loss);
    this.accSum = keep(sums.acc);
    this.count++;
  }

  async takeStats(): Promise<StepStats> {
    const [l, a] = await Promise.all([this.lossSum.read(), this.accSum.read()]);
    const k = Math.max(1, this.count);
    const out = { loss: l[0] / k, acc: a[0] / k, steps: this.count };
    this.lossSum.dispose();
    this.accSum.dispose();
    this.lossSum = keep(zeros([1]));
    this.accSum = keep(zeros([1]));
    this.count = 0;
    return out;
  }

  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    // while the warm-up compiles the forward pipelines, wait for it (a synchronous compile of
    // the same pipelines now would compile them twice)
    if (this.predictReady) await this.predictReady;
    const probs = this.probs(() => tensor(x, [n, 28, 28, 1]));
    try {
      return (await probs.read()) as Float32Array;
    } finally {
      probs.dispose();
    }
  }

  async inspect(x: Float32Array, label: number, grads: boolean): Promise<Stage[]> {
    // Unfused forward so that each stage (conv, ReLU, pool, dense) is its own tensor. One
    // image: the quick kernels are as fast for it and compile in a fraction of the time.
    const meta: Omit<Stage, 'data' | 'grad'>[] = [{ name: 'input', kind: 'input', block: 0, shape: [28, 28, 1] }];
    const out = scope(() =>
      withQuickKernels(() => {
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
            meta.push({
              name: `pool${c.block}`,
              kind: 'pool',
              block: c.block,
              shape: [r.y.shape[1], r.y.shape[2], r.y.shape[3]],
            });
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
            g = conv2dInputGrad(g, this.w(`${s.name}.weight`), acts[k - 1].shape, SAME);
          }
        }
        return { acts, dacts };
      }),
    );
    try {
      const data = await Promise.all(out.acts.map((t) => t.read() as Promise<Float32Array>));
      const gr = await Promise.all(
        out.dacts.map((t) => (t ? (t.read() as Promise<Float32Array>) : Promise.resolve(undefined))),
      );
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

  private writeWeights(w: Weights): void {
    for (const [k, t] of this.p) {
      const src = w[k];
      if (!src || src.data.length !== t.size)
        throw new Error(
          `load: parameter ${k} expects shape [${t.shape}], the file has ${src ? `[${src.shape}]` : 'none'}`,
        );
      t.write(src.data);
    }
  }

  setWeights(w: Weights): void {
    this.writeWeights(w);
    this.resetOptimizer();
  }

  dispose(): void {
    this.dropSteps();
    this.opt.dispose();
    this.net.dispose();
    this.lossSum.dispose();
    this.accSum.dispose();
  }
}
