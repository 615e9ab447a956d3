// Streams a .nii / .nii.gz one 3D volume at a time and maps each volume to unsigned 16-bit stored
// values with a linear rescale, so any datatype fits a DICOM grayscale image and the real value is
// RescaleSlope * stored + RescaleIntercept (PS3.3 C.11.1.1.2).
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { ByteReader } from '../byte-reader.ts';
import { checkDimensions, convertError } from '../picture.ts';
import { headerSize, NIFTI_TYPES, parseNiftiHeader, type NiftiHeader } from './nifti-header.ts';

export interface NiftiVolume {
  /** 0-based index along dim[4]. */
  t: number;
  /** Stored values, little endian uint16, slices one after another (DICOM frame order). */
  pixels: Uint8Array;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** Range of real values in this volume (for a default window). */
  min: number;
  max: number;
  /** True when stored values reproduce the real values exactly. */
  exact: boolean;
}

export interface OpenNifti {
  header: NiftiHeader;
  volumes(): AsyncGenerator<NiftiVolume>;
  close(): Promise<void>;
}

export async function openNifti(file: string, stream: Readable, gzipped: boolean): Promise<OpenNifti> {
  const source = gzipped ? stream.pipe(createGunzip()) : stream;
  if (gzipped) stream.on('error', (e) => source.destroy(e));
  const reader = new ByteReader(source);
  // Ending the gunzip stream does not end the file (or archive entry) piped into it: destroy both.
  const close = async (): Promise<void> => {
    await reader.close();
    stream.destroy();
  };
  const read = async (n: number): Promise<Buffer> => {
    try {
      return await reader.read(n);
    } catch (e) {
      throw convertError('CONVERT_INPUT_INVALID', file, `cannot read NIfTI data at byte ${reader.position} (${(e as Error).message})`, e);
    }
  };
  let header: NiftiHeader;
  let size: number;
  try {
    const head4 = await read(4);
    if (head4[0] === 0x1f && head4[1] === 0x8b && !gzipped) throw convertError('CONVERT_INPUT_INVALID', file, 'NIfTI file is gzip-compressed but not named .nii.gz');
    size = head4.length === 4 ? headerSize(head4) ?? 348 : 348;
    const rest = await read(size - head4.length);
    header = parseNiftiHeader(file, Buffer.concat([head4, rest]));
    checkDimensions(file, 'NIfTI volume', header.dims.slice(0, 3), 2);
    const skipped = await reader.skip(header.voxOffset - size);
    if (skipped < header.voxOffset - size) throw convertError('CONVERT_INPUT_INVALID', file, 'NIfTI file ends before vox_offset');
  } catch (e) {
    await close(); // release the file or archive entry before reporting
    throw e;
  }
  const [nx, ny, nz, nt] = header.dims;
  const bytes = NIFTI_TYPES[header.datatype][1];
  const voxels = nx * ny * nz;
  async function* volumes(): AsyncGenerator<NiftiVolume> {
    for (let t = 0; t < nt; t++) {
      const raw = await read(voxels * bytes);
      if (raw.length < voxels * bytes) {
        throw convertError('CONVERT_INPUT_INVALID', file, `NIfTI data truncated in volume ${t + 1} of ${nt} (${raw.length} of ${voxels * bytes} bytes)`);
      }
      yield toStored(header, raw, t);
    }
  }
  return { header, volumes, close };
}

type Values = ArrayLike<number>;

/** A typed view of the raw voxels in machine order (byte-swapped in place when needed). */
function typedVoxels(h: NiftiHeader, raw: Buffer): Values {
  const size = NIFTI_TYPES[h.datatype][1];
  if (!h.littleEndian && size > 1) {
    if (size === 2) raw.swap16(); else if (size === 4) raw.swap32(); else raw.swap64();
  }
  const ab = raw.buffer;
  const n = raw.length / size;
  switch (h.datatype) {
    case 2: return new Uint8Array(ab, raw.byteOffset, n);
    case 256: return new Int8Array(ab, raw.byteOffset, n);
    case 4: return new Int16Array(ab, raw.byteOffset, n);
    case 512: return new Uint16Array(ab, raw.byteOffset, n);
    case 8: return new Int32Array(ab, raw.byteOffset, n);
    case 768: return new Uint32Array(ab, raw.byteOffset, n);
    case 16: return new Float32Array(ab, raw.byteOffset, n);
    default: return new Float64Array(ab, raw.byteOffset, n);
  }
}

/** Stored = (raw - b) / a, and real = slope * raw + inter, so the DICOM rescale is
 *  (slope * a, slope * b + inter). Integer data whose range fits 16 bits keeps a = 1 (lossless);
 *  other data spreads over 0..65535. Non-finite voxels (NaN in float maps) are stored as 0. */
export function toStored(h: NiftiHeader, raw: Buffer, t: number): NiftiVolume {
  const v = typedVoxels(h, raw);
  let lo = Infinity;
  let hi = -Infinity;
  let integral = true;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) continue;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    if (integral && x !== Math.trunc(x)) integral = false;
  }
  if (lo === Infinity) { lo = 0; hi = 0; }
  let a = 1;
  let b = 0;
  if (integral && hi - lo <= 65535) {
    if (lo < 0 || hi > 65535) b = lo;
  } else {
    a = hi > lo ? (hi - lo) / 65535 : 1;
    b = lo;
  }
  const out = new Uint16Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    out[i] = Number.isFinite(x) ? Math.min(65535, Math.max(0, Math.round((x - b) / a))) : 0;
  }
  // NIfTI 1.1: scl_slope 0 (or not finite) means the values are not scaled.
  const useScl = Number.isFinite(h.sclSlope) && h.sclSlope !== 0;
  const slope = useScl ? h.sclSlope : 1;
  const inter = useScl && Number.isFinite(h.sclInter) ? h.sclInter : 0;
  const rl = slope * lo + inter;
  const rh = slope * hi + inter;
  const pixels = new Uint8Array(out.buffer);
  if (isBigEndianHost) swap16(pixels);
  return { t, pixels, rescaleSlope: slope * a, rescaleIntercept: slope * b + inter, min: Math.min(rl, rh), max: Math.max(rl, rh),
    exact: integral && hi - lo <= 65535 };
}

const isBigEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;
function swap16(b: Uint8Array): void {
  for (let i = 0; i < b.length; i += 2) { const x = b[i]; b[i] = b[i + 1]; b[i + 1] = x; }
}
