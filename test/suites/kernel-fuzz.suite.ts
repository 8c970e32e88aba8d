// Kernel fuzzing in CI: the first cases of one fixed seed for every family of the kernel
// fuzzer (test/kernel-fuzz/), each against its float64 reference, in a NaN-poisoned pool,
// failing on any WebGPU error or leaked tensor. `npm run fuzz:kernels` runs thousands
// (scripts/kernel-fuzz.ts). Few cases per family on purpose: conv2d and matmul cases compile
// pipelines for their geometry (~0.3-0.8 s each on SwiftShader); the cheap families run more.
// Each group also checks that its cases reached the kernels it exists for (a fuzzer whose
// draws stopped reaching a fast path would pass without testing it).
import { suite } from '../harness/define.js';
import { assert, assertEqual } from '../harness/assert.js';
import { engine } from '../../src/runtime/engine.js';
import { runKernelFuzz, type FuzzSummary } from '../kernel-fuzz/run.js';

const SEED = 20250611;

/** Families, cases per family, and kernels (shader.entry) the group must dispatch. */
const GROUPS: { name: string; families: [string, number][]; reach: (sg: boolean) => string[] }[] = [
  {
    name: 'conv2d (forward, input and weight gradients, autograd; tiled, direct, auto, tuner tiles)',
    families: [
      ['conv.forward', 3],
      ['conv.inputGrad', 3],
      ['conv.weightGrad', 3],
      ['conv.autograd', 2],
    ],
    reach: (sg) => [
      'conv2d/tiled_forward.forward',
      'conv2d/tiled_input_grad.input_grad',
      'conv2d/tiled_weight_grad.weight_grad',
      ...(sg ? ['conv2d/direct.direct', 'conv2d/direct_weight_grad.weight_grad'] : []),
    ],
  },
  {
    name: 'pooling (max with indices and folded ReLU mask, average, global; vec4 and general kernels)',
    families: [
      ['pool.max', 20],
      ['pool.maxRelu', 3],
      ['pool.avg', 20],
      ['pool.global', 6],
    ],
    reach: () => [
      'pool2d/pool2d.max_forward',
      'pool2d/vec4.max_forward4',
      'pool2d/pool2d.max_backward',
      'pool2d/pool2d.avg_forward',
      'pool2d/vec4.avg_forward4',
      'pool2d/pool2d.global_avg_forward',
    ],
  },
  {
    name: 'matmul / bmm (kernel kinds, transposes, broadcast batches, bias / ReLU, autograd)',
    families: [
      ['matmul.forward', 7],
      ['matmul.grad', 2],
    ],
    reach: (sg) => [
      'matmul/shared.matmul',
      'matmul/register.matmul_register',
      'matmul_naive.matmul_naive',
      ...(sg ? ['matmul/subgroup.matmul_subgroup'] : []),
    ],
  },
  {
    name: 'softmax, cross-entropy, argmax, accuracy (row and block kernels)',
    families: [
      ['softmax.crossEntropy', 8],
      ['softmax.softmax', 8],
    ],
    reach: () => [
      'loss/softmax_ce.softmax_ce_row',
      'loss/softmax_ce.softmax_ce',
      'loss/softmax_ce.softmax_row',
      'loss/softmax_ce.softmax',
      'loss/softmax_ce.argmax',
    ],
  },
  {
    name: 'elementwise, activations, reductions, optimizer steps and clipping',
    families: [
      ['elementwise', 10],
      ['activations', 8],
      ['reduce', 10],
      ['optim.step', 6],
      ['optim.clip', 3],
    ],
    reach: () => [
      'elementwise.add',
      'elementwise.binary_bcast',
      'activations.sigmoid',
      'reduce.sum_chunks',
      'optim.adam',
      'optim.norm_partials',
    ],
  },
];

suite('kernel-fuzz', (test) => {
  for (const g of GROUPS)
    test(
      `seed ${SEED}, ${g.families.map(([f, n]) => `${n} ${f}`).join(', ')}: ${g.name} vs float64 references`,
      async () => {
        const reached = new Set<string>();
        const failures: FuzzSummary['failures'] = [];
        for (const [family, cases] of g.families) {
          const s = await runKernelFuzz({ cases, seed: SEED, only: [family], log: (l) => console.log(`  ${l}`) });
          failures.push(...s.failures);
          for (const k of Object.keys(s.byFamily[family].kernels)) reached.add(k);
        }
        for (const f of failures) console.log(`  FAILED ${JSON.stringify(f)}`);
        assertEqual(
          failures.length,
          0,
          'failing cases (parameters above; replay one with node dist-node/kernel-fuzz.mjs --case)',
        );
        const missing = g.reach(engine().features.has('subgroups')).filter((k) => !reached.has(k));
        assert(
          missing.length === 0,
          `the cases never dispatched ${missing.join(', ')} (reached: ${[...reached].sort().join(', ')})`,
        );
      },
      { timeoutMs: 120_000 },
    );
});
