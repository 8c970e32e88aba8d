// Training checkpoints: a run interrupted after k steps and resumed from its checkpoint (fresh
// model and optimizer, even on a fresh engine after a device loss) continues with the identical
// loss trajectory, bit for bit, as the uninterrupted run; the file holds what docs/reliability.md
// says; restoring into the wrong model or optimizer fails before anything is written.
import { suite } from '../harness/define.js';
import { hangLimit, hangMessage } from '../harness/hang.js';
import { assert, assertEqual, assertThrows, rng } from '../harness/assert.js';
import { engine, init, setEngine, type DeviceLostInfo } from '../../src/runtime/engine.js';
import { readSafetensors, toFloat32, writeSafetensors } from '../../src/io/safetensors.js';
import { FormatError } from '../../src/io/errors.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { saveModel } from '../../src/io/model-file.js';
import { fit } from '../../src/train/fit.js';
import {
  CHECKPOINT_METADATA_KEY,
  loadCheckpoint,
  readCheckpointInfo,
  saveCheckpoint,
} from '../../src/train/checkpoint.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Linear, Flatten } from '../../src/nn/linear.js';
import {
  AUGMENT,
  B,
  differing,
  makeDataset,
  makeModel,
  makeOptimizer,
  sameBits,
  snapshot,
  trainSteps,
} from './checkpoint.helpers.js';

const START = { seed: 11, epoch: 0, batch: 0 };
const N = 10,
  KSTOP = 4; // 6 steps per epoch: the interruption is mid-epoch, the resumed part crosses an epoch

// waits for an event (a device-loss report): a hang detector, generous (test/harness/hang.ts)
const until = async (cond: () => unknown, ms = hangLimit(5000)) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(hangMessage(`waiting for ${cond.toString()}`, ms));
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** Uninterrupted run vs save after KSTOP steps + restore into a model built from another seed. */
async function interruptedVsFull(kind: 'adam' | 'sgd') {
  const ds = makeDataset();
  const full = { model: makeModel(1), opt: null as never as ReturnType<typeof makeOptimizer> };
  full.opt = makeOptimizer(full.model, kind);
  const want = await trainSteps(full.model, full.opt, ds, START, N);

  const a = makeModel(1),
    aOpt = makeOptimizer(a, kind);
  const head = await trainSteps(a, aOpt, ds, START, KSTOP);
  const bytes = await saveCheckpoint({ model: a, optimizer: aOpt, data: head.next });
  aOpt.dispose();
  a.dispose(); // the interrupted process is gone; only the file remains

  const b = makeModel(99),
    bOpt = makeOptimizer(b, kind); // other weights and dropout seed: all must come from the file
  const info = loadCheckpoint(bytes, { model: b, optimizer: bOpt });
  assertEqual(
    [info.optimizer.t, info.data],
    [KSTOP, { seed: START.seed, epoch: 0, batch: KSTOP }],
    'restored step and data position',
  );
  const tail = await trainSteps(b, bOpt, ds, info.data!, N - KSTOP);
  const got = [...head.losses, ...tail.losses];
  console.log(`  ${kind} losses: ${want.losses.map((v) => v.toFixed(5)).join(', ')}`);
  assert(sameBits(got, want.losses), `resumed losses ${got} differ from the uninterrupted ${want.losses}`);
  assertEqual(tail.next, want.next, 'same final data position');
  assertEqual(
    differing(await snapshot(b, bOpt), await snapshot(full.model, full.opt)),
    [],
    'state that differs in any bit',
  );
  assertEqual(bOpt.t, full.opt.t, 'optimizer step count');
  for (const x of [bOpt, b, full.opt, full.model]) x.dispose();
}

