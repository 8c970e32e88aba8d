// The demo page: starts the training worker (worker.ts, which owns WebGPU and the model) and
// wires the panels to it. Nothing here blocks: training runs in the worker, and the page only
// draws what the worker reports.
//
// The page opens with the library's MNIST model, fetched from /models/ (library-models.ts).
// URL parameters: ?backend=cpu (train in plain JavaScript), ?nogpu (simulate a browser without
// WebGPU), ?nopretrained (start from random weights instead), ?autostart.

import { WorkerClient } from './client.js';
import { Controls } from './panels/controls.js';
import { Charts } from './panels/charts.js';
import { TestPanel } from './panels/testset.js';
import { DrawPanel } from './panels/draw.js';
import { GridPanel } from './panels/grid.js';
import { SlidePanel } from './panels/slide.js';
import { FeaturePanel } from './panels/features.js';
import { Refresh } from './refresh.js';
import { FiltersPanel } from './panels/filters.js';
import { AugmentPanel } from './panels/augment-view.js';
import { ModelsPanel } from './panels/models.js';
import { fetchLibraryModel, LIBRARY_MODELS, type LibraryModel } from './library-models.js';
import { paintDigit } from './panels/paint.js';
import { PRESETS } from './net-spec.js';
import type { BackendName, Normalize } from './model-api.js';
import type { EvalResult, Progress } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);

const client = new WorkerClient();
const state = {
  ready: false,
  running: false,
  gpuAvailable: false,
  backend: 'cpu' as BackendName,
  adapter: '',
  digit: { image: new Float32Array(784) as Float32Array, label: 0, index: 0, source: 'test' as 'test' | 'drawing' },
  progress: null as Progress | null,
  evalResult: null as EvalResult | null,
  /** the model's input normalisation (from its file), shown and kept when saved */
  normalize: null as Normalize,
  /** (step, loss, images/s) per chunk since the last model change */
  history: [] as { step: number; loss: number; ips: number }[],
  inspections: 0,
  lastInspect: 0,
  augSeed: 1,
  bench: null as { backend: BackendName; imagesPerSec: number; steps: number }[] | null,
  /** finished warm-ups (kernels compiled for training and evaluation), by `${batch}:${augment}` */
  prepared: {} as Record<string, { pipelines: number; compiled: number; ms: number }>,
  /** when Train was last pressed, and ms from then to the first progress after it (cold start) */
  trainPressedAt: 0,
  firstStepMs: null as number | null,
};

// ---- banner and status ----
function banner(kind: 'error' | 'warn' | 'info' | null, html = ''): void {
  const b = $('banner');
  b.hidden = !kind;
  b.className = `banner ${kind ?? ''}`;
  b.innerHTML = html;
}

function statusLine(): void {
  const ips = state.progress ? `${Math.round(state.progress.imagesPerSec).toLocaleString('en')} images/s` : '';
  const where =
    state.backend === 'webgpu'
      ? `<b>WebGPU</b> on ${state.adapter}`
      : `<b>CPU</b> (plain JavaScript)${state.gpuAvailable ? `; GPU available: ${state.adapter}` : ''}`;
  $('status-text').innerHTML =
    `Training runs on ${where}${ips ? ` · ${ips}` : ''}${state.running ? ' · training…' : ''}`;
}

const NO_WEBGPU_HELP = `
  <b>This browser has no WebGPU, so the network cannot train on the GPU.</b> The demo falls back to plain JavaScript on the CPU (much slower).
  To enable WebGPU: use a recent Chrome or Edge (113+) or Safari 26+/Firefox 141+ on a supported system;
  in Chrome on Linux start it with <code>--enable-unsafe-webgpu --enable-features=Vulkan</code> or enable
  <code>chrome://flags/#enable-unsafe-webgpu</code>; check <code>chrome://gpu</code> for "WebGPU: Hardware accelerated".
  WebGPU needs a secure page: <code>https://</code> or <code>http://localhost</code>.`;

