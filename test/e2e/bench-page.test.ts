// The benchmark page end to end: Vite dev server + headless Chromium (WebGPU on SwiftShader).
// Runs a small sweep with ?autorun=1 and checks the page renders the table with the ratio
// column, that every case was validated against the float64 reference (ours and tfjs, and
// jax-js where the case has it: matmul), and that every timed case has its ratios. Cases are
// small so this stays well under a minute.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { launchChromium, startVite, watchPage } from '../harness/chromium.js';
import { hangLimit } from '../harness/hang.js';
import { writeFileSync } from 'node:fs';
import type { CaseResult, Report } from '../../bench/types.js';
import { formatTable } from '../../bench/report.js';

// One case per kernel family, each at a LeNet-sized shape (the cheap ones: SwiftShader is a CPU).
// BENCH_PAGE_FILTER=... overrides the sweep (manual runs: the test then prints a bigger table);
// with it, BENCH_PAGE_LARGE=1 admits large cases, BENCH_PAGE_JSON=path saves the report and
// BENCH_PAGE_PARAMS adds URL parameters (e.g. 'jax=0&peers=0').
const OVERRIDE = process.env.BENCH_PAGE_FILTER;
const LARGE = OVERRIDE && process.env.BENCH_PAGE_LARGE === '1' ? '&large=1' : '';
const EXTRA = OVERRIDE && process.env.BENCH_PAGE_PARAMS ? `&${process.env.BENCH_PAGE_PARAMS}` : '';
const JSON_OUT = OVERRIDE ? process.env.BENCH_PAGE_JSON : undefined;
const DEFAULT_FILTER = [
  'conv2d-dW/tiled/64x28x28x1-32', // (tfjs's forward conv with C=1 takes seconds on SwiftShader)
  'matmul/op/64x128x10',
  'maxpool/op/64x14x14x64',
  'relu/op/64x28x28x32',
  'softmax-ce/op/64x10',
  'sgd-momentum/op/401408',
].join(',');
const FILTER = OVERRIDE ?? DEFAULT_FILTER;
/** cases the default sweep selects (an override may select any number) */
const EXPECTED = OVERRIDE ? undefined : DEFAULT_FILTER.split(',').length;

