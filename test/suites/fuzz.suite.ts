// Parser fuzzing in CI: 1,000 seeded inputs (valid, truncated, bit-flipped, length fields
// rewritten, JSON-mutated) through the safetensors/model-file, IDX and ModelSpec parsers. Every
// input must parse or throw a FormatError, never allocate more than its own size, and finish
// fast. `npm run fuzz` runs the long version (scripts/fuzz.ts).
import { suite } from '../harness/define.js';
import { assert, assertEqual } from '../harness/assert.js';
import { runFuzz } from '../fuzz/cases.js';

suite('fuzz', (test) => {
  test('1,000 random/truncated/mutated inputs: parse or FormatError, allocation <= input, bounded time', () => {
    const s = runFuzz({ cases: 1000, seed: 20240611, maxCaseMs: 250 });
    console.log(
      `  fuzz: ${s.cases} cases, ${s.ok} parsed, ${s.rejected} rejected, ${s.totalMs} ms total, max ${s.maxMs} ms/case, max allocation ${s.maxAllocRatio.toFixed(2)}x input, ${Object.keys(s.errorsByMessage).length} distinct messages`,
    );
    assertEqual(s.failures, [], 'inputs that escaped with another exception, over-allocated or were slow');
    assertEqual(s.ok + s.rejected, s.cases, 'every case accounted for');
    // The mix must exercise both outcomes for every parser, or the fuzzer has gone blind.
    for (const [t, c] of Object.entries(s.byTarget))
      assert(c.ok > 10 && c.rejected > 10, `${t}: ${c.ok} parsed, ${c.rejected} rejected`);
    assert(s.maxAllocRatio <= 1, `max allocation ${s.maxAllocRatio}x the input`);
  });
});
