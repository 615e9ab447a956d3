// Image plane geometry (PS3.3 C.7.6.2): ImagePositionPatient is the centre of the first
// transmitted pixel; ImageOrientationPatient holds the row direction (along which the column
// index grows) then the column direction; PixelSpacing is [between rows, between columns].
import { nums, num, str, TAG, type JsonDataset } from './dicom-json.ts';

export type Vec3 = [number, number, number];

export interface Slice {
  sopInstanceUid: string;
  instanceNumber: number;
  rows: number;
  columns: number;
  frames: number;
  position: Vec3 | undefined;
  rowDir: Vec3;
  colDir: Vec3;
  /** [row spacing, column spacing] in mm. */
  spacing: [number, number];
  bitsAllocated: number;
  bitsStored: number;
  pixelSigned: boolean;
  samplesPerPixel: number;
  photometric: string;
  slope: number;
  intercept: number;
  windowCenter: number | undefined;
  windowWidth: number | undefined;
  frameOfReferenceUid: string | undefined;
  /** Distance along the plane normal; sort key. */
  location: number;
}

export const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];

function vec3(v: number[]): Vec3 | undefined {
  return v.length >= 3 ? [v[0], v[1], v[2]] : undefined;
}

export function sliceFromJson(ds: JsonDataset): Slice {
  const iop = nums(ds, TAG.ImageOrientationPatient);
  const rowDir = vec3(iop.slice(0, 3)) ?? [1, 0, 0];
  const colDir = vec3(iop.slice(3, 6)) ?? [0, 1, 0];
  const ps = nums(ds, TAG.PixelSpacing);
  const position = vec3(nums(ds, TAG.ImagePositionPatient));
  const normal = cross(rowDir, colDir);
  const bitsAllocated = num(ds, TAG.BitsAllocated) ?? 16;
  return {
    sopInstanceUid: str(ds, TAG.SOPInstanceUID) ?? '',
    instanceNumber: num(ds, TAG.InstanceNumber) ?? 0,
    rows: num(ds, TAG.Rows) ?? 0,
    columns: num(ds, TAG.Columns) ?? 0,
    frames: Math.max(1, num(ds, TAG.NumberOfFrames) ?? 1),
    position,
    rowDir,
    colDir,
    spacing: ps.length >= 2 ? [ps[0], ps[1]] : [1, 1],
    bitsAllocated,
    bitsStored: num(ds, TAG.BitsStored) ?? bitsAllocated,
    pixelSigned: num(ds, TAG.PixelRepresentation) === 1,
    samplesPerPixel: num(ds, TAG.SamplesPerPixel) ?? 1,
    photometric: str(ds, TAG.PhotometricInterpretation) ?? 'MONOCHROME2',
    slope: num(ds, TAG.RescaleSlope) ?? 1,
    intercept: num(ds, TAG.RescaleIntercept) ?? 0,
    windowCenter: num(ds, TAG.WindowCenter),
    windowWidth: num(ds, TAG.WindowWidth),
    frameOfReferenceUid: str(ds, TAG.FrameOfReferenceUID),
    location: position ? dot(position, normal) : 0,
  };
}

/** Stack order: by position along the normal when every slice has one, else by InstanceNumber. */
export function sortSlices(slices: Slice[]): Slice[] {
  const byPos = slices.every((s) => s.position !== undefined);
  return [...slices].sort((a, b) => (byPos ? a.location - b.location : a.instanceNumber - b.instanceNumber) || a.instanceNumber - b.instanceNumber);
}

/** Patient coordinates (mm) to fractional pixel coordinates [column, row] of a slice. */
export function patientToPixel(s: Slice, p: Vec3): [number, number] {
  const d = sub(p, s.position ?? [0, 0, 0]);
  return [dot(d, s.rowDir) / s.spacing[1], dot(d, s.colDir) / s.spacing[0]];
}

/** The slice whose plane holds point p (within half the slice gap), or undefined. */
export function sliceIndexAt(slices: Slice[], p: Vec3): number | undefined {
  if (slices.length === 0 || slices[0].position === undefined) return undefined;
  const normal = cross(slices[0].rowDir, slices[0].colDir);
  const z = dot(p, normal);
  let best = -1;
  let bestD = Infinity;
  slices.forEach((s, i) => {
    const d = Math.abs(s.location - z);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  const gap = slices.length > 1 ? Math.abs(slices[1].location - slices[0].location) : 1;
  return bestD <= Math.max(gap / 2, 0.01) ? best : undefined;
}
