// Pixel data frames (PS3.18 10.4.1.1.4 "Frames" and 8.7.3.3): native pixel data is cut into frames
// of Rows x Columns x SamplesPerPixel x BitsAllocated/8 bytes; encapsulated pixel data
// (PS3.5 A.4) yields one frame per fragment, all fragments for a single frame, or the fragments
// grouped by the Basic Offset Table.
import { AppError } from '../../core/errors.ts';
import { PIXEL_DATA, TS, type Dataset } from '../../dicom/index.ts';

const ROWS = 0x00280010;
const COLUMNS = 0x00280011;
const SAMPLES = 0x00280002;
const BITS_ALLOCATED = 0x00280100;
const NUMBER_OF_FRAMES = 0x00280008;

export interface Frames {
  count: number;
  /** Media type of each frame part (PS3.18 Table 8.7.3-2), without the transfer-syntax parameter. */
  mediaType: string;
  /** The transfer syntax the frame bytes are in. */
  transferSyntax: string;
  frame(n: number): Buffer;
}

export function frameMediaType(ts: string): string {
  if (ts.startsWith('1.2.840.10008.1.2.4.5') || ts === TS.JPEGLossless || ts === TS.JPEGLosslessSV1) return 'image/jpeg';
  if (ts === TS.JPEGLSLossless || ts === TS.JPEGLSNearLossless) return 'image/jls';
  if (ts.startsWith('1.2.840.10008.1.2.4.20')) return 'image/jphc'; // HTJ2K (.201-.203)
  if (ts.startsWith('1.2.840.10008.1.2.4.9')) return 'image/jp2'; // JPEG 2000 (.90-.93)
  if (ts === TS.RLELossless) return 'image/dicom-rle';
  return 'application/octet-stream';
}

/** Concatenated fragment bytes. */
function concat(parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

function encapsulatedFrames(ds: Dataset, ts: string, fragments: Uint8Array[]): Frames {
  const count = Math.max(1, ds.number(NUMBER_OF_FRAMES) ?? 1);
  const [bot, ...frags] = fragments;
  let groups: Uint8Array[][];
  if (count === 1) groups = [frags];
  else if (frags.length === count) groups = frags.map((f) => [f]);
  else if (bot.length >= 4 * count) {
    // Offsets count from the first fragment's item tag; each item adds an 8-byte header.
    const view = Buffer.from(bot.buffer, bot.byteOffset, bot.byteLength);
    const starts = Array.from({ length: count }, (_, i) => view.readUInt32LE(i * 4));
    groups = starts.map(() => []);
    let pos = 0;
    let frame = -1;
    for (const f of frags) {
      while (frame + 1 < count && starts[frame + 1] <= pos) frame++;
      groups[Math.max(frame, 0)].push(f);
      pos += 8 + f.length;
    }
  } else {
    throw new AppError('DICOM_UNSUPPORTED_TS', { detail: `cannot split ${frags.length} fragments into ${count} frames without an offset table` });
  }
  return { count, mediaType: frameMediaType(ts), transferSyntax: ts, frame: (n) => concat(groups[n - 1]) };
}

export function framesOf(ds: Dataset, ts: string): Frames {
  const fragments = ds.fragments(PIXEL_DATA);
  if (fragments !== undefined) return encapsulatedFrames(ds, ts, fragments);
  const bytes = ds.bytes(PIXEL_DATA);
  if (bytes === undefined) throw new AppError('INDEX_NOT_FOUND', { detail: 'instance has no pixel data' });
  const rows = ds.number(ROWS) ?? 0;
  const cols = ds.number(COLUMNS) ?? 0;
  const spp = ds.number(SAMPLES) ?? 1;
  const bits = ds.number(BITS_ALLOCATED) ?? 16;
  const count = Math.max(1, ds.number(NUMBER_OF_FRAMES) ?? 1);
  const frameBits = rows * cols * spp * bits;
  if (frameBits === 0 || frameBits % 8 !== 0) throw new AppError('DICOM_UNSUPPORTED_TS', { detail: 'frames are not byte aligned' });
  const size = frameBits / 8;
  const bigEndian = ts === TS.ExplicitVRBigEndian;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    count,
    mediaType: 'application/octet-stream',
    // Native frames are served as little endian, the only native syntax PS3.18 names for frames.
    transferSyntax: TS.ExplicitVRLittleEndian,
    frame: (n) => {
      const f = Buffer.from(buf.subarray((n - 1) * size, n * size));
      if (f.length < size) throw new AppError('DICOM_PARSE', { detail: `pixel data shorter than frame ${n}` });
      if (bigEndian && bits === 16) f.swap16();
      if (bigEndian && bits === 32) f.swap32();
      return f;
    },
  };
}

/** "1,3,5" → [1,3,5]; PS3.18: 1-based, ascending order not required. */
export function parseFrameList(s: string, count: number): number[] {
  const list = s.split(',').map((x) => Number(x.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) throw new AppError('QUERY_INVALID', { detail: 'frame list must be positive integers separated by commas' });
  const over = list.find((n) => n > count);
  if (over !== undefined) throw new AppError('INDEX_NOT_FOUND', { detail: `frame ${over} of ${count}` });
  return list;
}