// ---- panels ----
const charts = new Charts($('chart-loss'), $('chart-acc'));
const testPanel = new TestPanel($('test-digits'), $('confusion'), $('per-class'), $('test-summary'));
const grid = new GridPanel($('grid-digit'), $('grid-numbers'));
const slide = new SlidePanel($('slide-grid'), $('slide-calc'), $('slide-text'), {
  filter: $('slide-filter'),
  stride: $('slide-stride'),
  pad: $('slide-pad'),
  speed: $('slide-speed'),
  play: $('slide-play'),
  step: $('slide-step'),
});
const features = new FeaturePanel($('feature-maps'), $('head-units'), $('head-logits'), $('head-probs'));
const filters = new FiltersPanel($('filters'), $('filters-caption'));
const augment = new AugmentPanel($('augment-view'));

const controls = new Controls($('train'), {
  start: () => {
    state.trainPressedAt = performance.now();
    state.firstStepMs = null;
    client.send({ type: 'start' });
  },
  pause: () => client.send({ type: 'pause' }),
  reset: (spec, settings) => {
    charts.clear();
    client.send({ type: 'configure', spec, settings, seed: Math.floor(Math.random() * 1e6) });
  },
  settings: (settings) => client.send({ type: 'settings', settings }),
  backend: (backend) => client.send({ type: 'use-backend', backend }),
});

const draw = new DrawPanel(
  $('draw-canvas'),
  $('draw-preview'),
  $('draw-probs'),
  $('draw-verdict'),
  async (img) => (await client.request({ type: 'predict', images: img.slice(), n: 1 })).probs,
  () => {
    if (state.digit.source === 'drawing') pickDrawing(false);
  },
);
$('btn-clear').addEventListener('click', () => draw.clear());
$('btn-inspect-drawing').addEventListener('click', () => {
  pickDrawing(true);
});

/** The test digits: MNIST's standard test set, which the demo never trains on. */
const TEST_DIGITS = "MNIST's 10,000 standard test digits";

async function loadBytes(bytes: Uint8Array, source: string): Promise<void> {
  const r = await client.request({ type: 'load', bytes: bytes.slice() });
  controls.setSpec(r.spec);
  charts.clear();
  state.normalize = r.normalize;
  const acc = r.meta.test_accuracy
    ? ` (test accuracy ${r.meta.test_accuracy}${r.meta.test_digits ? ` on ${r.meta.test_digits}` : ''})`
    : '';
  const norm = r.normalize ? ` Its inputs are normalised: (ink − ${r.normalize.mean}) / ${r.normalize.std}.` : '';
  $('model-source').textContent = `Model: ${source}${acc}.${norm}`;
}

async function loadLibrary(m: LibraryModel): Promise<void> {
  await loadBytes(
    await fetchLibraryModel(m),
    `${m.about}. Below: its accuracy on ${TEST_DIGITS} — press Reset then Train to watch a network learn from scratch`,
  );
}

new ModelsPanel($('models'), {
  save: async () => {
    const r = state.evalResult;
    const meta: Record<string, string> = { saved: new Date().toISOString() };
    if (r && r.evaluated === r.total)
      Object.assign(meta, { test_accuracy: `${(r.accuracy * 100).toFixed(2)}%`, test_digits: TEST_DIGITS });
    return (await client.request({ type: 'save', meta })).bytes;
  },
  load: loadBytes,
  library: loadLibrary,
});

// ---- the digit under the microscope ----
async function pickTest(index: number): Promise<void> {
  const r = await client.request({ type: 'digit', split: 'test', index });
  state.digit = { image: r.image, label: r.label, index, source: 'test' };
  showDigit();
}

function pickDrawing(scroll: boolean): void {
  if (!draw.probs) return;
  let best = 0;
  for (let k = 1; k < 10; k++) if (draw.probs[k] > draw.probs[best]) best = k;
  state.digit = { image: draw.image.slice(), label: best, index: -1, source: 'drawing' };
  showDigit();
  if (scroll) $('step-maps').scrollIntoView({ behavior: 'smooth' });
}

