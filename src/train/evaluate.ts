// Evaluation of a classifier on a dataset: mean cross-entropy and accuracy, computed on the
// GPU per batch (one readback of two numbers per batch). Full batches run a captured
// forward pass (src/autograd/capture.ts) replayed batch after batch; a smaller last batch runs
// uncaptured. The model is in evaluation mode while this runs and its mode is restored after.

import { empty, tensor, type Tensor } from '../tensor/tensor.js';
import { keep, scope } from '../tensor/scope.js';
import {
  capture,
  compileSpecs,
  planPipelines,
  type CapturedPlan,
  type PrepareInfo,
  type PrepareOptions,
} from '../autograd/capture.js';
import { accuracy, softmaxCrossEntropy } from '../ops/loss/index.js';
import { batches, type Normalization } from '../data/batch.js';
import type { ImageDataset } from '../data/dataset.js';
import type { Module } from '../nn/module.js';
import { checkOptions, optionKeys } from '../tensor/args.js';
import { checkLabeledDataset, checkModel, checkPositiveInt } from './args.js';

/**
 * Result of an evaluation: mean cross-entropy loss per sample, fraction of correct predictions (in [0,
 * 1]) and the number of samples.
 */
export interface EvalResult {
  loss: number;
  accuracy: number;
  count: number;
}

/**
 * Options of {@link Evaluator}: samples per batch (default 500) and normalisation. Unknown keys throw
 * a TypeError.
 */
export interface EvaluatorOptions {
  batchSize?: number;
  /** as for batches(): default the evaluated dataset's `normalization` (none if absent) */
  normalize?: Normalization | false;
}

/** Loss and accuracy of `model` over datasets of one image size, with a reusable captured plan. */
export class Evaluator {
  private x: Tensor | null = null;
  private labels: Tensor | null = null;
  private plan: CapturedPlan<[Tensor, Tensor]> | null = null;
  readonly batchSize: number;

  constructor(
    readonly model: Module,
    readonly opts: EvaluatorOptions = {},
  ) {
    checkModel('Evaluator', model);
    checkOptions('Evaluator', 'opts', opts, optionKeys<EvaluatorOptions>({ batchSize: true, normalize: true }));
    this.batchSize = checkPositiveInt('Evaluator', 'batchSize', opts.batchSize ?? 500);
  }

  /** [mean loss, accuracy] of one batch, as GPU scalars. */
  private metrics(x: Tensor, labels: Tensor): [Tensor, Tensor] {
    const logits = this.model.forward(x);
    return [softmaxCrossEntropy(logits, labels), accuracy(logits, labels)];
  }

  /**
   * Compile, concurrently, the pipelines of evaluating images of `dims` ([H, W, C]) in full
   * batches (cold start; see TrainStep.prepare). The model is planned in evaluation mode.
   */
  async prepare(dims: readonly [number, number, number], opts: PrepareOptions = {}): Promise<PrepareInfo> {
    const t0 = performance.now();
    const wasTraining = this.model.training;
    this.model.eval();
    let specs: ReturnType<typeof planPipelines>;
    try {
      specs = planPipelines(() => this.metrics(empty([this.batchSize, ...dims]), empty([this.batchSize], 'u32')));
    } finally {
      this.model.train(wasTraining); // restored before anything else can run
    }
    return compileSpecs(specs, t0, opts);
  }

  async evaluate(ds: ImageDataset): Promise<EvalResult> {
    checkLabeledDataset('Evaluator.evaluate', 'ds', ds, this.model); // labels in range before any upload
    const wasTraining = this.model.training;
    this.model.eval();
    let lossSum = 0,
      hitSum = 0;
    try {
      const B = this.batchSize,
        dims = [ds.height, ds.width, ds.channels];
      for (const b of batches(ds, { batchSize: B, shuffle: false, normalize: this.opts.normalize, reuse: true })) {
        let out: [Tensor, Tensor],
          owned = false;
        if (b.size === B) {
          if (!this.x) {
            this.x = keep(empty([B, ...dims]));
            this.labels = keep(empty([B], 'u32'));
          }
          const x = this.x,
            labels = this.labels!;
          x.write(b.images);
          labels.write(b.labels);
          if (!this.plan)
            this.plan = capture(() => this.metrics(x, labels), {
              uses: [x, labels, ...this.model.stateDict().values()],
            });
          else this.plan.run();
          out = this.plan.result;
        } else {
          out = scope(() => this.metrics(tensor(b.images, [b.size, ...dims]), tensor(b.labels, [b.size], 'u32')));
          owned = true;
        }
        const [loss, acc] = await Promise.all(out.map((t) => t.read()));
        if (owned) out.forEach((t) => t.dispose());
        lossSum += loss[0] * b.size;
        hitSum += acc[0] * b.size;
      }
    } finally {
      this.model.train(wasTraining);
    }
    return { loss: lossSum / ds.count, accuracy: hitSum / ds.count, count: ds.count };
  }

  dispose(): void {
    this.plan?.dispose();
    this.x?.dispose();
    this.labels?.dispose();
  }
}
