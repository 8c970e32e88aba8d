// Node-only file helpers for the parsers (which themselves work on bytes, in browsers too).
// Node built-ins are imported lazily through variable specifiers, so browser bundles that
// include this module never try to resolve them.

import { parseIdx, type IdxArray } from './idx.js';
import { readSafetensors, type SafetensorsFile } from './safetensors.js';
import { FormatError } from './errors.js';

const NODE_FS = 'node:fs/promises';
const NODE_ZLIB = 'node:zlib';

/** Largest decompressed .gz we accept (all of MNIST's train images are 47 MB). */
export const MAX_GUNZIP_BYTES = 1 << 30;

async function readBytes(path: string): Promise<Uint8Array> {
  const fs = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
  const b = await fs.readFile(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Read an IDX file (gzip-compressed if its bytes start with the gzip magic, e.g. "*.gz"). */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes = await readBytes(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const zlib = (await import(/* @vite-ignore */ NODE_ZLIB)) as typeof import('node:zlib');
    try {
      const out = zlib.gunzipSync(bytes, { maxOutputLength: MAX_GUNZIP_BYTES });
      bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      throw new FormatError('idx', `${path}: gzip decompression failed (${(e as Error).message})`);
    }
  }
  return parseIdx(bytes);
}

/**
 * Read and parse a safetensors file (Node only). Rejects with a FormatError if the bytes are not valid
 * safetensors.
 */
export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  return readSafetensors(await readBytes(path));
}

/** Write `bytes` to the file `path` (Node only), replacing it if it exists. */
export async function writeBytesFile(path: string, bytes: Uint8Array): Promise<void> {
  const fs = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
  await fs.writeFile(path, bytes);
}
