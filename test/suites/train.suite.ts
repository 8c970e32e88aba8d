// Training: a captured TrainStep (forward, loss, backward, optimizer update) replays
// bit-identically to the same step run uncaptured, allocates nothing across replays, and keeps
// memory flat over 1,000 steps; a small CNN's loss trajectory matches a float64
// re-implementation and pinned values (llm.c expected_losses); fit() with evaluation.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, randomArray } from '../harness/assert.js';
import { engine } from '../../src/runtime/engine.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { Sequential } from '../../src/nn/sequential.js';
import { BatchNorm2d } from '../../src/nn/batchnorm.js';
import { Dropout } from '../../src/nn/dropout.js';
import { MaxPool2d, GlobalAvgPool } from '../../src/nn/pooling.js';
import { Adam, SGD, type Optimizer } from '../../src/optim/optimizers.js';
import { cosineLr } from '../../src/optim/schedule.js';
import { TrainStep } from '../../src/train/step.js';
import { fit } from '../../src/train/fit.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Flatten, Linear } from '../../src/nn/linear.js';
import { InitRng } from '../../src/nn/init.js';
import { softmaxCrossEntropy, ref as lossRef } from '../../src/ops/loss/index.js';
import { ref as convRef } from '../../src/ops/conv2d/index.js';
import { convGeometry } from '../../src/ops/conv2d/geometry.js';
import { ref as mmRef } from '../../src/ops/matmul/index.js';
import { ref as poolRef } from '../../src/ops/pool2d/index.js';

const IN = [4, 6, 6, 3];

/** A parameterised model that needs no matmul/conv: BN -> maxpool (breaks BN's symmetry) -> dropout -> GAP. */
function tinyModel(): Sequential {
  return new Sequential([
    new BatchNorm2d(3),
    new MaxPool2d(2),
    new Dropout(0.2, { seed: 5 }),
    new BatchNorm2d(3),
    new MaxPool2d(3),
    new GlobalAvgPool(),
  ]);
}
/** "Loss" = sum of the outputs (valueAndGrad seeds ones); labels unused. */
const sumLoss = (out: Tensor) => out;

function makeStep(capture: boolean, opt: 'adam' | 'sgd') {
  const model = tinyModel();
  const optimizer: Optimizer =
    opt === 'adam'
      ? new Adam(model.parameters(), { lr: cosineLr(0.05, { totalSteps: 10 }), weightDecay: 0.01, clipNorm: 5 })
      : new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
  const step = new TrainStep({ model, optimizer, loss: sumLoss, inputShape: IN, capture });
  return { model, optimizer, step, dispose: () => (step.dispose(), optimizer.dispose(), model.dispose()) };
}

const batch = (k: number) => ({
  x: randomArray(
    IN.reduce((a, b) => a * b, 1),
    1000 + k,
    -2,
    2,
  ),
  y: new Uint32Array(IN[0]),
});

