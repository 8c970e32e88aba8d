// Runs every case of test/suites/*.suite.ts in Node on Dawn (SwiftShader on CI machines).
// PIPELINE_LOG=file.json writes, per case, its time and the pipelines it compiled (key, ms):
// where the suite's time goes (README, "Tests").
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { registry, type Case } from '../harness/define.js';
import { runCase } from '../harness/gpu-case.js';
import { initNodeGPU } from '../harness/node-gpu.js';
import { hangLimit } from '../harness/hang.js';
import { engine } from '../../src/runtime/engine.js';
import type { CompileRecord } from '../../src/runtime/pipelines.js';

import.meta.glob('../suites/*.suite.ts', { eager: true });

const only = process.env.TEST_ONLY;
const cases = registry.filter((c) => c.envs.includes('node') && (!only || `${c.suite} > ${c.name}`.includes(only)));
const suites = new Map<string, typeof cases>();
for (const c of cases) {
  if (!suites.has(c.suite)) suites.set(c.suite, []);
  suites.get(c.suite)!.push(c);
}

const compiles: { case: string; ms: number; compiled: CompileRecord[] }[] = [];
async function timed(c: Case): Promise<void> {
  const log = engine().queue.pipelines.log;
  const n0 = log.length,
    t0 = performance.now();
  await runCase(c);
  compiles.push({ case: `${c.suite} > ${c.name}`, ms: performance.now() - t0, compiled: log.slice(n0) });
}

describe('[node/dawn]', () => {
  before(async () => {
    const e = await initNodeGPU();
    console.log(`# adapter: ${e.info.vendor} ${e.info.architecture} ${e.info.description}`.trim());
  });
  after(() => {
    if (process.env.PIPELINE_LOG) writeFileSync(process.env.PIPELINE_LOG, JSON.stringify(compiles, null, 1));
    engine().destroy(); // Dawn keeps Node alive while a device exists.
  });
  for (const [name, cs] of suites)
    describe(name, () => {
      for (const c of cs) it(c.name, { timeout: hangLimit(c.timeoutMs) + 30_000 }, () => timed(c));
    });
});
