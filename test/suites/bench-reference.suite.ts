// The benchmark's float64 ResNet-20 training step (bench/resnet.ts), which ours and tfjs are
// validated against before they are timed, checked here by central finite differences: a few
// parameters of every kind (stem conv, BatchNorm scale and shift, a strided block's conv and its
// 1x1 shortcut, the last block, the dense head), at batch 1. CPU only.
import { suite } from '../harness/define.js';
import { assert } from '../harness/assert.js';
import { initResnetParams, makeResnetBatch, resnetGrads, type ResnetParams } from '../../bench/resnet.js';

suite(
  'bench-reference',
  (test) => {
    test('ResNet-20 float64 step: gradients = finite differences (batch 1, 14 parameters)', () => {
      const p = initResnetParams(5);
      const { x, labels } = makeResnetBatch(1, 6);
      const f64: ResnetParams = {
        ...p,
        values: Object.fromEntries(
          Object.entries(p.values).map(([k, v]) => [k, Float64Array.from(v)]),
        ) as unknown as Record<string, Float32Array>,
      };
      const { grads } = resnetGrads(f64, x, labels);
      const picks: [string, number][] = [
        ['conv1.weight', 5],
        ['conv1.weight', 300],
        ['bn1.weight', 3],
        ['bn1.bias', 9],
        ['layer1.1.conv2.weight', 1000],
        ['layer2.0.conv1.weight', 77],
        ['layer2.0.bn1.weight', 30],
        ['layer2.0.downsample.0.weight', 100],
        ['layer2.0.downsample.1.bias', 7],
        ['layer3.2.conv2.weight', 20000],
        ['layer3.2.bn2.weight', 40],
        ['layer3.2.bn2.bias', 63],
        ['fc.weight', 123],
        ['fc.bias', 4],
      ];
      // h = 1e-7: a larger step crosses ReLU kinks somewhere in 20 layers and the difference
      // quotient then disagrees with the (correct) one-sided derivative; float64 round-off at this
      // step is ~1e-8 on a loss near 2.3, far below the tolerance.
      const h = 1e-7;
      let worst = 0;
      for (const [name, i] of picks) {
        const v = f64.values[name] as unknown as Float64Array;
        const v0 = v[i];
        v[i] = v0 + h;
        const lp = resnetGrads(f64, x, labels, true).loss;
        v[i] = v0 - h;
        const lm = resnetGrads(f64, x, labels, true).loss;
        v[i] = v0;
        const num = (lp - lm) / (2 * h),
          an = grads[name][i];
        const err = Math.abs(num - an) / (Math.abs(num) + 1e-6);
        worst = Math.max(worst, err);
        assert(
          Math.abs(num - an) <= 1e-6 + 1e-4 * Math.abs(num),
          `${name}[${i}]: analytic ${an} vs finite differences ${num}`,
        );
      }
      console.log(`  14 gradients vs finite differences: worst relative error ${worst.toExponential(2)}`);
    });
  },
  { envs: ['node'] },
);
