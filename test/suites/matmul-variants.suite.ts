// matmul kernel variants (shared, register, subgroup) against the float64 reference, forced
// one by one; the fallback without the 'subgroups' feature; the autotuner (choice,
// persistence in a Node file / IndexedDB, reload, correctness after tuning).
//
// Tolerance: as matmul.suite.ts, atol = K * u * max (|A| |B|) (any summation order of K f32
// products), rtol 0; integer data must be exact.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { full } from '../../src/ops/elementwise.js';
import { bmm, matmul, ref } from '../../src/ops/matmul/index.js';
import { SHARED_DEFAULT, kernelName, type Gemm, type MatmulKernel } from '../../src/ops/matmul/kernels.js';
import { MATMUL } from '../../src/ops/matmul/choose.js';
import {
  chooseKernel,
  defaultKernel as familyDefault,
  runnableCandidates,
  tuneKeyOf,
} from '../../src/runtime/select.js';
import { tuneMatmul, tuneMatmulsIn } from '../../src/ops/matmul/tune.js';
import {
  clearTuning,
  fileStore,
  indexedDbStore,
  loadTuning,
  memoryStore,
  remember,
  setTuneStore,
  tuneStore,
  type TuneStore,
} from '../../src/runtime/autotune.js';
import { engine, init, setEngine } from '../../src/runtime/engine.js';
import { bucketSize } from '../../src/runtime/pool.js';
import { U32, absOf, disposeAll, maxAbs, rand, viaTape } from './dense.helpers.js';

const tol = (terms: number, absRef: ArrayLike<number>) => ({
  atol: Math.max(terms, 1) * U32 * maxAbs(absRef) + 1e-30,
  rtol: 0,
});
const shapes = (M: number, K: number, N: number, ta: boolean, tb: boolean, ba = 1, bb = 1) => ({
  as: [ba, ta ? K : M, ta ? M : K],
  bs: [bb, tb ? N : K, tb ? K : N],
});
const pickKernel = (g: Gemm) => chooseKernel(MATMUL, g);
const defaultKernel = (g: Gemm) => familyDefault(MATMUL, g);
const tuneKey = (g: Gemm) => tuneKeyOf(MATMUL, g);
const ints = (n: number, seed: number) => randomArray(n, seed, -4, 5).map(Math.floor);

/** The variants without workgroup memory that this device can run, at workgroup size w x w. */
function blockKernels(w: number): MatmulKernel[] {
  const ks: MatmulKernel[] = [{ kind: 'register', wgX: w, wgY: w }];
  if (engine().features.has('subgroups'))
    ks.push({ kind: 'subgroup', wgX: w, wgY: w }, { kind: 'subgroup32', wgX: w, wgY: w });
  return ks;
}

/** Run `f` with the tuning cache on `store`, then restore the previous store and an empty memory. */
async function withStore(store: TuneStore, f: () => Promise<void>): Promise<void> {
  const prev = tuneStore();
  clearTuning();
  setTuneStore(store);
  try {
    await f();
  } finally {
    clearTuning();
    setTuneStore(prev);
  }
}

/** Tune a small product, check the choice is used, persisted, and reloaded from `store`. */
async function tunerRoundTrip(store: TuneStore): Promise<void> {
  await withStore(store, async () => {
    const [M, K, N] = [40, 20, 24];
    const g = { M, N, K, batch: 1, ta: false, tb: true };
    // (two cheap variants plus the shared reference: three pipeline compiles)
    const cands = [{ kind: 'shared', wgX: 4, wgY: 4, bk: 8 }, ...blockKernels(4)] as MatmulKernel[];
    const r = await tuneMatmul(M, N, K, { transB: true, candidates: cands, samples: 2 });
    console.log(
      `tuned ${r.key}: ${kernelName(r.kernel)}; ${r.timings.map((t) => `${t.kernel} ${t.ms?.toFixed(2)} ms`).join(', ')}`,
    );
    assert(
      !r.cached && r.timings.length === cands.length && r.timings.every((t) => t.ms! > 0),
      'every candidate timed',
    );
    assert(
      cands.some((k) => kernelName(k) === kernelName(r.kernel)),
      'winner is a candidate',
    );
    assertEqual(kernelName(pickKernel(g)), kernelName(r.kernel), 'ops use the tuned kernel');
    assertEqual((await store.load())[tuneKey(g)], kernelName(r.kernel), 'choice persisted');
    clearTuning(); // a new process: memory empty, the store remembers
    assertEqual(kernelName(pickKernel(g)), kernelName(defaultKernel(g)), 'default before loading');
    await loadTuning();
    assertEqual(kernelName(pickKernel(g)), kernelName(r.kernel), 'choice reloaded');
    const [M2, K2] = [M + 3, K + 4]; // same bucket (64 x 32 x 32), same alignment
    const again = await tuneMatmul(M2, N, K2, { transB: true, candidates: cands });
    assert(again.cached && again.timings.length === 0, 'same bucket: remembered, nothing timed');
    assertEqual(kernelName(pickKernel({ ...g, M: M2, K: K2 })), kernelName(r.kernel), 'same bucket, same kernel');
    const A = rand([M2, K2], 5),
      B = rand([N, K2], 6);
    const y = matmul(A.t, B.t, { transB: true });
    const as = [1, M2, K2],
      bs = [1, N, K2];
    assertClose(
      'matmul after tuning',
      await y.read(),
      ref.matmul(A.d, as, B.d, bs, { transB: true }),
      tol(K2, ref.matmul(absOf(A.d), as, absOf(B.d), bs, { transB: true })),
    );
    disposeAll(A.t, B.t, y);
  });
}

