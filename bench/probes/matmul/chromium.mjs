// Run matmul probes in headless Chromium (SwiftShader compiled by LLVM):
//   node bench/probes/matmul/chromium.mjs '[{"gen":"sg","order":"k"},{"gen":"sg","bc":"swap"}]' 1024 5
// Each object is one kernel: gen 'sg' (gen-quad.mjs), 'at' (gen-atomic.mjs), default gen-wg.mjs;
// the other fields are that generator's options. Prints one JSON line per kernel.
import path from 'node:path';
import { openProbePage } from '../chromium-page.mjs';
const { page, close } = await openProbePage(path.dirname(new URL(import.meta.url).pathname));
page.on('console', (m) => { if (!/404/.test(m.text())) console.log('[page]', m.text().slice(0, 300)); });
const cfgs = JSON.parse(process.argv[2] ?? '[{}]'); const n = +(process.argv[3] ?? 1024); const reps = +(process.argv[4] ?? 5);
const res = await page.evaluate(([c, n, r]) => window.__run(c, n, r), [cfgs, n, reps]);
for (const r of res) console.log(JSON.stringify(r));
await close();
