// A web app that imports webgpu-cnn by its package name (as from npm): one kernel, then the
// pretrained MNIST model (public/mnist-lenet.safetensors, a copy of the package repository's
// models/ file) reads a digit drawn on a canvas.
import { add, init, loadPredictor, scale, tensor } from 'webgpu-cnn';

const t0 = performance.now();
const out = document.getElementById('result')!;
const said = document.getElementById('prediction')!;
const canvas = document.getElementById('digit') as HTMLCanvasElement;

/** A "7" in white ink on black, the way MNIST digits are drawn (about 20 of 28 pixels tall). */
function drawSeven(c: HTMLCanvasElement): void {
  const ctx = c.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, c.width, c.height);
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 24;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.beginPath();
  ctx.moveTo(70, 60);
  ctx.lineTo(200, 60);
  ctx.lineTo(120, 225);
  ctx.stroke();
}

try {
  await init();
  const y = scale(add(tensor([1, 2, 3]), tensor([10, 20, 30])), 0.5);
  out.textContent = JSON.stringify(Array.from(await y.read()));

  drawSeven(canvas);
  const model = await loadPredictor(new URL('./mnist-lenet.safetensors', location.href));
  const { label, probabilities } = await model.predict(canvas);
  said.textContent = JSON.stringify({ label, p: probabilities[label], ms: Math.round(performance.now() - t0) });
} catch (e) {
  out.textContent = said.textContent = `error: ${(e as Error).message}`;
}
