// The demo's input normalisation (demo/normalized-model.ts): a model trained on normalised
// pixels (the library's models/*.safetensors) sees (ink - mean) / std on every path (training
// with and without augmentation, prediction, inspection) while the demo's data stay ink in
// [0, 1]; the normalisation goes into the saved file as "webgpu-cnn.preprocess" and comes back,
// and the library's loadPredictor reads a demo file the way the demo predicts.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { CpuModel } from '../../demo/cpu-net.js';
import { NormalizedModel } from '../../demo/normalized-model.js';
import { decodeDemoModel, encodeDemoModel, warpCpu } from '../../demo/engine-adapter.js';
import { readNormalize } from '../../demo/model-files.js';
import { randomMatrices } from '../../demo/augment.js';
import { DEFAULT_AUGMENT } from '../../demo/augment-options.js';
import { mulberry32, type NetSpec } from '../../demo/net-spec.js';
import { loadPredictor, PREPROCESS_METADATA_KEY } from '../../src/index.js';

const SPEC: NetSpec = { convs: [{ channels: 3, kernel: 3, pool: true }], hidden: [6] };
const NORM = { mean: 0.1307, std: 0.3081 };
const normed = (x: Float32Array) => x.map((v) => (v - NORM.mean) * (1 / NORM.std));
const exact = { atol: 0, rtol: 0, log: false };

suite(
  'demo-normalize',
  (test) => {
    test('NormalizedModel feeds (ink - mean) / std to the network: predict, train (augmented too), inspect', async () => {
      const n = 4,
        x = randomArray(n * 784, 5, 0, 1),
        y = Uint32Array.from([1, 7, 3, 0]);
      const plain = new CpuModel(SPEC, 11),
        wrapped = new NormalizedModel(new CpuModel(SPEC, 11), NORM);
      assertClose('predict', await wrapped.predict(x, n), await plain.predict(normed(x), n), exact);
      const x0 = x.slice();
      const mats = randomMatrices(n, mulberry32(3), DEFAULT_AUGMENT).matrices;
      assert(!wrapped.augmentsOnGpu, 'augmentation warps ink before the normalisation');
      for (const m of [null, mats]) {
        await wrapped.trainStep(x, y, n, m);
        await plain.trainStep(normed(m ? warpCpu(x, n, m) : x), y, n);
      }
      assertClose('the caller’s images', x, x0, exact);
      const [a, b] = [await wrapped.getWeights(), await plain.getWeights()];
      for (const k of Object.keys(b)) assertClose(`after two steps: ${k}`, a[k].data, b[k].data, exact);
      const st = await wrapped.inspect(x, 7, true),
        sp = await plain.inspect(normed(x), 7, true);
      assertClose('the input stage shows the ink', st[0].data, x.subarray(0, 784), exact);
      assertClose('conv1 sees the normalised image', st[1].data, sp[1].data, exact);
      assertClose('logits', st.at(-1)!.data, sp.at(-1)!.data, exact);
    });

    test('model file: the normalisation is saved, loads back, and loadPredictor predicts as the demo', async () => {
      const m = new CpuModel(SPEC, 4),
        w = await m.getWeights();
      const bytes = encodeDemoModel(SPEC, w, { note: 'n' }, NORM);
      const back = decodeDemoModel(bytes);
      assertEqual(back.normalize, NORM, 'normalisation from the file');
      assertEqual(
        JSON.parse(back.meta[PREPROCESS_METADATA_KEY]),
        { normalize: NORM },
        'stored as loadPredictor reads it',
      );
      assertEqual(decodeDemoModel(encodeDemoModel(SPEC, w, {})).normalize, null, 'a demo network: none');
      assertEqual(readNormalize({}), null, 'a file that does not say: none');
      assertEqual(
        readNormalize({ [PREPROCESS_METADATA_KEY]: '{"normalize":{"mean":[0.5],"std":[0.25]}}' }),
        { mean: 0.5, std: 0.25 },
        'one value per channel',
      );
      await assertThrows(
        () => readNormalize({ [PREPROCESS_METADATA_KEY]: '{"normalize":{"mean":[0.1,0.2,0.3],"std":0.2}}' }),
        /one channel/,
        'three channels are refused',
      );
      const x = randomArray(784, 9, 0, 1);
      const demo = await new NormalizedModel(m, back.normalize!).predict(x, 1);
      const p = await loadPredictor(bytes);
      try {
        assertEqual(p.preprocessKnown, true, 'the preprocessing is known');
        assertClose('loadPredictor vs the demo', (await p.predict(x)).probabilities, demo, {
          atol: 1e-5,
          rtol: 1e-4,
          log: false,
        });
      } finally {
        p.dispose();
      }
    });
  },
  { timeoutMs: 30_000 },
);