describe('benchmark page (/bench/)', () => {
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const log: string[] = [];

  before(async () => {
    const v = await startVite();
    server = v.server;
    browser = await launchChromium();
    page = await browser.newPage();
    watchPage(page, log);
    await page.goto(
      `${v.url}/bench/?filter=${encodeURIComponent(FILTER)}&iters=${OVERRIDE ? 10 : 5}&budget=${OVERRIDE ? 1500 : 400}${LARGE}${EXTRA}&autorun=1`,
    );
    await page.waitForFunction(
      () => (window as unknown as { __bench?: { done: boolean } }).__bench?.done === true,
      null,
      {
        timeout: OVERRIDE ? 3_600_000 : hangLimit(90_000), // hang detector (test/harness/hang.ts)
        polling: 250,
      },
    );
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('runs the sweep without errors, every case validated before timing', async () => {
    const s = await page.evaluate(() => {
      const b = (window as unknown as { __bench: { error?: string; results: CaseResult[] } }).__bench;
      return { error: b.error, results: b.results };
    });
    assert.equal(s.error, undefined, `page error: ${s.error}\n${log.slice(-20).join('\n')}`);
    if (EXPECTED) assert.equal(s.results.length, EXPECTED, 'one result per selected case');
    assert.ok(s.results.length > 0, 'no results');
    for (const r of s.results) {
      if (!r.peer && OVERRIDE) continue; // a case without a tfjs equivalent, or peers off (only in override sweeps)
      for (const [side, x] of [
        ['ours', r.ours],
        ['tfjs', r.peer],
      ] as const) {
        assert.ok(x, `${r.id}: no ${side} result`);
        assert.equal(x.status, 'ok', `${r.id} ${side}: ${x.status} ${x.error ?? JSON.stringify(x.check)}`);
        assert.ok(x.check?.ok && x.check.compared > 0, `${r.id} ${side}: not validated`);
        assert.ok(x.timing && x.timing.ms > 0 && x.timing.samples.length >= 3, `${r.id} ${side}: no timing`);
      }
      assert.ok(r.ratio && r.ratio > 0, `${r.id}: no ratio`);
      if (!r.jaxName) continue;
      assert.ok(r.jax, `${r.id}: no jax-js result`);
      assert.equal(r.jax.status, 'ok', `${r.id} jax-js: ${r.jax.status} ${r.jax.error ?? JSON.stringify(r.jax.check)}`);
      assert.ok(r.jax.check?.ok && r.jax.check.compared > 0, `${r.id} jax-js: not validated`);
      assert.equal(
        r.jax.timing?.method,
        'wall',
        `${r.id}: jax-js runs on its own device, so it is timed by the wall clock`,
      );
      assert.ok(r.jaxRatio && r.jaxRatio > 0, `${r.id}: no jax/ours ratio`);
      // the ratio compares wall clock with wall clock
      const oursWall = r.ours.timing?.method === 'wall' ? r.ours.timing : r.oursWall;
      assert.ok(oursWall && oursWall.method === 'wall', `${r.id}: ours not timed by the wall clock for the jax ratio`);
      assert.ok(Math.abs(r.jaxRatio - r.jax.timing!.ms / oursWall.ms) < 1e-9 * r.jaxRatio, `${r.id}: jax ratio`);
    }
    if (!OVERRIDE)
      assert.ok(
        s.results.some((r) => r.jaxName),
        'the default sweep has a jax-js case',
      );
  });

  it('renders the table with a tfjs/ours ratio column, the chart and adapter info', async () => {
    const heads = await page.$$eval('#results thead th', (ths) => ths.map((t) => t.textContent));
    assert.ok(heads.includes('tfjs/ours'), `ratio column missing: ${heads.join(' | ')}`);
    const rows = await page.$$eval('#results tbody tr', (trs) =>
      trs.map((tr) => ({
        ratio: tr.querySelector('[data-col="ratio"]')?.textContent ?? '',
        jaxRatio: tr.querySelector('[data-col="jaxratio"]')?.textContent ?? '',
        valid: tr.querySelector('[data-col="valid"]')?.textContent ?? '',
        ms: tr.querySelector('[data-col="ms"]')?.textContent ?? '',
      })),
    );
    if (EXPECTED) assert.equal(rows.length, EXPECTED);
    for (const r of rows) {
      if (OVERRIDE && !r.ratio) continue;
      assert.match(r.ratio, /^[\d.]+x$/, 'ratio cell');
      assert.match(r.valid, /^ok.* \/ ok/, 'validated cell (ours / tfjs)');
      assert.ok(Number(r.ms) > 0, `ms cell '${r.ms}'`);
    }
    assert.ok(heads.includes('jax/ours'), `jax-js ratio column missing: ${heads.join(' | ')}`);
    assert.equal(
      await page.locator('#chart svg rect.tfjs').count(),
      rows.filter((r) => r.ratio).length,
      'one tfjs bar per case with a ratio',
    );
    assert.equal(
      await page.locator('#chart svg rect.jax').count(),
      rows.filter((r) => r.jaxRatio).length,
      'one jax-js bar per case with a jax ratio',
    );
    if (!OVERRIDE)
      assert.ok(
        rows.some((r) => /^[\d.]+x$/.test(r.jaxRatio)),
        'a jax/ours ratio cell',
      );
    if (!OVERRIDE) assert.match((await page.textContent('#roofline')) ?? '', /jax-js: @jax-js\/jax [\d.]+/);
    assert.match((await page.textContent('#adapter')) ?? '', /adapter: .*browser/);
    assert.match((await page.textContent('#roofline')) ?? '', /FMA peak [\d.]+ GFLOP\/s, copy [\d.]+ GB\/s/);
    assert.equal(await page.isEnabled('#download'), true, 'JSON download enabled');
    // The measured table, for the test log.
    const report = await page.evaluate(() => (window as unknown as { __bench: { report: Report } }).__bench.report);
    console.log(formatTable(report));
    if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(report, null, 1));
  });
});
