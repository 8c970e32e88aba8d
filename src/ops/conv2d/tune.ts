// conv2d autotuning: time the candidates that choose.ts declares for one pass of one geometry
// (the direct kernel where it applies, the tiled kernel with a few tile shapes) and remember
// the fastest (runtime/autotune.ts persists it: IndexedDB in browsers, a file in Node).
// Explicit and async, because ops are synchronous: call it once before training, or let
// tuneConv2dIn find the passes a training step runs. Afterwards the op's 'auto' kernel follows
// the remembered choice (runtime/select.ts), in this process and in later ones.
//
// Every candidate is validated before it is timed: on data in {-1, 0, 1} every sum is an
// integer below 2^24, exact in f32 in any order (split-K partial sums too), so each kernel must
// reproduce the default tiled kernel's result bit for bit. One that does not is reported and
// never chosen.

import { engine } from '../../runtime/engine.js';
import { loadTuning, remember, ternary, validateAndTime, type CandidateTiming } from '../../runtime/autotune.js';
import { recordProblems, runnableCandidates, tunedKernel, tuneKeyOf } from '../../runtime/select.js';
import { tensor, type Shape, type Tensor } from '../../tensor/tensor.js';
import { convGeometry, type Conv2dGeomOptions, type ConvGeometry } from './geometry.js';
import {
  CONV2D,
  CONV2D_PASSES,
  defaultConv2dTiles,
  formatConv2dKernel,
  parseConv2dKernel,
  type Conv2dKernel,
  type Conv2dPass,
} from './choose.js';
import { runConv2dPass } from './index.js';

export interface TuneConv2dOptions extends Conv2dGeomOptions {
  /** passes to tune (default all three) */
  passes?: Conv2dPass[];
  /** timed samples per candidate (median; default 5) */
  samples?: number;
  /** time again even if a choice is remembered */
  force?: boolean;
  /**
   * kernels to try besides the pass's default tiled kernel (the reference), as 'direct' or
   * 'tiled:TMxTNxTK'; default: the family's candidates. Those that cannot run here are skipped.
   */
  candidates?: string[];
}

/**
 * Result of {@link tuneConv2d} for one pass: the tuning key, the chosen kernel, whether it was
 * remembered rather than timed, and each candidate's timing.
 */
export interface TuneConv2dResult {
  key: string;
  pass: Conv2dPass;
  /** the choice: 'direct' or 'tiled:TMxTNxTK' */
  kernel: string;
  /** true when the choice was remembered and nothing was timed */
  cached: boolean;
  /** per candidate: median ms, or why it was rejected */
  timings: CandidateTiming[];
}

/** The candidates for one pass that can run here: the default tiled kernel first (the reference), then the rest. */
function candidatesFor(g: ConvGeometry, pass: Conv2dPass, names?: string[]): Conv2dKernel[] {
  const reference: Conv2dKernel = { variant: 'tiled', tiles: defaultConv2dTiles(g, pass) };
  if (!names) return runnableCandidates(CONV2D[pass], g);
  const asked = names.map((n) => {
    const k = parseConv2dKernel(n);
    if (!k || (k.variant === 'tiled' && !k.tiles))
      throw new TypeError(
        `webgpu-cnn: tuneConv2d: candidate ${JSON.stringify(n)} is not 'direct', 'quick' or 'tiled:TMxTNxTK'`,
      );
    return k;
  });
  const family = { ...CONV2D[pass], candidates: () => [reference, ...asked] };
  return runnableCandidates(family, g);
}

async function tunePass(g: ConvGeometry, pass: Conv2dPass, opts: TuneConv2dOptions): Promise<TuneConv2dResult> {
  const e = engine();
  const key = tuneKeyOf(CONV2D[pass], g, e);
  const known = tunedKernel(CONV2D[pass], g, e);
  if (known && !opts.force) return { key, pass, kernel: formatConv2dKernel(known), cached: true, timings: [] };
  const list = candidatesFor(g, pass, opts.candidates);
  const x = tensor(ternary(g.N * g.H * g.W * g.C, 1), [g.N, g.H, g.W, g.C]);
  const w = tensor(ternary(g.KH * g.KW * g.C * g.O, 2), [g.KH, g.KW, g.C, g.O]);
  const dy = tensor(ternary(g.N * g.OH * g.OW * g.O, 3), [g.N, g.OH, g.OW, g.O]);
  const run = (k: Conv2dKernel): Tensor => runConv2dPass(k, pass, g, x, w, dy);
  let result: { timings: CandidateTiming[]; best: Conv2dKernel | null };
  try {
    // the default tiled kernel (list[0]) is the reference: it always validates, so best is set
    result = await validateAndTime(e, list[0], list, run, formatConv2dKernel, opts.samples ?? 5);
  } finally {
    for (const t of [x, w, dy]) t.dispose();
  }
  const kernel = formatConv2dKernel(result.best!);
  await remember(key, kernel);
  return { key, pass, kernel, cached: false, timings: result.timings };
}

/**
 * Pick (and remember) the fastest kernel for each pass of conv2d(x, w, opts) on this device:
 * x [N,H,W,C], w [KH,KW,C,O], the geometry options of conv2d (padding, stride, dilation).
 */
export async function tuneConv2d(
  xShape: Shape,
  wShape: Shape,
  opts: TuneConv2dOptions = {},
): Promise<TuneConv2dResult[]> {
  await loadTuning();
  const g = convGeometry('tuneConv2d', xShape, wShape, opts, { x: 'xShape', w: 'wShape' });
  const passes = opts.passes ?? CONV2D_PASSES;
  for (const p of passes)
    if (!CONV2D_PASSES.includes(p))
      throw new TypeError(
        `webgpu-cnn: tuneConv2d: 'passes' may hold ${CONV2D_PASSES.map((q) => `'${q}'`).join(', ')}, got ${JSON.stringify(p)}`,
      );
  const out: TuneConv2dResult[] = [];
  for (const pass of passes) out.push(await tunePass(g, pass, opts));
  return out;
}

/** Run `f` (e.g. one training step), then tune every conv2d pass it ran (forward and backward). */
export async function tuneConv2dIn(
  f: () => unknown,
  opts: Pick<TuneConv2dOptions, 'samples' | 'force' | 'candidates'> = {},
): Promise<TuneConv2dResult[]> {
  await loadTuning();
  // each pass is its own family: record all three around one run of f
  let dx: ConvGeometry[] = [],
    dw: ConvGeometry[] = [];
  const fwd = await recordProblems(CONV2D.forward, async () => {
    dx = await recordProblems(CONV2D.inputGrad, async () => {
      dw = await recordProblems(CONV2D.weightGrad, f);
    });
  });
  const seen = [
    ...fwd.map((g) => ({ g, pass: 'forward' as const })),
    ...dx.map((g) => ({ g, pass: 'inputGrad' as const })),
    ...dw.map((g) => ({ g, pass: 'weightGrad' as const })),
  ];
  const out: TuneConv2dResult[] = [];
  for (const { g, pass } of seen) out.push(await tunePass(g, pass, opts));
  return out;
}
