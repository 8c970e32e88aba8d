// Time limits in the tests are hang detectors, never speed checks. A correct build on a slow or
// busy machine must pass, however long it takes; only work that can hang for good (a browser
// that does not start, a device that never answers, a page that never finishes) has a limit,
// and that limit is generous: at least HANG_MS (10 minutes by default, TEST_HANG_MS to change
// it) and at least HANG_FACTOR times what the work takes on a quiet development machine.
// Speed is measured by the benchmarks (npm run bench, scripts/cold-start.ts), not asserted here.

const env = typeof process !== 'undefined' ? process.env : ({} as Record<string, string | undefined>);
export const HANG_MS = Number(env?.TEST_HANG_MS ?? 600_000);
export const HANG_FACTOR = 5;

/** The hang limit for work that takes about `typicalMs` on a quiet machine. */
export function hangLimit(typicalMs: number): number {
  return Math.max(HANG_MS, HANG_FACTOR * typicalMs);
}

/** The message of a hang limit that ran out. */
export function hangMessage(what: string, limitMs: number): string {
  return (
    `${what} has not finished after ${Math.round(limitMs / 1000)} s: it looks hung (a device or browser that never answers?). ` +
    `On a very slow machine raise TEST_HANG_MS (now ${HANG_MS} ms).`
  );
}
