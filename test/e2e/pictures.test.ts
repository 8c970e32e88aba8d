// End-to-end test of the "teach it your own pictures" page (demo/pictures/) in headless
// Chromium with WebGPU on SwiftShader: generated pictures of two classes (red discs and blue
// squares at random places, sizes, shades and noise levels, on noisy backgrounds) go in through
// the file inputs, the network trains from scratch in the page's worker, and pictures it never
// saw are classified through the "Classify a picture" input. Then Chromium's fake camera feeds
// the webcam path: a frame is added to a class and live predictions keep coming. Screenshots:
// test-results/pictures-*.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { launchChromium, startVite, watchPage } from '../harness/chromium.js';
import { hangLimit } from '../harness/hang.js';
import { encodePng } from '../harness/png.js';

const OUT = 'test-results';
let browser: Browser, server: ViteDevServer, page: Page, url: string;
const log: string[] = [];

interface PicturesState {
  ready: boolean;
  adapter: string;
  counts: number[];
  running: boolean;
  progress: { step: number; loss: number; accuracy: number | null; imagesPerSec: number; kernels: string } | null;
  prediction: { label: number; probabilities: number[] } | null;
  live: { count: number; probabilities: number[] };
  inspections: number;
}
const pictures = (p: Page) =>
  p.evaluate(() => (window as unknown as { __pictures: { state: PicturesState } }).__pictures.state);

/** A seeded generator (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A W x W picture: class 0 a reddish disc, class 1 a bluish square, on a noisy light background. */
function picture(cls: number, r: () => number, W = 80): Buffer {
  const rgb = new Uint8Array(W * W * 3);
  const bg = [150 + 90 * r(), 150 + 90 * r(), 150 + 90 * r()];
  const noise = 10 + 40 * r();
  const half = W * (0.12 + 0.18 * r());
  const cx = half + (W - 2 * half) * r(),
    cy = half + (W - 2 * half) * r();
  const ink = cls === 0 ? [170 + 85 * r(), 60 * r(), 60 * r()] : [60 * r(), 60 * r(), 170 + 85 * r()];
  for (let y = 0; y < W; y++)
    for (let x = 0; x < W; x++) {
      const dx = x - cx,
        dy = y - cy;
      const inside = cls === 0 ? dx * dx + dy * dy <= half * half : Math.abs(dx) <= half && Math.abs(dy) <= half;
      const c = inside ? ink : bg;
      for (let k = 0; k < 3; k++)
        rgb[(y * W + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(c[k] + noise * (2 * r() - 1))));
    }
  return encodePng(W, W, rgb);
}

const file = (name: string, buffer: Buffer) => ({ name, mimeType: 'image/png', buffer });

/** Resolve when `fn` (an expression in the page) is true; fail only if the worker goes silent for STALL_MS. */
const STALL_MS = Number(process.env.DEMO_STALL_MS ?? 600_000);
async function waitFor(p: Page, fn: string): Promise<void> {
  const received = () =>
    p.evaluate(
      () => (window as unknown as { __pictures?: { client: { received: number } } }).__pictures?.client.received ?? -1,
    );
  let last = await received(),
    since = Date.now();
  for (;;) {
    try {
      await p.waitForFunction(fn, null, { timeout: 15_000, polling: 200 });
      return;
    } catch (e) {
      if (!/Timeout/i.test((e as Error).message)) throw e;
    }
    const n = await received();
    if (n !== last) (last = n), (since = Date.now());
    else if (Date.now() - since > STALL_MS)
      throw new Error(
        `waiting for ${fn}: no message from the worker for ${STALL_MS / 1000} s\n${log.slice(-30).join('\n')}`,
      );
  }
}

const TRAIN_PER_CLASS = 24;
const UNSEEN_PER_CLASS = 20;

