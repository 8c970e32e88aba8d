// Reliability of the runtime: NaN/Inf check mode, memory budget errors, device loss and
// re-init, debug mode reporting GPU errors with the op name.
import { suite } from '../harness/define.js';
import { hangLimit, hangMessage } from '../harness/hang.js';
import { assert, assertClose, assertEqual, assertThrows } from '../harness/assert.js';
import { engine, init, setEngine } from '../../src/runtime/engine.js';
import { tensor } from '../../src/tensor/tensor.js';
import { add, scale } from '../../src/ops/elementwise.js';
import type { DeviceLostInfo } from '../../src/runtime/engine.js';

// waits for an event (a device-loss report): a hang detector, generous (test/harness/hang.ts)
const until = async (cond: () => unknown, ms = hangLimit(5000)) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(hangMessage(`waiting for ${cond.toString()}`, ms));
    await new Promise((r) => setTimeout(r, 10));
  }
};

suite('reliability', (test) => {
  test('NaN/Inf check mode reports the first op that produced non-finite values', async () => {
    const e = engine();
    e.numerics.enable();
    try {
      const x = tensor([1, 2, 3]);
      const a = scale(x, 2); // finite
      const b = scale(a, 1e38); // [2e38, 4e38, 6e38]: the last two overflow to Inf (f32 max 3.4e38)
      const c = add(b, b); // Inf too, but b came first
      const r = await e.numerics.report();
      assert(r !== null, 'a non-finite value must be reported');
      assertEqual(
        [r.op, r.kernel.startsWith('elementwise:scale'), r.count, r.index],
        ['scale', true, 2, 1],
        'first offender',
      );
      e.numerics.reset();
      const d = scale(x, 0.5);
      assertEqual(await e.numerics.report(), null, 'clean after reset');
      for (const t of [x, a, b, c, d]) t.dispose();
    } finally {
      e.numerics.disable();
    }
  });

  test('a tensor over the memory budget gets a clear error and leaves existing tensors intact', async () => {
    const e = engine();
    const keepers = tensor([1, 2, 3, 4]);
    e.flush();
    e.pool.trim(); // no pooled buffer may serve the request: it must allocate
    const saved = e.pool.budget;
    e.pool.budget = e.memory().bytesAllocated + (1 << 20);
    try {
      await assertThrows(
        () => tensor(new Float32Array(1 << 20), [256, 64, 64]),
        /out of GPU memory budget.*tensor \[256,64,64\] f32/,
      );
    } finally {
      e.pool.budget = saved;
    }
    assertClose('existing tensor intact', await keepers.read(), [1, 2, 3, 4], { atol: 0, rtol: 0 });
    keepers.dispose();
  });

  test('a tensor larger than maxStorageBufferBindingSize is refused with the limit named', async () => {
    const max = engine().maxBindingBytes;
    const n = Math.floor(max / 4) + 1;
    const { Tensor } = await import('../../src/tensor/tensor.js');
    await assertThrows(() => new Tensor([n]), /maxStorageBufferBindingSize/);
  });

  test('device loss raises the event, ops fail clearly, and init() restores a working engine', async () => {
    const orig = engine();
    const gpu = orig.keepAlive[0] as GPU;
    try {
      const e2 = await init({ gpu });
      let lost: DeviceLostInfo | null = null;
      e2.onDeviceLost((i) => (lost = i));
      const t = tensor([1, 2]);
      e2.device.destroy();
      await until(() => lost);
      assertEqual(lost!.reason, 'destroyed', 'lost reason');
      await assertThrows(() => scale(t, 2), /device was lost/);
      const e3 = await init({ gpu });
      const y = scale(tensor([1, 2]), 2);
      assertClose('after re-init', await y.read(), [2, 4], { atol: 0, rtol: 0 });
      e3.destroy();
    } finally {
      setEngine(orig);
    }
  });

  test('debug mode reports a GPU validation error with the op name', async () => {
    const e = engine();
    const msgs: string[] = [];
    e.queue.debug = 1;
    e.queue.onGpuError = (m, op) => msgs.push(`${op}: ${m}`);
    try {
      const x = tensor([1, 2, 3]);
      // the same buffer bound read-only and writable in one dispatch: a usage conflict
      e.queue.dispatch({
        shader: 'elementwise',
        entry: 'add',
        op: 'aliased-add',
        uniforms: { n: 3, alpha: 0 },
        buffers: { a4: x.buffer, b4: x.buffer, y4: x.buffer },
        workgroups: [1],
      });
      await e.sync();
      await until(() => msgs.length > 0);
      assert(msgs[0].startsWith('aliased-add: '), `error names the op: ${msgs[0]}`);
      x.dispose();
    } finally {
      e.queue.debug = 0;
      e.queue.onGpuError = undefined;
    }
  });
});
