// Graph capture: a captured step replays bit-identically to running it uncaptured, allocates
// nothing (no buffers, no bind groups), keeps its intermediates away from the pool, submits
// once per step, and frees everything on dispose.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, randomArray } from '../harness/assert.js';
import { Engine, engine, setEngine } from '../../src/runtime/engine.js';
import { tensor, empty, type Tensor } from '../../src/tensor/tensor.js';
import { add, full, scale } from '../../src/ops/elementwise.js';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { capture } from '../../src/autograd/capture.js';
import { batchNorm } from '../../src/nn/batchnorm.js';
import { dropout } from '../../src/nn/dropout.js';

const SHAPE = [5, 3, 3, 7];
const C = 7;

/** Step state that must persist across steps: BN parameters, running stats, dropout counter. */
function makeState() {
  return {
    x: empty(SHAPE),
    gamma: tensor(randomArray(C, 1, 0.5, 1.5)),
    beta: tensor(randomArray(C, 2)),
    rm: full([C], 0),
    rv: full([C], 1),
    drop: tensor([99, 0], [2], 'u32'),
  };
}
type State = ReturnType<typeof makeState>;

/** Forward + backward with in-place state updates (running stats, dropout counter). */
function step(s: State): { y: Tensor; grads: Tensor[] } {
  const { value, grads } = valueAndGrad(() => {
    const h = batchNorm(add(s.x, scale(s.x, 2)), s.gamma, s.beta, s.rm, s.rv, { training: true });
    return dropout(scale(h, 1.5), 0.25, s.drop);
  }, [s.x, s.gamma, s.beta]);
  return { y: value, grads };
}

const disposeAll = (s: State) => Object.values(s).forEach((t) => t.dispose());

