// The "teach it your own pictures" page: classes and their pictures (files or webcam frames),
// training controls, the augmented views, filters and feature maps, and predictions of a
// chosen picture or of the live camera. Everything on the GPU runs in worker.ts. State for
// the end-to-end test: window.__pictures.

import {
  FILTERS,
  type FromWorker,
  type Progress,
  type Replies,
  type Request,
  type Stage,
  type ToWorker,
} from './protocol.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const state = {
  ready: false,
  adapter: '',
  counts: [0, 0] as number[],
  names: ['koala', 'not a koala'],
  running: false,
  progress: null as Progress | null,
  losses: [] as number[],
  /** the last prediction of a chosen picture: class index and probabilities */
  prediction: null as { label: number; probabilities: number[] } | null,
  live: { count: 0, probabilities: [] as number[] },
  inspections: 0,
  chosen: { cls: 0, index: 0 },
};

// --- the worker ---
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'webgpu-cnn-pictures' });
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
const client = {
  received: 0,
  send(m: ToWorker, transfer: Transferable[] = []) {
    worker.postMessage(m, transfer);
  },
  request<T extends Request['type']>(r: Extract<Request, { type: T }>, transfer: Transferable[] = []) {
    const id = nextId++;
    return new Promise<Replies[T]>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...r, id }, transfer);
    });
  },
};
(window as unknown as { __pictures: unknown }).__pictures = { state, client };

function banner(text: string, kind: 'error' | 'info' = 'error'): void {
  const b = $('banner');
  b.hidden = false;
  b.className = `banner ${kind}`;
  b.textContent = text;
}

worker.onmessage = (ev: MessageEvent<FromWorker>) => {
  const m = ev.data;
  client.received++;
  switch (m.type) {
    case 'reply': {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.ok) p?.resolve(m.result);
      else p?.reject(new Error(m.error));
      return;
    }
    case 'ready':
      state.ready = true;
      state.adapter = m.adapter;
      $('status-text').textContent = `WebGPU on ${m.adapter}. Add pictures to two classes or more, then Train.`;
      send({ type: 'reset', size: size(), classes: state.names.length });
      return;
    case 'fatal':
      banner(
        `This page needs WebGPU: ${m.message}. Try a recent Chrome or Edge (or Chromium with --enable-unsafe-webgpu).`,
      );
      $('status-text').textContent = 'No WebGPU.';
      return;
    case 'error':
      banner(m.message);
      return;
    case 'status':
      $('status-text').textContent = m.message;
      return;
    case 'added':
      state.counts = m.counts;
      renderCounts();
      if (m.cls >= 0 && !state.running) void refreshViews();
      return;
    case 'running':
      state.running = m.running;
      ($('btn-train') as HTMLButtonElement).disabled = m.running;
      ($('btn-pause') as HTMLButtonElement).disabled = !m.running;
      return;
    case 'progress':
      onProgress(m.progress);
  }
};
worker.onerror = (ev) => banner(`the training worker failed: ${ev.message || 'script error'}`);
const send = (m: ToWorker, t: Transferable[] = []) => client.send(m, t);
const size = () => Number(($('size') as HTMLSelectElement).value);

// --- classes ---
function renderClasses(): void {
  const box = $('classes');
  box.textContent = '';
  state.names.forEach((name, c) => {
    const row = document.createElement('div');
    row.className = 'class-row';
    row.dataset.cls = String(c);
    row.innerHTML = `<input type="text" class="class-name" /><span class="count dim"></span><div class="thumbs"></div>
      <div class="class-actions"><input type="file" class="add-files" accept="image/*" multiple title="add pictures" />
      <button class="add-webcam" disabled>+ webcam frame</button><button class="remove icon" title="remove this class">×</button></div>`;
    const input = row.querySelector('.class-name') as HTMLInputElement;
    input.value = name;
    input.onchange = () => {
      state.names[c] = input.value.trim() || `class ${c + 1}`;
      renderWeights();
    };
    (row.querySelector('.add-files') as HTMLInputElement).onchange = (ev) => {
      const files = Array.from((ev.target as HTMLInputElement).files ?? []);
      for (const f of files) addThumb(c, f);
      send({ type: 'add', cls: c, pictures: files });
      (ev.target as HTMLInputElement).value = '';
    };
    (row.querySelector('.add-webcam') as HTMLButtonElement).onclick = () => void addWebcamFrame(c);
    (row.querySelector('.remove') as HTMLButtonElement).onclick = () => {
      if (state.names.length <= 2) return banner('two classes at least', 'info');
      state.names.splice(c, 1);
      send({ type: 'remove-class', cls: c });
      send({ type: 'reset', size: size(), classes: state.names.length });
      renderClasses();
    };
    box.append(row);
  });
  ($('add-class') as HTMLButtonElement).disabled = state.names.length >= 5;
  if (stream) for (const b of document.querySelectorAll<HTMLButtonElement>('.add-webcam')) b.disabled = false;
  renderCounts();
}