function showDigit(): void {
  const d = state.digit;
  paintDigit($<HTMLCanvasElement>('picked-digit'), d.image, 2);
  $('picked-label').textContent =
    d.source === 'test' ? `test digit #${d.index}, labelled “${d.label}”` : `your drawing (read as “${d.label}”)`;
  grid.setDigit(d.image);
  slide.setDigit(d.image);
  void inspect(true);
}

$('pick-prev').addEventListener('click', () => void pickTest(Math.max(0, state.digit.index - 1)));
$('pick-next').addEventListener('click', () => void pickTest(state.digit.index + 1));
$('pick-random').addEventListener('click', () => void pickTest(Math.floor(Math.random() * 10000)));
$<HTMLInputElement>('show-grads').addEventListener('change', (e) => {
  features.showGrads = (e.target as HTMLInputElement).checked;
  void inspect(true);
});

/**
 * Feature maps of the current digit; while training at most about once a second. One
 * inspection at a time: a forced one (new digit, gradients toggled) asked for while another is
 * in flight runs after it, with the digit and view of that moment (demo/refresh.ts); each reply
 * is drawn as the view it was asked for.
 */
const inspector = new Refresh(async () => {
  state.lastInspect = performance.now();
  try {
    const d = state.digit,
      grads = features.showGrads;
    const r = await client.request({ type: 'inspect', image: d.image.slice(), label: d.label, grads });
    features.render(r.stages, r.probs, d.label, grads);
    state.inspections++;
  } catch (e) {
    console.warn('inspect failed', e);
  }
});

// Whether an inspection is in flight (read by the e2e test): the inspector's own state.
Object.defineProperty(state, 'inspecting', { get: () => inspector.busy, enumerable: true });

function inspect(force = false): Promise<void> {
  if (!state.ready) return Promise.resolve();
  if (!force && performance.now() - state.lastInspect < 1000) return Promise.resolve();
  return inspector.request(force);
}

$('btn-bench').addEventListener('click', async () => {
  const btn = $<HTMLButtonElement>('btn-bench'),
    out = $('bench-result');
  btn.disabled = true;
  out.textContent = 'Measuring (a few seconds per backend)…';
  try {
    const batch = controls.settings().batch;
    const { results } = await client.request({ type: 'benchmark', batch, ms: 3000 });
    const name = { webgpu: 'WebGPU', cpu: 'plain JavaScript' } as const;
    const txt = results
      .map((r) => `<b>${name[r.backend]}</b> ${Math.round(r.imagesPerSec).toLocaleString('en')} images/s`)
      .join(' · ');
    const g = results.find((r) => r.backend === 'webgpu'),
      c = results.find((r) => r.backend === 'cpu');
    const ratio =
      g && c
        ? ` → WebGPU is ${g.imagesPerSec >= c.imagesPerSec ? `${(g.imagesPerSec / c.imagesPerSec).toFixed(1)}× faster` : `${(c.imagesPerSec / g.imagesPerSec).toFixed(1)}× slower (a software GPU?)`}`
        : '';
    out.innerHTML = `batch ${batch}: ${txt}${ratio}`;
    state.bench = results;
  } catch (e) {
    out.textContent = `⚠ ${(e as Error).message}`;
  } finally {
    btn.disabled = false;
  }
});

async function refreshAugment(): Promise<void> {
  const r = await client.request({
    type: 'augment-preview',
    index: state.digit.index >= 0 ? state.digit.index * 3 + 1 : 1,
    count: 11,
    seed: state.augSeed++,
  });
  augment.render(r);
}
$('aug-new').addEventListener('click', () => void refreshAugment());

