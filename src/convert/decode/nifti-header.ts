// NIfTI-1 (348-byte) and NIfTI-2 (540-byte) single-file headers (.nii), either byte order.
// Field offsets from nifti1.h and nifti2.h (NIfTI Data Format Working Group).
import { convertError } from '../picture.ts';

export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** dim[0]: number of dimensions used. */
  ndim: number;
  /** dim[1..7], trailing dimensions of 1 included. */
  dims: number[];
  datatype: number;
  bitpix: number;
  /** pixdim[0..7]; pixdim[0] is qfac. */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  srow: [number[], number[], number[]];
  /** Multiplier from the file's spatial unit to millimetres (xyzt_units & 7). */
  unitToMm: number;
  descrip: string;
}

export const NIFTI1_SIZE = 348;
export const NIFTI2_SIZE = 540;

/** datatype code → [name, bytes per voxel] for the types we convert (nifti1.h DT_*). */
export const NIFTI_TYPES: Record<number, [string, number]> = {
  2: ['uint8', 1], 4: ['int16', 2], 8: ['int32', 4], 16: ['float32', 4], 64: ['float64', 8],
  256: ['int8', 1], 512: ['uint16', 2], 768: ['uint32', 4],
};
const OTHER_TYPES: Record<number, string> = { 1: 'binary', 32: 'complex64', 128: 'RGB24', 1024: 'int64', 1280: 'uint64', 1536: 'float128',
  1792: 'complex128', 2048: 'complex256', 2304: 'RGBA32' };

/** How many header bytes to read first: enough for either version's sizeof_hdr and magic. */
export function headerSize(first4: Uint8Array): number | undefined {
  const dv = new DataView(first4.buffer, first4.byteOffset, 4);
  for (const le of [true, false]) {
    const n = dv.getInt32(0, le);
    if (n === NIFTI1_SIZE || n === NIFTI2_SIZE) return n;
  }
  return undefined;
}

export function parseNiftiHeader(file: string, b: Uint8Array): NiftiHeader {
  if (b.length < 4) throw convertError('CONVERT_INPUT_INVALID', file, `NIfTI header truncated (${b.length} bytes)`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let le = true;
  let size = dv.getInt32(0, true);
  if (size !== NIFTI1_SIZE && size !== NIFTI2_SIZE) { le = false; size = dv.getInt32(0, false); }
  if (size !== NIFTI1_SIZE && size !== NIFTI2_SIZE) throw convertError('CONVERT_INPUT_INVALID', file, 'not a NIfTI file (sizeof_hdr is neither 348 nor 540)');
  if (b.length < size) throw convertError('CONVERT_INPUT_INVALID', file, `NIfTI header truncated (${b.length} of ${size} bytes)`);
  const h = size === NIFTI1_SIZE ? parse1(dv, le) : parse2(dv, le);
  const magic = String.fromCharCode(...b.subarray(size === NIFTI1_SIZE ? 344 : 4, size === NIFTI1_SIZE ? 347 : 7));
  if (magic === 'ni1' || magic === 'ni2') throw convertError('CONVERT_UNSUPPORTED', file, 'NIfTI header/image pair (.hdr/.img); convert the single-file .nii form');
  if (magic !== 'n+1' && magic !== 'n+2') throw convertError('CONVERT_INPUT_INVALID', file, `bad NIfTI magic "${magic.replace(/[^ -~]/g, '?')}"`);
  validate(file, h);
  return h;
}

function parse1(dv: DataView, le: boolean): NiftiHeader {
  const i16 = (o: number) => dv.getInt16(o, le);
  const f32 = (o: number) => dv.getFloat32(o, le);
  const ndim = i16(40);
  const dims = Array.from({ length: 7 }, (_, k) => (k < ndim ? i16(42 + 2 * k) : 1));
  return {
    version: 1, littleEndian: le, ndim, dims, datatype: i16(70), bitpix: i16(72),
    pixdim: Array.from({ length: 8 }, (_, k) => f32(76 + 4 * k)),
    voxOffset: f32(108), sclSlope: f32(112), sclInter: f32(116),
    qformCode: i16(252), sformCode: i16(254),
    quatern: [f32(256), f32(260), f32(264)], qoffset: [f32(268), f32(272), f32(276)],
    srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f32(280 + 16 * r + 4 * c))) as NiftiHeader['srow'],
    unitToMm: unitFactor(dv.getUint8(123)), descrip: text(dv, 148, 80),
  };
}

function parse2(dv: DataView, le: boolean): NiftiHeader {
  const i64 = (o: number) => Number(dv.getBigInt64(o, le));
  const f64 = (o: number) => dv.getFloat64(o, le);
  const ndim = i64(16);
  const dims = Array.from({ length: 7 }, (_, k) => (k < ndim ? i64(24 + 8 * k) : 1));
  return {
    version: 2, littleEndian: le, ndim, dims, datatype: dv.getInt16(12, le), bitpix: dv.getInt16(14, le),
    pixdim: Array.from({ length: 8 }, (_, k) => f64(104 + 8 * k)),
    voxOffset: i64(168), sclSlope: f64(176), sclInter: f64(184),
    qformCode: dv.getInt32(344, le), sformCode: dv.getInt32(348, le),
    quatern: [f64(352), f64(360), f64(368)], qoffset: [f64(376), f64(384), f64(392)],
    srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f64(400 + 32 * r + 8 * c))) as NiftiHeader['srow'],
    unitToMm: unitFactor(dv.getInt32(500, le) & 0xff), descrip: text(dv, 240, 80),
  };
}

function unitFactor(xyzt: number): number {
  switch (xyzt & 7) {
    case 1: return 1000; // NIFTI_UNITS_METER
    case 3: return 0.001; // NIFTI_UNITS_MICRON
    default: return 1; // NIFTI_UNITS_MM, or unknown (read as mm, as every viewer does)
  }
}

function text(dv: DataView, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) { const c = dv.getUint8(off + i); if (c === 0) break; s += String.fromCharCode(c); }
  return s;
}

function validate(file: string, h: NiftiHeader): void {
  const ndim = h.ndim;
  if (!(ndim >= 1 && ndim <= 7)) throw convertError('CONVERT_INPUT_INVALID', file, `NIfTI dim[0] is ${ndim} (must be 1..7)`);
  if (h.dims.some((d) => !Number.isSafeInteger(d) || d < 1)) throw convertError('CONVERT_TOO_LARGE', file, `NIfTI dimensions ${h.dims.slice(0, ndim).join('x')} are not all positive`);
  if (h.dims.slice(4).some((d) => d > 1)) throw convertError('CONVERT_UNSUPPORTED', file, `NIfTI with dimensions beyond time (${h.dims.slice(0, ndim).join('x')}): vector or tensor data`);
  const type = NIFTI_TYPES[h.datatype];
  if (!type) throw convertError('CONVERT_UNSUPPORTED', file, `NIfTI datatype ${h.datatype}${OTHER_TYPES[h.datatype] ? ` (${OTHER_TYPES[h.datatype]})` : ''}; supported: int8..int32, uint8..uint32, float32, float64`);
  const minOffset = h.version === 1 ? 352 : 544;
  if (!(h.voxOffset >= minOffset) || !Number.isInteger(h.voxOffset)) throw convertError('CONVERT_INPUT_INVALID', file, `NIfTI vox_offset ${h.voxOffset} is before the end of the header`);
}
