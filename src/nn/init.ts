// Weight initialisers, drawn on the host from a seeded generator so runs are reproducible:
// the same seed gives bit-identical initial weights in Node and in the browser.
//
// He (Kaiming) for layers followed by ReLU: Var(w) = 2 / fan_in (He et al. 2015).
// Glorot (Xavier) for linear/tanh/sigmoid layers: Var(w) = 2 / (fan_in + fan_out) (Glorot &
// Bengio 2010). Each comes as 'normal' or 'uniform' (uniform on [-a, a] with a = sqrt(3 Var)).
// fan_in / fan_out for HWIO conv weights [KH,KW,Cin,Cout]: KH*KW*Cin and KH*KW*Cout; for
// Linear [in,out]: in and out.

import { tensor, type Shape, type Tensor } from '../tensor/tensor.js';

/** Seeded generator: mulberry32 for uniforms, Box-Muller for normals. */
export class InitRng {
  private s: number;
  private spare: number | null = null;

  constructor(seed = 0) {
    this.s = seed >>> 0;
  }

  /** uniform in [0, 1) */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** standard normal */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const r = Math.sqrt(-2 * Math.log(u)),
      a = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }

  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** a fresh u32 seed (for GPU-side generators such as Dropout's) */
  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
}

/**
 * Weight initialiser: He (variance 2 / fanIn) or Glorot (variance 2 / (fanIn + fanOut)), normal or
 * uniform with that variance, or all zeros.
 */
export type InitKind = 'he-normal' | 'he-uniform' | 'glorot-normal' | 'glorot-uniform' | 'zeros';

/** fan_in and fan_out of a weight shape: [in,out] for Linear, [KH,KW,Cin,Cout] for conv. */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const recept = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: recept * shape[shape.length - 2], fanOut: recept * shape[shape.length - 1] };
}

/** Host values for an initialiser (float64 math, stored as f32). */
export function initValues(kind: InitKind, shape: Shape, rng: InitRng): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (kind === 'zeros') return out;
  const { fanIn, fanOut } = fans(shape);
  const variance = kind.startsWith('he') ? 2 / fanIn : 2 / (fanIn + fanOut);
  if (kind.endsWith('normal')) {
    const std = Math.sqrt(variance);
    for (let i = 0; i < n; i++) out[i] = std * rng.normal();
  } else {
    const a = Math.sqrt(3 * variance);
    for (let i = 0; i < n; i++) out[i] = (2 * rng.next() - 1) * a;
  }
  return out;
}

/** A new tensor initialised with `kind`. */
export function initTensor(kind: InitKind, shape: Shape, rng: InitRng): Tensor {
  return tensor(initValues(kind, shape, rng), shape);
}
