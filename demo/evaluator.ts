// Rolling evaluation on the test split: each call classifies the next chunk of EVAL_CHUNK test
// digits (always that many, the last chunk padded with blank images: every batch size is a set
// of pipelines to compile, seconds each on a CPU adapter, so one size only), remembers every
// digit's latest prediction, and
// returns the confusion matrix and accuracy over the digits seen so far plus the chunk's first
// digits for the page's "latest test digits". Runs in the worker.

import { imageOf, PIXELS, type Split } from './mnist-data.js';
import { CLASSES } from './net-spec.js';
import { EVAL_CHUNK, type DemoModel } from './model-api.js';
import type { EvalResult } from './protocol.js';

/**
 * A paused page evaluates the first PAUSED_MIN digits of a pass, then goes on only if the rest
 * would take at most PAUSED_REST_MS of forward passes: 157 chunks of 64 digits are quick on a
 * GPU but take many seconds on a software adapter (SwiftShader) or the plain-JavaScript backend,
 * where they would keep the machine busy after every model change. The pass goes on while
 * training.
 */
const PAUSED_MIN = 2000;
const PAUSED_REST_MS = 5000;

export class Evaluator {
  private pred: Int8Array;
  /** digits classified since the last reset (a pass is complete at split.n) */
  cursor = 0;
  /** duration of the last chunk's forward pass */
  lastMs = 0;
  lastAt = 0;

  constructor(private split: Split) {
    this.pred = new Int8Array(split.n).fill(-1);
  }

  reset(): void {
    this.pred.fill(-1);
    this.cursor = 0;
  }

  get passDone(): boolean {
    return this.cursor >= this.split.n;
  }

  /** Whether a paused page should evaluate another chunk (see PAUSED_REST_MS). */
  get pausedWantsMore(): boolean {
    if (this.passDone) return false;
    if (this.cursor < PAUSED_MIN) return true;
    return Math.ceil((this.split.n - this.cursor) / EVAL_CHUNK) * this.lastMs <= PAUSED_REST_MS;
  }

  async chunk(model: DemoModel, step: number): Promise<EvalResult> {
    const t = this.split,
      start = this.cursor % t.n,
      n = Math.min(EVAL_CHUNK, t.n - start);
    const x = new Float32Array(EVAL_CHUNK * PIXELS); // rows n.. stay blank (padding)
    for (let i = 0; i < n; i++) imageOf(t, start + i, x, i * PIXELS);
    const t0 = performance.now();
    const probs = await model.predict(x, EVAL_CHUNK);
    this.lastMs = performance.now() - t0;
    this.lastAt = performance.now();
    const samples: EvalResult['samples'] = [];
    for (let i = 0; i < n; i++) {
      const p = probs.subarray(i * CLASSES, (i + 1) * CLASSES);
      let best = 0;
      for (let k = 1; k < CLASSES; k++) if (p[k] > p[best]) best = k;
      this.pred[start + i] = best;
      if (i < 12)
        samples.push({ image: x.slice(i * PIXELS, (i + 1) * PIXELS), label: t.labels[start + i], probs: p.slice() });
    }
    this.cursor += n;
    const confusion = new Int32Array(CLASSES * CLASSES);
    let evaluated = 0,
      correct = 0;
    for (let i = 0; i < t.n; i++)
      if (this.pred[i] >= 0) {
        evaluated++;
        confusion[t.labels[i] * CLASSES + this.pred[i]]++;
        if (this.pred[i] === t.labels[i]) correct++;
      }
    return { confusion, evaluated, total: t.n, accuracy: correct / Math.max(evaluated, 1), step, samples };
  }
}
