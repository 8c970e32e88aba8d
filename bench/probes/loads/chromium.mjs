// Run a load probe generator in headless Chromium (SwiftShader compiled by LLVM):
//   node bench/probes/loads/chromium.mjs static [reps=7]
// (generators: static.mjs, atomic.mjs, fma.mjs in this folder). Prints one JSON line per kernel.
import path from 'node:path';
import { openProbePage } from '../chromium-page.mjs';
const root = path.dirname(new URL(import.meta.url).pathname);
const { page, close } = await openProbePage(root);
const gen = await import(path.join(root, `${process.argv[2] ?? 'static'}.mjs`));
const res = await page.evaluate(([c, r]) => window.__run(c, r), [gen.kernels(), +(process.argv[3] ?? 7)]);
for (const r of res) console.log(JSON.stringify(r));
await close();
