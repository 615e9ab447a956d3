// Decompressors for TIFF strips and tiles (TIFF 6.0 sections 9 and 13, Adobe deflate tech note).
import { inflateSync } from 'node:zlib';

/** LZW as TIFF uses it: MSB-first codes of 9..12 bits, Clear 256, EOI 257, and the "early change"
 *  (the width grows one code before the table fills, TIFF 6.0 section 13). Decodes at most
 *  `expected` bytes; a short result means the data was truncated. */
export function lzwDecode(src: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  // Each table entry is a span of the output: the string for a new code is the previous code's
  // string plus the first byte of the current one, which is exactly what follows it in the output.
  const offs = new Int32Array(4096);
  const lens = new Int32Array(4096);
  let o = 0;
  let width = 9;
  let next = 258;
  let prevStart = -1;
  let prevLen = 0;
  let bitBuf = 0;
  let bits = 0;
  let i = 0;
  while (o < expected) {
    while (bits < width && i < src.length) { bitBuf = ((bitBuf << 8) | src[i++]) & 0xffffff; bits += 8; }
    if (bits < width) break;
    const code = (bitBuf >>> (bits - width)) & ((1 << width) - 1);
    bits -= width;
    if (code === 257) break;
    if (code === 256) { width = 9; next = 258; prevStart = -1; continue; }
    const start = o;
    if (code < 256) {
      out[o++] = code;
    } else if (code < next && prevStart >= 0) {
      const from = offs[code];
      for (let k = 0; k < lens[code] && o < expected; k++) out[o++] = out[from + k];
    } else if (code === next && prevStart >= 0) {
      for (let k = 0; k < prevLen && o < expected; k++) out[o++] = out[prevStart + k];
      if (o < expected) out[o++] = out[prevStart];
    } else {
      throw new Error(`bad LZW code ${code} before byte ${i}`);
    }
    if (prevStart >= 0 && next < 4096) {
      offs[next] = prevStart;
      lens[next] = prevLen + 1;
      next++;
      if (next + 1 === 1 << width && width < 12) width++;
    }
    prevStart = start;
    prevLen = o - start;
  }
  return o === expected ? out : out.subarray(0, o);
}

/** Apple PackBits run-length coding (TIFF 6.0 section 9). */
export function packBitsDecode(src: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  let o = 0;
  let i = 0;
  while (i < src.length && o < expected) {
    const n = (src[i++] << 24) >> 24;
    if (n >= 0) {
      for (let k = 0; k <= n && i < src.length && o < expected; k++) out[o++] = src[i++];
    } else if (n !== -128) {
      const v = src[i++];
      for (let k = 0; k < 1 - n && o < expected; k++) out[o++] = v;
    }
  }
  return o === expected ? out : out.subarray(0, o);
}

/** Compression 8 (Adobe deflate) and 32946 (old deflate) are both zlib streams. */
export function deflateDecode(src: Uint8Array): Uint8Array {
  return inflateSync(src);
}
