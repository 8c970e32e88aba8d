// npm run fuzz: seeded fuzzing of the IDX, safetensors/model-file and ModelSpec parsers.
// Usage: node dist-node/fuzz.mjs [cases=20000] [seed=1]. Prints a JSON summary; exits 1 if any
// input produced something other than a parse or a FormatError, allocated more than the input
// size, or took longer than 250 ms.
import { runFuzz } from '../test/fuzz/cases.js';

const cases = Number(process.argv[2] ?? 20000);
const seed = Number(process.argv[3] ?? 1);
const t0 = performance.now();
const s = runFuzz({ cases, seed });
const wallMs = Math.round(performance.now() - t0);
console.log(JSON.stringify({ seed, wallMs, ...s }, null, 2));
if (s.failures.length) {
  console.error(`fuzz: ${s.failures.length} failing input(s)`);
  process.exit(1);
}
