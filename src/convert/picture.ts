// The converter's in-memory picture: what every decoder produces and every IOD builder consumes.
// Pixel values are already in DICOM order (row by row, samples interleaved, little endian), so the
// builders never look at the source format again.
import { AppError, type ErrorCode } from '../core/errors.ts';

export type Photometric = 'MONOCHROME2' | 'RGB' | 'YBR_FULL' | 'YBR_FULL_422';

export interface PixelFormat {
  rows: number;
  columns: number;
  samplesPerPixel: 1 | 3;
  bitsAllocated: 8 | 16;
  bitsStored: number;
  photometric: Photometric;
}

/** One or more frames of the same format. Either native pixels (all frames, contiguous) or one
 *  JPEG baseline bitstream per frame, embedded as it came (PS3.5 A.4.1). */
export type Picture = PixelFormat & {
  frames: number;
  /** The source was lossy compressed (JPEG): LossyImageCompression must say 01 (PS3.3 C.7.6.1.1.5). */
  lossy: boolean;
} & ({ kind: 'native'; pixels: Uint8Array } | { kind: 'jpeg'; fragments: Uint8Array[] });

/** Limits that catch absurd headers before anything is allocated. */
export const MAX_SIDE = 65535; // Rows/Columns are US (PS3.3 C.7.6.3)
export const MAX_PIXEL_BYTES = 2 ** 31 - 2; // one Pixel Data value: defined 32-bit length, even

/** An error that names the input (as the user gave it) and the problem. */
export function convertError(code: ErrorCode, file: string, problem: string, cause?: unknown): AppError {
  return new AppError(code, { detail: `${file}: ${problem}`, cause });
}

export function checkDimensions(file: string, what: string, dims: number[], bytesPerValue: number): void {
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 1) throw convertError('CONVERT_TOO_LARGE', file, `${what} has dimension ${d}`);
  }
  if (dims[0] > MAX_SIDE || dims[1] > MAX_SIDE) {
    throw convertError('CONVERT_TOO_LARGE', file, `${what} is ${dims[0]}x${dims[1]}, more than ${MAX_SIDE} per side`);
  }
  const bytes = dims.reduce((a, b) => a * b, bytesPerValue);
  if (bytes > MAX_PIXEL_BYTES) {
    throw convertError('CONVERT_TOO_LARGE', file, `${what} needs ${bytes} bytes of pixel data, more than ${MAX_PIXEL_BYTES}`);
  }
}

export function nativeBytes(f: PixelFormat): number {
  return f.rows * f.columns * f.samplesPerPixel * (f.bitsAllocated / 8);
}
