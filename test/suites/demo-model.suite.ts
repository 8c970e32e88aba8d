// The demo's models: the plain-JS CPU network (demo/cpu-net.ts) is checked against central
// finite differences, and it learns; the spec helpers give the shapes the panels expect.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, randomArray } from '../harness/assert.js';
import { CpuModel } from '../../demo/cpu-net.js';
import { describeSpec, expandSpec, paramCount, PRESETS, validateSpec, type NetSpec } from '../../demo/net-spec.js';

const TINY: NetSpec = { convs: [{ channels: 2, kernel: 3, pool: true }, { channels: 3, kernel: 5, pool: true }], hidden: [5] };

function batch(n: number, seed: number): { x: Float32Array; y: Uint32Array } {
  const x = randomArray(n * 784, seed, 0, 1);
  const y = Uint32Array.from({ length: n }, (_, i) => (i * 7 + seed) % 10);
  return { x, y };
}

/** Learnable images: a bright 6x6 square whose position encodes the class, on faint noise. */
function squares(n: number, seed: number): { x: Float32Array; y: Uint32Array } {
  const x = randomArray(n * 784, seed, 0, 0.2);
  const y = Uint32Array.from({ length: n }, (_, i) => i % 10);
  for (let i = 0; i < n; i++) {
    const r = 2 + 5 * Math.floor(y[i] / 5) * 2, c = 2 + 5 * (y[i] % 5);
    for (let a = 0; a < 6; a++) for (let b = 0; b < 6; b++) x[i * 784 + (r + a) * 28 + c + b] = 1;
  }
  return { x, y };
}

suite('demo-model', (test) => {
  test('spec: LeNet preset expands to the expected shapes and parameter count', () => {
    const layers = expandSpec(PRESETS.lenet);
    assertEqual(layers.map((l) => l.name), ['conv1', 'relu1', 'pool1', 'conv2', 'relu2', 'pool2', 'flatten', 'fc1', 'fc1.relu', 'fc2'], 'layer names');
    assertEqual(layers.find((l) => l.name === 'pool2')!.out, [7, 7, 16], 'pool2 shape');
    // 5*5*1*8+8 + 5*5*8*16+16 + 784*64+64 + 64*10+10
    assertEqual(paramCount(PRESETS.lenet), 208 + 3216 + 50240 + 650, 'parameters');
    assert(describeSpec(PRESETS.lenet)[0].includes('28x28x8'), 'summary names shapes');
    assert(validateSpec({ convs: [{ channels: 0, kernel: 3, pool: true }], hidden: [] })!.includes('channels'), 'bad channels named');
    assert(validateSpec({ convs: Array(5).fill({ channels: 2, kernel: 3, pool: true }), hidden: [] }) !== null, 'too many blocks');
  });

  test('cpu-net: parameter gradients match central finite differences', () => {
    const m = new CpuModel(TINY, 3);
    const { x, y } = batch(3, 5);
    const { grads } = m.gradients(x, y, 3);
    const w = (m as unknown as { w: Record<string, { data: Float32Array }> }).w;
    // The net is float32: the loss (~2.3) is rounded to ~2.4e-7, which the quotient divides by
    // 2h: ~1.2e-4 absolute noise at h = 1e-3. ReLU and max-pool kinks crossed by the step spoil
    // some central differences (h = 1e-2 misses one conv2 weight by 19%; it converges as h
    // shrinks), so an element that disagrees at h = 1e-3 is re-checked at h = 1e-4 (noise
    // ~1.2e-3) and the closer estimate is kept: a wrong index or a missing term is far off at both.
    const fd = (p: Float32Array, i: number, h: number) => {
      const v = p[i];
      p[i] = v + h;
      const lp = m.gradients(x, y, 3).loss;
      p[i] = v - h;
      const lm = m.gradients(x, y, 3).loss;
      p[i] = v;
      return (lp - lm) / (2 * h);
    };
    for (const name of Object.keys(grads)) {
      const p = w[name].data, g = grads[name].data;
      const idx = Array.from({ length: Math.min(12, p.length) }, (_, i) => Math.floor((i * p.length) / Math.min(12, p.length)));
      const num = idx.map((i) => {
        const a = fd(p, i, 1e-3);
        if (Math.abs(a - g[i]) <= 5e-4 + 3e-2 * Math.abs(a)) return a;
        const b = fd(p, i, 1e-4);
        return Math.abs(b - g[i]) < Math.abs(a - g[i]) ? b : a;
      });
      assertClose(`d loss / d ${name}`, idx.map((i) => g[i]), num, { atol: 1.5e-3, rtol: 3e-2 });
    }
  });

  test('cpu-net: Adam and SGD both lower the loss on a fixed batch; predict gives distributions', async () => {
    for (const optimizer of ['adam', 'sgd'] as const) {
      const m = new CpuModel(TINY, 1);
      m.setHyper({ optimizer, lr: optimizer === 'adam' ? 0.01 : 0.05, momentum: 0.9 });
      const { x, y } = squares(10, 2);
      m.trainStep(x, y, 10);
      const first = (await m.takeStats()).loss;
      for (let i = 0; i < 25; i++) m.trainStep(x, y, 10);
      const later = (await m.takeStats()).loss;
      console.log(`  ${optimizer}: loss ${first.toFixed(4)} -> ${later.toFixed(4)}`);
      assert(later < first * 0.75, `${optimizer}: loss did not decrease (${first} -> ${later})`);
      const p = await m.predict(x, 8);
      for (let i = 0; i < 8; i++) assertClose(`sum of probs ${i}`, [p.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0)], [1], { atol: 1e-5, log: false });
    }
  });

  test('cpu-net: inspect returns every stage with gradients of the right sizes; weights round-trip', async () => {
    const m = new CpuModel(PRESETS.lenet, 1);
    const { x } = batch(1, 9);
    const st = await m.inspect(x, 3, true);
    assertEqual(st.map((s) => s.name).slice(0, 4), ['input', 'conv1', 'relu1', 'pool1'], 'stage order');
    for (const s of st.slice(1)) assertEqual(s.data.length, s.shape[0] * s.shape[1] * s.shape[2], `${s.name} size`);
    for (const s of st.slice(1)) assertEqual(s.grad?.length, s.data.length, `${s.name} grad size`);
    const w = await m.getWeights();
    const m2 = new CpuModel(PRESETS.lenet, 99);
    m2.setWeights(w);
    assertClose('same predictions after setWeights', await m2.predict(x, 1), await m.predict(x, 1), { atol: 0, rtol: 0 });
  });
}, { timeoutMs: 60_000 });