function renderCounts(): void {
  for (const row of document.querySelectorAll<HTMLElement>('.class-row')) {
    const n = state.counts[Number(row.dataset.cls)] ?? 0;
    row.querySelector('.count')!.textContent = `${n} picture${n === 1 ? '' : 's'}`;
  }
}

function thumbsOf(c: number): HTMLElement {
  return document.querySelector(`.class-row[data-cls="${c}"] .thumbs`) as HTMLElement;
}

function addThumb(c: number, f: Blob | HTMLCanvasElement): void {
  const box = thumbsOf(c);
  const index = box.children.length;
  let el: HTMLElement;
  if (f instanceof Blob) {
    const img = document.createElement('img');
    img.src = URL.createObjectURL(f);
    el = img;
  } else el = f;
  el.title = 'show this picture below';
  el.onclick = () => {
    state.chosen = { cls: c, index };
    void refreshViews();
  };
  box.append(el);
}

$('add-class').onclick = () => {
  if (state.names.length >= 5) return;
  state.names.push(`class ${state.names.length + 1}`);
  send({ type: 'reset', size: size(), classes: state.names.length });
  renderClasses();
};

// --- webcam ---
let stream: MediaStream | null = null;
const video = $('video') as HTMLVideoElement;
$('btn-camera').onclick = async () => {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
  } catch (e) {
    return banner(`the camera could not start: ${(e as Error).message}`);
  }
  video.srcObject = stream;
  await video.play();
  ($('btn-camera') as HTMLButtonElement).disabled = true;
  ($('live') as HTMLInputElement).disabled = false;
  for (const b of document.querySelectorAll<HTMLButtonElement>('.add-webcam')) b.disabled = false;
};

async function addWebcamFrame(c: number): Promise<void> {
  const bmp = await createImageBitmap(video);
  const thumb = document.createElement('canvas');
  thumb.width = thumb.height = 40;
  const side = Math.min(bmp.width, bmp.height);
  thumb.getContext('2d')!.drawImage(bmp, (bmp.width - side) / 2, (bmp.height - side) / 2, side, side, 0, 0, 40, 40);
  addThumb(c, thumb);
  send({ type: 'add', cls: c, pictures: [bmp] }, [bmp]);
}

