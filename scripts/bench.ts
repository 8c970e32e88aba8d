// `npm run bench` (= build:node + node dist-node/bench.mjs): the shader benchmark in Node on
// Dawn. Same cases as the page (bench/cases.ts). Prints a table; --json writes the full report.
//
//   node dist-node/bench.mjs [--filter s[,s2|/re/]] [--large] [--iters N] [--warmup N]
//                            [--budget MS] [--no-peers] [--no-jax] [--wall] [--json [path]] [--list]
//
// On a machine without a GPU Dawn runs on SwiftShader; on a GPU machine set VK_DRIVER_FILES /
// VK_ICD_FILENAMES (docs/bench.md) and it uses the real driver.

import '../bench/node-require.js'; // before tfjs-core loads (see that file)
import { writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { SWIFTSHADER_ICD } from '../test/harness/node-gpu.js';
import { engine, init } from '../src/runtime/engine.js';
import { allCases, selectCases } from '../bench/cases.js';
import { DEFAULTS, runBench } from '../bench/runner.js';
import { COLUMNS, formatTable, notValidated, statusText } from '../bench/report.js';
import type { BenchOptions } from '../bench/types.js';

const HELP = `usage: node dist-node/bench.mjs [options]
  --filter s      only cases whose id contains s (comma-separated list, or /regex/)
  --large         include large cases (slow without a GPU)
  --iters N       timed iterations per implementation (default ${DEFAULTS.iters}; fewer if over --budget)
  --warmup N      warmup iterations (default ${DEFAULTS.warmup})
  --budget MS     time budget per implementation and case (default ${DEFAULTS.budgetMs})
  --no-peers      skip the peers (TensorFlow.js and jax-js)
  --no-jax        skip jax-js only
  --wall          wall-clock timing even where timestamp queries exist
  --json [path]   write the JSON report to path (without path: JSON on stdout, table on stderr)
  --list          list the selected case ids and exit`;

function parse(argv: string[]): { opts: BenchOptions; json: string | null | undefined; list: boolean } {
  const opts: BenchOptions = {};
  let json: string | null | undefined;
  let list = false;
  const num = (i: number, name: string) => {
    const v = Number(argv[i]);
    if (!Number.isFinite(v) || v <= 0)
      throw new Error(`bench: ${name} needs a positive number, got '${argv[i] ?? ''}'`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--filter') opts.filter = argv[++i] ?? '';
    else if (a === '--large') opts.large = true;
    else if (a === '--iters') opts.iters = Math.round(num(++i, a));
    else if (a === '--warmup') opts.warmup = Math.round(num(++i, a));
    else if (a === '--budget') opts.budgetMs = num(++i, a);
    else if (a === '--no-peers') opts.peers = false;
    else if (a === '--no-jax') opts.jax = false;
    else if (a === '--wall') opts.wall = true;
    else if (a === '--list') list = true;
    else if (a === '--json') json = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : null;
    else if (a === '--help' || a === '-h') {
      console.log(HELP);
      process.exit(0);
    } else throw new Error(`bench: unknown argument '${a}'\n${HELP}`);
  }
  return { opts, json, list };
}

/**
 * Dawn, like test/harness/node-gpu.ts (SwiftShader unless a Vulkan driver is configured), but
 * with Dawn's timestamp quantization off: by default Dawn rounds GPU timestamps down to
 * multiples of 65.536 us (a fingerprinting defence for browsers), which would swamp the
 * timing of small kernels.
 */
async function initDawn(): Promise<void> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && !process.env.WEBGPU_CNN_SYSTEM_VULKAN)
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  const icd = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  if (icd && !existsSync(icd))
    throw new Error(`bench: Vulkan driver manifest ${icd} does not exist (SwiftShader: apt-get install -y chromium)`);
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  await init({ gpu: webgpu.create(['disable-dawn-features=timestamp_quantization']) });
}

async function main(): Promise<void> {
  const { opts, json, list } = parse(process.argv.slice(2));
  if (list) {
    for (const c of selectCases(allCases(), opts.filter, opts.large))
      console.log(`${c.id}${c.large ? '  (large)' : ''}`);
    return;
  }
  // With JSON on stdout, everything human-readable goes to stderr.
  const say = json === null ? (s: string) => process.stderr.write(`${s}\n`) : (s: string) => console.log(s);
  await initDawn();
  const t0 = performance.now();
  const report = await runBench(opts, {
    onStatus: (m) => process.stderr.write(`# ${m}\n`),
    // one line per finished case, so long runs show results as they go
    onResult: (r) => {
      const cells = COLUMNS.filter((c) => ['ms', 'tfms', 'ratio', 'jaxms', 'jaxratio', 'valid'].includes(c.key)).map(
        (c) => `${c.title} ${c.cell(r) || '-'}`,
      );
      process.stderr.write(`#   ${cells.join(', ')}\n`);
      if (notValidated(r)) process.stderr.write(`#   ${statusText(r)}\n`);
    },
  });
  say(formatTable(report));
  say(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const text = JSON.stringify(report, null, 2);
  if (json === null) process.stdout.write(`${text}\n`);
  else if (json) {
    writeFileSync(json, text);
    say(`wrote ${json}`);
  }
  const failed = report.results.filter(notValidated);
  process.exitCode = failed.length ? 1 : 0;
}

main()
  .catch((e) => {
    console.error((e as Error).stack ?? e);
    process.exitCode = 2;
  })
  .finally(() => {
    try {
      engine().destroy();
    } catch {
      /* no engine: nothing to release */
    }
  });
