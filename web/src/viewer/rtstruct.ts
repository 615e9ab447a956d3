// RT Structure Set (PS3.3 C.8.8.5 Structure Set, C.8.8.6 ROI Contour): ROIs with their display
// colour and planar contours in patient coordinates, each naming the image it was drawn on.
import { items, nums, num, str, TAG, type JsonDataset } from './dicom-json.ts';

export interface Contour {
  type: string;
  /** x,y,z triplets in mm. */
  points: number[];
  /** ContourImageSequence's first ReferencedSOPInstanceUID, when given. */
  imageSop: string | undefined;
}

export interface Roi {
  number: number;
  name: string;
  /** [r, g, b] 0-255. */
  color: [number, number, number];
  interpretedType: string | undefined;
  frameOfReferenceUid: string | undefined;
  contours: Contour[];
}

export interface StructureSet {
  label: string | undefined;
  frameOfReferenceUids: string[];
  rois: Roi[];
}

// A palette for ROIs without ROIDisplayColor (it is optional, type 3).
const PALETTE: [number, number, number][] = [
  [255, 0, 0], [0, 200, 0], [0, 128, 255], [255, 200, 0], [255, 0, 255], [0, 255, 255], [255, 128, 0], [160, 80, 255],
];

export function parseStructureSet(ds: JsonDataset): StructureSet {
  const rois = new Map<number, Roi>();
  for (const it of items(ds, TAG.StructureSetROISequence)) {
    const n = num(it, TAG.ROINumber);
    if (n === undefined) continue;
    rois.set(n, {
      number: n,
      name: str(it, TAG.ROIName) ?? `ROI ${n}`,
      color: PALETTE[rois.size % PALETTE.length],
      interpretedType: undefined,
      frameOfReferenceUid: str(it, TAG.ReferencedFrameOfReferenceUID),
      contours: [],
    });
  }
  for (const obs of items(ds, TAG.RTROIObservationsSequence)) {
    const roi = rois.get(num(obs, TAG.ReferencedROINumber) ?? NaN);
    if (roi) roi.interpretedType = str(obs, TAG.RTROIInterpretedType);
  }
  for (const rc of items(ds, TAG.ROIContourSequence)) {
    const n = num(rc, TAG.ReferencedROINumber);
    if (n === undefined) continue;
    let roi = rois.get(n);
    if (!roi) {
      roi = { number: n, name: `ROI ${n}`, color: PALETTE[rois.size % PALETTE.length], interpretedType: undefined, frameOfReferenceUid: undefined, contours: [] };
      rois.set(n, roi);
    }
    const c = nums(rc, TAG.ROIDisplayColor);
    if (c.length >= 3) roi.color = [c[0], c[1], c[2]];
    for (const cs of items(rc, TAG.ContourSequence)) {
      const points = nums(cs, TAG.ContourData);
      if (points.length < 3) continue;
      const img = items(cs, TAG.ContourImageSequence)[0];
      roi.contours.push({ type: str(cs, TAG.ContourGeometricType) ?? 'CLOSED_PLANAR', points, imageSop: img ? str(img, TAG.ReferencedSOPInstanceUID) : undefined });
    }
  }
  const fors = items(ds, TAG.ReferencedFrameOfReferenceSequence)
    .map((f) => str(f, TAG.FrameOfReferenceUID))
    .filter((u): u is string => u !== undefined);
  return { label: str(ds, TAG.StructureSetLabel), frameOfReferenceUids: fors, rois: [...rois.values()].sort((a, b) => a.number - b.number) };
}
