// The training worker: owns the MNIST data, the GPU device (through engine-adapter.ts) and the
// model, and runs the training loop off the page's main thread, so the page never freezes
// however long a step takes. The loop trains a chunk of steps, reads the loss back once per
// chunk, posts progress, and yields to the worker's event loop so requests (draw-a-digit
// predictions, feature maps, save/load) are answered between chunks.

import { Batcher, imageOf, PIXELS, type Mnist } from './mnist-data.js';
import { augmentVariants, randomMatrices } from './augment.js';
import { CpuModel } from './cpu-net.js';
import {
  createGpuBackend,
  decodeDemoModel,
  encodeDemoModel,
  loadDigits,
  NoWebGpuError,
  warpCpu,
  type GpuBackend,
} from './engine-adapter.js';
import { mulberry32, paramCount, type NetSpec, type Weights } from './net-spec.js';
import { benchmark } from './bench.js';
import { Evaluator } from './evaluator.js';
import type { BackendName, DemoModel, Normalize } from './model-api.js';
import { NormalizedModel } from './normalized-model.js';
import type { FromWorker, Replies, Request, ToWorker, TrainSettings } from './protocol.js';

// (tsconfig has the DOM lib, not WebWorker: the little of the worker scope used here)
const scope = self as unknown as {
  postMessage(m: unknown, transfer: Transferable[]): void;
  onmessage: ((ev: MessageEvent) => void) | null;
};
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

/** Aim for chunks of about this long: short enough to answer requests, long enough to batch. */
const CHUNK_MS = 250;
/** While training, evaluate at most this often, and spend at most ~1/5 of the time on it. */
const EVAL_EVERY_MS = 1500;
const FILTERS_EVERY_MS = 400;
const SNAPSHOT_EVERY_MS = 3000;

let data: Mnist | null = null;
let gpu: GpuBackend | null = null;
let wanted: BackendName = 'webgpu';
let model: DemoModel | null = null;
let spec: NetSpec | null = null;
/** the model's input normalisation (from its file; none for a network made here) */
let normalize: Normalize = null;
let settings: TrainSettings | null = null;
let batcher: Batcher | null = null;
let running = false;
function setRunning(r: boolean): void {
  if (r !== running) post({ type: 'running', running: r });
  running = r;
}
let step = 0;
let chunk = 1;
let generation = 0; // bumped when a device loss abandons in-flight work
let snapshot: Weights | null = null;
let lastFilters = 0,
  lastSnapshot = 0;
let evaluator: Evaluator | null = null;
let augRand = mulberry32(7);
let xBuf = new Float32Array(0),
  yBuf = new Uint32Array(0);

// One model operation at a time: requests arriving during a training chunk wait for it.
let chain: Promise<unknown> = Promise.resolve();
function serial<T>(f: () => Promise<T> | T): Promise<T> {
  const gen = generation;
  const p = chain.then(() => {
    if (gen !== generation) throw new Error('the GPU device was lost; the request was dropped');
    return f();
  });
  chain = p.catch(() => undefined);
  return p;
}

function buildModel(s: NetSpec, seed: number): DemoModel {
  const net = (wanted === 'webgpu' && gpu?.createModel(s, seed)) || new CpuModel(s, seed);
  const m = normalize ? new NormalizedModel(net, normalize) : net;
  if (settings) m.setHyper(settings.hyper);
  return m;
}

function activeBackend(): BackendName {
  return model?.backend ?? 'cpu';
}

/** A new model (or the same one on another device or backend); `norm` goes with its weights. */
async function install(s: NetSpec, seed: number, w: Weights | null, source: string, norm: Normalize = null) {
  model?.dispose();
  model = null;
  spec = s;
  normalize = norm;
  model = buildModel(s, seed);
  if (w) model.setWeights(w);
  step = 0;
  batcher = new Batcher(data!.train, seed);
  evaluator ??= new Evaluator(data!.test);
  evaluator.reset();
  snapshot = w ?? (await model.getWeights());
  post({ type: 'model', spec: s, params: paramCount(s), backend: model.backend, source, normalize });
  warmUp();
  await postFilters();
}

/**
 * Cold start: compile the pipelines of training with the current settings, and of evaluation,
 * as soon as the model and the settings are known (the page has just opened; nobody has pressed
 * Train yet). Not on the serial chain: requests are answered meanwhile. Idempotent per batch
 * size and augmentation setting (GpuModel.prepare).
 */
function warmUp(): void {
  const m = model,
    s = settings;
  if (!m?.prepare || !s) return;
  const gen = generation;
  m.prepare(s.batch, s.augment).then(
    (info) => {
      if (gen === generation && m === model) post({ type: 'prepared', batch: s.batch, augment: s.augment, ...info });
    },
    (e) => {
      if (gen === generation && m === model)
        post({ type: 'error', message: `compiling the GPU kernels failed: ${(e as Error).message}` });
    },
  );
}

