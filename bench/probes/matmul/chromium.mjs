// Run matmul probes in headless Chromium (SwiftShader compiled by LLVM):
//   node bench/probes/matmul/chromium.mjs '[{"gen":"sg","order":"k"},{"gen":"sg","bc":"swap"}]' 1024 5
// Each object is one kernel: gen 'sg' (gen-quad.mjs), 'at' (gen-atomic.mjs), default gen-wg.mjs;
// the other fields are that generator's options. Prints one JSON line per kernel.
import http from 'node:http'; import fs from 'node:fs'; import path from 'node:path';
import { chromium } from 'playwright-core';
const root = path.dirname(new URL(import.meta.url).pathname);
const srv = http.createServer((q, s) => { const f = path.join(root, q.url.split('?')[0]); if (!fs.existsSync(f)) { s.writeHead(404); return s.end(); } s.writeHead(200, { 'content-type': f.endsWith('.mjs') ? 'text/javascript' : 'text/html' }); s.end(fs.readFileSync(f)); }).listen(0);
const port = srv.address().port;
const flags = ['--enable-unsafe-webgpu','--enable-features=Vulkan','--use-vulkan=swiftshader','--use-webgpu-adapter=swiftshader','--use-angle=swiftshader','--no-sandbox','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run','--disable-dev-shm-usage'];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: flags });
const page = await browser.newPage();
page.on('console', (m) => { if (!/404/.test(m.text())) console.log('[page]', m.text().slice(0, 300)); });
page.on('pageerror', (e) => console.log('[pageerror]', e.message));
await page.goto(`http://localhost:${port}/page.html`);
await page.waitForFunction(() => window.__ready);
const cfgs = JSON.parse(process.argv[2] ?? '[{}]'); const n = +(process.argv[3] ?? 1024); const reps = +(process.argv[4] ?? 5);
const res = await page.evaluate(([c, n, r]) => window.__run(c, n, r), [cfgs, n, reps]);
for (const r of res) console.log(JSON.stringify(r));
await browser.close(); srv.close();
