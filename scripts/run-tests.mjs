// `npm test`'s last step: every dist-node/*.test.mjs, two files at a time, the longest first.
//
// Why not `node --test dist-node/`: it sorts the files by name, and on the 2-core machine that
// started the Node suite (~280 s) only after three other files, so the run ended ~45 s after
// the Chromium suite; longest-first keeps both cores busy to the end. node:test's run() keeps
// the order it is given. Two at a time: each file is one process driving SwiftShader, which
// compiles pipelines on one thread; a third file would only slow the other two.
//
// RULE: a new test file runs too (every *.test.mjs in dist-node/ runs); one missing from
// SECONDS runs first, as if it were the longest, until it is added here.
// Exit status: 1 if any test failed, as `node --test` would.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';

/** About how long each file takes on the quiet 2-core CI machine (only the order matters). */
const SECONDS = {
  'browser-suites': 345,
  'node-suites': 280,
  demo: 110,
  consumer: 80,
  pictures: 42,
  'bench-page': 24,
  'bench-cli': 8,
};

const dir = resolve(process.argv[2] ?? 'dist-node');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.mjs'))
  .map((f) => ({ file: join(dir, f), s: SECONDS[f.replace(/\.test\.mjs$/, '')] ?? Number.POSITIVE_INFINITY }))
  .sort((a, b) => b.s - a.s)
  .map((f) => f.file);
if (!files.length) {
  console.error(`no *.test.mjs in ${dir}: run \`npm run build:node\` first`);
  process.exit(1);
}

// TEST_CONCURRENCY overrides the two files at a time (for measuring; see README, "Tests").
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2);
const stream = run({ files, concurrency });
stream.on('test:fail', () => {
  process.exitCode = 1;
});
stream.compose(process.stdout.isTTY ? new spec() : tap).pipe(process.stdout);
