// JPEG (ISO/IEC 10918-1) → Picture. Baseline 8-bit (SOF0, 1 or 3 components) is embedded as it
// came, as JPEG Baseline (Process 1) encapsulated pixel data: re-encoding would lose quality a
// second time. Other 8-bit Huffman processes (extended, progressive) are decoded and stored native.
import jpeg from 'jpeg-js';
import { checkDimensions, convertError, type Photometric, type Picture } from '../picture.ts';

export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

interface JpegFrameInfo {
  sof: number; // marker second byte: 0xC0 baseline, 0xC1 extended, 0xC2 progressive, ...
  precision: number;
  rows: number;
  columns: number;
  sampling: number[]; // (H << 4 | V) per component
  componentIds: number[];
  adobeTransform: number | undefined;
  /** Start of the first SOS segment. */
  scanStart: number;
}

/** Walks the marker segments up to the first scan (B.2). */
function readFrameInfo(file: string, b: Uint8Array): JpegFrameInfo {
  let pos = 2;
  let info: Partial<JpegFrameInfo> = { adobeTransform: undefined };
  for (;;) {
    if (pos + 4 > b.length) throw convertError('CONVERT_INPUT_INVALID', file, `JPEG truncated in the header at offset ${pos}`);
    if (b[pos] !== 0xff) throw convertError('CONVERT_INPUT_INVALID', file, `JPEG marker expected at offset ${pos}`);
    const marker = b[pos + 1];
    if (marker === 0xff) { pos++; continue; } // fill byte (B.1.1.2)
    const len = (b[pos + 2] << 8) | b[pos + 3];
    if (len < 2 || pos + 2 + len > b.length) throw convertError('CONVERT_INPUT_INVALID', file, `JPEG segment at offset ${pos} runs past the end`);
    const seg = pos + 4;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const n = b[seg + 5];
      info = { ...info, sof: marker, precision: b[seg], rows: (b[seg + 1] << 8) | b[seg + 2], columns: (b[seg + 3] << 8) | b[seg + 4],
        componentIds: [], sampling: [] };
      for (let c = 0; c < n; c++) {
        info.componentIds!.push(b[seg + 6 + c * 3]);
        info.sampling!.push(b[seg + 7 + c * 3]);
      }
    } else if (marker === 0xee && len >= 14 && String.fromCharCode(...b.subarray(seg, seg + 5)) === 'Adobe') {
      info.adobeTransform = b[seg + 11];
    } else if (marker === 0xda) {
      if (info.sof === undefined) throw convertError('CONVERT_INPUT_INVALID', file, 'JPEG scan before any frame header');
      return { ...(info as JpegFrameInfo), scanStart: pos };
    } else if (marker === 0xd9) {
      throw convertError('CONVERT_INPUT_INVALID', file, 'JPEG ends before any scan');
    }
    pos += 2 + len;
  }
}

export function decodeJpegPicture(file: string, b: Uint8Array): Picture {
  if (!isJpeg(b)) throw convertError('CONVERT_INPUT_INVALID', file, 'not a JPEG file (no SOI marker)');
  const info = readFrameInfo(file, b);
  if (info.rows === 0) throw convertError('CONVERT_UNSUPPORTED', file, 'JPEG with the height in a DNL marker');
  checkDimensions(file, 'JPEG image', [info.columns, info.rows], 4);
  const arithmetic = info.sof >= 0xc9;
  const lossless = info.sof === 0xc3 || info.sof === 0xc7 || info.sof === 0xcb || info.sof === 0xcf;
  if (arithmetic || lossless || info.precision !== 8 || info.sof === 0xc5 || info.sof === 0xc6) {
    const what = lossless ? 'lossless' : arithmetic ? 'arithmetic-coded' : info.precision !== 8 ? `${info.precision}-bit` : 'hierarchical';
    throw convertError('CONVERT_UNSUPPORTED', file, `${what} JPEG (SOF marker FF${info.sof.toString(16).toUpperCase()})`);
  }
  const n = info.componentIds.length;
  if (info.sof === 0xc0 && (n === 1 || n === 3)) return embedBaseline(file, b, info);
  return decodeToNative(file, b, info);
}

