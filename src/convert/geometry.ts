// NIfTI voxel-to-world affine → DICOM image plane (PS3.3 C.7.6.2). NIfTI world space is RAS+
// (+x toward the patient's right... i.e. x grows to the Right, y to Anterior, z to Superior);
// DICOM patient space is LPS+ (x grows to the Left, y to Posterior, z to Superior), so x and y
// change sign and z stays.
import type { NiftiHeader } from './decode/nifti-header.ts';

/** 3x4 matrix: world(mm) = M · [i, j, k, 1]. */
export type Affine = number[][];

export interface NiftiAffine {
  /** RAS+, millimetres. */
  ras: Affine;
  source: 'sform' | 'qform' | 'pixdim';
}

/** The affine NIfTI readers use: sform when sform_code > 0, else qform when qform_code > 0, else
 *  the voxel sizes alone ("method 1" of nifti1.h, for ANALYZE 7.5 compatibility). */
export function niftiAffine(h: NiftiHeader): NiftiAffine {
  const u = h.unitToMm;
  if (h.sformCode > 0) return { ras: h.srow.map((row) => row.map((v) => v * u)), source: 'sform' };
  const dx = h.pixdim[1] > 0 ? h.pixdim[1] : 1;
  const dy = h.pixdim[2] > 0 ? h.pixdim[2] : 1;
  const dz = h.pixdim[3] > 0 ? h.pixdim[3] : 1;
  if (h.qformCode > 0) {
    const r = quaternionToMatrix(h.quatern[0], h.quatern[1], h.quatern[2]);
    const qfac = h.pixdim[0] < 0 ? -1 : 1;
    const s = [dx * u, dy * u, dz * u * qfac];
    return { ras: [0, 1, 2].map((row) => [r[row][0] * s[0], r[row][1] * s[1], r[row][2] * s[2], h.qoffset[row] * u]), source: 'qform' };
  }
  return { ras: [[dx * u, 0, 0, 0], [0, dy * u, 0, 0], [0, 0, dz * u, 0]], source: 'pixdim' };
}

/** nifti1.h "method 2": a = sqrt(1 - b² - c² - d²); when the sum exceeds 1 (rounding), b,c,d are
 *  renormalised and a = 0, as nifti1_io.c does. */
export function quaternionToMatrix(b: number, c: number, d: number): number[][] {
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    const n = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= n; c *= n; d *= n;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  return [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
}

export function rasToLps(m: Affine): Affine {
  return [m[0].map((v) => -v), m[1].map((v) => -v), [...m[2]]];
}

export interface ImagePlane {
  /** ImageOrientationPatient: row direction (along columns index i), then column direction (j). */
  orientation: number[];
  /** PixelSpacing: [between rows (along j), between columns (along i)]. */
  pixelSpacing: [number, number];
  /** Distance between adjacent slices along the slice normal. */
  sliceSpacing: number;
  normal: number[];
  /** The orientation vectors had to be made orthogonal (sheared affine): positions stay exact,
   *  in-plane directions are approximate. */
  sheared: boolean;
  /** ImagePositionPatient of slice k (the centre of voxel (0,0,k)), LPS mm. */
  position(k: number): number[];
  /** SliceLocation of slice k: position projected on the normal. */
  location(k: number): number;
}

const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const norm = (a: number[]) => Math.sqrt(dot(a, a));
const cross = (a: number[], b: number[]) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const scale = (a: number[], s: number) => a.map((v) => v * s);
const positiveOr = (x: number, fallback: number) => (x > 1e-12 ? x : fallback);

/** NIfTI index i runs fastest in the file, so it is the DICOM column index and j the row index:
 *  a slice's bytes are already a DICOM frame. */
export function imagePlane(lps: Affine): ImagePlane {
  const col = (c: number) => [lps[0][c], lps[1][c], lps[2][c]];
  const ci = col(0);
  const cj = col(1);
  const ck = col(2);
  // A degenerate affine (zero column) must not divide by zero: such an axis gets unit length.
  const di = positiveOr(norm(ci), 1);
  const dj = positiveOr(norm(cj), 1);
  const row = scale(ci, 1 / di);
  let colDir = scale(cj, 1 / dj);
  const sheared = Math.abs(dot(row, colDir)) > 1e-4;
  if (sheared) {
    const p = scale(row, dot(row, colDir));
    const v = colDir.map((x, n) => x - p[n]);
    colDir = scale(v, 1 / positiveOr(norm(v), 1));
  }
  const normal = cross(row, colDir);
  const sliceSpacing = positiveOr(Math.abs(dot(ck, normal)), positiveOr(norm(ck), 1));
  const origin = col(3);
  const position = (k: number) => origin.map((o, n) => o + k * ck[n]);
  return {
    orientation: [...row, ...colDir], pixelSpacing: [dj, di], sliceSpacing, normal, sheared,
    position, location: (k: number) => dot(position(k), normal),
  };
}

/** World position (LPS) of voxel (i, j, k) from the affine, for tests and checks. */
export function voxelToLps(lps: Affine, i: number, j: number, k: number): number[] {
  return [0, 1, 2].map((r) => lps[r][0] * i + lps[r][1] * j + lps[r][2] * k + lps[r][3]);
}
