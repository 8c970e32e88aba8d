// Runs the shared suites (test/suites) in the browser and publishes results on
// window.__results for test/browser/chromium.test.ts. `?only=substring` filters cases.
import { caseId, registry } from '../harness/define.js';
import { runCase } from '../harness/gpu-case.js';
import { init } from '../../src/runtime/engine.js';

import.meta.glob('../suites/*.suite.ts', { eager: true });

interface Result {
  ok: boolean;
  error?: string;
  ms: number;
  log: string[];
}
const w = window as unknown as { __results: Record<string, Result>; __done: boolean; __fatal?: string };
w.__results = {};
w.__done = false;
const out = document.getElementById('out')!;

async function main() {
  const only = new URLSearchParams(location.search).get('only');
  try {
    const e = await init();
    out.textContent = `adapter: ${e.info.vendor} ${e.info.description}\n`;
  } catch (e) {
    w.__fatal = (e as Error).message;
    w.__done = true;
    out.textContent = `FATAL: ${w.__fatal}`;
    return;
  }
  const origLog = console.log;
  for (const c of registry.filter((c) => c.envs.includes('browser') && (!only || caseId(c).includes(only)))) {
    const log: string[] = [];
    console.log = (...a: unknown[]) => {
      log.push(a.join(' '));
      origLog(...a);
    };
    const t0 = performance.now();
    try {
      await runCase(c);
      w.__results[caseId(c)] = { ok: true, ms: performance.now() - t0, log };
    } catch (e) {
      w.__results[caseId(c)] = { ok: false, error: (e as Error).stack ?? String(e), ms: performance.now() - t0, log };
    }
    console.log = origLog;
    out.textContent += `${w.__results[caseId(c)].ok ? 'ok  ' : 'FAIL'} ${caseId(c)}\n`;
  }
  w.__done = true;
}
main();
