// A web app that imports webgpu-cnn by its package name (as from npm).
import { init, tensor, add, scale } from 'webgpu-cnn';

const out = document.getElementById('result')!;
try {
  await init();
  const y = scale(add(tensor([1, 2, 3]), tensor([10, 20, 30])), 0.5);
  out.textContent = JSON.stringify(Array.from(await y.read()));
} catch (e) {
  out.textContent = `error: ${(e as Error).message}`;
}