describe('pictures page [chromium/swiftshader]', () => {
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    const v = await startVite();
    server = v.server;
    url = v.url;
    browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(hangLimit(30_000));
    watchPage(page, log);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('learns two classes from pictures added through the file inputs and reads unseen ones', async () => {
    await page.goto(`${url}/demo/pictures/`);
    await page.waitForFunction('window.__pictures?.state.ready === true', null, { timeout: hangLimit(120_000) });
    // 32 x 32 (the page's smallest input): a quarter of the default 64 x 64's pixels, so the
    // training this case waits for costs about a quarter of the time. The select resets the model.
    await page.selectOption('#size', '32');
    const r = rng(2026);
    for (const cls of [0, 1])
      await page
        .locator(`.class-row[data-cls="${cls}"] .add-files`)
        .setInputFiles(Array.from({ length: TRAIN_PER_CLASS }, (_, i) => file(`c${cls}-${i}.png`, picture(cls, r))));
    await waitFor(page, `window.__pictures.state.counts.join() === '${TRAIN_PER_CLASS},${TRAIN_PER_CLASS}'`);
    const t0 = Date.now();
    await page.click('#btn-train');
    // 160 steps at least, then until it is right on every picture it trains on (or 400 steps).
    // With colour jitter on, 80 steps gave 40/40 and 39/40 on the unseen pictures in two runs:
    // too near the 38 the check needs.
    await waitFor(
      page,
      '((window.__pictures.state.progress?.accuracy ?? 0) >= 1 && window.__pictures.state.progress.step >= 160) || (window.__pictures.state.progress?.step ?? 0) >= 400',
    );
    await page.click('#btn-pause');
    await waitFor(page, 'window.__pictures.state.running === false');
    const trainMs = Date.now() - t0;
    const s = await pictures(page);
    console.log(
      `# trained ${s.progress!.step} steps in ${(trainMs / 1000).toFixed(1)} s (${s.progress!.imagesPerSec.toFixed(0)} images/s, ${s.progress!.kernels} kernels); loss ${s.progress!.loss.toFixed(3)}, accuracy on its pictures ${s.progress!.accuracy}`,
    );

    const unseen = rng(99);
    let right = 0,
      n = 0;
    for (let i = 0; i < UNSEEN_PER_CLASS; i++)
      for (const cls of [0, 1]) {
        await page.evaluate(
          () => ((window as unknown as { __pictures: { state: PicturesState } }).__pictures.state.prediction = null),
        );
        await page.locator('#try-file').setInputFiles(file(`unseen-${i}-${cls}.png`, picture(cls, unseen)));
        await waitFor(page, 'window.__pictures.state.prediction !== null');
        const p = (await pictures(page)).prediction!;
        assert.ok(Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'probabilities sum to 1');
        right += p.label === cls ? 1 : 0;
        n++;
      }
    console.log(`# unseen pictures: ${right}/${n} right (${((100 * right) / n).toFixed(1)}%)`);
    await waitFor(page, 'window.__pictures.state.inspections >= 1');
    await page.screenshot({ path: `${OUT}/pictures-trained.png`, fullPage: true });
    assert.ok(right / n >= 0.95, `accuracy on unseen pictures ${right}/${n} is under 95%`);
    for (const sel of [
      '#filters',
      'canvas[data-stage="conv1"]',
      'canvas[data-stage="relu1"]',
      'canvas[data-stage="pool1"]',
      '#augmented',
    ]) {
      const blank = await page.evaluate((q) => {
        const c = document.querySelector(q) as HTMLCanvasElement | null;
        if (!c?.width) return true;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        for (let i = 4; i < d.length; i += 4) if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return false;
        return true;
      }, sel);
      assert.equal(blank, false, `${sel} is blank`);
    }
    assert.equal(await page.evaluate(() => document.getElementById('banner')!.hidden), true, 'no error banner');
  });

  it("Chromium's fake camera: a webcam frame joins a class and live predictions keep updating", async () => {
    await page.click('#btn-camera');
    await page.waitForFunction('!document.getElementById("live").disabled');
    const before = (await pictures(page)).counts[1];
    await page.locator('.class-row[data-cls="1"] .add-webcam').click();
    await waitFor(page, `window.__pictures.state.counts[1] === ${before + 1}`);
    await page.check('#live');
    await waitFor(page, 'window.__pictures.state.live.count >= 2');
    const a = (await pictures(page)).live;
    await waitFor(page, `window.__pictures.state.live.count >= ${a.count + 3}`);
    const b = (await pictures(page)).live;
    console.log(
      `# live: ${a.count} -> ${b.count} predictions; probabilities ${a.probabilities.map((v) => v.toFixed(3)).join(' ')} -> ${b.probabilities.map((v) => v.toFixed(3)).join(' ')}`,
    );
    assert.equal(b.probabilities.length, 2);
    assert.ok(Math.abs(b.probabilities[0] + b.probabilities[1] - 1) < 1e-5, 'live probabilities sum to 1');
    await page.uncheck('#live');
    await page.locator('#webcam-card').screenshot({ path: `${OUT}/pictures-webcam.png` });
  });
});
