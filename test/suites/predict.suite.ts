// Prediction (src/train/predict.ts): a model saved with its preprocessing loads with one call
// and classifies a Float32Array, ImageData-like bytes, a tensor and (in the browser) a canvas
// exactly as the model's own forward pass does on the same preprocessed values; files without
// an architecture or with bad preprocessing metadata fail with what is wrong; nothing leaks.
import { suite } from '../harness/define.js';
import { assert, assertClose, assertEqual, assertThrows, randomArray } from '../harness/assert.js';
import { engine } from '../../src/runtime/engine.js';
import { tensor } from '../../src/tensor/tensor.js';
import { scope } from '../../src/tensor/scope.js';
import { softmax } from '../../src/ops/loss/index.js';
import { Sequential } from '../../src/nn/sequential.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Flatten, Linear } from '../../src/nn/linear.js';
import { MaxPool2d } from '../../src/nn/pooling.js';
import { InitRng } from '../../src/nn/init.js';
import { saveModel } from '../../src/io/model-file.js';
import { loadPredictor, preprocessMetadata, PREPROCESS_METADATA_KEY } from '../../src/train/predict.js';

const H = 8,
  W = 8;
const NORM = { mean: 0.2, std: 0.5 };

function smallNet(C: number): Sequential {
  const rng = new InitRng(5);
  const m = new Sequential([
    new Conv2d(C, 4, 3, { padding: 'same', relu: true, rng }),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(4 * 4 * 4, 3, { rng }),
  ]);
  m.inputShape = [H, W, C];
  return m;
}

/** Softmax of the model's own forward pass on already preprocessed values. */
async function direct(m: Sequential, v: Float32Array, C: number): Promise<Float32Array> {
  const x = tensor(v, [1, H, W, C]);
  const p = scope(() => softmax(m.forward(x)));
  const out = (await p.read()) as Float32Array;
  x.dispose();
  p.dispose();
  return out;
}

const normalized = (v: Float32Array) => v.map((a) => (a - NORM.mean) / NORM.std);

suite('predict', (test) => {
  test('grey model: Float32Array, ImageData-like bytes and a tensor give the forward pass of the preprocessed input', async () => {
    const m = smallNet(1);
    const bytes = await saveModel(m.toSpec(), m.stateDict(), preprocessMetadata({ normalize: NORM }));
    const live = engine().liveTensors;
    const p = await loadPredictor(bytes);
    assertEqual(p.inputShape, [H, W, 1], 'input shape from the spec');
    assert(p.preprocessKnown, 'the file recorded its preprocessing');
    const v = randomArray(H * W, 3, 0, 1);
    const want = await direct(m, normalized(v), 1);
    const a = await p.predict(v);
    assertClose('Float32Array', a.probabilities, want, { atol: 1e-6, rtol: 1e-5 });
    assertEqual(a.label, want.indexOf(Math.max(...want)), 'label = argmax');
    assertClose('probabilities sum to 1', [a.probabilities.reduce((s, x) => s + x, 0)], [1], { atol: 1e-5, rtol: 0 });
    // RGBA bytes: grey = mean of R, G, B; exact when R = G = B = byte
    const rgba = new Uint8ClampedArray(4 * H * W);
    const grey = new Float32Array(H * W);
    for (let i = 0; i < H * W; i++) {
      const b = Math.round(v[i] * 255);
      rgba.fill(b, 4 * i, 4 * i + 3);
      rgba[4 * i + 3] = 255;
      grey[i] = b / 255;
    }
    const b = await p.predict({ data: rgba, width: W, height: H });
    assertClose('ImageData-like', b.probabilities, await direct(m, normalized(grey), 1), { atol: 1e-6, rtol: 1e-5 });
    const inv = await p.predict({ data: rgba, width: W, height: H }, { invert: true });
    assertClose('inverted', inv.probabilities, await direct(m, normalized(grey.map((g) => 1 - g)), 1), {
      atol: 1e-6,
      rtol: 1e-5,
    });
    // a tensor is taken as already preprocessed
    const t = tensor(normalized(v), [1, H, W, 1]);
    const c = await p.predict(t);
    assertClose('tensor', c.probabilities, want, { atol: 1e-6, rtol: 1e-5 });
    t.dispose();
    await assertThrows(
      () => p.predict(new Float32Array(5)),
      /predict: a Float32Array input must hold 8x8x1 = 64 values, got 5/,
    );
    p.dispose();
    assertEqual(engine().liveTensors, live, 'loading, predicting and disposing leave nothing behind');
    m.dispose();
  });

  test('colour model, browser canvas resized to the input; a file without preprocessing says so', async () => {
    const m = smallNet(3);
    const p = await loadPredictor(await saveModel(m.toSpec(), m.stateDict()));
    assert(
      !p.preprocessKnown && p.preprocess.normalize === false,
      'no metadata: [0, 1] values, not normalised, and flagged',
    );
    const v = randomArray(H * W * 3, 9, 0, 1);
    assertClose('RGB Float32Array', (await p.predict(v)).probabilities, await direct(m, v, 3), {
      atol: 1e-6,
      rtol: 1e-5,
    });
    if (typeof OffscreenCanvas !== 'undefined') {
      // a 2x larger canvas of flat 2x2 blocks: any smoothing resize to 8x8 gives the block colours
      const c = new OffscreenCanvas(2 * W, 2 * H);
      const ctx = c.getContext('2d')!;
      const want = new Float32Array(H * W * 3);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const rgb = [0, 1, 2].map((k) => Math.round(v[(y * W + x) * 3 + k] * 255));
          rgb.forEach((b, k) => (want[(y * W + x) * 3 + k] = b / 255));
          ctx.fillStyle = `rgb(${rgb.join(',')})`;
          ctx.fillRect(2 * x, 2 * y, 2, 2);
        }
      const got = await p.predict(c);
      assertClose('canvas 16x16 -> 8x8', got.probabilities, await direct(m, want, 3), { atol: 2e-3, rtol: 2e-2 });
    }
    p.dispose();
    m.dispose();
  });

  test('bad files fail with what is wrong', async () => {
    const m = smallNet(1);
    const noArch = await saveModel(null, m.stateDict());
    await assertThrows(() => loadPredictor(noArch), /loadPredictor: the file has no architecture/);
    const badPre = await saveModel(m.toSpec(), m.stateDict(), {
      [PREPROCESS_METADATA_KEY]: '{"normalize": {"mean": 0, "std": 0}}',
    });
    await assertThrows(() => loadPredictor(badPre), /loadPredictor: 'normalize' must be false or \{ mean, std > 0 \}/);
    await assertThrows(
      () => loadPredictor(42 as never),
      /loadPredictor: expected a URL, ArrayBuffer, typed array, File or Blob/,
    );
    await assertThrows(
      () => Promise.resolve(preprocessMetadata({ normalize: { mean: Number.NaN, std: 1 } })),
      /preprocessMetadata: 'normalize' must be/,
    );
    m.dispose();
  });
});
