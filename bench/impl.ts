// Helpers for writing cases: our Impl around an op, and inputs uploaded to both sides.

import { engine } from '../src/runtime/engine.js';
import { tensor, type Shape, type Tensor, type DType } from '../src/tensor/tensor.js';
import type { TF } from './peer-tfjs.js';
import type { Impl } from './types.js';

/**
 * Our Impl around an op call `fn` on already-uploaded inputs. `fn` returns the output to
 * validate, or [output, ...other tensors the run made] (e.g. saved indices). The previous run's
 * tensors are disposed on the next run (buffers return to the pool after the next submit), so
 * N runs recorded back to back use a bounded amount of memory.
 */
export function oursImpl(fn: () => Tensor | [Tensor, ...Tensor[]], inputs: Tensor[]): Impl {
  let y: Tensor | null = null;
  let made: Tensor[] = [];
  return {
    run() {
      for (const t of made) t.dispose();
      const r = fn();
      made = Array.isArray(r) ? r : [r];
      y = made[0];
    },
    submit() {
      engine().flush();
    },
    async read() {
      if (!y) throw new Error('bench: read() before run()');
      const data = await y.read();
      return data instanceof Float32Array ? data : Float32Array.from(data);
    },
    dispose() {
      for (const t of made) t.dispose();
      made = [];
      y = null;
      for (const t of inputs) t.dispose();
    },
  };
}

/** The same host data as our tensor and (when tfjs is on) a tfjs tensor. */
export function upload(
  tf: TF | null,
  data: Float32Array | Uint32Array | Int32Array,
  shape: Shape,
  dtype: DType = 'f32',
) {
  const ours = tensor(data, shape, dtype);
  const peer = tf ? tf.tensor(data, [...shape], dtype === 'f32' ? 'float32' : 'int32') : null;
  return { ours, peer };
}

/** "64x28x28x32" */
export function dims(shape: readonly number[]): string {
  return shape.join('x');
}
