// THE benchmark definition: every case, in one list, used by both the CLI (scripts/bench.ts)
// and the page (bench/page.ts). Each kernel's cases live in bench/cases-<kernel>.ts: shapes,
// FLOP and byte counts, setup of our op and the tfjs peer on the same seeded inputs, and the
// float64 validator. Cases marked `large` are too slow for SwiftShader and run only on request.

import { convCases } from './cases-conv.js';
import { denseCases } from './cases-dense.js';
import { elementwiseCases } from './cases-elementwise.js';
import { lenetCases } from './cases-lenet.js';
import { matmulCases } from './cases-matmul.js';
import { optimCases } from './cases-optim.js';
import { poolCases } from './cases-pool.js';
import { resnetCases } from './cases-resnet.js';
import type { BenchCase } from './types.js';

export function allCases(): BenchCase[] {
  return [
    ...convCases(),
    ...matmulCases(),
    ...poolCases(),
    ...denseCases(),
    ...optimCases(),
    ...elementwiseCases(),
    ...lenetCases(),
    ...resnetCases(),
  ];
}

/**
 * `filter`: a substring of the case id, or /regex/ (flags allowed). Several: comma-separated, any
 * matches. With `features` (the device's, after init), cases needing a missing feature or
 * reporting themselves unavailable there are left out.
 */
export function selectCases(
  cases: BenchCase[],
  filter = '',
  large = false,
  features?: ReadonlySet<string>,
): BenchCase[] {
  const tests = filter
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => {
      const m = /^\/(.*)\/([a-z]*)$/.exec(f);
      if (m) {
        const re = new RegExp(m[1], m[2]);
        return (id: string) => re.test(id);
      }
      return (id: string) => id.includes(f);
    });
  return cases.filter(
    (c) =>
      (large || !c.large) &&
      (tests.length === 0 || tests.some((t) => t(c.id))) &&
      // on a device: leave out what it cannot run
      (!features || ((!c.requires || features.has(c.requires)) && (!c.available || c.available()))),
  );
}
