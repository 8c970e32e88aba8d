// Assertions usable in Node and in the browser page. Numeric comparisons print the max
// absolute and relative error, so a passing run still shows how close it was.

export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new AssertionError(message);
}

export function assertEqual<T>(got: T, want: T, label: string): void {
  const g = JSON.stringify(got),
    w = JSON.stringify(want);
  if (g !== w) throw new AssertionError(`${label}: got ${g}, want ${w}`);
}

export interface CloseOptions {
  /** absolute tolerance */
  atol?: number;
  /** relative tolerance (to |want|) */
  rtol?: number;
  /** print the error summary (default true) */
  log?: boolean;
}

export interface ErrorSummary {
  maxAbs: number;
  maxRel: number;
  worst: number;
}

/** |got - want| <= atol + rtol*|want| elementwise; prints max abs/rel error. */
export function assertClose(
  label: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  opts: CloseOptions = {},
): ErrorSummary {
  const atol = opts.atol ?? 1e-5,
    rtol = opts.rtol ?? 1e-4;
  if (got.length !== want.length) throw new AssertionError(`${label}: length ${got.length}, want ${want.length}`);
  let maxAbs = 0,
    maxRel = 0,
    worst = -1,
    worstExcess = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i],
      w = want[i];
    const d = Math.abs(g - w);
    if (!(d <= atol + rtol * Math.abs(w))) {
      const ex = Number.isNaN(d) ? Infinity : d - (atol + rtol * Math.abs(w));
      if (worst < 0 || ex > worstExcess) (worst = i), (worstExcess = ex);
    }
    if (Number.isNaN(d)) (maxAbs = NaN), (maxRel = NaN);
    else {
      if (d > maxAbs) maxAbs = d;
      const r = d / Math.max(Math.abs(w), 1e-12);
      if (Math.abs(w) > atol && r > maxRel) maxRel = r;
    }
  }
  if (opts.log !== false)
    console.log(
      `  ${label}: n=${got.length} max_abs=${maxAbs.toExponential(2)} max_rel=${maxRel.toExponential(2)} (atol=${atol}, rtol=${rtol})`,
    );
  if (worst >= 0)
    throw new AssertionError(
      `${label}: element ${worst} is ${got[worst]}, want ${want[worst]} (max_abs=${maxAbs.toExponential(3)}, max_rel=${maxRel.toExponential(3)}, atol=${atol}, rtol=${rtol})`,
    );
  return { maxAbs, maxRel, worst };
}

/** Expect `fn` to throw (sync or async) with a message matching `re`. */
export async function assertThrows(fn: () => unknown, re: RegExp, label = 'expected an error'): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (!re.test(msg)) throw new AssertionError(`${label}: error message ${JSON.stringify(msg)} does not match ${re}`);
    return e as Error;
  }
  throw new AssertionError(`${label}: no error thrown (wanted ${re})`);
}

// Seeded random test data: the library's generator (mulberry32), under the names tests use.
export { createRng as rng, uniformArray as randomArray } from '../../src/data/rng.js';
