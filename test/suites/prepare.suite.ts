// Cold start: TrainStep.prepare() and Evaluator.prepare() compile exactly the pipelines the
// step or the evaluation will dispatch (found by a planning pass, queue.ts PLANNING), so the
// first real run compiles nothing; the planning pass changes nothing (weights, optimizer state
// and step count, BatchNorm running statistics, the dropout counter): a prepared run is
// bit-identical to an unprepared one. Planning checks dispatches like a real run, refuses
// readbacks, and always ends, even when the body throws.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { engine } from '../../src/runtime/engine.js';
import { PipelineCache } from '../../src/runtime/pipelines.js';
import { tensor } from '../../src/tensor/tensor.js';
import { planPipelines, preparePipelines } from '../../src/autograd/capture.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Conv2d } from '../../src/nn/conv.js';
import { BatchNorm2d } from '../../src/nn/batchnorm.js';
import { MaxPool2d } from '../../src/nn/pooling.js';
import { Flatten, Linear } from '../../src/nn/linear.js';
import { Dropout } from '../../src/nn/dropout.js';
import { InitRng } from '../../src/nn/init.js';
import { Adam } from '../../src/optim/optimizers.js';
import { TrainStep } from '../../src/train/step.js';
import { Evaluator } from '../../src/train/evaluate.js';
import { softmaxCrossEntropy } from '../../src/ops/loss/index.js';
import { add } from '../../src/ops/elementwise.js';

const B = 6,
  H = 8,
  W = 8;

/**
 * A small net with every kind of step state: BatchNorm statistics, a dropout counter, Adam
 * moments. `cold`: the step's coldStart ('wait': the fast kernels from the first step, so that
 * what prepare() compiles is what the step runs); `channels`: conv channels.
 */
function makeNet(seed: number, cold: 'wait' | 'tiered' | 'quick' = 'wait', channels = 4) {
  const rng = new InitRng(seed);
  const model = new Sequential([
    new Conv2d(1, channels, 3, { padding: 'same', relu: true, rng }),
    new BatchNorm2d(channels),
    new MaxPool2d(2),
    new Flatten(),
    new Dropout(0.25, { seed: 5 }),
    new Linear(4 * 4 * channels, 10, { rng }),
  ]);
  const optimizer = new Adam(model.parameters(), { lr: 0.01 });
  const step = new TrainStep({
    model,
    optimizer,
    loss: softmaxCrossEntropy,
    inputShape: [B, H, W, 1],
    coldStart: cold,
  });
  return { model, optimizer, step, dispose: () => (step.dispose(), optimizer.dispose(), model.dispose()) };
}

const batch = (k: number) => ({
  x: randomArray(B * H * W, 40 + k, 0, 1),
  y: Uint32Array.from({ length: B }, (_, i) => (i * 7 + k) % 10),
});

async function state(n: ReturnType<typeof makeNet>): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const t of n.model.stateDict().values()) out.push(new Float32Array(await t.read()));
  for (const t of n.optimizer.tensors()) out.push(new Float32Array(await t.read()));
  return out;
}

