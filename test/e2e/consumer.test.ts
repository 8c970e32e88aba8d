// The built package (dist/, from `npm run build`) used by name, as an app would: a Node script
// and a Vite web app in temporary folders whose node_modules link to this package.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, preview, type PreviewServer } from 'vite';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../harness/chromium.js';
import { hangLimit } from '../harness/hang.js';

const repo = process.cwd();
let dir = '';

function linkPackages(into: string): void {
  mkdirSync(join(into, 'node_modules'), { recursive: true });
  symlinkSync(repo, join(into, 'node_modules', 'webgpu-cnn'), 'dir');
  symlinkSync(join(repo, 'node_modules', 'webgpu'), join(into, 'node_modules', 'webgpu'), 'dir');
}

describe('package consumers', () => {
  before(() => {
    if (!existsSync(join(repo, 'dist/index.js'))) throw new Error('dist/index.js missing: run `npm run build` first (npm test does)');
    dir = mkdtempSync(join(tmpdir(), 'webgpu-cnn-consumer-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a Node script imports webgpu-cnn by name and runs a kernel', () => {
    const app = join(dir, 'node-app');
    cpSync(resolve(repo, 'examples/node-consumer'), app, { recursive: true });
    linkPackages(app);
    const out = execFileSync(process.execPath, ['main.mjs'], {
      cwd: app,
      env: { ...process.env, VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json', XDG_RUNTIME_DIR: '/tmp' },
      encoding: 'utf8',
      timeout: hangLimit(60_000), // hang detector (test/harness/hang.ts)
    });
    const line = out.trim().split('\n').pop()!;
    const r = JSON.parse(line);
    assert.deepEqual(r.result, [5.5, 11, 16.5]);
  });

  it('a Vite web app imports webgpu-cnn by name, builds, and runs a kernel in Chromium', async () => {
    const app = join(dir, 'vite-app');
    cpSync(resolve(repo, 'examples/vite-app'), app, { recursive: true });
    linkPackages(app);
    await build({ root: app, configFile: false, logLevel: 'warn', build: { outDir: join(app, 'dist'), target: 'es2022' } });
    let server: PreviewServer | undefined;
    let browser: Browser | undefined;
    try {
      server = await preview({ root: app, configFile: false, logLevel: 'warn', preview: { port: 0, host: '127.0.0.1' }, build: { outDir: join(app, 'dist') } });
      const addr = server.httpServer.address();
      if (!addr || typeof addr === 'string') throw new Error('no preview port');
      browser = await launchChromium();
      const page = await browser.newPage();
      await page.goto(`http://localhost:${addr.port}/`);
      await page.waitForFunction(() => document.getElementById('result')?.textContent !== '…', null, { timeout: hangLimit(60_000) });
      const text = await page.textContent('#result');
      assert.equal(text, '[5.5,11,16.5]');
    } finally {
      await browser?.close();
      await server?.close();
    }
  });
});
