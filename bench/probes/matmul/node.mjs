// Run matmul probes in Node on Dawn (SwiftShader compiled by Subzero), same arguments as chromium.mjs:
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json XDG_RUNTIME_DIR=/tmp \
//     node bench/probes/matmul/node.mjs '[{"gen":"sg","order":"k"}]' 1024 5
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
globalThis.window = globalThis;
await import('./page.mjs');
const cfgs = JSON.parse(process.argv[2] ?? '[{}]'); const n = +(process.argv[3] ?? 1024); const reps = +(process.argv[4] ?? 5);
const t0 = performance.now();
const res = await window.__run(cfgs, n, reps);
for (const r of res) console.log(JSON.stringify(r));
console.log('total s', ((performance.now() - t0) / 1000).toFixed(1));
process.exit(0);