async function liveLoop(): Promise<void> {
  while (($('live') as HTMLInputElement).checked && stream) {
    if (state.counts.filter((n) => n > 0).length >= 2 && video.readyState >= 2) {
      const bmp = await createImageBitmap(video);
      try {
        const r = await client.request({ type: 'predict', picture: bmp }, [bmp]);
        state.live = { count: state.live.count + 1, probabilities: Array.from(r.probabilities) };
        renderBars($('live-result'), state.live.probabilities);
      } catch (e) {
        banner((e as Error).message);
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
$('live').onchange = () => void liveLoop();

// --- training ---
$('btn-train').onclick = () => send({ type: 'train', on: true });
$('btn-pause').onclick = () => send({ type: 'train', on: false });
$('btn-reset').onclick = () => {
  state.losses = [];
  state.progress = null;
  $('progress').textContent = '';
  drawLosses();
  send({ type: 'reset', size: size(), classes: state.names.length });
};
$('size').onchange = () => {
  renderWeights();
  $('btn-reset').click();
};

let lastViews = 0;
function onProgress(p: Progress): void {
  state.progress = p;
  state.losses.push(p.loss);
  const acc = p.accuracy === null ? '…' : `${(p.accuracy * 100).toFixed(1)}%`;
  $('progress').textContent =
    `step ${p.step}   loss ${p.loss.toFixed(3)}\naccuracy on your pictures ${acc}\n` +
    `${p.imagesPerSec.toFixed(0)} images/s (${p.kernels ?? '–'} kernels)`;
  drawLosses();
  if (performance.now() - lastViews > 2000) {
    lastViews = performance.now();
    void refreshViews();
  }
}

function drawLosses(): void {
  const c = $('loss-chart') as HTMLCanvasElement;
  const g = c.getContext('2d')!;
  g.clearRect(0, 0, c.width, c.height);
  const l = state.losses;
  if (l.length < 2) return;
  const max = Math.max(...l);
  g.strokeStyle = '#2b5fad';
  g.beginPath();
  l.forEach((v, i) => {
    const x = (i / (l.length - 1)) * (c.width - 10) + 5,
      y = c.height - 5 - (v / max) * (c.height - 10);
    if (i) g.lineTo(x, y);
    else g.moveTo(x, y);
  });
  g.stroke();
  g.fillStyle = '#667085';
  g.fillText(`loss (max ${max.toFixed(2)})`, 8, 12);
}

// --- views: augmentation, filters, feature maps ---
let refreshing = false;
async function refreshViews(): Promise<void> {
  const { cls, index } = state.chosen;
  if (refreshing || !state.counts[cls] || index >= state.counts[cls]) {
    const c = state.counts.findIndex((n) => n > 0);
    if (c < 0 || refreshing) return;
    state.chosen = { cls: c, index: 0 };
  }
  refreshing = true;
  try {
    const [aug, ins] = await Promise.all([
      client.request({ type: 'augmented', ...state.chosen, n: 8 }),
      client.request({ type: 'inspect', ...state.chosen }),
    ]);
    drawRgbRow($('augmented') as HTMLCanvasElement, aug.images, aug.size, 8, 2);
    drawFilters(ins.filters);
    drawMaps(ins.stages);
    state.inspections++;
  } catch (e) {
    banner((e as Error).message);
  } finally {
    refreshing = false;
  }
}

function drawRgbRow(c: HTMLCanvasElement, data: Float32Array, S: number, n: number, zoom: number): void {
  c.width = n * (S + 4) * zoom;
  c.height = S * zoom;
  const g = c.getContext('2d')!;
  const img = g.createImageData(S, S);
  const tmp = new OffscreenCanvas(S, S);
  g.imageSmoothingEnabled = false;
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < S * S; i++) {
      for (let ch = 0; ch < 3; ch++) img.data[i * 4 + ch] = Math.round(255 * data[(k * S * S + i) * 3 + ch]);
      img.data[i * 4 + 3] = 255;
    }
    tmp.getContext('2d')!.putImageData(img, 0, 0);
    g.drawImage(tmp, k * (S + 4) * zoom, 0, S * zoom, S * zoom);
  }
}

function drawFilters(f: { shape: number[]; data: Float32Array }): void {
  const [KH, KW, C, O] = f.shape;
  const Z = 14;
  const c = $('filters') as HTMLCanvasElement;
  c.width = O * (KW * Z + 8);
  c.height = KH * Z;
  const g = c.getContext('2d')!;
  for (let o = 0; o < O; o++) {
    let lo = Infinity,
      hi = -Infinity;
    for (let i = 0; i < KH * KW * C; i++) {
      const v = f.data[i * O + o];
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    for (let y = 0; y < KH; y++)
      for (let x = 0; x < KW; x++) {
        const rgb = [0, 1, 2].map((ch) =>
          Math.round((255 * (f.data[((y * KW + x) * C + Math.min(ch, C - 1)) * O + o] - lo)) / (hi - lo || 1)),
        );
        g.fillStyle = `rgb(${rgb.join(',')})`;
        g.fillRect(o * (KW * Z + 8) + x * Z, y * Z, Z, Z);
      }
  }
}

function drawMaps(stages: Stage[]): void {
  const box = $('maps');
  box.textContent = '';
  for (const s of stages) {
    const [H, W, C] = s.shape;
    const fig = document.createElement('figure');
    const c = document.createElement('canvas');
    c.dataset.stage = s.name;
    if (s.name === 'picture') drawRgbRow(c, s.data, H, 1, 2);
    else {
      const n = Math.min(8, C);
      c.width = n * (W + 3);
      c.height = H;
      const g = c.getContext('2d')!;
      let lo = Infinity,
        hi = -Infinity;
      for (const v of s.data) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
      const img = g.createImageData(c.width, H);
      for (let k = 0; k < n; k++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) {
            const v = Math.round((255 * (s.data[(y * W + x) * C + k] - lo)) / (hi - lo || 1));
            const o = (y * c.width + k * (W + 3) + x) * 4;
            img.data[o] = img.data[o + 1] = img.data[o + 2] = v;
            img.data[o + 3] = 255;
          }
      g.putImageData(img, 0, 0);
    }
    const cap = document.createElement('figcaption');
    cap.textContent =
      s.name === 'picture' ? `the picture, ${H}×${W}×3` : `${s.name}: ${H}×${W}×${C} (${Math.min(8, C)} of ${C} maps)`;
    fig.append(c, cap);
    box.append(fig);
  }
}

// --- predictions ---
function renderBars(box: HTMLElement, p: number[]): void {
  const best = p.indexOf(Math.max(...p));
  box.innerHTML = p
    .map(
      (v, i) =>
        `<div class="bar${i === best ? ' best' : ''}"><span>${escapeHtml(state.names[i] ?? `class ${i + 1}`)}</span>` +
        `<div><div class="fill" style="width:${(100 * v).toFixed(1)}%"></div></div><span>${(100 * v).toFixed(1)}%</span></div>`,
    )
    .join('');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

$('try-file').onchange = async (ev) => {
  const f = (ev.target as HTMLInputElement).files?.[0];
  if (!f) return;
  const bmp = await createImageBitmap(f);
  const pv = $('try-preview') as HTMLCanvasElement;
  const side = Math.min(bmp.width, bmp.height);
  pv.getContext('2d')!.drawImage(bmp, (bmp.width - side) / 2, (bmp.height - side) / 2, side, side, 0, 0, 128, 128);
  bmp.close();
  try {
    const r = await client.request({ type: 'predict', picture: f });
    const p = Array.from(r.probabilities);
    state.prediction = { label: p.indexOf(Math.max(...p)), probabilities: p };
    renderBars($('try-result'), p);
  } catch (e) {
    banner((e as Error).message);
  }
  (ev.target as HTMLInputElement).value = '';
};

// --- the seed's argument, in numbers ---
function renderWeights(): void {
  const S = size(),
    inputs = S * S * 3,
    dense = inputs * FILTERS,
    conv = 3 * 3 * 3 * FILTERS;
  const q = S / 8;
  const params = conv + FILTERS + (9 * FILTERS * 32 + 32) + (9 * 32 * 32 + 32) + (q * q * 32 + 1) * state.names.length;
  $('weights').innerHTML =
    `A ${S}×${S} colour picture is ${S}×${S}×3 = <b>${inputs.toLocaleString('en')}</b> numbers. ` +
    `A dense layer that connects every one of them to just ${FILTERS} units needs <b>${dense.toLocaleString('en')}</b> weights. ` +
    `The convolution that replaces it here has ${FILTERS} filters of 3×3×3: <b>${conv.toLocaleString('en')}</b> weights ` +
    `(plus ${FILTERS} biases), ${Math.round(dense / conv).toLocaleString('en')} times fewer, because each filter is ` +
    `shared across all ${(S * S).toLocaleString('en')} positions of the picture. The whole network has ` +
    `${params.toLocaleString('en')} parameters.`;
  $('net-summary').textContent =
    `Network: conv 3×3×${FILTERS} + ReLU, pool 2, conv 3×3×32 + ReLU, pool 2, conv 3×3×32 + ReLU, pool 2, ` +
    `dense ${q}×${q}×32 → ${state.names.length}; Adam, batch 16, trained from random weights on your pictures.`;
}

renderClasses();
renderWeights();
