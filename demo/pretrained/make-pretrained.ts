// Trains the pretrained model that ships with the demo (demo/pretrained/lenet.safetensors), so a
// visitor sees a working classifier at once. Reproducible: fixed seeds, the engine's MNIST split
// (8,000 train / 2,000 test), the demo's augmentation, LeNet preset, Adam.
//
// It trains the plain-JS twin of the demo's network (cpu-net.ts: same layers, same layouts,
// checked against the WebGPU model to ~1e-7 in test/suites/demo-model.suite.ts), because this
// repository's CI machines have no GPU and SwiftShader is slow; the weights load unchanged into
// the WebGPU model. Build and run (Node 20):
//   npx vite build -c vite.node.config.ts --ssr demo/pretrained/make-pretrained.ts --outDir /tmp/mk && node /tmp/mk/make-pretrained.mjs [epochs]

import { writeFileSync } from 'node:fs';
import { CpuModel } from '../cpu-net.js';
import { DEFAULT_AUGMENT, randomMatrices } from '../augment.js';
import { decodeDemoModel, encodeDemoModel, loadDigits, warpCpu } from '../engine-adapter.js';
import { Batcher, PIXELS } from '../mnist-data.js';
import { CLASSES, mulberry32, PRESETS } from '../net-spec.js';

const epochs = Number(process.argv[2] ?? 12);
const B = 32;
const data = await loadDigits(1);
const model = new CpuModel(PRESETS.lenet, 2024);
const batcher = new Batcher(data.train, 2024);
const rand = mulberry32(7);
const x = new Float32Array(B * PIXELS),
  y = new Uint32Array(B);
const stepsPerEpoch = Math.floor(data.train.n / B);

async function testAccuracy(): Promise<number> {
  let correct = 0;
  for (let i = 0; i < data.test.n; i += 250) {
    const n = Math.min(250, data.test.n - i);
    const p = await model.predict(data.test.images.subarray(i * PIXELS, (i + n) * PIXELS), n);
    for (let j = 0; j < n; j++) {
      let best = 0;
      for (let k = 1; k < CLASSES; k++) if (p[j * CLASSES + k] > p[j * CLASSES + best]) best = k;
      if (best === data.test.labels[i + j]) correct++;
    }
  }
  return correct / data.test.n;
}

const t0 = Date.now();
for (let e = 0; e < epochs; e++) {
  // Adam 2e-3, the last epoch at 5e-4
  model.setHyper({ optimizer: 'adam', lr: e === epochs - 1 && epochs > 1 ? 5e-4 : 2e-3, momentum: 0.9 });
  for (let s = 0; s < stepsPerEpoch; s++) {
    batcher.next(B, x, y);
    model.trainStep(warpCpu(x, B, randomMatrices(B, rand, DEFAULT_AUGMENT).matrices), y, B);
  }
  const st = await model.takeStats();
  console.log(
    `epoch ${e + 1}: train loss ${st.loss.toFixed(4)}, train acc ${(st.acc * 100).toFixed(2)}%, test acc ${((await testAccuracy()) * 100).toFixed(2)}% (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
}
const acc = await testAccuracy();
const bytes = encodeDemoModel(PRESETS.lenet, await model.getWeights(), {
  source: 'pretrained LeNet (demo/pretrained/make-pretrained.ts)',
  test_accuracy: `${(acc * 100).toFixed(2)}%`,
  trained: `${epochs} epochs of 8,000 augmented MNIST digits, batch ${B}, Adam`,
});
decodeDemoModel(bytes); // the file must load back
writeFileSync(process.argv[3] ?? 'demo/pretrained/lenet.safetensors', bytes);
console.log(`wrote ${bytes.length} bytes, test accuracy ${(acc * 100).toFixed(2)}%`);