suite('train', (test) => {
  for (const opt of ['adam', 'sgd'] as const)
    test(`captured TrainStep (${opt}) is bit-identical to uncaptured steps: losses, parameters, running stats`, async () => {
      const a = makeStep(false, opt),
        b = makeStep(true, opt);
      const w0 = await a.model.parameters()[0].read();
      for (let k = 0; k < 6; k++) {
        const { x, y } = batch(k);
        a.step.run(x, y);
        b.step.run(x, y);
        // atol 0: identical kernels on identical data
        assertClose(`loss ${k}`, [await b.step.readLoss()], [await a.step.readLoss()], {
          atol: 0,
          rtol: 0,
          log: false,
        });
      }
      const sa = a.model.stateDict(),
        sb = b.model.stateDict();
      for (const [name, t] of sa)
        assertClose(name, await sb.get(name)!.read(), await t.read(), { atol: 0, rtol: 0, log: false });
      const w6 = await a.model.parameters()[0].read();
      assert(
        w6.some((v, i) => v !== w0[i]),
        'the optimizer moved the parameters',
      );
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
    const m0 = e.memory(),
      bg0 = e.queue.counters.bindGroupsCreated,
      sub0 = e.queue.counters.submits;
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

  test(
    'memory is flat across 1,000 replayed training steps',
    async () => {
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
    },
    { timeoutMs: 180_000 },
  );

  test('end to end: a small CNN, first 8 Adam steps match a float64 re-implementation and the pinned losses', async () => {
    const { x, y } = e2eBatches();
    const model = e2eModel();
    const params = model.parameters();
    const host = await Promise.all(params.map(async (p) => Float64Array.from(await p.read())));
    const optimizer = new Adam(params, { lr: 0.01 });
    const step = new TrainStep({ model, optimizer, loss: softmaxCrossEntropy, inputShape: [E2E.B, E2E.H, E2E.H, 1] });
    const got: number[] = [];
    for (let k = 0; k < E2E.steps; k++) {
      step.run(x[k % 2], y[k % 2]);
      got.push(await step.readLoss());
    }
    const want = referenceTraining(host, x, y);
    console.log(`  losses: ${got.map((v) => v.toFixed(6)).join(', ')}`);
    console.log(`  float64: ${want.map((v) => v.toFixed(8)).join(', ')}`);
    // f32 vs float64 through 8 Adam steps (measured: ~1e-5 relative). Adam divides by
    // sqrt(v), so an element whose gradient is ~0 can move by up to lr either way: allow 1e-4.
    assertClose('losses vs float64 training', got, want, { atol: 1e-5, rtol: 1e-4 });
    assertClose('losses vs pinned values', got, EXPECTED_LOSSES, { atol: 1e-5, rtol: 1e-4 });
    assert(got[E2E.steps - 1] < got[0] * 0.7 && got[E2E.steps - 2] < got[1], 'the loss decreases on both batches');
    step.dispose();
    optimizer.dispose();
    model.dispose();
  });
  test('fit: epochs of captured steps with per-epoch evaluation (full and partial eval batches) that agrees with a direct forward', async () => {
    const make = (count: number, seed: number) => {
      const d = e2eData(count, seed);
      return { images: d.x, labels: Uint8Array.from(d.y), count, height: E2E.H, width: E2E.H, channels: 1 };
    };
    const train = make(24, 1),
      test = make(13, 2); // 13 = 2 eval batches of 5 + a partial one of 3
    const model = e2eModel();
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    const seen: number[] = [];
    const history = await fit({
      model,
      optimizer,
      train,
      test,
      epochs: 3,
      batchSize: 6,
      evalBatchSize: 5,
      lossEvery: 2,
      normalize: false,
      onStep: (s) => void (s.loss !== undefined && seen.push(s.loss)),
    });
    assertEqual(history.length, 3, 'one record per epoch');
    assertEqual(seen.length, 3 * 2, 'loss read every 2 of 4 steps');
    assert(
      history[2].trainLoss < history[0].trainLoss,
      `training loss falls (${history.map((h) => h.trainLoss.toFixed(3))})`,
    );
    assert(model.training, 'model back in training mode after evaluation');
    // the last evaluation vs an uncaptured forward over the whole test set
    const x = tensor(test.images, [13, E2E.H, E2E.H, 1]);
    const logits = model.eval().forward(x);
    const l = await logits.read();
    const acc = lossRef.accuracy(l, test.labels, E2E.K),
      loss = lossRef.softmaxCrossEntropy(l, test.labels, E2E.K);
    const last = history[2].test!;
    assertEqual(last.count, 13, 'evaluated every test sample');
    assertClose('accuracy', [last.accuracy], [acc], { atol: 1e-6, rtol: 0 });
    // per-batch means recombined: f32 sums of <= 5 terms
    assertClose('loss', [last.loss], [loss], { atol: 1e-5, rtol: 1e-5 });
    for (const t of [x, logits]) t.dispose();
    optimizer.dispose();
    model.dispose();
  });
});

// ---- end-to-end fixture: conv3x3 1→4 (same, ReLU) → maxpool 2 → flatten → linear 64→3 ----
const E2E = { B: 6, H: 8, C: 4, K: 3, steps: 8 };
/** Losses of the float64 re-implementation below (llm.c-style expected_losses). */
const EXPECTED_LOSSES = [
  0.86029314, 0.68750521, 0.56035095, 0.42899803, 0.36184959, 0.26081966, 0.22969416, 0.15652869,
];

function e2eModel(): Sequential {
  const rng = new InitRng(42);
  return new Sequential([
    new Conv2d(1, E2E.C, 3, { padding: 'same', relu: true, rng }),
    new MaxPool2d(2),
    new Flatten(),
    new Linear((E2E.H / 2) ** 2 * E2E.C, E2E.K, { rng, init: 'glorot-uniform' }),
  ]);
}

/** `count` 8x8 images: class k has a bright bar in row band k, plus noise. */
function e2eData(count: number, seed: number, shift = 0): { x: Float32Array; y: Uint32Array } {
  const rng = new InitRng(seed);
  const x = new Float32Array(count * E2E.H * E2E.H),
    y = new Uint32Array(count);
  for (let n = 0; n < count; n++) {
    y[n] = (n + shift) % E2E.K;
    for (let i = 0; i < E2E.H * E2E.H; i++) {
      const row = Math.floor(i / E2E.H);
      x[n * E2E.H * E2E.H + i] = 0.3 * rng.normal() + (Math.floor(row / 3) === y[n] ? 1 : 0);
    }
  }
  return { x, y };
}

/** The two fixed batches of the trajectory test (one generator, batch 1 shifts the classes). */
function e2eBatches(): { x: Float32Array[]; y: Uint32Array[] } {
  const rng = new InitRng(7);
  const xs: Float32Array[] = [],
    ys: Uint32Array[] = [];
  for (let b = 0; b < 2; b++) {
    const x = new Float32Array(E2E.B * E2E.H * E2E.H),
      y = new Uint32Array(E2E.B);
    for (let n = 0; n < E2E.B; n++) {
      y[n] = (n + b) % E2E.K;
      for (let i = 0; i < E2E.H * E2E.H; i++) {
        const row = Math.floor(i / E2E.H);
        x[n * E2E.H * E2E.H + i] = 0.3 * rng.normal() + (Math.floor(row / 3) === y[n] ? 1 : 0);
      }
    }
    xs.push(x);
    ys.push(y);
  }
  return { x: xs, y: ys };
}

/** The same training in float64 on the CPU, from the ops' references; Adam written out. */
function referenceTraining(p: Float64Array[], x: Float32Array[], y: Uint32Array[]): number[] {
  const { B, H, C, K } = E2E;
  const g = convGeometry('ref', [B, H, H, 1], [3, 3, 1, C], { padding: 'same' });
  const F = (H / 2) * (H / 2) * C;
  const m = p.map((t) => new Float64Array(t.length)),
    v = p.map((t) => new Float64Array(t.length));
  const losses: number[] = [];
  for (let t = 1; t <= E2E.steps; t++) {
    const xb = x[(t - 1) % 2],
      yb = y[(t - 1) % 2];
    const [w1, b1, w2, b2] = p;
    const h = convRef.forward(xb, w1, g, b1, true);
    const pool = poolRef.maxPool2d(h, [B, H, H, C], { kernel: 2 });
    const logits = mmRef.matmul(pool.y, [1, B, F], w2, [1, F, K], { bias: b2 });
    losses.push(lossRef.softmaxCrossEntropy(logits, yb, K));
    const dl = lossRef.softmaxCrossEntropyBackward(logits, yb, K);
    const mm = mmRef.matmulBackward(dl, pool.y, [1, B, F], w2, [1, F, K], { bias: b2 });
    const dh = convRef.reluMask(poolRef.maxPool2dBackward(mm.da, pool.argmax, [B, H, H, C]), h);
    const grads = [convRef.weightGrad(xb, dh, g), convRef.biasGrad(dh, C), mm.db, mm.dbias];
    p.forEach((pp, i) => {
      for (let j = 0; j < pp.length; j++) {
        m[i][j] = 0.9 * m[i][j] + 0.1 * grads[i][j];
        v[i][j] = 0.999 * v[i][j] + 0.001 * grads[i][j] ** 2;
        pp[j] -= (0.01 * m[i][j]) / (1 - 0.9 ** t) / (Math.sqrt(v[i][j] / (1 - 0.999 ** t)) + 1e-8);
      }
    });
  }
  return losses;
}
