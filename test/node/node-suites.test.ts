// Runs every case of test/suites/*.suite.ts in Node on Dawn (SwiftShader on CI machines).
import { after, before, describe, it } from 'node:test';
import { registry } from '../harness/define.js';
import { runCase } from '../harness/gpu-case.js';
import { initNodeGPU } from '../harness/node-gpu.js';
import { hangLimit } from '../harness/hang.js';
import { engine } from '../../src/runtime/engine.js';

import.meta.glob('../suites/*.suite.ts', { eager: true });

const only = process.env.TEST_ONLY;
const cases = registry.filter((c) => c.envs.includes('node') && (!only || `${c.suite} > ${c.name}`.includes(only)));
const suites = new Map<string, typeof cases>();
for (const c of cases) {
  if (!suites.has(c.suite)) suites.set(c.suite, []);
  suites.get(c.suite)!.push(c);
}

describe('[node/dawn]', () => {
  before(async () => {
    const e = await initNodeGPU();
    console.log(`# adapter: ${e.info.vendor} ${e.info.architecture} ${e.info.description}`.trim());
  });
  // Dawn keeps Node alive while a device exists.
  after(() => engine().destroy());
  for (const [name, cs] of suites)
    describe(name, () => {
      for (const c of cs) it(c.name, { timeout: hangLimit(c.timeoutMs) + 30_000 }, () => runCase(c));
    });
});
