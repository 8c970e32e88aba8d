import '../bench/node-require.js';
import { initNodeGPU } from '../test/harness/node-gpu.js';
import { engine } from '../src/runtime/engine.js';
import { initTfjs } from '../bench/peer-tfjs.js';
import { initParams, makeBatch, lenetGrads, checkStep } from '../bench/lenet.js';
import { tfjsLenetStep } from '../bench/lenet-tfjs.js';
import { describeCheck } from '../bench/reference.js';
import { measure } from '../bench/timing.js';
await initNodeGPU();
const tf = await initTfjs();
for (const B of [64]) {
  const p = initParams(), { x, labels } = makeBatch(B);
  let t0 = performance.now();
  const ref = lenetGrads(p, x, labels);
  console.log('ref ms', performance.now() - t0, 'loss', ref.loss);
  const impl = tfjsLenetStep(tf, B, p, x, labels);
  impl.run(); impl.submit();
  const out = await impl.read();
  console.log(describeCheck(checkStep(out, p, ref)));
  const bad = out.slice(); bad[1 + 300] += 0.01;
  console.log('corrupted:', describeCheck(checkStep(bad, p, ref)));
  const tm = await measure(engine().device, impl, { warmup: 2, iters: 5, budgetMs: 3000, method: 'wall' });
  console.log(tm);
  impl.dispose();
}
engine().destroy();
