// conv2d autotuning: time the kernels that can run one pass of one geometry on this device
// (the direct kernel where it runs, the tiled kernel with a few tile shapes) and remember the
// fastest (runtime/autotune.ts persists it: IndexedDB in browsers, a file in Node). Explicit and
// async, because ops are synchronous: call it once before training, or let tuneConv2dIn find
// the passes a training step runs. Afterwards conv2d and its backward passes follow the
// remembered choice under 'auto' (conv2d_variants.ts), in this process and in later ones.
//
// Every candidate is validated before it is timed: on data in {-1, 0, 1} every sum is an
// integer below 2^24, exact in f32 in any order (split-K partial sums too), so each kernel must
// reproduce the default tiled kernel's result bit for bit. One that does not is reported and
// never chosen.

import { engine } from '../runtime/engine.js';
import { loadTuning, remember, ternary, validateAndTime, type CandidateTiming } from '../runtime/autotune.js';
import { tensor, type Shape, type Tensor } from '../tensor/tensor.js';
import { convGeometry, type Conv2dGeomOptions, type ConvGeometry } from './conv2d_geometry.js';
import { conv2dForwardGeom } from './conv2d.js';
import { backwardInputGeom, backwardWeightGeom } from './conv2d_backward.js';
import { directForward, directInputGrad } from './conv2d_direct.js';
import { directWeightGrad } from './conv2d_direct_dw.js';
import type { ConvTiles } from './conv2d_tiles.js';
import {
  conv2dKernelRuns, conv2dTuneKey, conv2dVariantsFor, defaultConv2dTiles, formatConv2dKernel, parseConv2dKernel, recordConv2dPasses,
  tunedConv2d, type Conv2dKernel, type Conv2dPass,
} from './conv2d_variants.js';

export interface TuneConv2dOptions extends Conv2dGeomOptions {
  /** passes to tune (default all three) */
  passes?: Conv2dPass[];
  /** timed samples per candidate (median; default 5) */
  samples?: number;
  /** time again even if a choice is remembered */
  force?: boolean;
  /**
   * kernels to try besides the pass's default tiled kernel (the reference), as 'direct' or
   * 'tiled:TMxTNxTK'; default: direct where it runs and a few tile shapes. Those that cannot
   * run here are skipped.
   */
  candidates?: string[];
}

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

/** Tile shapes tried besides the pass's default (those the device cannot run are skipped). */
const TILE_CANDIDATES: ConvTiles[] = [
  { TM: 32, TN: 32, TK: 16 },
  { TM: 64, TN: 32, TK: 16 },
  { TM: 64, TN: 64, TK: 16 },
  { TM: 128, TN: 64, TK: 16 },
  { TM: 128, TN: 128, TK: 8 },
];

const PASSES: Conv2dPass[] = ['forward', 'inputGrad', 'weightGrad'];

/** The candidates for one pass that can run here: the default tiled kernel first (the reference), then the rest. */
function candidates(g: ConvGeometry, pass: Conv2dPass, names?: string[]): Conv2dKernel[] {
  const seen = new Set<string>();
  const out: Conv2dKernel[] = [];
  const add = (k: Conv2dKernel) => {
    const name = formatConv2dKernel(k);
    if (!seen.has(name) && conv2dKernelRuns(k, g, pass)) seen.add(name), out.push(k);
  };
  add({ variant: 'tiled', tiles: defaultConv2dTiles(g, pass) });
  if (names) {
    for (const n of names) {
      const k = parseConv2dKernel(n);
      if (!k) throw new TypeError(`webgpu-cnn: tuneConv2d: candidate ${JSON.stringify(n)} is not 'direct' or 'tiled:TMxTNxTK'`);
      add(k);
    }
    return out;
  }
  if (conv2dVariantsFor(g, pass).includes('direct')) add({ variant: 'direct' });
  for (const tiles of TILE_CANDIDATES) add({ variant: 'tiled', tiles });
  return out;
}

/** One run of kernel k for this pass; returns the tensor it computed. */
function runner(g: ConvGeometry, pass: Conv2dPass, x: Tensor, w: Tensor, dy: Tensor): (k: Conv2dKernel) => Tensor {
  return (k) => {
    if (pass === 'forward') return k.variant === 'direct' ? directForward(x, w, g, undefined, false) : conv2dForwardGeom(x, w, g, undefined, false, k.tiles);
    if (pass === 'inputGrad') return k.variant === 'direct' ? directInputGrad(dy, w, g) : backwardInputGeom(dy, w, g, undefined, k.tiles);
    return (k.variant === 'direct' ? directWeightGrad(x, dy, g, false) : backwardWeightGeom(x, dy, g, false, undefined, k.tiles)).dw;
  };
}

async function tunePass(g: ConvGeometry, pass: Conv2dPass, opts: TuneConv2dOptions): Promise<TuneConv2dResult> {
  const e = engine();
  const key = conv2dTuneKey(g, pass);
  const known = tunedConv2d(g, pass);
  if (known && !opts.force) return { key, pass, kernel: formatConv2dKernel(known), cached: true, timings: [] };
  const list = candidates(g, pass, opts.candidates);
  const x = tensor(ternary(g.N * g.H * g.W * g.C, 1), [g.N, g.H, g.W, g.C]);
  const w = tensor(ternary(g.KH * g.KW * g.C * g.O, 2), [g.KH, g.KW, g.C, g.O]);
  const dy = tensor(ternary(g.N * g.OH * g.OW * g.O, 3), [g.N, g.OH, g.OW, g.O]);
  const run = runner(g, pass, x, w, dy);
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
export async function tuneConv2d(xShape: Shape, wShape: Shape, opts: TuneConv2dOptions = {}): Promise<TuneConv2dResult[]> {
  await loadTuning();
  const g = convGeometry('tuneConv2d', xShape, wShape, opts, { x: 'xShape', w: 'wShape' });
  const passes = opts.passes ?? PASSES;
  for (const p of passes)
    if (!PASSES.includes(p)) throw new TypeError(`webgpu-cnn: tuneConv2d: 'passes' may hold ${PASSES.map((q) => `'${q}'`).join(', ')}, got ${JSON.stringify(p)}`);
  const out: TuneConv2dResult[] = [];
  for (const pass of passes) out.push(await tunePass(g, pass, opts));
  return out;
}

/** Run `f` (e.g. one training step), then tune every conv2d pass it ran (forward and backward). */
export async function tuneConv2dIn(f: () => unknown, opts: Pick<TuneConv2dOptions, 'samples' | 'force' | 'candidates'> = {}): Promise<TuneConv2dResult[]> {
  await loadTuning();
  const out: TuneConv2dResult[] = [];
  for (const { g, pass } of await recordConv2dPasses(f)) out.push(await tunePass(g, pass, opts));
  return out;
}

