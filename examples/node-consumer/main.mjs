// A Node.js program that uses webgpu-cnn as a library, by its package name.
// Run from a folder whose node_modules has webgpu-cnn (built) and webgpu (Dawn):
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node main.mjs
import { init, tensor, add, scale, memory } from 'webgpu-cnn';

const eng = await init(); // imports Dawn's 'webgpu' package itself
const y = scale(add(tensor([1, 2, 3]), tensor([10, 20, 30])), 0.5);
const out = Array.from(await y.read());
console.log(JSON.stringify({ result: out, adapter: eng.info.vendor, liveTensors: memory().liveTensors }));
eng.destroy(); // Dawn keeps Node alive while a device exists
