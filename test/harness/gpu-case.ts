// Runs one registered case with WebGPU error capture: validation, out-of-memory and internal
// errors raised while the case runs fail it, as do uncaptured errors. Used by both runners.

import { engine } from '../../src/runtime/engine.js';
import type { Case } from './define.js';
import { hangLimit, hangMessage } from './hang.js';

export async function runCase(c: Case): Promise<void> {
  const dev = engine().device;
  const uncaptured: string[] = [];
  const onErr = (ev: Event) => uncaptured.push((ev as GPUUncapturedErrorEvent).error.message);
  dev.addEventListener('uncapturederror', onErr);
  dev.pushErrorScope('internal');
  dev.pushErrorScope('out-of-memory');
  dev.pushErrorScope('validation');
  let failure: unknown = null;
  try {
    await withTimeout(Promise.resolve().then(c.fn), hangLimit(c.timeoutMs), c.name);
  } catch (e) {
    failure = e;
  }
  try {
    await engine().sync();
  } catch (e) {
    failure ??= e;
  }
  const errs: string[] = [];
  for (const kind of ['validation', 'out-of-memory', 'internal']) {
    const e = await dev.popErrorScope();
    if (e) errs.push(`${kind} error: ${e.message}`);
  }
  dev.removeEventListener('uncapturederror', onErr);
  errs.push(...uncaptured.map((m) => `uncaptured error: ${m}`));
  if (errs.length)
    throw new Error(
      `WebGPU errors during '${c.name}':\n${errs.join('\n')}${failure ? `\n(and: ${(failure as Error).message})` : ''}`,
    );
  if (failure) throw failure;
}

function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, rej) => (timer = setTimeout(() => rej(new Error(hangMessage(`'${name}'`, ms))), ms))),
  ]);
}
