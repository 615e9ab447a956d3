// Writes a converted instance as Part 10 bytes: the attributes through the DICOM core, then the
// Pixel Data element appended here so the (possibly large) pixel buffer is never copied into a
// Dataset. Pixel Data is the last element we write, so appending keeps ascending tag order.
import { Dataset, newDicomFile, TS, writePart10 } from '../dicom/index.ts';

const PIXEL_DATA = [0xe0, 0x7f, 0x10, 0x00];

function header(vr: 'OB' | 'OW', length: number): Buffer {
  const b = Buffer.alloc(12);
  b.set(PIXEL_DATA, 0);
  b.write(vr, 4, 'latin1');
  b.writeUInt32LE(length >>> 0, 8);
  return b;
}

function item(tagLo: number, length: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(0xfffe, 0);
  b.writeUInt16LE(tagLo, 2);
  b.writeUInt32LE(length, 4);
  return b;
}

/** Native pixel data, explicit VR little endian (PS3.5 A.2, 8.1.1): OB for 8-bit, OW for 16-bit. */
export function nativePixelData(pixels: Uint8Array, bitsAllocated: number): Buffer[] {
  const odd = pixels.length & 1;
  const out = [header(bitsAllocated > 8 ? 'OW' : 'OB', pixels.length + odd), Buffer.from(pixels.buffer, pixels.byteOffset, pixels.length)];
  if (odd) out.push(Buffer.alloc(1));
  return out;
}

/** Encapsulated pixel data (PS3.5 A.4): one fragment per frame, Basic Offset Table giving each
 *  frame's item offset so a reader can jump to frame n. */
export function encapsulatedPixelData(frames: Uint8Array[]): Buffer[] {
  const bot = Buffer.alloc(frames.length * 4);
  let off = 0;
  frames.forEach((f, n) => { bot.writeUInt32LE(off, n * 4); off += 8 + f.length; });
  const out: Buffer[] = [header('OB', 0xffffffff), item(0xe000, bot.length), bot];
  for (const f of frames) out.push(item(0xe000, f.length), Buffer.from(f.buffer, f.byteOffset, f.length));
  out.push(item(0xe0dd, 0));
  return out;
}

export function part10(dataset: Dataset, transferSyntaxUID: string, pixelData: Buffer[]): Buffer[] {
  return [...writePart10(newDicomFile(dataset, transferSyntaxUID)), ...pixelData];
}

export const NATIVE_TS = TS.ExplicitVRLittleEndian;
export const JPEG_BASELINE_TS = TS.JPEGBaseline8Bit;
