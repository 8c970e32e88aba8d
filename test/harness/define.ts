// One test suite for every WebGPU implementation we run on. Suites (test/suites/*.suite.ts)
// register cases here; test/node/*.test.ts runs them under Dawn in Node, and
// test/browser/runner.ts runs the same cases in headless Chromium. Suites must not import
// vitest: they use test/harness/assert.ts, which works in both places.

export type Env = 'node' | 'browser';

export interface Case {
  suite: string;
  name: string;
  envs: Env[];
  /**
   * About how long the case takes on a quiet development machine (default 60 s). Not a limit:
   * the runners fail a case only when it looks hung, after hangLimit(timeoutMs) (hang.ts).
   */
  timeoutMs: number;
  fn: () => Promise<void> | void;
}

export interface CaseOptions {
  envs?: Env[];
  timeoutMs?: number;
}

export const registry: Case[] = [];

type TestFn = (name: string, fn: Case['fn'], opts?: CaseOptions) => void;

/** Declare a suite: `suite('elementwise', (test) => { test('add', async () => { ... }) })`. */
export function suite(name: string, body: (test: TestFn) => void, defaults: CaseOptions = {}): void {
  body((caseName, fn, opts = {}) => {
    registry.push({
      suite: name,
      name: caseName,
      envs: opts.envs ?? defaults.envs ?? ['node', 'browser'],
      timeoutMs: opts.timeoutMs ?? defaults.timeoutMs ?? 60_000,
      fn,
    });
  });
}

export function caseId(c: Pick<Case, 'suite' | 'name'>): string {
  return `${c.suite} > ${c.name}`;
}
