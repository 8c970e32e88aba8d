// End-to-end test of the training demo (demo/index.html) in headless Chromium with WebGPU on
// SwiftShader: the page opens with the library's MNIST model fetched from /models/, scores
// > 98 % on MNIST's standard test digits and reads a drawn 7; saved (file, IndexedDB) it loads back
// with its input normalisation and the same predictions; a network from random weights trains
// a few steps and the loss goes down, the filter and feature-map canvases show something, a
// digit drawn with the mouse gets probabilities that sum to 1, a lost device is recovered.
// Screenshots go to test-results/demo-*.png (git-ignored) for a human look.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser, Page, Response } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { launchChromium, startVite, watchPage } from '../harness/chromium.js';
import { hangLimit } from '../harness/hang.js';
import { PRESETS } from '../../demo/net-spec.js';

const OUT = 'test-results';
let browser: Browser, server: ViteDevServer, url: string, page: Page;
const log: string[] = [];

interface DemoState {
  ready: boolean;
  backend: string;
  adapter: string;
  running: boolean;
  history: { step: number; loss: number; ips: number }[];
  inspections: number;
  evalResult: { accuracy: number; evaluated: number; total: number } | null;
  normalize: { mean: number; std: number } | null;
}
const demoState = (p: Page) => p.evaluate(() => (window as unknown as { __demo: { state: DemoState } }).__demo.state);

/**
 * How long the demo may go without any message from its worker before a wait gives up. Waits
 * have no deadline of their own (a slow machine takes longer, and that is no failure): they
 * end when the event comes, or fail when the demo has stopped doing anything (a hung worker or
 * GPU). The longest silent stretch is a pipeline compile inside the worker (tens of seconds on
 * a 2-core machine); DEMO_STALL_MS overrides.
 */
const STALL_MS = Number(process.env.DEMO_STALL_MS ?? 600_000);

/** Resolve when `fn` (an expression evaluated in the page) is true; fail only when the demo stalls. */
async function waitFor(p: Page, fn: string): Promise<void> {
  const received = () =>
    p.evaluate(
      () => (window as unknown as { __demo?: { client: { received: number } } }).__demo?.client.received ?? -1,
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
        `waiting for ${fn}: no message from the demo's worker for ${STALL_MS / 1000} s (hung?)\n${log.slice(-30).join('\n')}`,
      );
  }
}

/** Variance of the canvas's grey levels: 0 for a blank (single-colour) canvas. */
function canvasVariance(p: Page, selector: string): Promise<number> {
  return p.evaluate((sel) => {
    const c = document.querySelector(sel) as HTMLCanvasElement | null;
    if (!c?.width || !c.height) return -1;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let s = 0,
      s2 = 0;
    for (let i = 0; i < d.length; i += 4) {
      const l = (d[i] + d[i + 1] + d[i + 2]) / 3;
      s += l;
      s2 += l * l;
    }
    const n = d.length / 4;
    return s2 / n - (s / n) ** 2;
  }, selector);
}

/**
 * Open the demo and wait for the worker to be ready (it has fetched the digits and started the
 * GPU). On a cold Vite cache the first load can race Vite's dependency pre-bundling (a 504
 * "Outdated Optimize Dep" leaves the page without its script): then load it once more. A page
 * that never gets ready has hung: the limit is generous (PAGE_READY_MS) and says so.
 */
const PAGE_READY_MS = 300_000;
async function openDemo(p: Page, query: string, ready = 'window.__demo?.state.ready === true'): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await p.goto(`${url}/demo/${query}`);
    try {
      await p.waitForFunction(ready, null, { timeout: attempt ? PAGE_READY_MS : PAGE_READY_MS / 2, polling: 200 });
      return;
    } catch {
      if (attempt)
        throw new Error(
          `the demo (${query}) was not ready (${ready}) after ${PAGE_READY_MS / 1000} s: the page or its worker hung\n${log.slice(-30).join('\n')}`,
        );
    }
  }
}

/**
 * A page whose actions (clicks, fills) wait as long as the demo needs: while Chromium's GPU
 * process compiles a pipeline it draws no frame, and a click waits for the button to be stable
 * across frames. Playwright's default of 30 s is a fixed limit a slow machine can hit; this one
 * is a hang detector (test/harness/hang.ts).
 */
async function newPage(width: number, height: number): Promise<Page> {
  const p = await browser.newPage({ viewport: { width, height } });
  p.setDefaultTimeout(hangLimit(30_000));
  watchPage(p, log);
  return p;
}

