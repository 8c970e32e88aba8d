// Training reliability: the same seed gives bit-identical weights after N steps; disposing a
// model with its optimizer, TrainStep and Evaluator gives every byte back; a batch that does
// not fit the memory budget fails with an error naming the layer and the shape while the
// training state stays exactly as it was. (Memory staying flat over 1,000 replayed steps is
// tested in train.suite.ts; 10,000 in `npm run soak`.)
import { suite } from '../harness/define.js';
import { assert, assertEqual, assertThrows } from '../harness/assert.js';
import { engine } from '../../src/runtime/engine.js';
import { OutOfMemoryError } from '../../src/runtime/pool.js';
import { TrainStep } from '../../src/train/step.js';
import { Evaluator } from '../../src/train/evaluate.js';
import { softmaxCrossEntropy } from '../../src/ops/loss/index.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import {
  H,
  differing,
  makeDataset,
  makeModel,
  makeOptimizer,
  sameBits,
  snapshot,
  trainSteps,
} from './checkpoint.helpers.js';

const START = { seed: 2, epoch: 0, batch: 0 };

suite('train-reliability', (test) => {
  test(
    'the same seed gives bit-identical weights, optimizer state and losses after N steps',
    async () => {
      const ds = makeDataset();
      const runs = [1, 1, 8].map((seed) => ({
        model: makeModel(seed),
        opt: null as never as ReturnType<typeof makeOptimizer>,
      }));
      const out = [];
      for (const r of runs) {
        r.opt = makeOptimizer(r.model, 'adam');
        const { losses } = await trainSteps(r.model, r.opt, ds, START, 8);
        out.push({ losses, state: await snapshot(r.model, r.opt) });
      }
      assert(sameBits(out[0].losses, out[1].losses), `losses ${out[0].losses} vs ${out[1].losses}`);
      assertEqual(differing(out[0].state, out[1].state), [], 'tensors that differ between two runs of seed 1');
      assert(differing(out[0].state, out[2].state).length > 0, 'another seed gives other weights');
      for (const r of runs) r.opt.dispose(), r.model.dispose();
    },
    { timeoutMs: 120_000 },
  );

  for (const capture of [true, false])
    test(
      `disposing model, optimizer, TrainStep and Evaluator returns memory to the baseline (${capture ? 'captured' : 'uncaptured'})`,
      async () => {
        const e = engine();
        e.flush();
        const base = e.memory();
        const ds = makeDataset();
        const model = makeModel(1),
          opt = makeOptimizer(model, 'sgd');
        await trainSteps(model, opt, ds, START, 3, capture);
        const evaluator = new Evaluator(model, { batchSize: 10, normalize: false }); // 24 = 2 captured batches + a partial one
        const r = await evaluator.evaluate(ds);
        assert(Number.isFinite(r.loss) && r.count === 24, `evaluation ran (${JSON.stringify(r)})`);
        const bytes = await saveCheckpoint({ model, optimizer: opt });
        loadCheckpoint(bytes, { model, optimizer: opt });
        assert(e.memory().bytesInUse > base.bytesInUse, 'the model holds memory');
        evaluator.dispose();
        opt.dispose();
        model.dispose();
        e.flush();
        const m = e.memory();
        assertEqual(
          [m.bytesInUse, m.liveTensors],
          [base.bytesInUse, base.liveTensors],
          'bytes in use and live tensors after dispose',
        );
      },
      { timeoutMs: 120_000 },
    );

  test(
    'a batch over the memory budget: the error names the layer and shape; the state is untouched; the next step works',
    async () => {
      const e = engine();
      const ds = makeDataset();
      // the reference run never sees the failure
      const ref = makeModel(1),
        refOpt = makeOptimizer(ref, 'adam');
      const want = await trainSteps(ref, refOpt, ds, START, 4);
      const model = makeModel(1),
        opt = makeOptimizer(model, 'adam');
      const head = await trainSteps(model, opt, ds, START, 2);
      e.flush();
      const base = e.memory();
      const BIG = 256; // conv 1→2, BN and dropout outputs are 128 KiB each, the second conv's [256,8,8,16] is 1 MiB
      const big = new TrainStep({ model, optimizer: opt, loss: softmaxCrossEntropy, inputShape: [BIG, H, H, 1] });
      const x = new Float32Array(BIG * H * H).fill(0.5),
        y = new Uint32Array(BIG);
      const before = await snapshot(model, opt);
      const t0 = opt.t;
      e.flush();
      e.pool.trim(); // no pooled buffer may serve a request: each must allocate
      const saved = e.pool.budget;
      // room for the first three layers (BN and dropout have recorded their in-place updates by then), not the fourth
      e.pool.budget = e.memory().bytesAllocated + 600 * 1024;
      let err: Error;
      try {
        err = await assertThrows(
          () => big.run(x, y),
          /^webgpu-cnn: TrainStep: step 1 failed and was not applied \(weights, optimizer state and running statistics are unchanged\): out of GPU memory budget: .*allocating tensor \[256,8,8,16\] f32.*in layer 3 Conv2d\(2→16.*with input \[256,8,8,2\]/,
        );
      } finally {
        e.pool.budget = saved;
      }
      console.log(`  ${err.message}`);
      assert(err instanceof OutOfMemoryError, 'still an OutOfMemoryError');
      assertEqual(opt.t, t0, 'optimizer step count unchanged');
      assertEqual(
        differing(await snapshot(model, opt), before),
        [],
        'tensors changed by the failed step (running stats, dropout counter, weights)',
      );
      big.dispose();
      e.flush();
      const m = e.memory();
      assertEqual(
        [m.bytesInUse, m.liveTensors],
        [base.bytesInUse, base.liveTensors],
        'nothing held after the failed step',
      );
      const tail = await trainSteps(model, opt, ds, head.next, 2);
      assert(
        sameBits([...head.losses, ...tail.losses], want.losses),
        `steps after the failure follow the reference: ${tail.losses} vs ${want.losses}`,
      );
      for (const t of [opt, model, refOpt, ref]) t.dispose();
    },
    { timeoutMs: 120_000 },
  );
});
