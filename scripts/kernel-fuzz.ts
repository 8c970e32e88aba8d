// npm run fuzz:kernels: seeded differential fuzzing of the GPU kernels against float64
// references (test/kernel-fuzz/: conv2d and its gradients in every variant, pooling, matmul
// kernels, softmax / cross-entropy, elementwise, activations, reductions).
//
//   node dist-node/kernel-fuzz.mjs [cases=200] [seed=1] [--only conv,pool,...]
//   node dist-node/kernel-fuzz.mjs --case '{"family":"pool.max","params":{...}}'   (replay one)
//   node dist-node/kernel-fuzz.mjs [cases] [seed] [--only ...] --list   (print the draws, run nothing)
//
// Prints a line per family on stderr, then a JSON summary {seed, cases, failures: [{family,
// case, params, what, firstBadIndex, got, want, tol, ...}]} on stdout; exits 1 on any failure.
import { parseArgs } from 'node:util';
import { initNodeGPU } from '../test/harness/node-gpu.js';
import { FAMILIES, drawCase, runKernelFuzz, runOne, selectFamilies, split } from '../test/kernel-fuzz/run.js';

// NaN and Infinity would print as null
const json = (v: unknown) =>
  JSON.stringify(v, (_, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x), 2);
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { only: { type: 'string' }, case: { type: 'string' }, list: { type: 'boolean' } },
});
const only = values.only?.split(',').filter(Boolean);
if (values.list) {
  const cases = Number(positionals[0] ?? 200),
    seed = Number(positionals[1] ?? 1);
  const fams = selectFamilies(only);
  fams.forEach((f, i) => {
    for (let k = 0; k < split(cases, fams.length, i); k++)
      console.log(JSON.stringify({ family: f.name, case: k, params: drawCase(f, seed, k) }));
  });
  process.exit(0);
}
const e = await initNodeGPU();
let failed: boolean;
if (values.case) {
  const { family, params } = JSON.parse(values.case) as { family: string; params: unknown };
  const fam = FAMILIES.find((f) => f.name === family);
  if (!fam) throw new RangeError(`unknown family '${family}'`);
  const t0 = performance.now();
  const f = await runOne(fam, params);
  console.log(json({ family, params, ms: Math.round(performance.now() - t0), failure: f }));
  failed = f !== null;
} else {
  const cases = Number(positionals[0] ?? 200),
    seed = Number(positionals[1] ?? 1);
  const s = await runKernelFuzz({ cases, seed, only, log: (l) => console.error(l) });
  console.log(json(s));
  failed = s.failures.length > 0;
  if (failed) console.error(`kernel-fuzz: ${s.failures.length} failing case(s)`);
}
e.destroy();
process.exit(failed ? 1 : 0);
