// The demo's models: the plain-JS CPU network (demo/cpu-net.ts) is checked against central
// finite differences, and it learns; the spec helpers give the shapes the panels expect.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, randomArray } from '../harness/assert.js';
import { CpuModel } from '../../demo/cpu-net.js';
import { GpuModel } from '../../demo/gpu-model.js';
import { decodeDemoModel, encodeDemoModel, fromModelSpec, toModelSpec, warpCpu } from '../../demo/engine-adapter.js';
import { randomMatrices } from '../../demo/augment.js';
import {
  describeSpec,
  expandSpec,
  mulberry32,
  paramCount,
  PRESETS,
  validateSpec,
  type NetSpec,
  type Weights,
} from '../../demo/net-spec.js';

const TINY: NetSpec = {
  convs: [
    { channels: 2, kernel: 3, pool: true },
    { channels: 3, kernel: 5, pool: true },
  ],
  hidden: [5],
};

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
    const r = 2 + 5 * Math.floor(y[i] / 5) * 2,
      c = 2 + 5 * (y[i] % 5);
    for (let a = 0; a < 6; a++) for (let b = 0; b < 6; b++) x[i * 784 + (r + a) * 28 + c + b] = 1;
  }
  return { x, y };
}

suite(
  'demo-model',
  (test) => {
    test('spec: LeNet preset expands to the expected shapes and parameter count', () => {
      const layers = expandSpec(PRESETS.lenet);
      assertEqual(
        layers.map((l) => l.name),
        ['conv1', 'relu1', 'pool1', 'conv2', 'relu2', 'pool2', 'flatten', 'fc1', 'fc1.relu', 'fc2'],
        'layer names',
      );
      assertEqual(layers.find((l) => l.name === 'pool2')!.out, [7, 7, 16], 'pool2 shape');
      // 5*5*1*8+8 + 5*5*8*16+16 + 784*64+64 + 64*10+10
      assertEqual(paramCount(PRESETS.lenet), 208 + 3216 + 50240 + 650, 'parameters');
      assert(describeSpec(PRESETS.lenet)[0].includes('28x28x8'), 'summary names shapes');
      assert(
        validateSpec({ convs: [{ channels: 0, kernel: 3, pool: true }], hidden: [] })!.includes('channels'),
        'bad channels named',
      );
      assert(
        validateSpec({ convs: Array(5).fill({ channels: 2, kernel: 3, pool: true }), hidden: [] }) !== null,
        'too many blocks',
      );
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
        const p = w[name].data,
          g = grads[name].data;
        const idx = Array.from({ length: Math.min(12, p.length) }, (_, i) =>
          Math.floor((i * p.length) / Math.min(12, p.length)),
        );
        const num = idx.map((i) => {
          const a = fd(p, i, 1e-3);
          if (Math.abs(a - g[i]) <= 5e-4 + 3e-2 * Math.abs(a)) return a;
          const b = fd(p, i, 1e-4);
          return Math.abs(b - g[i]) < Math.abs(a - g[i]) ? b : a;
        });
        assertClose(
          `d loss / d ${name}`,
          idx.map((i) => g[i]),
          num,
          { atol: 1.5e-3, rtol: 3e-2 },
        );
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
        for (let i = 0; i < 8; i++)
          assertClose(`sum of probs ${i}`, [p.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0)], [1], {
            atol: 1e-5,
            log: false,
          });
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
      assertClose('same predictions after setWeights', await m2.predict(x, 1), await m.predict(x, 1), {
        atol: 0,
        rtol: 0,
      });
    });

    // ---- the WebGPU model (demo/gpu-model.ts, on the engine's kernels) against the CPU model ----

    const maxAbs = (w: Weights) =>
      Math.max(...Object.values(w).map((t) => t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
    async function sameWeights(label: string, gpu: GpuModel, cpu: CpuModel, atol: number) {
      const g = await gpu.getWeights(),
        c = await cpu.getWeights();
      for (const k of Object.keys(c)) assertClose(`${label} ${k}`, g[k].data, c[k].data, { atol, rtol: 1e-4 });
    }

    test('gpu-model: same seed, same predictions as the CPU model', async () => {
      const { x } = batch(5, 11);
      const gpu = new GpuModel(TINY, 4),
        cpu = new CpuModel(TINY, 4);
      // f32 sums of <= 200 products (conv2 5x5x2... fc1) in different orders: ~1e-6 relative
      assertClose('probabilities', await gpu.predict(x, 5), await cpu.predict(x, 5), { atol: 2e-6, rtol: 1e-4 });
      gpu.dispose();
    });

    test('gpu-model: SGD and Adam steps (captured, GPU augmentation on/off, lr change) update the weights as the CPU model does', async () => {
      const { x, y } = squares(6, 3);
      for (const optimizer of ['sgd', 'adam'] as const) {
        const gpu = new GpuModel(TINY, 5),
          cpu = new CpuModel(TINY, 5);
        const h = { optimizer, lr: optimizer === 'sgd' ? 0.05 : 0.003, momentum: 0.9 };
        gpu.setHyper(h);
        cpu.setHyper(h);
        const rand = mulberry32(9);
        for (let s = 0; s < 3; s++) {
          if (s === 2) {
            // a live learning-rate change applies to the next (replayed) step
            gpu.setHyper({ ...h, lr: h.lr * 2 });
            cpu.setHyper({ ...h, lr: h.lr * 2 });
          }
          const mats = s === 1 ? null : randomMatrices(6, rand, { rotate: 15, scale: 0.15, shift: 3 }).matrices;
          gpu.trainStep(x, y, 6, mats);
          cpu.trainStep(mats ? warpCpu(x, 6, mats) : x, y, 6);
        }
        // Gradients are f32 sums over up to 6*28*28 terms (conv1 weights) in another order:
        // ~1e-5 relative error of a gradient of order 1, times lr, over 3 steps (measured: 6e-8).
        // Adam divides by sqrt(v), which amplifies the rounding of tiny gradients (measured 1.2e-7).
        await sameWeights(optimizer, gpu, cpu, optimizer === 'sgd' ? 1e-6 : 2e-6);
        const gs = await gpu.takeStats(),
          cs = await cpu.takeStats();
        assertClose(`${optimizer} mean loss and accuracy`, [gs.loss, gs.acc], [cs.loss, cs.acc], {
          atol: 1e-5,
          rtol: 1e-5,
        });
        assertEqual(gs.steps, 3, 'steps counted');
        gpu.dispose();
      }
    });

    test("gpu-model: inspect gives the CPU model's stages and gradients; weights load back", async () => {
      const { x } = batch(1, 12);
      const gpu = new GpuModel(TINY, 6),
        cpu = new CpuModel(TINY, 6);
      const gs = await gpu.inspect(x, 7, true),
        cs = await cpu.inspect(x, 7, true);
      assertEqual(
        gs.map((s) => `${s.name}:${s.kind}:${s.shape}`),
        cs.map((s) => `${s.name}:${s.kind}:${s.shape}`),
        'stages',
      );
      for (let i = 1; i < gs.length; i++) {
        assertClose(`${gs[i].name} activation`, gs[i].data, cs[i].data, { atol: 2e-6, rtol: 1e-4, log: false });
        assertClose(`${gs[i].name} gradient`, gs[i].grad!, cs[i].grad!, { atol: 2e-6, rtol: 1e-4, log: false });
      }
      const w = await cpu.getWeights();
      const other = new GpuModel(TINY, 77);
      other.setWeights(w);
      assertClose('loaded weights predict alike', await other.predict(x, 1), await cpu.predict(x, 1), {
        atol: 2e-6,
        rtol: 1e-4,
      });
      assert(maxAbs(w) > 0, 'weights are not all zero');
      gpu.dispose();
      other.dispose();
    });

    test('model file: every preset round-trips through the engine ModelSpec and safetensors', async () => {
      for (const [name, spec] of Object.entries(PRESETS)) {
        const { model } = toModelSpec(spec);
        assertEqual(fromModelSpec(model), spec, `${name}: NetSpec -> ModelSpec -> NetSpec`);
        const cpu = new CpuModel(spec, 3);
        const w = await cpu.getWeights();
        const bytes = encodeDemoModel(spec, w, { note: name });
        const back = decodeDemoModel(bytes);
        assertEqual(back.spec, spec, `${name}: spec from the file`);
        assertEqual(back.meta.note, name, `${name}: metadata`);
        for (const k of Object.keys(w))
          assertClose(`${name} ${k}`, back.weights[k].data, w[k].data, { atol: 0, rtol: 0, log: false });
      }
      const { model } = toModelSpec(PRESETS.lenet);
      assertEqual(
        model.layers.map((l) => l.type),
        ['conv2d', 'maxpool2d', 'conv2d', 'maxpool2d', 'flatten', 'linear', 'linear'],
        'engine layer list',
      );
      let err = '';
      try {
        fromModelSpec({
          version: 1,
          layers: [
            { type: 'conv2d', inC: 1, outC: 4, kernel: 3, padding: 'valid' },
            { type: 'flatten' },
            { type: 'linear', in: 2704, out: 10 },
          ],
        });
      } catch (e) {
        err = (e as Error).message;
      }
      assert(err.includes('layer 0') && err.includes('same'), `unsupported spec is named: ${err}`);
    });
  },
  { timeoutMs: 60_000 },
);