suite('prepare', (test) => {
  test('TrainStep.prepare compiles exactly the pipelines of the step; the first run then compiles nothing', async () => {
    const n = makeNet(1);
    const cache = engine().queue.pipelines;
    const specs = n.step.pipelineSpecs();
    const info = await n.step.prepare();
    assertEqual(info.pipelines, specs.length, 'prepare plans the same pipelines as pipelineSpecs()');
    assert(
      specs.every((s) => cache.has(s)),
      'every planned pipeline is compiled after prepare',
    );
    const before = cache.compiled;
    const b = batch(0);
    n.step.run(b.x, b.y);
    const loss = await n.step.readLoss();
    assert(Number.isFinite(loss), `finite loss (${loss})`);
    assertEqual(cache.compiled - before, 0, 'pipelines compiled by the first run after prepare');
    // the plan's commands use exactly the planned pipelines
    const cmds = (n.step as unknown as { plan: { commands: readonly { kind: string; pipeline?: { key: string } }[] } })
      .plan.commands;
    const used = new Set(cmds.flatMap((c) => (c.pipeline ? [c.pipeline.key] : [])));
    const planned = new Set(specs.map((s) => PipelineCache.key(s)));
    assertEqual([...used].sort(), [...planned].sort(), 'pipelines of the captured step vs the planned ones');
    assert((await n.step.prepare()) === info, 'prepare is idempotent: later calls return the first result');
    n.dispose();
  });

  test('a prepared step trains bit-identically to an unprepared one (weights, Adam moments, BatchNorm statistics, dropout counter)', async () => {
    const a = makeNet(2),
      b = makeNet(2);
    const s0 = await state(a);
    const t0 = a.optimizer.t;
    await a.step.prepare();
    assertEqual(a.optimizer.t, t0, 'optimizer step count after prepare');
    const s1 = await state(a);
    s0.forEach((v, i) =>
      assertClose(`state tensor ${i} unchanged by prepare`, s1[i], v, { atol: 0, rtol: 0, log: false }),
    );
    for (let k = 0; k < 3; k++) {
      const d = batch(k);
      a.step.run(d.x, d.y);
      b.step.run(d.x, d.y);
      assertEqual(await a.step.readLoss(), await b.step.readLoss(), `loss of step ${k + 1}`);
    }
    const sa = await state(a),
      sb = await state(b);
    sa.forEach((v, i) => assertClose(`state tensor ${i} after 3 steps`, v, sb[i], { atol: 0, rtol: 0, log: false }));
    a.dispose();
    b.dispose();
  });

  test('tiered start: quick kernels first, then the switch to the fast ones; training continues', async () => {
    const t = makeNet(4, 'tiered', 7),
      w = makeNet(4, 'wait', 7);
    const cache = engine().queue.pipelines;
    const quickSpecs = t.step.pipelineSpecs('quick'),
      fastSpecs = t.step.pipelineSpecs();
    const quickKeys = new Set(quickSpecs.map((s) => PipelineCache.key(s)));
    assert(
      quickSpecs.some((s) => s.shader === 'conv2d/quick') && quickSpecs.some((s) => s.shader === 'matmul/quick'),
      `the quick plan uses the quick conv and matmul kernels: ${[...quickKeys].join(' ')}`,
    );
    const b0 = batch(0);
    t.step.run(b0.x, b0.y);
    w.step.run(b0.x, b0.y);
    assertEqual(t.step.kernels, 'quick', 'tiered: the first step runs the quick kernels');
    assertEqual(w.step.kernels, 'fast', "coldStart 'wait': the first step runs the fast kernels");
    // the captured plan dispatches exactly the quick tier's pipelines (whether this case or an
    // earlier one compiled them)
    const planKeys = (step: TrainStep) =>
      new Set(
        (step as unknown as { plan: { commands: readonly { pipeline?: { key: string } }[] } }).plan.commands.flatMap(
          (c) => (c.pipeline ? [c.pipeline.key] : []),
        ),
      );
    assertEqual([...planKeys(t.step)].sort(), [...quickKeys].sort(), 'pipelines of the quick plan');
    const l1 = await t.step.readLoss(),
      l1w = await w.step.readLoss();
    assertClose('first loss, quick vs fast kernels', [l1], [l1w], { atol: 1e-5, rtol: 1e-5 });
    // the fast kernels compile in the background; the next run after they are ready switches
    await t.step.prepare({ wait: 'fast' });
    assert(
      fastSpecs.every((s) => cache.has(s)),
      "prepare({ wait: 'fast' }) resolves once every fast pipeline is compiled",
    );
    for (let k = 1; k < 4; k++) {
      const d = batch(k);
      t.step.run(d.x, d.y);
      w.step.run(d.x, d.y);
    }
    assertEqual(t.step.kernels, 'fast', 'after the switch');
    const fastKeys = new Set(fastSpecs.map((s) => PipelineCache.key(s)));
    assertEqual([...planKeys(t.step)].sort(), [...fastKeys].sort(), 'pipelines of the plan after the switch');
    const st = await state(t),
      sw = await state(w);
    st.forEach((v, i) =>
      assertClose(`state tensor ${i} after 4 steps, tiered vs wait`, v, sw[i], { atol: 1e-4, rtol: 1e-3, log: false }),
    );
    t.dispose();
    w.dispose();
  });

  test("coldStart 'quick': every step on the quick kernels, the fast ones never compiled", async () => {
    const q = makeNet(5, 'quick', 9);
    const cache = engine().queue.pipelines;
    const quickKeys = new Set(q.step.pipelineSpecs('quick').map((s) => PipelineCache.key(s)));
    const log0 = cache.log.length;
    for (let k = 0; k < 3; k++) {
      const d = batch(k);
      q.step.run(d.x, d.y);
    }
    assert(Number.isFinite(await q.step.readLoss()), 'finite loss');
    await q.step.prepare({ wait: 'fast' });
    assertEqual(q.step.kernels, 'quick', 'still quick');
    // the step's own compiles are synchronous (no prepare); asynchronous ones in the log may be
    // another case's background compile finishing
    const other = cache.log.slice(log0).filter((r) => r.how === 'sync' && !quickKeys.has(r.key));
    assertEqual(
      other.map((r) => r.key),
      [],
      'pipelines compiled beyond the quick plan',
    );
    await assertThrows(
      () => new TrainStep({ ...q.step.opts, coldStart: 'later' as 'wait' }),
      /TrainStep: 'coldStart' must be 'tiered', 'wait' or 'quick', got "later"/,
    );
    q.dispose();
  });

  test('Evaluator.prepare compiles the evaluation; evaluate then compiles nothing', async () => {
    const n = makeNet(3);
    const count = 8;
    const ds = {
      images: randomArray(count * H * W, 9, 0, 1),
      labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
      count,
      height: H,
      width: W,
      channels: 1,
    };
    const ev = new Evaluator(n.model, { batchSize: 4, normalize: false });
    const info = await ev.prepare([H, W, 1]);
    assert(info.pipelines > 0, 'the evaluation has pipelines');
    assert(n.model.training, 'the model is back in training mode after prepare');
    const cache = engine().queue.pipelines;
    const before = cache.compiled;
    const r = await ev.evaluate(ds);
    assertEqual(cache.compiled - before, 0, 'pipelines compiled by evaluate after prepare');
    assert(Number.isFinite(r.loss) && r.accuracy >= 0 && r.accuracy <= 1, `evaluation result ${JSON.stringify(r)}`);
    ev.dispose();
    n.dispose();
  });

  test('planning checks dispatches, refuses readbacks, records nothing and always ends', async () => {
    const q = engine().queue;
    const da = randomArray(16, 1),
      dc = randomArray(16, 2);
    const a = tensor(da),
      c = tensor(dc);
    const dispatches = q.counters.dispatches;
    const specs = planPipelines(() => add(add(a, c), c));
    assert(specs.length >= 1, 'add plans a pipeline');
    assertEqual(specs.length, new Set(specs.map((s) => PipelineCache.key(s))).size, 'planned specs are distinct');
    assertEqual(q.counters.dispatches - dispatches, 0, 'dispatches while planning');
    assertEqual(q.pendingCommands, 0, 'commands recorded while planning');
    // a readback while planning fails
    q.beginPlanning();
    try {
      await assertThrows(() => a.read(), /readback while planning/, 'read while planning');
    } finally {
      q.endPlanning();
    }
    await assertThrows(
      () => planPipelines(() => add(a, tensor([1, 2, 3]))),
      /add/,
      'a bad op fails while planning as it would when run',
    );
    assert(!q.isPlanning, 'planning ended after a throwing body');
    await assertThrows(() => planPipelines(() => Promise.resolve()), /synchronous/, 'an async body is refused');
    assert(!q.isPlanning, 'planning ended after an async body');
    // preparePipelines compiles what the body would use, and the op then runs as usual
    const info = await preparePipelines(() => add(a, c));
    assert(
      info.pipelines >= 1 && planPipelines(() => add(a, c)).every((s) => q.pipelines.has(s)),
      'prepared pipelines are compiled',
    );
    const sum = add(a, c);
    assertClose(
      'a + c after prepare',
      await sum.read(),
      Array.from(da, (v, i) => Math.fround(v) + Math.fround(dc[i])),
      { atol: 1e-6, rtol: 1e-6 },
    );
    for (const t of [a, c, sum]) t.dispose();
  });
});