async function postFilters(): Promise<void> {
  if (!model) return;
  const w = await model.getWeights();
  lastFilters = now();
  if (now() - lastSnapshot > SNAPSHOT_EVERY_MS) (snapshot = w), (lastSnapshot = now());
  const f = w['conv1.weight'],
    b = w['conv1.bias'];
  if (f && b) post({ type: 'filters', shape: f.shape, data: f.data.slice(), bias: b.data.slice(), step });
}

async function trainChunk(): Promise<void> {
  if (!model || !settings || !batcher || !data) return;
  const b = settings.batch;
  if (xBuf.length !== b * PIXELS) (xBuf = new Float32Array(b * PIXELS)), (yBuf = new Uint32Array(b));
  if (model.prepare) {
    // the first chunk waits for the warm-up (started when the model was made) here, so the
    // images/s of the chunk measure training, not compiling
    if (step === 0) post({ type: 'loading', message: 'Compiling the GPU kernels…' });
    await model.prepare(b, settings.augment);
  }
  const t0 = now();
  for (let i = 0; i < chunk; i++) {
    batcher.next(b, xBuf, yBuf);
    const mats = settings.augment ? randomMatrices(b, augRand, settings.augmentOptions).matrices : null;
    if (mats && !model.augmentsOnGpu) await model.trainStep(warpCpu(xBuf, b, mats), yBuf, b);
    else await model.trainStep(xBuf, yBuf, b, mats);
    step++;
  }
  const stats = await model.takeStats();
  const dt = now() - t0;
  post({
    type: 'progress',
    progress: {
      step,
      epoch: batcher.epoch,
      epochProgress: batcher.progress,
      loss: stats.loss,
      acc: stats.acc,
      imagesPerSec: (chunk * b * 1000) / dt,
      chunk,
      running,
    },
  });
  // adapt the chunk so one takes about CHUNK_MS
  chunk = Math.max(1, Math.min(200, Math.round(chunk * Math.min(2, Math.max(0.5, CHUNK_MS / dt)))));
  if (now() - lastFilters > FILTERS_EVERY_MS) await postFilters();
}

