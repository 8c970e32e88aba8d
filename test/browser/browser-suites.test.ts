// Runs every browser-enabled case of test/suites in headless Chromium (WebGPU on SwiftShader)
// and reports each as its own test here. The page is test/browser/index.html.
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { caseId, registry } from '../harness/define.js';
import { launchChromium, startVite, watchPage } from '../harness/chromium.js';
import { hangLimit, hangMessage } from '../harness/hang.js';

import.meta.glob('../suites/*.suite.ts', { eager: true });

interface Result {
  ok: boolean;
  error?: string;
  ms: number;
  log: string[];
}
let results: Record<string, Result> = {};
let fatal: string | undefined;
let browser: Browser | undefined;
let server: ViteDevServer | undefined;
const pageLog: string[] = [];
const only = process.env.TEST_ONLY;
const cases = registry.filter((c) => c.envs.includes('browser') && (!only || caseId(c).includes(only)));

describe('[chromium/swiftshader]', () => {
  before(async () => {
    const v = await startVite();
    server = v.server;
    browser = await launchChromium();
    const page = await browser.newPage();
    watchPage(page, pageLog);
    await page.goto(`${v.url}/test/browser/index.html${only ? `?only=${encodeURIComponent(only)}` : ''}`);
    // each case has its own hang limit in the page (gpu-case.ts); this one only catches a page
    // that stops running cases altogether
    const total = cases.reduce((s, c) => s + hangLimit(c.timeoutMs), 0) + 60_000;
    try {
      await page.waitForFunction(() => (window as unknown as { __done: boolean }).__done === true, null, {
        timeout: total,
        polling: 500,
      });
    } catch (e) {
      throw new Error(
        `${hangMessage('the browser test page', total)}\n${(e as Error).message}\n${pageLog.slice(-20).join('\n')}`,
      );
    }
    results = await page.evaluate(() => (window as unknown as { __results: Record<string, Result> }).__results);
    fatal = await page.evaluate(() => (window as unknown as { __fatal?: string }).__fatal);
    // the per-case times are the page's (this runner's own durations are ~0): the slowest ones
    const slow = Object.entries(results)
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 12)
      .map(([id, r]) => `${(r.ms / 1000).toFixed(1)} s ${id}`);
    console.log(`# slowest cases in the page:\n#   ${slow.join('\n#   ')}`);
    // CASE_TIMES=file.json writes every case's time in the page, to find what makes the suite slow
    if (process.env.CASE_TIMES)
      writeFileSync(
        process.env.CASE_TIMES,
        JSON.stringify(Object.fromEntries(Object.entries(results).map(([id, r]) => [id, r.ms]))),
      );
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const suites = new Map<string, typeof cases>();
  for (const c of cases) {
    if (!suites.has(c.suite)) suites.set(c.suite, []);
    suites.get(c.suite)!.push(c);
  }
  for (const [name, cs] of suites)
    describe(name, () => {
      for (const c of cs)
        it(c.name, () => {
          if (fatal) throw new Error(`browser could not start WebGPU: ${fatal}\n${pageLog.slice(-20).join('\n')}`);
          const r = results[caseId(c)];
          if (!r) throw new Error(`no result for ${caseId(c)} from the page\n${pageLog.slice(-20).join('\n')}`);
          for (const l of r.log) console.log(l);
          if (!r.ok) throw new Error(r.error);
        });
    });
});
