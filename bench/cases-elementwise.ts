// Elementwise cases (memory-bound): add and scale over activation-sized arrays.
// Reference: float64 per element. Peers: tf.add, tf.mul by a scalar; jax-js a.add(b), a.mul(s).

import { add, scale } from '../src/ops/elementwise.js';
import { oursImpl, upload } from './impl.js';
import { tfImpl } from './peer-tfjs.js';
import { jaxArray, jaxImpl } from './peer-jax.js';
import { checkOutput, randomData } from './reference.js';
import type { BenchCase } from './types.js';

const SIZES: { n: number; label: string; large: boolean }[] = [
  { n: 64 * 28 * 28 * 32, label: '64x28x28x32 (LeNet conv1 act)', large: false },
  { n: 1 << 22, label: '4M', large: false },
  { n: 1 << 26, label: '64M', large: true },
];

export function elementwiseCases(): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const { n, label, large } of SIZES) {
    cases.push({
      id: `add/op/${label.split(' ')[0]}`,
      kernel: 'add',
      variant: 'op',
      shape: label,
      large,
      flops: n,
      bytes: 12 * n,
      peer: 'tf.add(a, b)',
      jax: 'a.add(b)',
      setup({ tf, jax }) {
        const a = randomData(n, 1),
          b = randomData(n, 2);
        const ta = upload(tf, a, [n]),
          tb = upload(tf, b, [n]);
        return {
          ours: oursImpl(() => add(ta.ours, tb.ours), [ta.ours, tb.ours]),
          peer: tf ? tfImpl(() => tf.add(ta.peer!, tb.peer!), [ta.peer!, tb.peer!]) : undefined,
          jax: jax
            ? (() => {
                const ja = jaxArray(jax, a, [n]),
                  jb = jaxArray(jax, b, [n]);
                return jaxImpl(() => ja.ref.add(jb.ref), [ja, jb]);
              })()
            : undefined,
          validate: (out) => checkOutput(out, n, (i) => [a[i] + b[i], Math.abs(a[i]) + Math.abs(b[i])], 1),
          dispose() {},
        };
      },
    });
    const alpha = -2.5;
    cases.push({
      id: `scale/op/${label.split(' ')[0]}`,
      kernel: 'scale',
      variant: 'op',
      shape: label,
      large,
      flops: n,
      bytes: 8 * n,
      peer: 'tf.mul(a, scalar)',
      jax: 'a.mul(scalar)',
      setup({ tf, jax }) {
        const a = randomData(n, 3);
        const ta = upload(tf, a, [n]);
        const s = tf?.scalar(alpha);
        return {
          ours: oursImpl(() => scale(ta.ours, alpha), [ta.ours]),
          peer: tf ? tfImpl(() => tf.mul(ta.peer!, s!), [ta.peer!, s!]) : undefined,
          jax: jax
            ? (() => {
                const ja = jaxArray(jax, a, [n]);
                return jaxImpl(() => ja.ref.mul(alpha), [ja]);
              })()
            : undefined,
          validate: (out) => checkOutput(out, n, (i) => [alpha * a[i], Math.abs(alpha * a[i])], 1),
          dispose() {},
        };
      },
    });
  }
  return cases;
}
