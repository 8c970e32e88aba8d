// A PNG encoder that runs in Node and in browsers (png.ts needs node:zlib): grey, grey+alpha,
// RGB or RGBA, 8 bits, no filtering, the zlib stream made of uncompressed ("stored") deflate
// blocks. Bigger files than png.ts writes, but every decoder must read them, which is all the
// picture-loading tests need (an encoder independent of the decoders under test).

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function be32(out: Uint8Array, at: number, v: number): void {
  new DataView(out.buffer, out.byteOffset).setUint32(at, v >>> 0);
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  be32(out, 0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  be32(out, 8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** zlib stream of stored deflate blocks (at most 65535 bytes each) with its Adler-32. */
function zlibStored(raw: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(raw.length / 65535));
  const out = new Uint8Array(2 + raw.length + 5 * blocks + 4);
  out[0] = 0x78;
  out[1] = 0x01;
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const part = raw.subarray(b * 65535, Math.min(raw.length, (b + 1) * 65535));
    out[o++] = b === blocks - 1 ? 1 : 0;
    out[o++] = part.length & 0xff;
    out[o++] = part.length >> 8;
    out[o++] = ~part.length & 0xff;
    out[o++] = (~part.length >> 8) & 0xff;
    out.set(part, o);
    o += part.length;
  }
  let a = 1,
    s = 0;
  for (const v of raw) (a = (a + v) % 65521), (s = (s + a) % 65521);
  be32(out, o, ((s << 16) | a) >>> 0);
  return out;
}

const COLOR_TYPE: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

/** PNG bytes of `pixels` (height rows of width pixels of `channels` bytes: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). */
export function encodePngStored(width: number, height: number, channels: number, pixels: Uint8Array): Uint8Array {
  return encodePngWith(width, height, channels, pixels, zlibStored, 'encodePngStored');
}

/** PNG bytes as encodePngStored, with the zlib stream made by `zlib` (png.ts passes node:zlib's deflate). */
export function encodePngWith(
  width: number,
  height: number,
  channels: number,
  pixels: Uint8Array,
  zlib: (raw: Uint8Array) => Uint8Array,
  where = 'encodePng',
): Uint8Array {
  if (pixels.length !== width * height * channels)
    throw new RangeError(`${where}: ${pixels.length} bytes for ${width}x${height}x${channels}`);
  const row = width * channels;
  const raw = new Uint8Array(height * (1 + row));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * row, (y + 1) * row), y * (1 + row) + 1);
  const ihdr = new Uint8Array(13);
  be32(ihdr, 0, width);
  be32(ihdr, 4, height);
  ihdr.set([8, COLOR_TYPE[channels], 0, 0, 0], 8);
  const parts = [
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib(raw)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}
