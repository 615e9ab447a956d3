// RT Dose grids (PS3.3 C.8.8.3): a multi-frame image whose frame k lies at
// ImagePositionPatient + GridFrameOffsetVector[k] along the normal; dose = stored × DoseGridScaling.
import { cross, dot, type Slice, type Vec3 } from './geometry.ts';
import { nums, num, str, TAG, type JsonDataset } from './dicom-json.ts';

export interface DoseGrid {
  slice: Slice;
  /** Normal offset of each frame from ImagePositionPatient, mm. */
  offsets: number[];
  scaling: number;
  units: string | undefined;
}

export function doseGridFrom(ds: JsonDataset, slice: Slice): DoseGrid {
  return { slice, offsets: nums(ds, TAG.GridFrameOffsetVector), scaling: num(ds, TAG.DoseGridScaling) ?? 1, units: str(ds, TAG.DoseUnits) };
}

/** 1-based frame of the dose grid nearest the plane of `at` (same orientation), or undefined. */
export function doseFrameFor(grid: DoseGrid, at: Vec3): number | undefined {
  const s = grid.slice;
  if (s.position === undefined || grid.offsets.length === 0) return undefined;
  const normal = cross(s.rowDir, s.colDir);
  const z = dot(at, normal) - dot(s.position, normal);
  // Offsets are relative to the first frame when the first is 0 (type 1), else absolute (C.8.8.3.2).
  const rel = grid.offsets[0] === 0 ? grid.offsets : grid.offsets.map((o) => o - dot(s.position!, normal));
  let best = -1;
  let bestD = Infinity;
  rel.forEach((o, i) => {
    const d = Math.abs(o - z);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  const gap = rel.length > 1 ? Math.abs(rel[1] - rel[0]) : 1;
  return bestD <= gap / 2 + 1e-3 ? best + 1 : undefined;
}

/** Isodose levels as fractions of the maximum, with their colours (the usual rainbow). */
export const ISODOSE: readonly { level: number; color: [number, number, number] }[] = [
  { level: 0.95, color: [255, 0, 0] },
  { level: 0.8, color: [255, 128, 0] },
  { level: 0.6, color: [255, 255, 0] },
  { level: 0.4, color: [0, 255, 0] },
  { level: 0.2, color: [0, 128, 255] },
];

/** RGBA colour wash of one dose frame: each pixel gets the colour of the highest level it reaches. */
export function doseWash(dose: Float32Array, max: number, alpha: number, out: Uint8ClampedArray): void {
  for (let i = 0; i < dose.length; i++) {
    const f = max > 0 ? dose[i] / max : 0;
    const lvl = ISODOSE.find((l) => f >= l.level);
    const j = i * 4;
    if (lvl === undefined) {
      out[j + 3] = 0;
      continue;
    }
    out[j] = lvl.color[0];
    out[j + 1] = lvl.color[1];
    out[j + 2] = lvl.color[2];
    out[j + 3] = alpha;
  }
}
