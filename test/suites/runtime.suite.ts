// Foundation: elementwise kernels vs reference, buffer-pool reuse, scopes, memory stats,
// odd-size readback, reflection-driven uniforms, command batching.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { engine } from '../../src/runtime/engine.js';
import { tensor, empty } from '../../src/tensor/tensor.js';
import { scope, keep } from '../../src/tensor/scope.js';
import { add, full, scale, ref } from '../../src/ops/elementwise.js';
import { bucketSize } from '../../src/runtime/pool.js';
import { shaderInfo } from '../../src/runtime/shaders.js';

suite('runtime', (test) => {
  test('add, scale, fill match the float64 reference (n = 1, 3, 1023, 70001)', async () => {
    for (const n of [1, 3, 1023, 70001]) {
      const a = randomArray(n, n),
        b = randomArray(n, n + 1);
      const ta = tensor(a),
        tb = tensor(b);
      const s = add(ta, tb),
        k = scale(ta, -2.5),
        f = full([n], 0.75);
      assertClose(`add n=${n}`, await s.read(), ref.add(a, b), { atol: 1e-6, rtol: 1e-6 });
      assertClose(`scale n=${n}`, await k.read(), ref.scale(a, -2.5), { atol: 1e-6, rtol: 1e-6 });
      assertClose(`fill n=${n}`, await f.read(), new Float64Array(n).fill(0.75), { atol: 0, rtol: 0 });
      for (const t of [ta, tb, s, k, f]) t.dispose();
    }
  });

  test('readback of odd sizes (1, 3, 1023 elements) returns exactly those elements', async () => {
    for (const n of [1, 3, 1023]) {
      const data = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 7);
      const t = tensor(data);
      const got = await t.read();
      assertEqual(got.length, n, `length n=${n}`);
      assertClose(`roundtrip n=${n}`, got, data, { atol: 0, rtol: 0 });
      t.dispose();
    }
    const ti = tensor([1, -2, 3], [3], 'i32');
    assertEqual(Array.from(await ti.read()), [1, -2, 3], 'i32 roundtrip');
    ti.dispose();
  });

  test('buffer pool reuses a freed buffer only after submit', async () => {
    const e = engine();
    const a = empty([1000]);
    const id = a.buffer.id;
    a.dispose();
    const b = empty([1000]); // same bucket, but not yet submitted: must be a different buffer
    assert(b.buffer.id !== id, 'a buffer released before submit must not be handed out again');
    e.flush();
    const c = empty([1000]);
    assertEqual(c.buffer.id, id, 'after submit, the released buffer is reused');
    b.dispose();
    c.dispose();
    assertEqual(bucketSize(1), 256, 'minimum bucket');
    assertEqual(bucketSize(1000), 1024, 'bucket of 1000 bytes');
    assertEqual(bucketSize(1025), 1280, 'bucket of 1025 bytes (quarter steps)');
  });

  test('scope disposes intermediates, keeps results and keep()-ed tensors', async () => {
    const e = engine();
    const before = e.liveTensors;
    let kept!: ReturnType<typeof tensor>;
    const out = scope(() => {
      const x = tensor([1, 2, 3]);
      const y = scale(x, 2);
      kept = keep(tensor([9]));
      const z = add(y, x);
      return { z };
    });
    assertEqual(e.liveTensors, before + 2, 'only the result and the kept tensor survive');
    assertClose('scope result', await out.z.read(), [3, 6, 9], { atol: 0, rtol: 0 });
    out.z.dispose();
    kept.dispose();
    assertEqual(e.liveTensors, before, 'all disposed');
    await assertThrows(() => out.z.read(), /used after dispose/);
  });

  test('memory stats: bytes allocated, in use, pooled; live tensors', async () => {
    const e = engine();
    e.flush();
    const m0 = e.memory();
    const t = empty([4096]); // 16 KiB
    const m1 = e.memory();
    assertEqual(m1.liveTensors, m0.liveTensors + 1, 'live tensors +1');
    assertEqual(m1.bytesInUse - m0.bytesInUse, 16384, 'bytes in use +16 KiB');
    assert(m1.bytesAllocated >= m1.bytesInUse + m1.bytesPooled, 'allocated >= in use + pooled');
    t.dispose();
    const m2 = e.memory();
    assertEqual(m2.bytesInUse, m0.bytesInUse, 'in use back to baseline');
    assertEqual(m2.bytesPooled - m1.bytesPooled, 16384, 'freed bytes are pooled');
    assertEqual(m2.bytesAllocated, m1.bytesAllocated, 'nothing destroyed');
  });

  test('dispatches are batched into one submit until readback', async () => {
    const e = engine();
    e.flush();
    const s0 = e.queue.counters.submits;
    const x = tensor(randomArray(300, 5));
    let y = x;
    const made = [];
    for (let i = 0; i < 20; i++) made.push((y = scale(y, 1.01)));
    assertEqual(e.queue.counters.submits, s0, 'no submit while recording');
    const got = await y.read();
    assertEqual(e.queue.counters.submits, s0 + 1, 'one submit for 20 dispatches and a readback');
    const want = Float64Array.from(randomArray(300, 5), (v) => v * 1.01 ** 20);
    assertClose('chain of 20 scales', got, want, { atol: 1e-6, rtol: 1e-5 });
    for (const t of [x, ...made]) t.dispose();
  });

  test('reflection gives bindings by name and uniform offsets by field', () => {
    const info = shaderInfo('elementwise');
    const add = info.entries.get('add')!;
    assertEqual(
      add.bindings.map((b) => `${b.name}:${b.kind}`),
      ['p:uniform', 'a4:read-only-storage', 'b4:read-only-storage', 'y4:storage'],
      'add bindings',
    );
    assertEqual(
      [...add.uniform!.layout.fields.values()].map((f) => [f.name, f.offset, f.kind]),
      [
        ['n', 0, 'u32'],
        ['alpha', 4, 'f32'],
      ],
      'uniform layout',
    );
    assertEqual(add.overrides, ['WG'], 'override constants');
    const fill = info.entries.get('fill')!;
    assertEqual(
      fill.bindings.map((b) => b.name),
      ['p', 'y4'],
      'fill uses only p and y4',
    );
  });

  test('pipelines and bind groups are cached', async () => {
    const e = engine();
    const a = tensor([1, 2]),
      b = tensor([3, 4]);
    add(a, b).dispose();
    const p0 = e.queue.pipelines.compiled,
      bg0 = e.queue.counters.bindGroupsCreated;
    const y1 = add(a, b);
    e.flush();
    y1.dispose();
    e.flush();
    const y2 = add(a, b); // same inputs; output reuses y1's buffer after the submit
    assertEqual(e.queue.pipelines.compiled, p0, 'no new pipeline');
    assert(e.queue.counters.bindGroupsCreated - bg0 <= 1, 'bind group reused');
    assertClose('add', await y2.read(), [4, 6], { atol: 0, rtol: 0 });
    for (const t of [a, b, y2]) t.dispose();
  });

  test('async pipeline compiles are de-duplicated and then served from the cache', async () => {
    const cache = engine().queue.pipelines;
    const spec = { shader: 'elementwise', entry: 'scale', constants: { WG: 64 } };
    const n0 = cache.compiled;
    const [p1, p2] = await Promise.all([cache.getAsync(spec), cache.getAsync(spec)]);
    assert(p1 === p2, 'both requests share one compile');
    assertEqual(cache.compiled - n0, 1, 'one pipeline compiled');
    assert(cache.get(spec) === p1, 'sync lookup hits the cache');
    await assertThrows(
      () => cache.get({ shader: 'elementwise', entry: 'scale', constants: { TILE: 8 } }),
      /no override constant 'TILE'/,
    );
    await assertThrows(() => cache.get({ shader: 'nope', entry: 'x' }), /no shader named 'nope'/);
  });

  test('bad arguments name the op and the shapes', async () => {
    const a = tensor([1, 2, 3]),
      b = tensor([1, 2]);
    await assertThrows(() => add(a, b), /add: 'a' \[3\] and 'b' \[2\] must have the same shape or be broadcastable/);
    await assertThrows(() => tensor([1, 2, 3], [2, 2]), /shape \[2,2\] holds 4 elements, data has 3/);
    await assertThrows(() => scale(a, NaN), /scale: 'alpha' must be a finite number/);
    a.dispose();
    b.dispose();
  });
});
