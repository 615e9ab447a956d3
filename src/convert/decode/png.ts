// PNG (ISO/IEC 15948) → Picture. Gray, gray+alpha, RGB, RGBA, palette; 1..16 bits. Alpha is
// dropped (DICOM has no alpha channel); palettes expand to RGB; 1/2/4-bit gray scales to 8 bits.
import { convertIndexedToRgb, decode, type DecodedPng } from 'fast-png';
import { checkDimensions, convertError, type Picture } from '../picture.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && SIGNATURE.every((v, i) => b[i] === v);
}

export function decodePngPicture(file: string, buf: Uint8Array): Picture {
  if (!isPng(buf)) throw convertError('CONVERT_INPUT_INVALID', file, 'not a PNG file (bad signature)');
  if (buf.length < 33) throw convertError('CONVERT_INPUT_INVALID', file, 'PNG truncated before the IHDR chunk');
  // Read IHDR ourselves first so absurd sizes are refused before the decoder allocates them.
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const width = dv.getUint32(16);
  const height = dv.getUint32(20);
  checkDimensions(file, 'PNG image', [width, height], 8);
  let png: DecodedPng;
  try {
    png = decode(buf, { checkCrc: true });
  } catch (e) {
    throw convertError('CONVERT_INPUT_INVALID', file, `corrupt PNG (${(e as Error).message})`, e);
  }
  return fromDecoded(png);
}

function fromDecoded(png: DecodedPng): Picture {
  const { width, height } = png;
  const n = width * height;
  if (png.palette) {
    const rgbx = convertIndexedToRgb(png);
    const step = png.palette[0].length;
    return rgb8(width, height, dropAlpha(rgbx, n, step, 3));
  }
  const channels = png.channels;
  const color = channels >= 3;
  const out = color ? 3 : 1;
  if (png.depth === 16) {
    const src = png.data as Uint16Array;
    const bytes = new Uint8Array(n * out * 2);
    const dst = new DataView(bytes.buffer);
    for (let p = 0, o = 0; p < n; p++) {
      for (let c = 0; c < out; c++, o += 2) dst.setUint16(o, src[p * channels + c], true);
    }
    return { rows: height, columns: width, samplesPerPixel: color ? 3 : 1, bitsAllocated: 16, bitsStored: 16,
      photometric: color ? 'RGB' : 'MONOCHROME2', frames: 1, lossy: false, kind: 'native', pixels: bytes };
  }
  let data = png.data as Uint8Array;
  if (png.depth < 8) data = unpackGray(data, width, height, png.depth);
  const pixels = channels === out ? new Uint8Array(data.buffer, data.byteOffset, n * out) : dropAlpha(data, n, channels, out);
  return color ? rgb8(width, height, pixels) : { rows: height, columns: width, samplesPerPixel: 1, bitsAllocated: 8, bitsStored: 8,
    photometric: 'MONOCHROME2', frames: 1, lossy: false, kind: 'native', pixels };
}

function rgb8(width: number, height: number, pixels: Uint8Array): Picture {
  return { rows: height, columns: width, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, photometric: 'RGB',
    frames: 1, lossy: false, kind: 'native', pixels };
}

/** Keeps the first `keep` of every `step` samples. */
function dropAlpha(src: Uint8Array, n: number, step: number, keep: number): Uint8Array {
  const out = new Uint8Array(n * keep);
  for (let p = 0, o = 0; p < n; p++) for (let c = 0; c < keep; c++) out[o++] = src[p * step + c];
  return out;
}

/** 1/2/4-bit gray rows are packed MSB first and padded to a byte (PNG 7.2); scaled to 0..255. */
function unpackGray(src: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const max = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const v = (src[y * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & max;
      out[y * width + x] = Math.round((v * 255) / max);
    }
  }
  return out;
}