// ---- worker events ----
client.on('loading', (m) => ($('status-text').textContent = m.message));
client.on('no-webgpu', (m) => {
  state.gpuAvailable = false;
  banner('error', `${NO_WEBGPU_HELP}<br><span class="dim">${m.message}</span>`);
});
client.on('ready', async (m) => {
  state.ready = true;
  state.backend = m.backend;
  state.adapter = m.adapter;
  state.gpuAvailable = m.adapter !== 'none (no WebGPU)';
  controls.setBackend(m.backend, state.gpuAvailable);
  if (m.note) banner('warn', m.note);
  statusLine();
  try {
    if (params.has('nopretrained')) {
      client.send({ type: 'configure', spec: PRESETS.lenet, settings: controls.settings(), seed: 1 });
      $('model-source').textContent = 'Model: random initial weights. Press Train.';
    } else await loadLibrary(LIBRARY_MODELS[0]);
  } catch (e) {
    banner('error', `Could not load the pretrained model: ${(e as Error).message}`);
    client.send({ type: 'configure', spec: PRESETS.lenet, settings: controls.settings(), seed: 1 });
  }
  client.send({ type: 'settings', settings: controls.settings() });
  await pickTest(0);
  await refreshAugment();
  if (params.has('autostart')) client.send({ type: 'start' });
});
client.on('model', (m) => {
  state.backend = m.backend;
  state.normalize = m.normalize;
  controls.setSpec(m.spec);
  controls.setBackend(m.backend, state.gpuAvailable);
  if (m.source.startsWith('random'))
    $('model-source').textContent = `Model: ${m.source}, ${m.params.toLocaleString('en')} parameters. Press Train.`;
  // a new model starts a new run; the same weights on another backend (or on a new device
  // after a loss) continue the current one
  const sameRun = /^(moved to|restored|kept)/.test(m.source);
  if (!sameRun) {
    $('stat-step').textContent = '0';
    state.history = [];
  }
  statusLine();
  void inspect(true);
});
client.on('prepared', (m) => {
  // warm-ups for several settings may run at once and finish in any order
  state.prepared[`${m.batch}:${m.augment}`] = { pipelines: m.pipelines, compiled: m.compiled, ms: m.ms };
});
client.on('progress', ({ progress: p }) => {
  if (state.firstStepMs === null && state.trainPressedAt) state.firstStepMs = performance.now() - state.trainPressedAt;
  state.progress = p;
  const src = $('model-source');
  if (src.textContent!.endsWith(' Press Train.')) src.textContent = src.textContent!.replace(' Press Train.', '');
  charts.addTrain(p.step, p.loss, p.acc);
  state.history.push({ step: p.step, loss: p.loss, ips: p.imagesPerSec });
  $('stat-step').textContent = p.step.toLocaleString('en');
  $('stat-epoch').textContent = (p.epoch + p.epochProgress).toFixed(2);
  $('stat-loss').textContent = p.loss.toFixed(3);
  $('stat-acc').textContent = `${(p.acc * 100).toFixed(1)}%`;
  $('stat-ips').textContent = Math.round(p.imagesPerSec).toLocaleString('en');
  statusLine();
  void inspect();
});
client.on('running', (m) => {
  state.running = m.running;
  controls.setRunning(m.running);
  statusLine();
});
client.on('filters', (m) => {
  filters.update(m.shape, m.data, m.step);
  slide.setLearned(m.shape, m.data, m.bias);
});
client.on('eval', ({ result }) => {
  state.evalResult = result;
  testPanel.update(result);
  charts.addTest(result.step, result.accuracy);
  $('stat-test').textContent = `${(result.accuracy * 100).toFixed(1)}%`;
});
client.on('device-lost', (m) => {
  banner('warn', `<b>The GPU device was lost</b> (${m.message}). Getting a new one and restoring the model…`);
});
client.on('recovered', (m) => banner('info', `Recovered from the device loss: ${m.message}.`));
client.on('error', (m) => banner('error', `⚠ ${m.message}`));

controls.setRunning(false);

const wanted: BackendName = params.get('backend') === 'cpu' ? 'cpu' : 'webgpu';
client.send({ type: 'init', backend: wanted, simulateNoGpu: params.has('nogpu') });

// For the end-to-end test and for curious visitors in the console.
(window as unknown as { __demo: unknown }).__demo = { state, client, draw, controls };
