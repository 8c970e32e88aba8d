// Run a load probe generator in headless Chromium (SwiftShader compiled by LLVM):
//   node bench/probes/loads/chromium.mjs static [reps=7]
// (generators: static.mjs, atomic.mjs, fma.mjs in this folder). Prints one JSON line per kernel.
import http from 'node:http'; import fs from 'node:fs'; import path from 'node:path';
import { chromium } from 'playwright-core';
const root = path.dirname(new URL(import.meta.url).pathname);
const srv = http.createServer((q, s) => { const f = path.join(root, q.url.split('?')[0]); if (!fs.existsSync(f)) { s.writeHead(404); return s.end(); } s.writeHead(200, { 'content-type': f.endsWith('.mjs') ? 'text/javascript' : 'text/html' }); s.end(fs.readFileSync(f)); }).listen(0);
const flags = ['--enable-unsafe-webgpu','--enable-features=Vulkan','--use-vulkan=swiftshader','--use-webgpu-adapter=swiftshader','--use-angle=swiftshader','--no-sandbox','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run','--disable-dev-shm-usage'];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: flags });
const page = await browser.newPage();
page.on('pageerror', (e) => console.log('[pageerror]', e.message));
await page.goto(`http://localhost:${srv.address().port}/page.html`);
await page.waitForFunction(() => window.__ready);
const gen = await import(path.join(root, `${process.argv[2] ?? 'static'}.mjs`));
const res = await page.evaluate(([c, r]) => window.__run(c, r), [gen.kernels(), +(process.argv[3] ?? 7)]);
for (const r of res) console.log(JSON.stringify(r));
await browser.close(); srv.close();
