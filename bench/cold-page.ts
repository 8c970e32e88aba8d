// The cold-start page (bench/cold.html): one measurement of bench/cold.ts in a page that has
// compiled nothing yet, published on window.__cold for scripts/cold-start.ts.
import { init } from '../src/runtime/engine.js';
import { shaderInfo } from '../src/runtime/shaders.js';
import { freshDevice, isolatedCompiles, jaxCold, lenetStepSpecs, oursCold, tfjsCold, type ColdResult } from './cold.js';

const w = window as unknown as { __cold: { done: boolean; results: unknown[]; error?: string } };
w.__cold = { done: false, results: [] };
const q = new URLSearchParams(location.search);
const B = Number(q.get('batch') ?? 64);
const what = q.get('what') ?? 'prepare';
const out = document.getElementById('out')!;

async function main(): Promise<void> {
  const t0 = performance.now();
  await init();
  const initMs = performance.now() - t0;
  if (what === 'isolated') {
    const specs = lenetStepSpecs(B);
    const r = await isolatedCompiles(
      await freshDevice(navigator.gpu),
      await freshDevice(navigator.gpu),
      specs,
      (s) => shaderInfo(s).code,
    );
    w.__cold.results.push({ who: 'isolated', ...r });
  } else {
    const ours: ColdResult = await oursCold(B, what === 'sync' ? 'sync' : what === 'tiered' ? 'tiered' : 'prepare');
    ours.initMs = initMs;
    w.__cold.results.push(ours);
    if (q.get('peers') === '1') {
      for (const f of [jaxCold, tfjsCold]) {
        try {
          w.__cold.results.push(await f(B));
        } catch (e) {
          w.__cold.results.push({ who: f === jaxCold ? 'jax-js' : 'tfjs', error: (e as Error).message });
        }
      }
    }
  }
}

main()
  .catch((e) => (w.__cold.error = (e as Error).stack ?? String(e)))
  .finally(() => {
    w.__cold.done = true;
    out.textContent = JSON.stringify(w.__cold, null, 1);
  });
