// The demo's boundary with the webgpu-cnn engine. Only this file and gpu-model.ts (the network
// on the engine's kernels) import from src/: following an engine API change is done here.
//
//   - the GPU: acquire (again, after a loss), adapter description, device-loss notification;
//   - data: the engine's seeded, stratified MNIST loader (8,000 / 2,000);
//   - augmentation: the engine's affine matrices and its CPU warp (the GPU kernel runs inside
//     gpu-model.ts's training step);
//   - model files: the engine's safetensors format with its ModelSpec ("webgpu-cnn.arch"
//     metadata, parameters "<layer>.weight"), converted to and from the demo's NetSpec.
//
// Runs inside the training worker: WebGPU is available in dedicated workers.

import {
  affineMatrix, augmentCpu, decodeModel, encodeModel, engine, init, loadMnist, NoAdapterError, parseModelSpec,
  type Engine, type LayerSpec, type ModelSpec,
} from '../src/index.js';
import { GpuModel } from './gpu-model.js';
import type { DemoModel } from './model-api.js';
import type { Mnist } from './mnist-data.js';
import { CLASSES, expandSpec, IMAGE, paramList, validateSpec, type NetSpec, type Weights } from './net-spec.js';

// ---------------------------------------------------------------- GPU

export class NoWebGpuError extends Error {
  override name = 'NoWebGpuError';
}

export interface GpuBackend {
  /** adapter description for the page ("google swiftshader", "nvidia ampere ...") */
  adapter: string;
  createModel(spec: NetSpec, seed: number): DemoModel;
  /** called once if the device is lost (driver reset, GPU process crash, destroy) */
  onLost(f: (message: string) => void): void;
  /** test hook: destroy the device as a driver reset would */
  loseDevice(): void;
}

function describe(e: Engine): string {
  const i = e.info;
  return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'WebGPU adapter (no details exposed)';
}

/** Acquire the GPU (again, after a loss). Throws NoWebGpuError with how to enable WebGPU. */
export async function createGpuBackend(): Promise<GpuBackend> {
  let e: Engine;
  try {
    e = await init();
  } catch (err) {
    if (err instanceof NoAdapterError || !('gpu' in navigator)) throw new NoWebGpuError((err as Error).message);
    throw err;
  }
  const lostListeners: ((m: string) => void)[] = [];
  e.onDeviceLost((info) => {
    for (const f of lostListeners) f(`${info.reason}: ${info.message || 'the GPU device was lost'}`);
  });
  return {
    adapter: describe(e),
    createModel: (spec, seed) => new GpuModel(spec, seed),
    onLost: (f) => lostListeners.push(f),
    loseDevice: () => engine().device.destroy(),
  };
}

// ---------------------------------------------------------------- data

/** MNIST from the engine's loader: 8,000 train / 2,000 test, stratified, seeded. */
export async function loadDigits(seed: number): Promise<Mnist> {
  const { train, test } = await loadMnist({ seed, testCount: 2000 });
  return {
    train: { images: train.images, labels: train.labels, n: train.count },
    test: { images: test.images, labels: test.labels, n: test.count },
  };
}

// ---------------------------------------------------------------- augmentation

/** Output->input matrices [n*6] of forward transforms (degrees, scale, shift) about the centre. */
export function affineMatrices(params: { angle: number; scale: number; dx: number; dy: number }[]): Float32Array {
  const out = new Float32Array(params.length * 6);
  params.forEach((p, i) => out.set(affineMatrix({ angle: p.angle, scale: p.scale, tx: p.dx, ty: p.dy }, IMAGE, IMAGE), i * 6));
  return out;
}

/** Warp n 28x28 images by their matrices on the CPU (the GPU kernel's reference). */
export function warpCpu(src: Float32Array, n: number, matrices: Float32Array): Float32Array {
  return augmentCpu(src, { n, height: IMAGE, width: IMAGE, channels: 1 }, matrices);
}

// ---------------------------------------------------------------- model files

