// Augmentation settings, shared by the page (controls) and the worker. Kept apart from
// augment.ts, which uses the engine: the page's bundle must not pull the engine in.

export interface AugmentOptions {
  /** max rotation in degrees (uniform in [-r, r]) */
  rotate: number;
  /** max relative scale change (uniform in [1 - s, 1 + s]) */
  scale: number;
  /** max shift in pixels (uniform in [-t, t] per axis) */
  shift: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = { rotate: 15, scale: 0.15, shift: 3 };