suite('checkpoint', (test) => {
  for (const kind of ['adam', 'sgd'] as const)
    test(
      `resumed after ${KSTOP} of ${N} steps (${kind}): identical loss trajectory and state, bit for bit`,
      () => interruptedVsFull(kind),
      { timeoutMs: 120_000 },
    );

  test(
    'fit resumes from a checkpoint saved in onStep (augmentation, epoch boundary) with the same losses',
    async () => {
      const ds = makeDataset(5);
      const common = {
        train: ds,
        epochs: 2,
        batchSize: B,
        seed: 4,
        augment: AUGMENT,
        normalize: false as const,
        lossEvery: 1,
        coldStart: 'quick' as const, // bit-for-bit comparisons: one kernel tier (checkpoint.helpers.ts)
      };
      const m0 = makeModel(2),
        o0 = makeOptimizer(m0, 'adam');
      const want: number[] = [];
      await fit({ ...common, model: m0, optimizer: o0, onStep: (s) => void want.push(s.loss!) });

      const m1 = makeModel(2),
        o1 = makeOptimizer(m1, 'adam');
      const got: number[] = [];
      let bytes: Uint8Array | null = null;
      await assertThrows(
        () =>
          fit({
            ...common,
            model: m1,
            optimizer: o1,
            onStep: async (s) => {
              got.push(s.loss!);
              if (s.epoch === 0 && s.step === 5) {
                bytes = await saveCheckpoint({ model: m1, optimizer: o1, data: s.resumeAt });
                throw new Error('interrupted');
              }
            },
          }),
        /interrupted/,
      );
      const m2 = makeModel(3),
        o2 = makeOptimizer(m2, 'adam');
      const info = loadCheckpoint(bytes!, { model: m2, optimizer: o2 });
      assertEqual(info.data, { seed: 4, epoch: 0, batch: 5 }, 'resume position');
      await fit({ ...common, model: m2, optimizer: o2, resume: info.data!, onStep: (s) => void got.push(s.loss!) });
      assertEqual(got.length, want.length, 'steps in all');
      assert(sameBits(got, want), `losses ${got} vs ${want}`);
      await assertThrows(
        () => fit({ ...common, model: m2, optimizer: o2, resume: { ...info.data!, seed: 5 } }),
        /fit: 'resume' has seed 5, the run's 'seed' is 4/,
      );
      for (const x of [o0, m0, o1, m1, o2, m2]) x.dispose();
    },
    { timeoutMs: 120_000 },
  );

  test('file layout: F32 tensors by model path and optimizer slot, scalar state in metadata', async () => {
    const model = makeModel(1),
      opt = makeOptimizer(model, 'adam');
    await trainSteps(model, opt, makeDataset(), START, 2);
    const bytes = await saveCheckpoint({
      model,
      optimizer: opt,
      data: { seed: 11, epoch: 0, batch: 2 },
      metadata: { note: 'hi' },
    });
    const f = readSafetensors(bytes);
    const names = [...f.tensors.keys()].sort();
    assert(names.includes('model.1.running_mean') && names.includes('model.3.weight'), `model tensors: ${names}`);
    assert(
      names.includes('optimizer.m.6.weight') && names.includes('optimizer.v.0.bias'),
      `optimizer tensors: ${names}`,
    );
    assertEqual(names.length, model.stateDict().size + 2 * model.parameters().length, 'tensor count');
    assert(
      [...f.tensors.values()].every((t) => t.dtype === 'F32'),
      'all F32',
    );
    const h = JSON.parse(f.metadata[CHECKPOINT_METADATA_KEY]);
    assertEqual(
      [h.version, h.optimizer.kind, h.optimizer.t, h.data, h.dropout['2']],
      [1, 'adam', 2, { seed: 11, epoch: 0, batch: 2 }, [1001, 2]],
      'header',
    );
    assertEqual(readCheckpointInfo(bytes).metadata, { note: 'hi' }, 'user metadata kept apart');
    opt.dispose();
    model.dispose();
  });

  test('restoring into another architecture or optimizer kind fails before writing anything', async () => {
    const model = makeModel(1),
      opt = makeOptimizer(model, 'adam');
    const bytes = await saveCheckpoint({ model, optimizer: opt });
    const target = makeModel(5),
      sgd = makeOptimizer(target, 'sgd');
    const before = await snapshot(target, sgd);
    await assertThrows(
      () => loadCheckpoint(bytes, { model: target, optimizer: sgd }),
      /checkpoint: saved for a 'adam' optimizer, the target is 'sgd'/,
    );
    const other = new Sequential([new Flatten(), new Linear(64, 3)]);
    await assertThrows(
      () => loadCheckpoint(bytes, { model: other }),
      /checkpoint: tensor "model\.1\.weight" has shape \[2\], the target needs \[64,3\]/,
    );
    // weights only (no optimizer): allowed, the optimizer tensors are skipped
    const onlyWeights = makeModel(6);
    assertEqual(loadCheckpoint(bytes, { model: onlyWeights }).optimizer.t, 0, 'weights-only restore');
    assertEqual(differing(await snapshot(target, sgd), before), [], 'failed restores wrote nothing');
    const modelFile = await saveModel(null, model.stateDict());
    await assertThrows(() => loadCheckpoint(modelFile, { model }), /metadata key 'webgpu-cnn\.checkpoint' is missing/);
    await assertThrows(
      () => saveCheckpoint({ model, optimizer: opt, data: { seed: -1, epoch: 0, batch: 0 } }),
      /'data' must be \{seed, epoch, batch\}/,
    );
    for (const x of [opt, model, sgd, target, other, onlyWeights]) x.dispose();
  });

  test('fuzzed checkpoint files: every input restores or throws a FormatError, and a rejected one writes nothing', async () => {
    const model = makeModel(1),
      opt = makeOptimizer(model, 'adam');
    await trainSteps(model, opt, makeDataset(), START, 1);
    const good = await saveCheckpoint({ model, optimizer: opt, data: { seed: 11, epoch: 0, batch: 1 } });
    const file = readSafetensors(good);
    const header = JSON.parse(file.metadata[CHECKPOINT_METADATA_KEY]);
    const tensors = new Map([...file.tensors].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t) }]));
    const rand = rng(2024);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
    const JUNK = [-1, 0, 2, 7, 1.5, 2 ** 40, 'x', null, [], {}, true, 'adam', 'sgd', [1], [1, 2, 3]];
    const mutateJson = (v: unknown, depth = 0): unknown => {
      // replace or drop one field somewhere in the header
      if (v === null || typeof v !== 'object' || (depth > 0 && rand() < 0.2)) return pick(JUNK);
      const o = (Array.isArray(v) ? [...v] : { ...v }) as Record<string, unknown>;
      const keys = Object.keys(o);
      if (!keys.length || rand() < 0.1) return pick(JUNK);
      const k = pick(keys);
      if (rand() < 0.15) delete o[k];
      else o[k] = mutateJson(o[k], depth + 1);
      return o;
    };
    const mutants: Uint8Array[] = [];
    for (let i = 0; i < 150; i++) {
      const kind = i % 3;
      if (kind === 0) mutants.push(good.slice(0, Math.floor(rand() * good.length)));
      else if (kind === 1) {
        const b = good.slice(),
          at = Math.floor(rand() * Math.min(b.length, 8 + new DataView(b.buffer).getUint32(0, true)));
        b[at] ^= 1 << Math.floor(rand() * 8);
        mutants.push(b);
      } else {
        const t = new Map(tensors);
        const r = rand(); // untouched (re-encoded), a tensor dropped, or the scalar state mutated
        if (r < 0.2) t.delete(pick([...t.keys()]));
        mutants.push(
          writeSafetensors(t, {
            [CHECKPOINT_METADATA_KEY]: JSON.stringify(r < 0.2 || r > 0.35 ? mutateJson(header) : header),
          }),
        );
      }
    }
    // count host writes into tensors: a rejected checkpoint must make none
    const proto = Tensor.prototype as { write: Tensor['write'] };
    const write = proto.write;
    let writes = 0,
      loaded = 0,
      rejected = 0;
    proto.write = function (this: Tensor, d) {
      writes++;
      return write.call(this, d);
    };
    try {
      for (const [i, b] of mutants.entries()) {
        writes = 0;
        try {
          loadCheckpoint(b, { model, optimizer: opt });
          loaded++;
        } catch (e) {
          if (!(e instanceof FormatError))
            throw new Error(`mutant ${i}: ${(e as Error).name}: ${(e as Error).message}`);
          assertEqual(writes, 0, `mutant ${i} (${e.message}) wrote tensors`);
          rejected++;
        }
      }
    } finally {
      proto.write = write;
    }
    console.log(`  ${mutants.length} mutants: ${loaded} restored, ${rejected} rejected with a FormatError`);
    assert(rejected > 100 && loaded > 5, 'most mutants are rejected, the valid ones restore');
    opt.dispose();
    model.dispose();
  });

  test(
    'after a device loss, a fresh engine restores the last checkpoint and continues the same trajectory',
    async () => {
      const orig = engine();
      const gpu = orig.keepAlive[0] as GPU;
      const ds = makeDataset();
      try {
        const e2 = await init({ gpu });
        let lost: DeviceLostInfo | null = null;
        e2.onDeviceLost((i) => (lost = i));
        const a = makeModel(1),
          aOpt = makeOptimizer(a, 'adam');
        const head = await trainSteps(a, aOpt, ds, START, KSTOP);
        const bytes = await saveCheckpoint({ model: a, optimizer: aOpt, data: head.next });
        e2.device.destroy(); // simulated loss (a driver reset or a GPU process crash look the same)
        await until(() => lost);
        await assertThrows(() => trainSteps(a, aOpt, ds, head.next, 1), /device was lost/);

        const e3 = await init({ gpu });
        // Uninterrupted reference on the new device, then the restored run beside it.
        const ref = makeModel(1),
          refOpt = makeOptimizer(ref, 'adam');
        const want = await trainSteps(ref, refOpt, ds, START, N);
        const b = makeModel(7),
          bOpt = makeOptimizer(b, 'adam');
        const info = loadCheckpoint(bytes, { model: b, optimizer: bOpt });
        const tail = await trainSteps(b, bOpt, ds, info.data!, N - KSTOP);
        const got = [...head.losses, ...tail.losses];
        assert(sameBits(got, want.losses), `losses after recovery ${got} vs ${want.losses}`);
        assertEqual(
          differing(await snapshot(b, bOpt), await snapshot(ref, refOpt)),
          [],
          'state that differs in any bit',
        );
        e3.destroy();
      } finally {
        setEngine(orig);
      }
    },
    { timeoutMs: 120_000 },
  );
});