/** The engine's ModelSpec for a demo network (ReLU fused into conv and hidden linear layers). */
export function toModelSpec(spec: NetSpec): { model: ModelSpec; names: Map<string, string> } {
  const layers: LayerSpec[] = [];
  const names = new Map<string, string>(); // demo name -> engine name
  for (const l of expandSpec(spec)) {
    if (l.kind === 'conv') {
      names.set(`${l.name}.weight`, `${layers.length}.weight`).set(`${l.name}.bias`, `${layers.length}.bias`);
      layers.push({ type: 'conv2d', inC: l.cin, outC: l.cout, kernel: l.kernel, padding: 'same', bias: true, activation: 'relu' });
    } else if (l.kind === 'maxpool') layers.push({ type: 'maxpool2d', kernel: 2, stride: 2 });
    else if (l.kind === 'flatten') layers.push({ type: 'flatten' });
    else if (l.kind === 'dense') {
      names.set(`${l.name}.weight`, `${layers.length}.weight`).set(`${l.name}.bias`, `${layers.length}.bias`);
      layers.push({ type: 'linear', in: l.din, out: l.dout, bias: true, activation: l.dout === CLASSES && l.block === spec.hidden.length + 1 ? 'none' : 'relu' });
    }
  }
  return { model: parseModelSpec({ version: 1, input: [IMAGE, IMAGE, 1], layers }), names };
}

/** The demo network of an engine ModelSpec, or an error saying why the demo cannot show it. */
export function fromModelSpec(ms: ModelSpec): NetSpec {
  const spec: NetSpec = { convs: [], hidden: [] };
  const L = ms.layers;
  const bad = (i: number, why: string): never => {
    throw new Error(`load: layer ${i} (${JSON.stringify(L[i])}): ${why}; the demo shows conv(same) → ReLU → max-pool stacks followed by dense layers`);
  };
  let i = 0;
  const reluNext = (fused: string | undefined) => {
    if (fused === 'relu') return true;
    if (L[i + 1]?.type === 'relu') return i++, true;
    return false;
  };
  for (; i < L.length && L[i].type === 'conv2d'; i++) {
    const c = L[i] as Extract<LayerSpec, { type: 'conv2d' }>;
    const k = typeof c.kernel === 'number' ? c.kernel : c.kernel[0] === c.kernel[1] ? c.kernel[0] : bad(i, 'non-square kernel');
    if (c.padding !== 'same' || (c.stride ?? 1) !== 1 || (c.dilation ?? 1) !== 1 || c.bias === false) bad(i, 'needs padding "same", stride 1, a bias');
    if (!reluNext(c.activation)) bad(i, 'needs a ReLU');
    const p = L[i + 1];
    const pool = p?.type === 'maxpool2d' && (p.kernel === 2 || String(p.kernel) === '2,2') && [undefined, 2].includes(p.stride as number) && !p.padding;
    spec.convs.push({ channels: c.outC, kernel: k, pool });
    if (pool) i++;
  }
  if (L[i]?.type !== 'flatten') bad(i, 'expected flatten after the conv blocks');
  for (i++; i < L.length; i++) {
    const d = L[i];
    if (d.type !== 'linear' || d.bias === false) bad(i, 'expected a linear layer with a bias');
    const lin = d as Extract<LayerSpec, { type: 'linear' }>;
    const last = i === L.length - 1;
    if (last) {
      if (lin.out !== CLASSES || (lin.activation ?? 'none') !== 'none') bad(i, `the last layer must give ${CLASSES} logits`);
    } else {
      if (!reluNext(lin.activation)) bad(i, 'hidden layers need a ReLU');
      spec.hidden.push(lin.out);
    }
  }
  const err = validateSpec(spec);
  if (err) throw new Error(`load: ${err}`);
  return spec;
}

export function encodeDemoModel(spec: NetSpec, weights: Weights, meta: Record<string, string>): Uint8Array {
  const { model, names } = toModelSpec(spec);
  const params: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const p of paramList(spec)) params[names.get(p.name)!] = { shape: p.shape, data: weights[p.name].data };
  return encodeModel(model, params, { ...meta, input: 'ink in [0, 1], 28x28x1, not normalised' });
}

export function decodeDemoModel(bytes: Uint8Array): { spec: NetSpec; weights: Weights; meta: Record<string, string> } {
  const f = decodeModel(bytes);
  if (!f.spec) throw new Error('load: the file has no network description ("webgpu-cnn.arch" metadata); save it with webgpu-cnn');
  const spec = fromModelSpec(f.spec);
  const { names } = toModelSpec(spec);
  const weights: Weights = {};
  for (const p of paramList(spec)) {
    const t = f.params.get(names.get(p.name)!);
    if (!t) throw new Error(`load: the file lacks ${names.get(p.name)} (${p.name})`);
    weights[p.name] = { shape: t.shape, data: t.data };
  }
  return { spec, weights, meta: f.metadata };
}