function softmax(z: Float32Array): Float32Array {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

async function evalChunk(): Promise<void> {
  if (!model || !evaluator) return;
  post({ type: 'eval', result: await evaluator.chunk(model, step) });
}

// The pump trains while running, evaluates every EVAL_EVERY_MS, and when paused finishes the
// current pass over the test set (so a freshly loaded model gets its full confusion matrix)
// where that is quick, else its first 2,000 digits (evaluator.ts, pausedWantsMore).
let pumping = false;
async function pump(): Promise<void> {
  if (pumping) return;
  pumping = true;
  try {
    for (;;) {
      const gen = generation;
      try {
        if (running) {
          await serial(trainChunk);
          if (evaluator && now() - evaluator.lastAt > Math.max(EVAL_EVERY_MS, 4 * evaluator.lastMs))
            await serial(evalChunk);
        } else if (model && evaluator?.pausedWantsMore) await serial(evalChunk);
        else break;
      } catch (e) {
        if (gen === generation) {
          setRunning(false);
          post({ type: 'error', message: `training stopped: ${(e as Error).message}` });
        }
      }
      await sleep(0);
    }
  } finally {
    pumping = false;
  }
}

async function acquireGpu(simulateNoGpu: boolean): Promise<void> {
  if (simulateNoGpu)
    throw new NoWebGpuError(
      'webgpu-cnn: this browser has no WebGPU (navigator.gpu is undefined) [simulated by ?nogpu]',
    );
  gpu = await createGpuBackend();
  gpu.onLost((msg) => void recover(msg));
}

async function recover(message: string): Promise<void> {
  generation++;
  chain = Promise.resolve();
  const wasRunning = running;
  setRunning(false);
  post({ type: 'device-lost', message });
  const usedGpu = model?.backend === 'webgpu';
  const weights = usedGpu ? snapshot : model ? await model.getWeights() : snapshot;
  try {
    // free the old model while its engine is still the current one: a captured step releases
    // its buffers into the current engine's pool, and after init() that is the new device's
    model?.dispose();
    model = null;
    await acquireGpu(false);
    if (spec) {
      const s = step;
      await install(spec, 1, weights, usedGpu ? 'restored after device loss' : 'kept (CPU)', normalize);
      step = s;
    }
    post({
      type: 'recovered',
      message: `new device on ${gpu!.adapter}${usedGpu ? `; weights restored from the last snapshot` : ''}`,
    });
    setRunning(wasRunning);
    void pump();
  } catch (e) {
    post({ type: 'error', message: `could not get the GPU back: ${(e as Error).message}` });
  }
}

async function answer(req: Request): Promise<{ result: unknown; transfer: Transferable[] }> {
  if (!data) throw new Error('still loading');
  switch (req.type) {
    case 'inspect': {
      const stages = await serial(() => model!.inspect(req.image, req.label, req.grads));
      const last = stages[stages.length - 1];
      const r: Replies['inspect'] = { stages, probs: softmax(last.data) };
      return { result: r, transfer: [] };
    }
    case 'predict': {
      const probs = await serial(() => model!.predict(req.images, req.n));
      return { result: { probs } satisfies Replies['predict'], transfer: [probs.buffer] };
    }
    case 'digit': {
      const s = req.split === 'train' ? data.train : data.test;
      const i = ((req.index % s.n) + s.n) % s.n;
      return { result: { image: imageOf(s, i), label: s.labels[i] } satisfies Replies['digit'], transfer: [] };
    }
    case 'augment-preview': {
      const i = ((req.index % data.train.n) + data.train.n) % data.train.n;
      const original = imageOf(data.train, i);
      const v = augmentVariants(original, req.count, req.seed, settings?.augmentOptions);
      const r: Replies['augment-preview'] = {
        original,
        images: v.images,
        params: v.params,
        label: data.train.labels[i],
      };
      return { result: r, transfer: [] };
    }
    case 'save': {
      const weights = await serial(() => model!.getWeights());
      const meta = { ...req.meta, steps: String(step), backend: activeBackend() };
      const bytes = encodeDemoModel(spec!, weights, meta, normalize);
      return { result: { bytes } satisfies Replies['save'], transfer: [bytes.buffer] };
    }
    case 'load': {
      const file = decodeDemoModel(req.bytes);
      await serial(() => install(file.spec, 1, file.weights, file.meta.source ?? 'loaded', file.normalize));
      void pump();
      const r: Replies['load'] = { spec: file.spec, meta: file.meta, normalize: file.normalize };
      return { result: r, transfer: [] };
    }
    case 'benchmark': {
      if (!spec || !data || !settings) throw new Error('no model yet');
      const s = settings,
        sp = spec,
        d = data;
      const results = await serial(() => benchmark(sp, d, s, gpu, req.batch, req.ms));
      return { result: { results } satisfies Replies['benchmark'], transfer: [] };
    }
    case 'weights': {
      const weights = await serial(() => model!.getWeights());
      return { result: { weights } satisfies Replies['weights'], transfer: [] };
    }
  }
}

scope.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  try {
    if ('id' in m) {
      try {
        const { result, transfer } = await answer(m);
        post({ type: 'reply', id: m.id, ok: true, result }, transfer);
      } catch (e) {
        post({ type: 'reply', id: m.id, ok: false, error: (e as Error).message });
      }
      return;
    }
    switch (m.type) {
      case 'init': {
        wanted = m.backend;
        post({ type: 'loading', message: 'Fetching 10,000 MNIST digits…' });
        const dataP = loadDigits();
        try {
          await acquireGpu(!!m.simulateNoGpu);
        } catch (e) {
          if (!(e instanceof NoWebGpuError)) throw e;
          post({ type: 'no-webgpu', message: e.message });
          wanted = 'cpu';
        }
        data = await dataP;
        post({
          type: 'ready',
          backend: gpu && wanted === 'webgpu' ? 'webgpu' : 'cpu',
          adapter: gpu?.adapter ?? 'none (no WebGPU)',
          train: data.train.n,
          test: data.test.n,
        });
        break;
      }
      case 'configure':
        settings = m.settings;
        setRunning(false);
        await serial(() => install(m.spec, m.seed, null, `random init (seed ${m.seed})`));
        void pump();
        break;
      case 'settings': {
        settings = m.settings;
        const s = m.settings;
        await serial(() => model?.setHyper(s.hyper));
        warmUp(); // the batch size or augmentation may be new
        break;
      }
      case 'start':
        if (!model) throw new Error('no model yet');
        setRunning(true);
        void pump();
        break;
      case 'pause':
        setRunning(false);
        break;
      case 'reset':
        setRunning(false);
        augRand = mulberry32(m.seed + 7);
        if (spec) await serial(() => install(spec!, m.seed, null, `random init (seed ${m.seed})`));
        void pump();
        break;
      case 'use-backend':
        wanted = m.backend;
        if (spec && model) {
          const w = await serial(() => model!.getWeights());
          const s = step,
            e = batcher?.epoch ?? 0;
          await serial(async () => {
            await install(spec!, 1, w, `moved to ${m.backend}`, normalize);
            // same model, same run: keep counting steps (the charts continue)
            step = s;
            batcher!.epoch = e;
          });
        }
        break;
      case 'debug-lose-device':
        gpu?.loseDevice();
        break;
    }
  } catch (e) {
    post({ type: 'error', message: (e as Error).message });
  }
};
