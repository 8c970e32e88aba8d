// The speed comparison behind the page's "Compare speed" button: the same network trained for a
// few seconds on WebGPU and in plain JavaScript, on real (augmented) batches. Runs in the worker.

import { Batcher, PIXELS, type Mnist } from './mnist-data.js';
import { randomMatrices } from './augment.js';
import { CpuModel } from './cpu-net.js';
import { warpCpu, type GpuBackend } from './engine-adapter.js';
import { mulberry32, type NetSpec } from './net-spec.js';
import type { Replies, TrainSettings } from './protocol.js';

const now = () => performance.now();

/**
 * Training throughput of the current network on each backend: a throwaway copy of the model
 * trains on real batches (augmented like the real run) for about `ms` after one warm-up step
 * (pipeline compilation), timed to the last loss readback.
 */
export async function benchmark(
  spec: NetSpec,
  data: Mnist,
  settings: TrainSettings,
  gpu: GpuBackend | null,
  batch: number,
  ms: number,
): Promise<Replies['benchmark']['results']> {
  const out: Replies['benchmark']['results'] = [];
  const b = new Batcher(data.train, 99),
    rand = mulberry32(99);
  const x = new Float32Array(batch * PIXELS),
    y = new Uint32Array(batch);
  for (const backend of ['webgpu', 'cpu'] as const) {
    if (backend === 'webgpu' && !gpu) continue;
    const m = backend === 'webgpu' ? gpu!.createModel(spec, 1) : new CpuModel(spec, 1);
    try {
      m.setHyper(settings.hyper);
      const one = async () => {
        b.next(batch, x, y);
        const mats = settings.augment ? randomMatrices(batch, rand, settings.augmentOptions).matrices : null;
        if (mats && !m.augmentsOnGpu) await m.trainStep(warpCpu(x, batch, mats), y, batch);
        else await m.trainStep(x, y, batch, mats);
      };
      await one();
      await m.takeStats();
      let steps = 0;
      const t0 = now();
      while (now() - t0 < ms || steps < 2) {
        await one();
        steps++;
        if (steps % 4 === 0) await m.takeStats(); // wait for the GPU now and then
      }
      await m.takeStats();
      out.push({ backend, imagesPerSec: (steps * batch * 1000) / (now() - t0), steps });
    } finally {
      m.dispose();
    }
  }
  return out;
}