suite('capture', (test) => {
  test('replay is bit-identical to uncaptured steps (outputs, gradients, in-place state)', async () => {
    const a = makeState(),
      b = makeState();
    let plan: ReturnType<typeof capture<{ y: Tensor; grads: Tensor[] }>> | undefined;
    for (let k = 0; k < 5; k++) {
      const data = randomArray(a.x.size, 100 + k, -2, 2);
      a.x.write(data);
      const ref = step(a);
      b.x.write(data);
      if (!plan)
        plan = capture(() => step(b), { uses: Object.values(b) }); // step 0 runs while capturing
      else plan.run();
      // atol 0: the same kernels on the same data must give the same bits
      assertClose(`y step ${k}`, await plan.result.y.read(), await ref.y.read(), { atol: 0, rtol: 0, log: false });
      for (let i = 0; i < 3; i++)
        assertClose(`grad ${i} step ${k}`, await plan.result.grads[i].read(), await ref.grads[i].read(), {
          atol: 0,
          rtol: 0,
          log: false,
        });
      ref.y.dispose();
      ref.grads.forEach((g) => g.dispose());
    }
    assertClose('running mean', await b.rm.read(), await a.rm.read(), { atol: 0, rtol: 0 });
    assertClose('running var', await b.rv.read(), await a.rv.read(), { atol: 0, rtol: 0 });
    assertEqual(Array.from(await b.drop.read()), [99, 5], 'dropout counter advanced on every replay');
    assertEqual(Array.from(await a.drop.read()), [99, 5], 'same counter uncaptured');
    plan!.dispose();
    disposeAll(a);
    disposeAll(b);
  });

  test('replays allocate nothing, create no bind groups, submit once per step', async () => {
    const e = engine();
    const s = makeState();
    const plan = capture(() => step(s), { uses: Object.values(s) });
    plan.run();
    const m0 = e.memory(),
      bg0 = e.queue.counters.bindGroupsCreated,
      sub0 = e.queue.counters.submits,
      p0 = e.queue.pipelines.compiled;
    for (let k = 0; k < 50; k++) {
      s.x.write(randomArray(s.x.size, k));
      plan.run();
    }
    const m1 = e.memory();
    assertEqual(m1.createCount, m0.createCount, 'no buffer created');
    assertEqual(m1.bytesInUse, m0.bytesInUse, 'bytes in use flat');
    assertEqual(m1.liveTensors, m0.liveTensors, 'live tensors flat');
    assertEqual(e.queue.counters.bindGroupsCreated, bg0, 'no bind group created');
    assertEqual(e.queue.pipelines.compiled, p0, 'no pipeline compiled');
    assertEqual(e.queue.counters.submits - sub0, 50, 'one submit per replayed step');
    plan.dispose();
    disposeAll(s);
  });

  test('intermediates stay owned by the plan: a replay cannot clobber tensors allocated later', async () => {
    const e = engine();
    const s = makeState();
    s.x.write(randomArray(s.x.size, 7, -1, 1));
    const plan = capture(() => step(s), { uses: Object.values(s) });
    e.flush();
    // Tensors of the step's sizes allocated after the capture: had the plan given its
    // intermediates back to the pool, these would get their buffers and the replay would
    // overwrite them.
    const junk = Array.from({ length: 40 }, (_, i) => full(i % 2 ? SHAPE : [C], 1e6 + i));
    e.flush();
    plan.run();
    for (const [i, t] of junk.entries())
      assertClose(`tensor ${i} intact`, await t.read(), new Float32Array(t.size).fill(1e6 + i), {
        atol: 0,
        rtol: 0,
        log: false,
      });
    assert(plan.retainedBytes > 0, 'the plan retains its intermediates');
    junk.forEach((t) => t.dispose());
    plan.dispose();
    disposeAll(s);
  });

  test('dispose frees everything the plan held; replay after dispose or after a used tensor is freed fails', async () => {
    const e = engine();
    e.flush();
    const m0 = e.memory();
    const s = makeState();
    const plan = capture(() => step(s), { uses: Object.values(s) });
    assert(e.memory().bytesInUse > m0.bytesInUse, 'plan holds memory');
    s.drop.dispose();
    let msg = '';
    try {
      plan.replay();
    } catch (err) {
      msg = (err as Error).message;
    }
    assert(/was disposed/.test(msg), `replay refuses a disposed input (${msg})`);
    plan.dispose();
    disposeAll(s);
    const m1 = e.memory();
    assertEqual(m1.bytesInUse, m0.bytesInUse, 'bytes in use back to baseline');
    assertEqual(m1.liveTensors, m0.liveTensors, 'live tensors back to baseline');
    try {
      plan.replay();
      msg = '';
    } catch (err) {
      msg = (err as Error).message;
    }
    assert(/disposed plan/.test(msg), 'replay of a disposed plan fails');
  });

  test('a plan replays on and returns its buffers to the engine it was captured on', async () => {
    const e = engine();
    e.flush();
    const m0 = e.memory();
    const s = makeState();
    s.x.write(randomArray(s.x.size, 4));
    const plan = capture(() => step(s), { uses: Object.values(s) });
    const y0 = await plan.result.y.read();
    // Another engine on the same device, made current (as an app with two engines would).
    const other = new Engine(e.device, e.info, e.features);
    setEngine(other);
    try {
      plan.run(); // replays into e's queue and submits it: other's queue stays empty
      assert(plan.engine === e, 'plan.engine is the capture engine');
      plan.dispose();
      assertEqual(other.memory().bytesInUse, 0, "the other engine's pool got nothing");
    } finally {
      setEngine(e);
    }
    assert(y0.every(Number.isFinite), 'captured output finite');
    assertEqual(Array.from(await s.drop.read())[1], 2, 'the replay ran on e: the dropout counter counted 2 steps');
    disposeAll(s);
    const m1 = e.memory();
    assertEqual(m1.bytesInUse, m0.bytesInUse, "bytes in use back to baseline in the capture engine's pool");
    assertEqual(m1.liveTensors, m0.liveTensors, 'live tensors back to baseline');
  });

  test(
    'memory is flat across 1,000 replayed steps',
    async () => {
      const e = engine();
      const s = makeState();
      const plan = capture(() => step(s), { uses: Object.values(s) });
      plan.run();
      const m0 = e.memory();
      const data = randomArray(s.x.size, 3);
      for (let k = 0; k < 1000; k++) {
        s.x.write(data);
        plan.run();
        if (k % 250 === 249) await e.sync(); // keep the GPU queue from growing unboundedly
      }
      const y = await plan.result.y.read();
      const m1 = e.memory();
      assert(y.every(Number.isFinite), 'outputs stay finite');
      assertEqual({ ...m1, reuseCount: 0 }, { ...m0, reuseCount: 0 }, 'memory stats identical after 1,000 steps');
      plan.dispose();
      disposeAll(s);
    },
    { timeoutMs: 120_000 },
  );
});