suite('matmul variants', (test) => {
  test(
    'every kernel = reference exactly: odd shapes, all transposes, vec4/scalar loads, K tails',
    async () => {
      // Integers in [-4, 4]: exact in any order, so a missed or doubled term anywhere shows.
      // Shapes cover 1x1x1, K % 4 = 1..3, unaligned and aligned rows of either operand. The shared
      // kernel is here too: matmul() without a kernel option uses the adapter's default, which
      // on CPU adapters is not the shared kernel. Workgroups of 8x8: the next case's size, so
      // its pipelines are compiled once for both (each costs 1-3 s on SwiftShader); 4x4 runs in
      // the partial-K case below and in the tuner's candidates.
      let seed = 300;
      for (const k of [SHARED_DEFAULT, ...blockKernels(8)])
        for (const [M, K, N] of [
          [1, 1, 1],
          [3, 5, 7],
          [17, 33, 65],
          [65, 17, 33],
          [100, 37, 129],
          [12, 7, 16],
          [64, 64, 64],
        ])
          for (const ta of [false, true])
            for (const tb of [false, true]) {
              const { as, bs } = shapes(M, K, N, ta, tb);
              const a = ints(M * K, seed++),
                b = ints(K * N, seed++);
              const A = tensor(a, as.slice(1)),
                B = tensor(b, bs.slice(1));
              const y = matmul(A, B, { transA: ta, transB: tb, kernel: k });
              assertClose(
                `${kernelName(k)} ${M}x${K}x${N} ta=${+ta} tb=${+tb}`,
                await y.read(),
                ref.matmul(a, as, b, bs, { transA: ta, transB: tb }),
                { atol: 0, rtol: 0, log: false },
              );
              disposeAll(A, B, y);
            }
    },
    { timeoutMs: 240_000 },
  );

  test(
    '8x8 workgroups over several tiles, fused bias + ReLU, bmm with batch and broadcast',
    async () => {
      let seed = 400;
      const bias = rand([150], 399);
      for (const k of blockKernels(8))
        for (const [ta, tb] of [
          [false, false],
          [true, true],
        ])
          for (const [M, K, N, ba, bb] of [
            [130, 45, 150, 1, 1],
            [128, 64, 128, 1, 1],
            [33, 18, 150, 3, 1],
          ]) {
            const { as, bs } = shapes(M, K, N, ta, tb, ba, bb);
            const A = rand(ba > 1 ? as : as.slice(1), seed++),
              B = rand(bb > 1 || ba > 1 ? bs : bs.slice(1), seed++);
            const bz = N === 150 ? bias : null;
            const o = { transA: ta, transB: tb, relu: !!bz };
            const y =
              ba > 1
                ? bmm(A.t, B.t, { ...o, bias: bz?.t, kernel: k })
                : matmul(A.t, B.t, { ...o, bias: bz?.t, kernel: k });
            const want = ref.matmul(A.d, as, B.d, bs, { ...o, bias: bz?.d });
            const t = tol(
              K + 1,
              ref.matmul(absOf(A.d), as, absOf(B.d), bs, { ...o, bias: bz ? absOf(bz.d) : undefined }),
            );
            assertClose(
              `${kernelName(k)} ${ba}x${M}x${K}x${N} ta=${+ta} tb=${+tb}${bz ? ' bias relu' : ''}`,
              await y.read(),
              want,
              t,
            );
            disposeAll(A.t, B.t, y);
          }
      bias.t.dispose();
    },
    { timeoutMs: 120_000 },
  );

  test('the partial K step ignores stale NaN past the operands (pooled buffers are larger)', async () => {
    // a and b get recycled buffers whose tails hold NaN; with K % 4 != 0 the last K step reads
    // past the end of both operands (non-transposed), and must zero what it read there.
    const [M, K, N] = [9, 7, 10];
    for (const k of blockKernels(4)) {
      const nan = (bytes: number) => tensor(new Float32Array(bucketSize(bytes) / 4).fill(NaN));
      const na = nan(M * K * 4),
        nb = nan(K * N * 4);
      const bufA = na.buffer,
        bufB = nb.buffer;
      disposeAll(na, nb);
      await engine().sync(); // released buffers are reused after a submit
      const a = ints(M * K, 500),
        b = ints(K * N, 501);
      const A = tensor(a, [M, K]),
        B = tensor(b, [K, N]);
      assert(A.buffer === bufA && B.buffer === bufB, 'operands reuse the NaN-filled buffers');
      const y = matmul(A, B, { kernel: k });
      assertClose(`${kernelName(k)} with stale NaN`, await y.read(), ref.matmul(a, [1, M, K], b, [1, K, N]), {
        atol: 0,
        rtol: 0,
      });
      disposeAll(A, B, y);
    }
  });

  test("without the 'subgroups' feature: register kernel by default, subgroup refused, tuner skips it", async () => {
    const orig = engine();
    const e = await init({ gpu: orig.keepAlive[0] as GPU, disableFeatures: ['subgroups'] });
    try {
      assert(!e.features.has('subgroups'), 'feature disabled');
      const g = { M: 300, N: 200, K: 30, batch: 1, ta: false, tb: false };
      const d = defaultKernel(g);
      assert(d.kind !== 'subgroup', `default without subgroups is ${kernelName(d)}`);
      assert(
        runnableCandidates(MATMUL, g).every((k) => k.kind !== 'subgroup'),
        'no subgroup candidates',
      );
      const [M, K, N] = [37, 30, 21];
      const A = rand([M, K], 600),
        B = rand([K, N], 601);
      await assertThrows(
        () => matmul(A.t, B.t, { kernel: { kind: 'subgroup', wgX: 4, wgY: 4 } }),
        /matmul: bad kernel .*'subgroups' feature/,
      );
      const want = ref.matmul(A.d, [1, M, K], B.d, [1, K, N]);
      const t = tol(K, ref.matmul(absOf(A.d), [1, M, K], absOf(B.d), [1, K, N]));
      const y = matmul(A.t, B.t); // the default for this engine
      assertClose(
        `default (${kernelName(pickKernel({ M, N, K, batch: 1, ta: false, tb: false }))}) without subgroups`,
        await y.read(),
        want,
        t,
      );
      const yr = matmul(A.t, B.t, { kernel: { kind: 'register', wgX: 4, wgY: 4 } });
      assertClose('register 4x4 without subgroups', await yr.read(), want, t);
      disposeAll(A.t, B.t, y, yr);
      // a choice tuned on the full-featured engine has another key, so it cannot leak here
      setEngine(orig);
      const kFull = tuneKey(g);
      setEngine(e);
      assert(kFull !== tuneKey(g), 'tuning keys differ by feature set');
    } finally {
      e.destroy();
      setEngine(orig);
    }
  });

  test(
    'autotuner: picks a variant, persists it to a JSON file, reloads it, results stay correct',
    async () => {
      const path = `${process.env.TMPDIR ?? '/tmp'}/webgpu-cnn-tune-test-${Date.now()}-${Math.random().toString(36).slice(2)}.json`;
      await tunerRoundTrip(fileStore(path));
      const fs = (await import(
        /* @vite-ignore */ ['node:fs', 'promises'].join('/')
      )) as typeof import('node:fs/promises');
      const saved = JSON.parse(await fs.readFile(path, 'utf8'));
      assert(Object.keys(saved).length === 1, `one entry in ${path}`);
      await fs.rm(path);
    },
    { envs: ['node'], timeoutMs: 120_000 },
  );

  test(
    'autotuner: picks a variant, persists it in IndexedDB, reloads it, results stay correct',
    async () => {
      const db = `webgpu-cnn-test-${Date.now()}`;
      await tunerRoundTrip(indexedDbStore(db));
      await new Promise((resolve) => {
        const r = indexedDB.deleteDatabase(db);
        r.onsuccess = r.onerror = resolve;
      });
    },
    { envs: ['browser'], timeoutMs: 120_000 },
  );

  test('tuneMatmulsIn tunes the products of a forward + backward; stale or foreign cache entries are ignored', async () => {
    await withStore(memoryStore(), async () => {
      const A = rand([20, 12], 700),
        W = rand([12, 8], 701),
        gy = full([20, 8], 1);
      const cands = [{ kind: 'register', wgX: 4, wgY: 4 }] as MatmulKernel[];
      const rs = await tuneMatmulsIn(
        () => {
          const { y, grads } = viaTape(() => matmul(A.t, W.t), [A.t, W.t], gy);
          disposeAll(y, ...(grads.filter(Boolean) as Tensor[]));
        },
        { candidates: cands, samples: 1 },
      );
      // forward A.W; backward g.W^T (transB) and A^T.g (transA)
      const want = [
        { M: 20, N: 8, K: 12, batch: 1, ta: false, tb: false },
        { M: 20, N: 12, K: 8, batch: 1, ta: false, tb: true },
        { M: 12, N: 8, K: 20, batch: 1, ta: true, tb: false },
      ].map((g) => tuneKey(g));
      assertEqual(rs.map((r) => r.key).sort(), want.sort(), 'tuned products');
      assert(
        rs.every((r) => kernelName(r.kernel) === 'register 4x4'),
        'the only candidate wins',
      );
      // a choice this version cannot parse (e.g. written by another one) falls back to the default
      const g = { M: 20, N: 8, K: 12, batch: 1, ta: false, tb: false };
      await remember(tuneKey(g), 'tiled 99x99');
      assertEqual(kernelName(pickKernel(g)), kernelName(defaultKernel(g)), 'unparsable choice ignored');
      disposeAll(A.t, W.t, gy);
    });
  });
});
