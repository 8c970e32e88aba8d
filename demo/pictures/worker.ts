// The training worker of the "your own pictures" page: owns the GPU device, the user's
// pictures (decoded, centre-cropped and resized here, off the page's thread) and the model,
// and trains in chunks of steps, answering requests (predictions of a dropped picture or of
// webcam frames, inspections, augmented views) between chunks. One model operation at a time
// (serial); training never holds the thread for longer than a chunk (~250 ms of steps).

import { init, NoAdapterError } from '../../src/index.js';
import { mulberry32 } from '../net-spec.js';
import { channelStats, PictureModel } from './trainer.js';
import { BATCH, type FromWorker, type Picture, type Replies, type Request, type ToWorker } from './protocol.js';

const scope = self as unknown as {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent) => void) | null;
};
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
const CHUNK_MS = 250;
const ACCURACY_EVERY_MS = 2000;

let size = 64;
const sources: Picture[][] = [[], []];
let pixels: Float32Array[][] = [[], []];
let model: PictureModel | null = null;
let running = false;
let statsStale = true;
let lastAccuracy = 0;
let accuracy: number | null = null;
const rand = mulberry32(12345);

let chain: Promise<unknown> = Promise.resolve();
function serial<T>(f: () => Promise<T> | T): Promise<T> {
  const p = chain.then(f);
  chain = p.catch(() => undefined);
  return p;
}

/** RGB values in [0, 1], HWC, of the picture centre-cropped to a square and resized to S x S. */
async function toPixels(p: Picture, S: number): Promise<Float32Array> {
  const bmp = p instanceof Blob ? await createImageBitmap(p) : p;
  const side = Math.min(bmp.width, bmp.height);
  const c = new OffscreenCanvas(S, S);
  const g = c.getContext('2d', { willReadFrequently: true })!;
  g.imageSmoothingEnabled = true;
  g.imageSmoothingQuality = 'high';
  g.drawImage(bmp, (bmp.width - side) / 2, (bmp.height - side) / 2, side, side, 0, 0, S, S);
  if (p instanceof Blob) bmp.close();
  const d = g.getImageData(0, 0, S, S).data;
  const out = new Float32Array(S * S * 3);
  for (let i = 0; i < S * S; i++) for (let k = 0; k < 3; k++) out[i * 3 + k] = d[i * 4 + k] / 255;
  return out;
}

function newModel(): void {
  model?.dispose();
  model = new PictureModel(size, sources.length, 1);
  accuracy = null;
  statsStale = true;
  // the first step's kernels (quick tier), compiled while the user adds pictures
  model.prepare().catch((e) => post({ type: 'error', message: `compiling the GPU kernels failed: ${e.message}` }));
}

/** The normalisation follows the pictures: recomputed after pictures were added (not mid-chunk). */
function freshStats(): void {
  if (!statsStale || !model || !pixels.flat().length) return;
  model.setNorm(channelStats(pixels.flat()));
  statsStale = false;
}

function counts(): number[] {
  return pixels.map((p) => p.length);
}

async function trainChunk(): Promise<void> {
  const m = model!;
  freshStats();
  const t0 = performance.now();
  let n = 0,
    lossSum = 0;
  // at least one step; more while the chunk lasts (the loss read waits for the GPU)
  do {
    m.trainStep(pixels, rand);
    lossSum += await m.readLoss();
    n++;
  } while (performance.now() - t0 < CHUNK_MS && running);
  const dt = performance.now() - t0;
  if (performance.now() - lastAccuracy > ACCURACY_EVERY_MS) {
    accuracy = await m.accuracy(pixels);
    lastAccuracy = performance.now();
  }
  post({
    type: 'progress',
    progress: {
      step: m.steps,
      loss: lossSum / n,
      accuracy,
      imagesPerSec: (n * BATCH * 1000) / dt,
      kernels: m.kernels,
    },
  });
}

async function loop(): Promise<void> {
  while (running) {
    try {
      await serial(trainChunk);
    } catch (e) {
      running = false;
      post({ type: 'running', running: false });
      post({ type: 'error', message: `training stopped: ${(e as Error).message}` });
    }
    await new Promise((r) => setTimeout(r, 0)); // let requests in
  }
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'reset':
      running = false;
      post({ type: 'running', running: false });
      await serial(async () => {
        if (m.size !== size) {
          size = m.size;
          pixels = await Promise.all(sources.map((s) => Promise.all(s.map((p) => toPixels(p, size)))));
        }
        while (sources.length < m.classes) sources.push([]), pixels.push([]);
        sources.length = pixels.length = m.classes;
        newModel();
      });
      return;
    case 'add': {
      const got = await Promise.all(m.pictures.map((p) => toPixels(p, size)));
      await serial(() => {
        sources[m.cls].push(...m.pictures);
        pixels[m.cls].push(...got);
        statsStale = true;
      });
      post({ type: 'added', cls: m.cls, counts: counts() });
      return;
    }
    case 'remove-class':
      await serial(() => {
        sources.splice(m.cls, 1);
        pixels.splice(m.cls, 1);
      });
      post({ type: 'added', cls: -1, counts: counts() });
      return;
    case 'train':
      if (m.on && !running) {
        if (counts().filter((c) => c > 0).length < 2) {
          post({ type: 'error', message: 'add pictures to at least two classes first' });
          return;
        }
        if (model?.classes !== sources.length) await serial(newModel);
        running = true;
        post({ type: 'running', running: true });
        void loop();
      } else if (!m.on) {
        running = false;
        post({ type: 'running', running: false });
      }
  }
}

async function answer(r: Request): Promise<Replies[Request['type']]> {
  if (!model) throw new Error('the model is not ready');
  switch (r.type) {
    case 'predict': {
      const px = await toPixels(r.picture, size);
      return serial(async () => {
        const t0 = performance.now();
        freshStats();
        const probabilities = await model!.predict([px]);
        return { probabilities, ms: performance.now() - t0 };
      });
    }
    case 'inspect':
      return serial(() => model!.inspect(pixels[r.cls][r.index]));
    case 'augmented':
      return serial(async () => {
        freshStats();
        return { size, images: await model!.augmented(pixels[r.cls][r.index], r.n, rand) };
      });
  }
}

scope.onmessage = (ev: MessageEvent) => {
  const m = ev.data as (ToWorker | Request) & { id?: number };
  if (m.id !== undefined) {
    answer(m as Request).then(
      (result) => post({ type: 'reply', id: m.id!, ok: true, result }),
      (e) => post({ type: 'reply', id: m.id!, ok: false, error: (e as Error).message }),
    );
    return;
  }
  handle(m as ToWorker).catch((e) => post({ type: 'error', message: (e as Error).message }));
};

init()
  .then((e) => {
    newModel();
    post({
      type: 'ready',
      adapter: [e.info.vendor, e.info.architecture, e.info.description].filter(Boolean).join(' '),
    });
  })
  .catch((e) =>
    post({
      type: 'fatal',
      message:
        e instanceof NoAdapterError
          ? `no WebGPU adapter: ${e.message}`
          : `WebGPU could not start: ${(e as Error).message}`,
    }),
  );
