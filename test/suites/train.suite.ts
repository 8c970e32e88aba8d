// Training steps: a captured TrainStep (forward, loss, backward, optimizer update) replays
// bit-identically to the same step run uncaptured, allocates nothing across replays, and keeps
// memory flat over 1,000 steps.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, randomArray } from '../harness/assert.js';
import { engine } from '../../src/runtime/engine.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { Sequential } from '../../src/nn/module.js';
import { BatchNorm2d } from '../../src/nn/batchnorm.js';
import { Dropout } from '../../src/nn/dropout.js';
import { MaxPool2d, GlobalAvgPool } from '../../src/nn/pooling.js';
import { Adam, SGD, type Optimizer } from '../../src/optim/optimizers.js';
import { cosineLr } from '../../src/optim/schedule.js';
import { TrainStep } from '../../src/train/step.js';

const IN = [4, 6, 6, 3];

/** A parameterised model that needs no matmul/conv: BN -> maxpool (breaks BN's symmetry) -> dropout -> GAP. */
function tinyModel(): Sequential {
  return new Sequential([new BatchNorm2d(3), new MaxPool2d(2), new Dropout(0.2, { seed: 5 }), new BatchNorm2d(3), new MaxPool2d(3), new GlobalAvgPool()]);
}
/** "Loss" = sum of the outputs (valueAndGrad seeds ones); labels unused. */
const sumLoss = (out: Tensor) => out;

function makeStep(capture: boolean, opt: 'adam' | 'sgd') {
  const model = tinyModel();
  const optimizer: Optimizer = opt === 'adam'
    ? new Adam(model.parameters(), { lr: cosineLr(0.05, { totalSteps: 10 }), weightDecay: 0.01, clipNorm: 5 })
    : new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
  const step = new TrainStep({ model, optimizer, loss: sumLoss, inputShape: IN, capture });
  return { model, optimizer, step, dispose: () => (step.dispose(), optimizer.dispose(), model.dispose()) };
}

const batch = (k: number) => ({ x: randomArray(IN.reduce((a, b) => a * b, 1), 1000 + k, -2, 2), y: new Uint32Array(IN[0]) });

suite('train', (test) => {
  for (const opt of ['adam', 'sgd'] as const)
    test(`captured TrainStep (${opt}) is bit-identical to uncaptured steps: losses, parameters, running stats`, async () => {
      const a = makeStep(false, opt), b = makeStep(true, opt);
      const w0 = await a.model.parameters()[0].read();
      for (let k = 0; k < 6; k++) {
        const { x, y } = batch(k);
        a.step.run(x, y);
        b.step.run(x, y);
        // atol 0: identical kernels on identical data
        assertClose(`loss ${k}`, [await b.step.readLoss()], [await a.step.readLoss()], { atol: 0, rtol: 0, log: false });
      }
      const sa = a.model.stateDict(), sb = b.model.stateDict();
      for (const [name, t] of sa) assertClose(name, await sb.get(name)!.read(), await t.read(), { atol: 0, rtol: 0, log: false });
      const w6 = await a.model.parameters()[0].read();
      assert(w6.some((v, i) => v !== w0[i]), 'the optimizer moved the parameters');
      assert(Number.isFinite(await a.step.readLoss()), 'finite loss');
      a.dispose();
      b.dispose();
    });

  test('replayed steps allocate no buffers and no bind groups, submit once each, and free all on dispose', async () => {
    const e = engine();
    e.flush();
    const base = e.memory();
    const s = makeStep(true, 'adam');
    const { x, y } = batch(0);
    s.step.run(x, y); // capture
    s.step.run(x, y);
    const m0 = e.memory(), bg0 = e.queue.counters.bindGroupsCreated, sub0 = e.queue.counters.submits;
    for (let k = 0; k < 20; k++) s.step.run(x, y);
    const m1 = e.memory();
    assertEqual(m1.createCount, m0.createCount, 'no buffer created');
    assertEqual(m1.bytesInUse, m0.bytesInUse, 'bytes in use flat');
    assertEqual(e.queue.counters.bindGroupsCreated, bg0, 'no bind group created');
    assertEqual(e.queue.counters.submits - sub0, 20, 'one submit per step (input + hyper writes ride along)');
    assert(s.step.planBytes > 0, 'the plan holds the intermediates');
    s.dispose();
    const m2 = e.memory();
    assertEqual(m2.bytesInUse, base.bytesInUse, 'bytes in use back to baseline');
    assertEqual(m2.liveTensors, base.liveTensors, 'live tensors back to baseline');
  });

  test('memory is flat across 1,000 replayed training steps', async () => {
    const e = engine();
    const s = makeStep(true, 'sgd');
    const { x, y } = batch(1);
    s.step.run(x, y);
    const m0 = e.memory();
    for (let k = 0; k < 1000; k++) {
      s.step.run(x, y);
      if (k % 200 === 199) await s.step.readLoss(); // also bounds the GPU queue
    }
    const m1 = e.memory();
    assertEqual({ ...m1, reuseCount: 0 }, { ...m0, reuseCount: 0 }, 'memory stats identical after 1,000 steps');
    assert(Number.isFinite(await s.step.readLoss()), 'loss finite');
    s.dispose();
  }, { timeoutMs: 180_000 });
});
