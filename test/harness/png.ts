// A minimal PNG encoder (8-bit RGB, no filtering, one zlib stream) for tests that need picture
// files: node:zlib deflates; the chunks and CRC-32 are png-stored.ts's. Decoders (browsers,
// fast-png) read it.

import { deflateSync } from 'node:zlib';
import { encodePngWith } from './png-stored.js';

/** PNG bytes of an RGB image: `rgb` holds width*height*3 bytes, row by row. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  const png = encodePngWith(width, height, 3, rgb, (raw) => deflateSync(raw));
  return Buffer.from(png.buffer, png.byteOffset, png.byteLength);
}
