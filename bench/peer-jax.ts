// The jax-js peer: @jax-js/jax (a devDependency, exact version below) on its WebGPU backend.
//
// jax-js creates its OWN GPUDevice (init('webgpu') asks navigator.gpu for the adapter), so it
// runs on the same adapter as our engine but not on the same device: our timestamp bracket
// (timing.ts) cannot see its work. Its runs are therefore timed with the wall clock, and the
// runner times ours with the wall clock too before it computes the jax/ours ratio (runner.ts).
//
// jax-js arrays are lazy and reference-counted: every function takes ownership of its array
// arguments, `.ref` adds a reference, `data()` consumes one. A run builds the (possibly jitted)
// expression; `wait()` dispatches it and waits for it (blockUntilReady copies 0 bytes back).
// In Node there is no navigator: we point it at Dawn's GPU object (peer-tfjs.ts does the same)
// and give it a userAgent, which jax-js reads when its WebGPU module loads.

import type * as jaxNs from '@jax-js/jax';
import pkg from '../package.json';
import { ensureNavigatorGpu } from './peer-tfjs.js';
import type { Impl } from './types.js';

export type JAX = typeof jaxNs;
export type JaxArray = jaxNs.Array;

/** The jax-js version the benchmark runs (pinned exactly in package.json). */
export const JAX_VERSION: string = (pkg as { devDependencies: Record<string, string> }).devDependencies['@jax-js/jax'];

let started: JAX | null = null;

/** Start jax-js's WebGPU backend and make it the default device (once per page or process). */
export async function initJax(): Promise<JAX> {
  if (started) return started;
  ensureNavigatorGpu();
  const nav = globalThis.navigator as { userAgent?: string };
  if (typeof nav.userAgent !== 'string')
    Object.defineProperty(globalThis, 'navigator', {
      value: { ...nav, userAgent: `Node.js ${typeof process !== 'undefined' ? process.version : ''}` },
      configurable: true,
      writable: true,
    });
  const jax = await import('@jax-js/jax');
  const devices = await jax.init('webgpu');
  if (!devices.includes('webgpu'))
    throw new Error(`jax-js: no WebGPU backend (it started: ${devices.join(', ') || 'none'})`);
  jax.defaultDevice('webgpu');
  started = jax;
  return jax;
}

/** A float32 jax-js array on the WebGPU device. */
export function jaxArray(jax: JAX, data: Float32Array, shape: readonly number[]): JaxArray {
  return jax.numpy.array(data).reshape([...shape]);
}

/**
 * A peer Impl around a jax-js function of already-uploaded inputs. `fn` must not consume the
 * inputs (pass `x.ref`); it returns the output. `toOurs` converts a read-back output to our
 * layout (e.g. NCHW -> NHWC) for validation.
 */
export function jaxImpl(
  fn: () => JaxArray,
  inputs: JaxArray[],
  toOurs: (d: Float32Array) => Float32Array = (d) => d,
): Impl {
  let y: JaxArray | null = null;
  return {
    run() {
      y?.dispose();
      y = fn();
    },
    submit() {
      // jax-js dispatches lazily: wait() submits and waits.
    },
    async wait() {
      if (y) await y.blockUntilReady();
    },
    async read() {
      if (!y) throw new Error('jax-js peer: read() before run()');
      return toOurs((await y.ref.data()) as Float32Array);
    },
    dispose() {
      y?.dispose();
      y = null;
      for (const t of inputs) t.dispose();
    },
  };
}

/**
 * A 4-D array transposed: `d` has shape `shape`; output axis i is input axis perm[i]
 * (numpy's transpose(perm)).
 */
export function transpose4(
  d: Float32Array,
  shape: readonly number[],
  perm: readonly [number, number, number, number],
): Float32Array {
  const out = new Float32Array(d.length);
  const stride = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const [s0, s1, s2, s3] = perm.map((a) => stride[a]);
  const [n0, n1, n2, n3] = perm.map((a) => shape[a]);
  let o = 0;
  for (let i = 0; i < n0; i++)
    for (let j = 0; j < n1; j++)
      for (let k = 0; k < n2; k++) for (let l = 0; l < n3; l++) out[o++] = d[i * s0 + j * s1 + k * s2 + l * s3];
  return out;
}

/** Activations NHWC [n, h, w, c] -> NCHW (jax-js's layout), and back (shape given as NHWC). */
export const nhwcToNchw = (d: Float32Array, [n, h, w, c]: readonly number[]) =>
  transpose4(d, [n, h, w, c], [0, 3, 1, 2]);
export const nchwToNhwc = (d: Float32Array, [n, h, w, c]: readonly number[]) =>
  transpose4(d, [n, c, h, w], [0, 2, 3, 1]);

/** Conv weights HWIO [kh, kw, ci, co] -> OIHW [co, ci, kh, kw] (jax-js's layout), and back (shape given as HWIO). */
export const hwioToOihw = (d: Float32Array, [kh, kw, ci, co]: readonly number[]) =>
  transpose4(d, [kh, kw, ci, co], [3, 2, 0, 1]);
export const oihwToHwio = (d: Float32Array, [kh, kw, ci, co]: readonly number[]) =>
  transpose4(d, [co, ci, kh, kw], [2, 3, 1, 0]);