/** The __metadata__ of a safetensors file. */
function safetensorsMetadata(file: string): Record<string, string> {
  const b = readFileSync(file);
  const n = Number(b.readBigUInt64LE(0));
  return JSON.parse(b.subarray(8, 8 + n).toString('utf8')).__metadata__ ?? {};
}

/** Training steps the first case waits for (batch 8): SwiftShader trains a few images per second. */
const STEPS = 24;

/** Mean cross-entropy of the current model on 32 fixed training digits (through the worker). */
function fixedSetLoss(p: Page): Promise<number> {
  return p.evaluate(async () => {
    const d = (
      window as unknown as {
        __demo: {
          client: { request(r: unknown): Promise<{ image?: Float32Array; label?: number; probs?: Float32Array }> };
        };
      }
    ).__demo;
    const n = 32,
      x = new Float32Array(n * 784),
      labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = await d.client.request({ type: 'digit', split: 'train', index: i * 97 });
      x.set(r.image!, i * 784);
      labels.push(r.label!);
    }
    const probs = (await d.client.request({ type: 'predict', images: x, n })).probs!;
    return labels.reduce((s, l, i) => s - Math.log(Math.max(probs[i * 10 + l], 1e-30)), 0) / n;
  });
}

/** Draw a "7" with mouse strokes on the draw canvas; returns the page's probabilities. */
async function drawSeven(p: Page): Promise<number[]> {
  await p.locator('#draw').scrollIntoViewIfNeeded();
  await p.click('#btn-clear');
  const box = (await p.locator('#draw-canvas').boundingBox())!;
  const at = (x: number, y: number) => [box.x + (x * box.width) / 280, box.y + (y * box.height) / 280] as const;
  await p.mouse.move(...at(70, 60));
  await p.mouse.down();
  for (const [x, y] of [
    [120, 58],
    [170, 57],
    [215, 60],
    [190, 110],
    [165, 160],
    [145, 210],
    [135, 240],
  ])
    await p.mouse.move(...at(x, y), { steps: 4 });
  await p.mouse.up();
  await waitFor(p, 'window.__demo.draw.probs !== null && !window.__demo.draw.busy && !window.__demo.draw.dirty');
  return p.evaluate(() =>
    Array.from((window as unknown as { __demo: { draw: { probs: Float32Array } } }).__demo.draw.probs),
  );
}

