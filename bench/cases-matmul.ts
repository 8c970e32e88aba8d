// matmul cases (compute-bound): naive, 'op' (the op's own, untuned kernel choice for this
// adapter: src/ops/matmul/choose.ts) and every kernel variant with a few tile shapes,
// on the LeNet dense layers (forward, and the two backward products as the autograd rule
// computes them: dX = dy . W^T, dW = X^T . dy, via transpose flags) and square sizes 256..4096.
// Reference: float64 dot product per output element (sampled above CHECK_BUDGET).
// Peers: tf.matMul with the same transpose flags; for the 'op' cases also jax-js's np.matmul
// (transposed operands as .transpose() views).

import { matmul } from '../src/ops/matmul/index.js';
import { matmulNaive } from './naive.js';
import { MATMUL } from '../src/ops/matmul/choose.js';
import type { MatmulKernel } from '../src/ops/matmul/kernels.js';
import { oursImpl, upload } from './impl.js';
import { tfImpl } from './peer-tfjs.js';
import { jaxArray, jaxImpl } from './peer-jax.js';
import { checkOutput, randomData, type ElementRef } from './reference.js';
import type { BenchCase } from './types.js';

interface Shape {
  /** op(a) is M x K, op(b) is K x N */
  M: number;
  K: number;
  N: number;
  ta: boolean;
  tb: boolean;
  note: string;
  large: boolean;
  naive: boolean;
}

const lenet = (B: number, large: boolean): Shape[] => [
  { M: B, K: 3136, N: 128, ta: false, tb: false, note: `LeNet dense1 fwd b${B}`, large, naive: true },
  { M: B, K: 128, N: 3136, ta: false, tb: true, note: `LeNet dense1 dX b${B}`, large, naive: false },
  { M: 3136, K: B, N: 128, ta: true, tb: false, note: `LeNet dense1 dW b${B}`, large, naive: false },
  { M: B, K: 128, N: 10, ta: false, tb: false, note: `LeNet dense2 fwd b${B}`, large, naive: false },
];

const square = (n: number, large: boolean, naive: boolean): Shape => ({
  M: n,
  K: n,
  N: n,
  ta: false,
  tb: false,
  note: 'square',
  large,
  naive,
});

const SHAPES: Shape[] = [
  ...lenet(64, false),
  ...lenet(512, true),
  square(256, false, true),
  square(512, false, true),
  square(1024, true, true),
  square(2048, true, false),
  square(4096, true, false),
];

/**
 * Kernels timed besides the op's own (untuned) choice: the matmul family's candidates
 * (src/ops/matmul/choose.ts, what the tuner times) and two more shared-memory tile shapes for
 * the sweep. shared = tiles staged in workgroup memory, 8x8 outputs per thread (name: tile
 * M x N x K step); register = 16x8 per thread straight from global memory; subgroup = register
 * with quads sharing A (needs the 'subgroups' feature); subgroup32 = 32 rows per thread.
 */
const SWEEP_ONLY: MatmulKernel[] = [
  { kind: 'shared', wgX: 8, wgY: 8, bk: 32 },
  { kind: 'shared', wgX: 16, wgY: 16, bk: 8 },
];
const benchName = (k: MatmulKernel) =>
  k.kind === 'shared' ? `shared-${8 * k.wgX}x${8 * k.wgY}x${k.bk}` : `${k.kind}-${k.wgX}x${k.wgY}`;
// the family's candidates do not depend on the product or the device (the rule filters them)
const VARIANTS: { name: string; kernel: MatmulKernel; requires?: string }[] = [
  ...MATMUL.candidates(undefined as never, undefined as never),
  ...SWEEP_ONLY,
].map((kernel) => ({
  name: benchName(kernel),
  kernel,
  requires: kernel.kind.startsWith('subgroup') ? 'subgroups' : undefined,
}));

function label(s: Shape): string {
  return `${s.M}x${s.K}x${s.N}${s.ta ? ' tA' : ''}${s.tb ? ' tB' : ''}`;
}

/** c[m, n] = sum_k op(a)[m, k] * op(b)[k, n]; a stored [M,K] or [K,M] (ta), b [K,N] or [N,K] (tb). */
function matmulRef(s: Shape, a: Float32Array, b: Float32Array): ElementRef {
  return (i) => {
    const m = Math.floor(i / s.N),
      n = i % s.N;
    let sum = 0,
      abs = 0;
    for (let k = 0; k < s.K; k++) {
      const t = (s.ta ? a[k * s.M + m] : a[m * s.K + k]) * (s.tb ? b[n * s.K + k] : b[k * s.N + n]);
      sum += t;
      abs += Math.abs(t);
    }
    return [sum, abs];
  };
}

function matmulCase(s: Shape, variant: string, kernel: MatmulKernel | null, requires?: string): BenchCase {
  const aShape = s.ta ? [s.K, s.M] : [s.M, s.K],
    bShape = s.tb ? [s.N, s.K] : [s.K, s.N];
  return {
    id: `matmul/${variant}/${label(s).replace(/ /g, '')}`,
    kernel: 'matmul',
    variant,
    shape: `${label(s)} (${s.note})`,
    large: s.large,
    requires,
    flops: 2 * s.M * s.N * s.K,
    bytes: 4 * (s.M * s.K + s.K * s.N + s.M * s.N),
    peer: `tf.matMul(a, b, ${s.ta}, ${s.tb})`,
    jax: variant === 'op' ? `np.matmul(${s.ta ? 'a.transpose()' : 'a'}, ${s.tb ? 'b.transpose()' : 'b'})` : undefined,
    setup({ tf, jax }) {
      const a = randomData(s.M * s.K, 41),
        b = randomData(s.K * s.N, 42);
      const ta = upload(tf, a, aShape),
        tb = upload(tf, b, bShape);
      const opts = { transA: s.ta, transB: s.tb };
      const run =
        variant === 'naive'
          ? () => matmulNaive(ta.ours, tb.ours, opts)
          : () => matmul(ta.ours, tb.ours, kernel ? { ...opts, kernel } : opts);
      return {
        ours: oursImpl(run, [ta.ours, tb.ours]),
        peer: tf
          ? tfImpl(() => tf.matMul(ta.peer as never, tb.peer as never, s.ta, s.tb), [ta.peer!, tb.peer!])
          : undefined,
        jax: jax
          ? (() => {
              const ja = jaxArray(jax, a, aShape),
                jb = jaxArray(jax, b, bShape);
              return jaxImpl(
                () => jax.numpy.matmul(s.ta ? ja.ref.transpose() : ja.ref, s.tb ? jb.ref.transpose() : jb.ref),
                [ja, jb],
              );
            })()
          : undefined,
        validate: (out) => checkOutput(out, s.M * s.N, matmulRef(s, a, b), s.K),
        dispose() {},
      };
    },
  };
}

export function matmulCases(): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const s of SHAPES) {
    if (s.naive) cases.push(matmulCase(s, 'naive', null));
    cases.push(matmulCase(s, 'op', null));
    if (s.ta || s.tb || s.N < 64) continue; // kernel variants on the plain, wide shapes only
    for (const v of VARIANTS) cases.push(matmulCase(s, v.name, v.kernel, v.requires));
  }
  return cases;
}
