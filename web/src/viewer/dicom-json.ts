// Reading PS3.18 Annex F DICOM JSON (what WADO-RS /metadata returns): tags as 8 hex digits,
// values in "Value", person names as { Alphabetic }, large binaries as BulkDataURI.
export interface JsonAttr {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}
export type JsonDataset = Record<string, JsonAttr | undefined>;

export function values(ds: JsonDataset, tag: string): unknown[] {
  return ds[tag]?.Value ?? [];
}

/** First value as text; person names as their alphabetic form. */
export function str(ds: JsonDataset, tag: string): string | undefined {
  const v = values(ds, tag)[0];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') return (v as { Alphabetic?: string }).Alphabetic;
  return String(v);
}

export function num(ds: JsonDataset, tag: string): number | undefined {
  const v = values(ds, tag)[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

export function nums(ds: JsonDataset, tag: string): number[] {
  return values(ds, tag).map((v) => (typeof v === 'number' ? v : Number(v))).filter((n) => Number.isFinite(n));
}

export function items(ds: JsonDataset, tag: string): JsonDataset[] {
  return values(ds, tag).filter((v): v is JsonDataset => typeof v === 'object' && v !== null);
}

/** Tags this UI reads (PS3.6 keywords in the comments). */
export const TAG = {
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  Modality: '00080060',
  SeriesInstanceUID: '0020000E',
  StudyInstanceUID: '0020000D',
  FrameOfReferenceUID: '00200052',
  InstanceNumber: '00200013',
  ImagePositionPatient: '00200032',
  ImageOrientationPatient: '00200037',
  SamplesPerPixel: '00280002',
  PhotometricInterpretation: '00280004',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  PixelSpacing: '00280030',
  BitsAllocated: '00280100',
  BitsStored: '00280101',
  PixelRepresentation: '00280103',
  PlanarConfiguration: '00280006',
  WindowCenter: '00281050',
  WindowWidth: '00281051',
  RescaleIntercept: '00281052',
  RescaleSlope: '00281053',
  ReferencedSOPInstanceUID: '00081155',
  // RT Structure Set (PS3.3 C.8.8.5, C.8.8.6)
  StructureSetLabel: '30060002',
  ReferencedFrameOfReferenceSequence: '30060010',
  StructureSetROISequence: '30060020',
  ROINumber: '30060022',
  ReferencedFrameOfReferenceUID: '30060024',
  ROIName: '30060026',
  ROIContourSequence: '30060039',
  ReferencedROINumber: '30060084',
  ROIDisplayColor: '3006002A',
  ContourSequence: '30060040',
  ContourImageSequence: '30060016',
  ContourGeometricType: '30060042',
  ContourData: '30060050',
  RTROIObservationsSequence: '30060080',
  RTROIInterpretedType: '300600A4',
  // RT Plan (PS3.3 C.8.8.9-C.8.8.14)
  RTPlanLabel: '300A0002',
  RTPlanName: '300A0003',
  RTPlanDate: '300A0006',
  RTPlanGeometry: '300A000C',
  DoseReferenceSequence: '300A0010',
  DoseReferenceDescription: '300A0016',
  DeliveryMaximumDose: '300A0023',
  TargetPrescriptionDose: '300A0026',
  FractionGroupSequence: '300A0070',
  NumberOfFractionsPlanned: '300A0078',
  NumberOfBeams: '300A0080',
  BeamSequence: '300A00B0',
  TreatmentMachineName: '300A00B2',
  BeamType: '300A00C4',
  BeamNumber: '300A00C0',
  BeamName: '300A00C2',
  RadiationType: '300A00C6',
  ControlPointSequence: '300A0111',
  NominalBeamEnergy: '300A0114',
  GantryAngle: '300A011E',
  ReferencedBeamSequence: '300C0004',
  BeamMeterset: '300A0086',
  ReferencedBeamNumber: '300C0006',
  // RT Dose (PS3.3 C.8.8.3)
  DoseUnits: '30040002',
  DoseType: '30040004',
  DoseSummationType: '3004000A',
  GridFrameOffsetVector: '3004000C',
  DoseGridScaling: '3004000E',
} as const;