// No time limit on the cases: every wait ends on an event or on a stall (waitFor).
describe('demo page [chromium/swiftshader]', () => {
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    const v = await startVite();
    server = v.server;
    url = v.url;
    browser = await launchChromium();
    page = await newPage(1280, 900);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("opens with the library's MNIST model from /models/, reads a drawn 7, > 98 % on the test digits", async () => {
    const fetched: string[] = [];
    const onResponse = (r: Response) => {
      if (r.url().includes('/models/')) fetched.push(`${new URL(r.url()).pathname} ${r.status()}`);
    };
    page.on('response', onResponse);
    await openDemo(page, '');
    const s0 = await demoState(page);
    assert.equal(s0.backend, 'webgpu', `the page runs on WebGPU (adapter: ${s0.adapter})`);
    await waitFor(page, 'document.getElementById("model-source").textContent.includes("99.04 %")');
    page.off('response', onResponse);
    assert.deepEqual(fetched, ['/models/mnist-lenet.safetensors 200'], 'the model file is fetched, not bundled');
    const s = await demoState(page);
    assert.deepEqual(s.normalize, { mean: 0.1307, std: 0.3081 }, "the file's normalisation is applied");
    assert.equal(await page.inputValue('#preset'), 'library', 'the editor shows the library LeNet');
    // the first 2,000 of the rolling evaluation's pass over MNIST's 10,000 standard test digits
    // (first: the drawing's predictions would wait behind its chunks)
    await waitFor(page, '(window.__demo.state.evalResult?.evaluated ?? 0) >= 2000');
    const r = (await demoState(page)).evalResult!;
    const summary = await page.evaluate(() => document.getElementById('test-summary')!.textContent!);
    const caption = await page.evaluate(() => document.getElementById('test-caption')!.textContent!);
    console.log(
      `#   library model on ${r.evaluated} of MNIST's ${r.total} standard test digits: ${(r.accuracy * 100).toFixed(2)}%`,
    );
    assert.equal(r.total, 10000, "MNIST's 10,000 standard test digits");
    assert.ok(r.accuracy > 0.98, `accuracy ${r.accuracy} on the first ${r.evaluated} test digits`);
    assert.match(
      summary,
      /MNIST's 10,000 standard test digits( \([\d,]+ so far\))? \(step/,
      'the summary says which digits',
    );
    assert.match(caption, /standard test set: never seen in training/, 'the test panel says they are held out');
    const probs = await drawSeven(page);
    const best = probs.indexOf(Math.max(...probs));
    console.log(`#   library model: drawn "7" read as ${best} (${(probs[best] * 100).toFixed(1)}%)`);
    assert.equal(best, 7, `the library model reads the drawn 7 as ${best}`);
    await page.screenshot({ path: `${OUT}/demo-pretrained.png` });
  });

  it('save then load (file and IndexedDB) keeps the normalisation and the predictions', async () => {
    const predictions = () =>
      page.evaluate(async () => {
        const d = (
          window as unknown as {
            __demo: {
              client: { request(r: unknown): Promise<{ image?: Float32Array; probs?: Float32Array }> };
              draw: { image: Float32Array };
            };
          }
        ).__demo;
        const x = new Float32Array(9 * 784);
        for (let i = 0; i < 8; i++)
          x.set((await d.client.request({ type: 'digit', split: 'test', index: i * 37 })).image!, i * 784);
        x.set(d.draw.image, 8 * 784);
        return Array.from((await d.client.request({ type: 'predict', images: x, n: 9 })).probs!);
      });
    const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    const before = await predictions();
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#btn-download')]);
    const file = `${OUT}/demo-model.safetensors`;
    await dl.saveAs(file);
    const meta = safetensorsMetadata(file);
    console.log(
      `#   saved: ${meta['webgpu-cnn.preprocess']}, ${meta.test_accuracy ? `test accuracy ${meta.test_accuracy} on ${meta.test_digits}` : 'no test accuracy (the rolling pass was not complete)'}`,
    );
    assert.deepEqual(JSON.parse(meta['webgpu-cnn.preprocess']), { normalize: { mean: 0.1307, std: 0.3081 } });
    await page.fill('#idb-name', 'e2e');
    await page.click('#btn-idb-save');
    await waitFor(page, 'document.getElementById("model-msg").textContent.startsWith("Saved")');
    // a new network from random weights has no normalisation: loading the model brings it back
    await page.click('#btn-reset');
    await waitFor(page, 'window.__demo.state.normalize === null');
    const reset = await predictions();
    assert.ok(maxDiff(before, reset) > 1e-3, 'reset changed the predictions');
    await page.selectOption('#idb-list', 'e2e');
    await page.click('#btn-idb-load');
    await waitFor(page, 'document.getElementById("model-msg").textContent.includes("from this browser")');
    const fromIdb = await predictions();
    console.log(
      `#   IndexedDB: max |diff| after load ${maxDiff(before, fromIdb)} (after reset ${maxDiff(before, reset).toFixed(3)})`,
    );
    // same weights, same kernels, same inputs: identical up to summation order (none changes)
    assert.ok(maxDiff(before, fromIdb) < 1e-6, 'IndexedDB round trip predicts as the saved one');
    assert.deepEqual((await demoState(page)).normalize, { mean: 0.1307, std: 0.3081 }, 'normalisation loaded');
    // the file: a new model made from its bytes (with its normalisation) predicts the same
    await page.setInputFiles('#file-upload', file);
    await waitFor(page, 'document.getElementById("model-msg").textContent === "Loaded demo-model.safetensors."');
    const loaded = await predictions();
    console.log(`#   file: max |diff| after load ${maxDiff(before, loaded)}`);
    assert.ok(maxDiff(before, loaded) < 1e-6, 'loaded model predicts as the saved one');
    assert.deepEqual((await demoState(page)).normalize, { mean: 0.1307, std: 0.3081 }, 'normalisation loaded');
  });

  it('a network from random weights trains a few steps on WebGPU and the loss decreases', async () => {
    // what ?nopretrained opens with (the small LeNet-style network, seed 1), on the open page:
    // one page load serves the whole suite
    await page.evaluate((spec) => {
      const d = (
        window as unknown as {
          __demo: { client: { send(m: unknown): void }; controls: { settings(): unknown } };
        }
      ).__demo;
      d.client.send({ type: 'configure', spec, settings: d.controls.settings(), seed: 1 });
    }, PRESETS.lenet);
    await waitFor(
      page,
      'window.__demo.state.normalize === null && document.getElementById("preset").value === "lenet"',
    );
    const s0 = await demoState(page);
    assert.equal(s0.backend, 'webgpu', `training runs on WebGPU (adapter: ${s0.adapter})`);
    // small batches, a brisk learning rate and no augmentation: a visible drop in few steps
    await page.selectOption('#batch', '8');
    await page.fill('#lr', '0.005');
    await page.dispatchEvent('#lr', 'change');
    await page.uncheck('#augment');
    const before = await fixedSetLoss(page);
    // the warm-up the page started for these settings (kernels compiled before Train)
    await waitFor(page, 'window.__demo.state.prepared["8:false"] !== undefined');
    const prepared = await page.evaluate(
      () => (window as unknown as { __demo: { state: { prepared: unknown } } }).__demo.state.prepared,
    );
    await page.click('#btn-start');
    await waitFor(page, `(window.__demo.state.history.at(-1)?.step ?? 0) >= ${STEPS}`);
    const firstStepMs = await page.evaluate(
      () => (window as unknown as { __demo: { state: { firstStepMs: number } } }).__demo.state.firstStepMs,
    );
    console.log(
      `# warm-up ${JSON.stringify(prepared)}; from Train to the first step shown: ${firstStepMs?.toFixed(0)} ms`,
    );
    assert.ok(firstStepMs > 0, 'the first step after Train was timed');
    await page.click('#btn-pause');
    const after = await fixedSetLoss(page);
    const s = await demoState(page);
    const h = s.history;
    const ips = h
      .slice(1)
      .map((x) => x.ips)
      .sort((a, b) => a - b);
    console.log(
      `# WebGPU on ${s.adapter}: ${h.length} chunks to step ${h.at(-1)!.step}; chunk losses ${h.map((x) => x.loss.toFixed(2)).join(' ')}`,
    );
    console.log(
      `# loss on 32 fixed training digits: ${before.toFixed(4)} -> ${after.toFixed(4)}; images/s (median over chunks) ${ips[ips.length >> 1]?.toFixed(1)}`,
    );
    assert.ok(after < before - 0.1, `loss did not decrease: ${before} -> ${after}`);
    assert.equal(
      await page.evaluate(() => document.getElementById('banner')!.className.includes('error')),
      false,
      'no error banner',
    );
  });

  it('measures training images/s on WebGPU and in plain JavaScript', async () => {
    await page.selectOption('#batch', '32');
    await page.click('#btn-bench');
    await waitFor(page, 'window.__demo.state.bench !== null');
    const bench = await page.evaluate(
      () =>
        (
          window as unknown as {
            __demo: { state: { bench: { backend: string; imagesPerSec: number; steps: number }[] } };
          }
        ).__demo.state.bench,
    );
    console.log(
      `# speed, batch 32: ${bench.map((r) => `${r.backend} ${r.imagesPerSec.toFixed(1)} images/s (${r.steps} steps)`).join(', ')}`,
    );
    assert.deepEqual(
      bench.map((r) => r.backend),
      ['webgpu', 'cpu'],
    );
    assert.ok(
      bench.every((r) => r.imagesPerSec > 0),
      'both backends trained',
    );
    await page.locator('#train').screenshot({ path: `${OUT}/demo-bench.png` });
  });

  it('filter and feature-map canvases are not blank', async () => {
    await waitFor(page, 'window.__demo.state.inspections >= 1');
    // Waits are relative to the count before each click (training already rendered an unknown
    // number of inspections), and the maps panel says which view it shows: the view must be
    // the one asked for, even when the click lands while another inspection is in flight.
    const n0 = (await demoState(page)).inspections;
    await page.click('#pick-next');
    await waitFor(
      page,
      `window.__demo.state.inspections > ${n0} && document.getElementById('feature-maps').dataset.view === 'activations'`,
    );
    for (const sel of [
      '#filters',
      'canvas[data-stage="conv1"]',
      'canvas[data-stage="relu1"]',
      'canvas[data-stage="pool1"]',
      'canvas[data-stage="pool2"]',
      '#slide-grid',
      '#grid-numbers',
    ]) {
      const v = await canvasVariance(page, sel);
      console.log(`#   ${sel}: grey variance ${v.toFixed(1)}`);
      assert.ok(v > 20, `${sel} looks blank (variance ${v})`);
    }
    // Toggle the gradients while another digit's inspection (without gradients) is in flight:
    // the view must still end up showing gradients (it once came out blank: the toggle's
    // request was dropped and the reply in flight was drawn as gradients it did not carry).
    const n1 = (await demoState(page)).inspections;
    const inFlight = await page.evaluate(async () => {
      const st = (window as unknown as { __demo: { state: { inspecting: boolean; inspections: number } } }).__demo
        .state;
      // Wait for the inspection to start, however long that takes (no count or time limit: a
      // busy machine is slow, not wrong). If it started and finished between two polls, pick
      // another digit and try again.
      for (let attempt = 0; attempt < 20; attempt++) {
        const n = st.inspections;
        document.getElementById('pick-prev')!.click();
        while (!st.inspecting && st.inspections === n) await new Promise((r) => setTimeout(r, 1));
        if (st.inspecting) {
          document.getElementById('show-grads')!.click();
          return true;
        }
      }
      document.getElementById('show-grads')!.click();
      return false;
    });
    assert.ok(inFlight, 'an inspection was in flight when the gradients were switched on');
    await waitFor(
      page,
      `window.__demo.state.inspections > ${n1} && document.getElementById('feature-maps').dataset.view === 'gradients'`,
    );
    // conv2's gradient comes from the dense head and pooling; pool1's and conv1's also pass
    // through conv2's input gradient (conv2dInputGrad)
    for (const stage of ['conv2', 'pool1', 'conv1']) {
      const v = await canvasVariance(page, `canvas[data-stage="${stage}"]`);
      console.log(`#   gradient of ${stage}: grey variance ${v.toFixed(1)}`);
      assert.ok(v > 5, `gradient map of ${stage} looks blank (variance ${v})`);
    }
    await page.uncheck('#show-grads');
    await page.screenshot({ path: `${OUT}/demo-full.png`, fullPage: true });
    for (const id of [
      'train',
      'test',
      'step-grid',
      'step-slide',
      'step-maps',
      'step-filters',
      'step-head',
      'step-augment',
    ])
      await page.locator(`#${id}`).screenshot({ path: `${OUT}/demo-${id}.png` });
  });

  it('a digit drawn with the mouse gets probabilities that sum to 1', async () => {
    const probs = await drawSeven(page);
    const sum = probs.reduce((a, b) => a + b, 0);
    console.log(`#   drawn "7": probabilities ${probs.map((p) => p.toFixed(3)).join(' ')} (sum ${sum.toFixed(6)})`);
    assert.equal(probs.length, 10);
    assert.ok(
      probs.every((p) => p >= 0 && p <= 1),
      'each probability in [0, 1]',
    );
    // f32 softmax of 10 terms: the sum is 1 to within a few ulps
    assert.ok(Math.abs(sum - 1) < 1e-5, `probabilities sum to ${sum}`);
    assert.ok((await canvasVariance(page, '#draw-preview')) > 20, 'the 28x28 preview shows the drawing');
    await page.locator('#draw').screenshot({ path: `${OUT}/demo-draw.png` });
  });

  it('a lost GPU device is reported and training recovers', async () => {
    const s = await demoState(page);
    assert.notEqual(s.adapter, 'none (no WebGPU)', 'SwiftShader WebGPU adapter expected in this browser');
    await page.evaluate(() =>
      (window as unknown as { __demo: { client: { send(m: unknown): void } } }).__demo.client.send({
        type: 'debug-lose-device',
      }),
    );
    await waitFor(page, 'document.getElementById("banner").textContent.includes("Recovered")');
    const stepBefore = (await demoState(page)).history.at(-1)?.step ?? 0;
    await page.click('#btn-start');
    await waitFor(page, `(window.__demo.state.history.at(-1)?.step ?? 0) >= ${stepBefore + 2}`);
    await page.click('#btn-pause');
    await page.locator('header').screenshot({ path: `${OUT}/demo-recovered.png` });
  });

  it('without WebGPU the page says how to enable it', async () => {
    const p2 = await newPage(1280, 700);
    await openDemo(p2, '?nogpu&nopretrained');
    const text = await p2.evaluate(() => document.getElementById('banner')!.textContent!);
    assert.match(text, /no WebGPU/);
    assert.match(text, /enable-unsafe-webgpu/);
    assert.match(text, /https:\/\/|localhost/);
    await p2.screenshot({ path: `${OUT}/demo-no-webgpu.png` });
    await p2.close();
  });
});
