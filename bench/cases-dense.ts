// Activation and loss cases (memory-bound): ReLU over LeNet activations, softmax cross-entropy
// (mean over the batch; our kernel also writes d loss / d logits for the backward pass, tfjs's
// loss op computes the loss only: it has less to write); with more than 32 classes also the
// 'row' and 'block' kernels forced (src/ops/loss/choose.ts). Reference: float64.
// Peers: tf.relu, tf.losses.softmaxCrossEntropy with one-hot labels; jax-js nn.relu and a jitted
// -mean(logSoftmax(x) * onehot).

import { relu } from '../src/ops/activations.js';
import { SOFTMAX, softmaxCrossEntropy } from '../src/ops/loss/index.js';
import { tensor } from '../src/tensor/tensor.js';
import { dims, oursImpl, upload } from './impl.js';
import { tfImpl } from './peer-tfjs.js';
import { jaxArray, jaxImpl } from './peer-jax.js';
import { checkOutput, randomData, rng } from './reference.js';
import type { BenchCase } from './types.js';

const RELU: { shape: number[]; note: string; large: boolean }[] = [
  { shape: [64, 28, 28, 32], note: 'LeNet conv1 out b64', large: false },
  { shape: [512, 28, 28, 32], note: 'LeNet conv1 out b512', large: false },
  { shape: [64, 128, 128, 64], note: 'large', large: true },
];

const CE: { N: number; K: number; large: boolean }[] = [
  { N: 64, K: 10, large: false },
  { N: 512, K: 10, large: false },
  { N: 256, K: 1000, large: false },
  { N: 4096, K: 1000, large: true },
];

export function denseCases(): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const r of RELU) {
    const n = r.shape.reduce((a, b) => a * b, 1);
    cases.push({
      id: `relu/op/${dims(r.shape)}`,
      kernel: 'relu',
      variant: 'op',
      shape: `${dims(r.shape)} (${r.note})`,
      large: r.large,
      flops: 0,
      bytes: 8 * n,
      peer: 'tf.relu',
      jax: 'nn.relu',
      setup({ tf, jax }) {
        const x = randomData(n, 51);
        const tx = upload(tf, x, r.shape);
        return {
          ours: oursImpl(() => relu(tx.ours), [tx.ours]),
          peer: tf ? tfImpl(() => tf.relu(tx.peer!), [tx.peer!]) : undefined,
          jax: jax
            ? (() => {
                const jx = jaxArray(jax, x, r.shape);
                return jaxImpl(() => jax.nn.relu(jx.ref), [jx]);
              })()
            : undefined,
          validate: (out) => checkOutput(out, n, (i) => [Math.max(x[i], 0), Math.abs(x[i])], 1),
          dispose() {},
        };
      },
    });
  }
  // 'op' is the op's own kernel choice; with many classes also each candidate of the softmax
  // family (src/ops/loss/choose.ts) forced (no peers)
  const kernels = SOFTMAX.candidates({ N: 0, K: 0 }, undefined as never);
  for (const { N, K, large } of CE)
    for (const variant of K > 32 ? (['op', ...kernels] as const) : (['op'] as const)) {
      const op = variant === 'op';
      cases.push({
        id: `softmax-ce/${variant}/${N}x${K}`,
        kernel: 'softmax-ce',
        variant,
        shape: `${N}x${K}`,
        large,
        flops: 0,
        bytes: 4 * (2 * N * K + 2 * N), // logits, labels in; dlogits and per-row losses out
        peer: op ? 'tf.losses.softmaxCrossEntropy (loss only)' : '',
        jax: op ? 'jit(-mean(logSoftmax(x) * onehot)) (loss only)' : undefined,
        setup({ tf, jax }) {
          const logits = randomData(N * K, 52, -4, 4);
          const r = rng(53);
          const labels = Uint32Array.from({ length: N }, () => Math.floor(r() * K));
          const tl = upload(tf, logits, [N, K]);
          const lab = tensor(labels, [N], 'u32');
          const onehot = tf ? tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), K), 'float32') : null;
          // loss = mean_n (logsumexp(x_n) - x_n[label_n]), in float64
          let loss = 0,
            scale = 0;
          for (let n = 0; n < N; n++) {
            let mx = -Infinity;
            for (let k = 0; k < K; k++) mx = Math.max(mx, logits[n * K + k]);
            let s = 0;
            for (let k = 0; k < K; k++) s += Math.exp(logits[n * K + k] - mx);
            const lse = mx + Math.log(s);
            loss += (lse - logits[n * K + labels[n]]) / N;
            scale += (Math.abs(lse) + Math.abs(logits[n * K + labels[n]])) / N;
          }
          return {
            ours: oursImpl(() => softmaxCrossEntropy(tl.ours, lab, { kernel: op ? 'auto' : variant }), [tl.ours, lab]),
            peer: tf ? tfImpl(() => tf.losses.softmaxCrossEntropy(onehot!, tl.peer!), [tl.peer!, onehot!]) : undefined,
            jax: jax
              ? (() => {
                  const oh = new Float32Array(N * K);
                  labels.forEach((l, i) => (oh[i * K + l] = 1));
                  const jl = jaxArray(jax, logits, [N, K]),
                    joh = jaxArray(jax, oh, [N, K]);
                  const ce = jax.jit((x: typeof jl, y: typeof jl) =>
                    jax.nn
                      .logSoftmax(x, -1)
                      .mul(y)
                      .sum()
                      .mul(-1 / N),
                  );
                  return jaxImpl(() => ce(jl.ref, joh.ref), [jl, joh]);
                })()
              : undefined,
            // one scalar; f32 exp/log over K terms per row, then a sum over N rows
            validate: (out) => checkOutput(out, 1, () => [loss, scale], K + N),
            dispose() {},
          };
        },
      });
    }
  return cases;
}