function embedBaseline(file: string, b: Uint8Array, info: JpegFrameInfo): Picture {
  const end = findEoi(b, info.scanStart);
  if (end < 0) throw convertError('CONVERT_INPUT_INVALID', file, 'JPEG truncated (no EOI marker)');
  const stream = stripMetadata(b, info.scanStart, end);
  return {
    rows: info.rows, columns: info.columns, samplesPerPixel: info.componentIds.length === 1 ? 1 : 3,
    bitsAllocated: 8, bitsStored: 8, photometric: photometricOf(info), frames: 1, lossy: true,
    kind: 'jpeg', fragments: [stream],
  };
}

/** RGB for an Adobe stream without colour transform (APP14 transform 0) or with component ids
 *  'R','G','B'; otherwise YCbCr, labelled YBR_FULL_422 as PS3.5 8.2.1 and dciodvfy expect for
 *  JPEG Baseline whatever the chroma sampling (decoders follow the stream's own sampling factors). */
function photometricOf(info: JpegFrameInfo): Photometric {
  if (info.componentIds.length === 1) return 'MONOCHROME2';
  const rgbIds = info.componentIds.join() === '82,71,66';
  if (info.adobeTransform === 0 || (info.adobeTransform === undefined && rgbIds)) return 'RGB';
  return 'YBR_FULL_422';
}

/** Offset just past the EOI that ends the image, found by walking the scans forward (B.1.1.5:
 *  inside entropy-coded data FF is followed only by 00 stuffing or RSTn), so data appended after the
 *  image (thumbnails, "motion photo" videos) is not taken for part of it. -1 when truncated. */
function findEoi(b: Uint8Array, scanStart: number): number {
  let pos = scanStart;
  while (pos + 1 < b.length) {
    if (b[pos] !== 0xff) return -1;
    const marker = b[pos + 1];
    if (marker === 0xd9) return pos + 2;
    if (marker === 0xff) { pos++; continue; }
    if (pos + 4 > b.length) return -1;
    pos += 2 + ((b[pos + 2] << 8) | b[pos + 3]);
    if (marker !== 0xda) continue;
    // Entropy-coded data after SOS runs to the next marker that is not stuffing or a restart.
    while (pos + 1 < b.length && !(b[pos] === 0xff && b[pos + 1] !== 0x00 && (b[pos + 1] < 0xd0 || b[pos + 1] > 0xd7))) pos++;
  }
  return -1;
}

/** Drops APP1..APP13, APP15 and COM segments (EXIF, XMP, GPS, camera serials and comments can
 *  identify a person) and anything after the EOI; APP0 (JFIF) and APP14 (Adobe colour transform) stay
 *  because they tell how to interpret the colours. The entropy-coded data is copied untouched. */
function stripMetadata(b: Uint8Array, scanStart: number, end: number): Uint8Array {
  const parts: Uint8Array[] = [b.subarray(0, 2)];
  let pos = 2;
  while (pos < scanStart) {
    if (b[pos + 1] === 0xff) { pos++; continue; }
    const marker = b[pos + 1];
    const len = (b[pos + 2] << 8) | b[pos + 3];
    const drop = (marker >= 0xe1 && marker <= 0xed) || marker === 0xef || marker === 0xfe;
    if (!drop) parts.push(b.subarray(pos, pos + 2 + len));
    pos += 2 + len;
  }
  parts.push(b.subarray(scanStart, end));
  const total = parts.reduce((s, p) => s + p.length, 0);
  // Fragments have even length (PS3.5 A.4); a NUL after EOI is the customary pad.
  const out = new Uint8Array(total + (total & 1));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function decodeToNative(file: string, b: Uint8Array, info: JpegFrameInfo): Picture {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(b, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: 1000, maxMemoryUsageInMB: 4096 });
  } catch (e) {
    throw convertError('CONVERT_INPUT_INVALID', file, `corrupt JPEG (${(e as Error).message})`, e);
  }
  const gray = info.componentIds.length === 1;
  const n = img.width * img.height;
  let pixels = img.data.subarray(0, n * 3);
  if (gray) {
    pixels = new Uint8Array(n);
    for (let p = 0; p < n; p++) pixels[p] = img.data[p * 3];
  }
  return { rows: img.height, columns: img.width, samplesPerPixel: gray ? 1 : 3, bitsAllocated: 8, bitsStored: 8,
    photometric: gray ? 'MONOCHROME2' : 'RGB', frames: 1, lossy: true, kind: 'native', pixels };
}
