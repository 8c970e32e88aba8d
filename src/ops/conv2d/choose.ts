// Which conv2d kernel runs each pass: the declarations read by chooseKernel (the rule, in
// runtime/select.ts), the autotuner (tune.ts), the benchmark and the tests.
//
// Three kernels per pass (forward, inputGrad, weightGrad):
//   tiled   shared-memory implicit GEMMs (shaders/conv2d/tiled_*.wgsl), any geometry, with a
//           tile shape TMxTNxTK ('tiled' alone: the remembered tiles, else the default)
//   direct  register-blocked direct convolution with quad-shared operands, no shared memory,
//           no barriers (shaders/conv2d/direct*.wgsl): 3-4x faster on CPU adapters. Needs the
//           'subgroups' feature and filters up to 5x5; the input gradient also stride 1.
//   quick   small loops, geometry as uniforms (shaders/conv2d/quick.wgsl): compiles in tens
//           of milliseconds, runs several times slower; the first steps of a tiered start
//           (the family's `quick` kernel, runtime/select.ts withQuickKernels)
// Defaults: direct on CPU adapters where it applies, else tiled; tiled on GPUs (their tile
// shapes were chosen on a CPU adapter: no GPU measurements yet).
//
// x: [N,H,W,C]  w: [KH,KW,C,O]  y: [N,OH,OW,O]

import type { Engine } from '../../runtime/engine.js';
import { chooseKernel, tunedKernel, type KernelFamily } from '../../runtime/select.js';
import type { ConvGeometry } from './geometry.js';
import { checkTiles, pickTiles, type ConvTiles } from './tiled.js';
import { directForwardConfig, directInputGradConfig, directWeightGradConfig } from './direct.js';

/**
 * The three convolutions of a conv2d layer, each with its own kernel choice: the forward pass, the
 * input gradient and the weight gradient.
 */
export type Conv2dPass = 'forward' | 'inputGrad' | 'weightGrad';
export const CONV2D_PASSES: readonly Conv2dPass[] = ['forward', 'inputGrad', 'weightGrad'];

/** A kernel for one pass. `tiles` absent: the remembered tiles for the problem, else the default. */
export type Conv2dKernel = { variant: 'direct' } | { variant: 'quick' } | { variant: 'tiled'; tiles?: ConvTiles };

/** An op's `kernel` option: 'auto', 'tiled', 'direct', 'quick' or 'tiled:TMxTNxTK'. */
export type Conv2dKernelChoice = 'auto' | 'tiled' | 'direct' | 'quick' | `tiled:${number}x${number}x${number}`;

/** Tile shapes the autotuner tries besides the pass's default. */
const TILE_CANDIDATES: ConvTiles[] = [
  { TM: 32, TN: 32, TK: 16 },
  { TM: 64, TN: 32, TK: 16 },
  { TM: 64, TN: 64, TK: 16 },
  { TM: 128, TN: 64, TK: 16 },
  { TM: 128, TN: 128, TK: 8 },
];

/** The tiled kernels' default tile shape: by the GEMM's output columns (C for inputGrad, else O). */
export function defaultConv2dTiles(g: ConvGeometry, pass: Conv2dPass): ConvTiles {
  return pickTiles(pass === 'inputGrad' ? g.C : g.O);
}

export function formatConv2dKernel(k: Conv2dKernel): string {
  if (k.variant !== 'tiled') return k.variant;
  return k.tiles ? `tiled:${k.tiles.TM}x${k.tiles.TN}x${k.tiles.TK}` : 'tiled';
}

export function parseConv2dKernel(s: string): Conv2dKernel | null {
  if (s === 'direct') return { variant: 'direct' };
  if (s === 'quick') return { variant: 'quick' };
  if (s === 'tiled') return { variant: 'tiled' };
  const m = /^tiled:(\d+)x(\d+)x(\d+)$/.exec(s);
  return m ? { variant: 'tiled', tiles: { TM: +m[1], TN: +m[2], TK: +m[3] } } : null;
}

/** Why the direct kernel cannot run this pass of g on e, or null. */
function directProblem(g: ConvGeometry, pass: Conv2dPass, e: Engine): string | null {
  if (!e.features.has('subgroups')) return "needs the 'subgroups' feature";
  if (pass === 'inputGrad' && (g.sh !== 1 || g.sw !== 1)) return 'the input gradient needs stride 1';
  const cfg =
    pass === 'forward'
      ? directForwardConfig(g)
      : pass === 'inputGrad'
        ? directInputGradConfig(g)
        : directWeightGradConfig(g);
  return cfg
    ? null
    : `cannot unroll a ${g.KH}x${g.KW} filter with this stride and dilation (up to 5x5, 16-pixel strips)`;
}

function family(pass: Conv2dPass): KernelFamily<ConvGeometry, Conv2dKernel> {
  const tiled = (g: ConvGeometry): Conv2dKernel => ({ variant: 'tiled', tiles: defaultConv2dTiles(g, pass) });
  return {
    name: `conv2d.${pass}`,
    candidates: (g) => [
      tiled(g),
      { variant: 'direct' },
      { variant: 'quick' },
      ...TILE_CANDIDATES.map((tiles) => ({ variant: 'tiled' as const, tiles })),
    ],
    problem(k, g, e) {
      if (k.variant === 'direct') return directProblem(g, pass, e);
      if (k.variant === 'quick' || !k.tiles) return null;
      try {
        checkTiles(k.tiles);
        return null;
      } catch (err) {
        return (err as Error).message;
      }
    },
    defaults: {
      cpu: (g, e) => (directProblem(g, pass, e) === null ? { variant: 'direct' } : tiled(g)),
      gpu: tiled,
    },
    quick: () => ({ variant: 'quick' }),
    key: (g) =>
      `conv2d|${pass}|${g.N}x${g.H}x${g.W}x${g.C}>${g.O}|k${g.KH}x${g.KW}|s${g.sh}x${g.sw}|d${g.dh}x${g.dw}|p${g.pt}x${g.pl}`,
    format: formatConv2dKernel,
    parse: parseConv2dKernel,
  };
}

/** The three families, by pass. */
export const CONV2D: { readonly [P in Conv2dPass]: KernelFamily<ConvGeometry, Conv2dKernel> } = {
  forward: family('forward'),
  inputGrad: family('inputGrad'),
  weightGrad: family('weightGrad'),
};

/** The kernel that runs `pass` of g, with its tiles resolved when tiled. */
export function conv2dKernelFor(g: ConvGeometry, pass: Conv2dPass, requested?: Conv2dKernelChoice): Conv2dKernel {
  return withTiles(chooseKernel(CONV2D[pass], g, requested), g, pass);
}

/** k, with a tiled kernel's missing tiles ('tiled' alone) resolved to the remembered or default ones. */
export function withTiles(k: Conv2dKernel, g: ConvGeometry, pass: Conv2dPass): Conv2dKernel {
  return k.variant === 'tiled' && !k.tiles ? { variant: 'tiled', tiles: conv2dTilesFor(g, pass) } : k;
}

/** Tiles the tiled kernel uses for this pass of g: the remembered ones, else the default. */
export function conv2dTilesFor(g: ConvGeometry, pass: Conv2dPass): ConvTiles {
  const t = tunedKernel(CONV2D[pass], g);
  return t?.variant === 'tiled' && t.tiles ? t.tiles : defaultConv2dTiles(g, pass);
}
