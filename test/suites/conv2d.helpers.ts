// Helpers shared by the conv2d suites (conv2d, conv2d-variants). Not a suite itself (the
// runners load *.suite.ts only).

import { convGeometry, type Conv2dGeomOptions } from '../../src/ops/conv2d/index.js';

export type S4 = [number, number, number, number];
export interface Shapes {
  x: S4;
  w: S4;
  opts: Conv2dGeomOptions;
}

// Tolerance for an f32 dot product of K terms with |a|,|b| <= 1 (all test data is uniform in
// [-1, 1]): each add rounds with relative error 2^-24 of a partial sum that is at most ~K/4 in
// practice, so the accumulated error stays well below K·2^-24; a factor 2 covers the unfused
// multiply's own rounding. The reference gets the same f32-rounded inputs, so nothing else
// differs. It also covers kernels that sum in another order (the direct kernels: taps first).
export function tolFor(K: number) {
  const t = 2 * Math.max(K, 1) * 2 ** -24;
  return { atol: t, rtol: t };
}

export const geom = (s: Shapes) => convGeometry('test', s.x, s.w, s.opts);
export const n4 = (s: S4) => s[0] * s[1] * s[2] * s[3];
