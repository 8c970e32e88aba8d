// Shared by the probes' Chromium runners (matmul/chromium.mjs, loads/chromium.mjs): serves a
// probe folder over http://localhost (WebGPU needs a real origin), opens its page.html in headless
// Chromium on SwiftShader (the flags of test/harness/chromium.ts) and waits for `window.__ready`.
import http from 'node:http'; import fs from 'node:fs'; import path from 'node:path';
import { chromium } from 'playwright-core';

const FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

/** The page of probe folder `root`, and a close() for the browser and the server. */
export async function openProbePage(root) {
  const srv = http.createServer((q, s) => {
    const f = path.join(root, q.url.split('?')[0]);
    if (!fs.existsSync(f)) { s.writeHead(404); return s.end(); }
    s.writeHead(200, { 'content-type': f.endsWith('.mjs') ? 'text/javascript' : 'text/html' });
    s.end(fs.readFileSync(f));
  }).listen(0);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: FLAGS });
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.log('[pageerror]', e.message));
  await page.goto(`http://localhost:${srv.address().port}/page.html`);
  await page.waitForFunction(() => window.__ready);
  return { page, close: async () => { await browser.close(); srv.close(); } };
}
