// Datasets for the IODs the converter writes (PS3.3 Annex A): Secondary Capture, the multi-frame
// Secondary Capture family, and CT / MR Image for NIfTI volumes. Everything but Pixel Data.
import { Dataset, SOP, T, type Tag, type VR } from '../dicom/index.ts';
import type { Attribute } from './metadata.ts';
import type { ImagePlane } from './geometry.ts';
import type { PixelFormat } from './picture.ts';

export const SC_SOP = {
  single: SOP.SecondaryCaptureImageStorage,
  grayByte: '1.2.840.10008.5.1.4.1.1.7.2',
  grayWord: SOP.MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
  trueColor: '1.2.840.10008.5.1.4.1.1.7.4',
} as const;

export interface StudyContext {
  /** Patient and study attributes (from --like, sidecar, options), already merged. */
  attributes: Attribute[];
  studyInstanceUID: string;
  /** No StudyInstanceUID was given: the study is created by this conversion. */
  isNew: boolean;
  now: Date;
}

export interface SeriesContext {
  seriesInstanceUID: string;
  seriesNumber: number;
  description: string;
  modality: string;
  frameOfReferenceUID?: string;
}

const SOFTWARE = 'dicomgate convert';

function da(d: Date): string {
  return d.toISOString().slice(0, 10).replaceAll('-', '');
}
function tm(d: Date): string {
  return d.toISOString().slice(11, 19).replaceAll(':', '');
}

/** SOP Common, Patient, General Study, General Series, General Equipment, General Image. */
function common(study: StudyContext, series: SeriesContext, sopClassUID: string, sopInstanceUID: string, instanceNumber: number): Dataset {
  const ds = new Dataset();
  const s = (t: Tag, vr: VR, v: string | string[]) => ds.setString(t, vr, v);
  s(T.SOPClassUID, 'UI', sopClassUID);
  s(T.SOPInstanceUID, 'UI', sopInstanceUID);
  s(T.InstanceCreationDate, 'DA', da(study.now));
  s(T.InstanceCreationTime, 'TM', tm(study.now));
  // Type 2 attributes are present even when empty (PS3.5 7.4.3); sources below fill them.
  for (const [t, vr] of [[T.StudyDate, 'DA'], [T.StudyTime, 'TM'], [T.AccessionNumber, 'SH'], [T.ReferringPhysicianName, 'PN'],
    [T.StudyID, 'SH'], [T.PatientName, 'PN'], [T.PatientID, 'LO'], [T.PatientBirthDate, 'DA'], [T.PatientSex, 'CS'],
    [T.Manufacturer, 'LO'], [T.ContentDate, 'DA'], [T.ContentTime, 'TM']] as [Tag, VR][]) {
    ds.setEmpty(t, vr);
  }
  if (study.isNew) {
    // A study this conversion creates starts now; a joined study keeps its own date (from --like).
    s(T.StudyDate, 'DA', da(study.now));
    s(T.StudyTime, 'TM', tm(study.now));
  }
  s(T.ContentDate, 'DA', da(study.now));
  s(T.ContentTime, 'TM', tm(study.now));
  s(T.Modality, 'CS', series.modality);
  // General Series: Laterality is 2C (paired body parts); we cannot know, so present and empty.
  ds.setEmpty(T.Laterality, 'CS');
  s(T.SeriesInstanceUID, 'UI', series.seriesInstanceUID);
  ds.setNumbers(T.SeriesNumber, 'IS', [series.seriesNumber]);
  if (series.description !== '') s(T.SeriesDescription, 'LO', series.description);
  ds.setNumbers(T.InstanceNumber, 'IS', [instanceNumber]);
  s(T.SoftwareVersions, 'LO', SOFTWARE);
  for (const a of study.attributes) s(a.tag, a.vr, a.value);
  s(T.StudyInstanceUID, 'UI', study.studyInstanceUID);
  return ds;
}

/** Image Pixel module (PS3.3 C.7.6.3) without Pixel Data. */
function imagePixel(ds: Dataset, f: PixelFormat): void {
  ds.setNumbers(T.SamplesPerPixel, 'US', [f.samplesPerPixel]);
  ds.setString(T.PhotometricInterpretation, 'CS', f.photometric);
  if (f.samplesPerPixel > 1) ds.setNumbers(T.PlanarConfiguration, 'US', [0]);
  ds.setNumbers(T.Rows, 'US', [f.rows]);
  ds.setNumbers(T.Columns, 'US', [f.columns]);
  ds.setNumbers(T.BitsAllocated, 'US', [f.bitsAllocated]);
  ds.setNumbers(T.BitsStored, 'US', [f.bitsStored]);
  ds.setNumbers(T.HighBit, 'US', [f.bitsStored - 1]);
  ds.setNumbers(T.PixelRepresentation, 'US', [0]);
}

function lossy(ds: Dataset, isLossy: boolean): void {
  ds.setString(T.LossyImageCompression, 'CS', isLossy ? '01' : '00');
  if (isLossy) ds.setString(T.LossyImageCompressionMethod, 'CS', 'ISO_10918_1');
}

export interface PictureInstance {
  format: PixelFormat;
  frames: number;
  lossy: boolean;
  instanceNumber: number;
  sopInstanceUID: string;
  /** Photos and scanned documents may show names: say YES unless told otherwise, so the
   *  gateway's burned-in-annotation rule can act on them. */
  burnedInAnnotation: boolean;
}

/** The SOP class for a picture: the single-frame SC IOD takes any format; multi-frame needs the
 *  multi-frame SC IOD matching the pixel format (PS3.3 A.8.2-A.8.5). */
export function pictureSopClass(f: PixelFormat, frames: number): string {
  if (frames === 1) return SC_SOP.single;
  if (f.samplesPerPixel === 3) return SC_SOP.trueColor;
  return f.bitsAllocated === 8 ? SC_SOP.grayByte : SC_SOP.grayWord;
}

export function pictureDataset(study: StudyContext, series: SeriesContext, p: PictureInstance): Dataset {
  const sop = pictureSopClass(p.format, p.frames);
  const ds = common(study, series, sop, p.sopInstanceUID, p.instanceNumber);
  ds.setString(T.ConversionType, 'CS', 'WSD');
  ds.setEmpty(T.PatientOrientation, 'CS');
  ds.setString(T.ImageType, 'CS', ['DERIVED', 'SECONDARY']);
  imagePixel(ds, p.format);
  ds.setString(T.BurnedInAnnotation, 'CS', p.burnedInAnnotation ? 'YES' : 'NO');
  lossy(ds, p.lossy);
  if (sop === SC_SOP.grayByte || sop === SC_SOP.grayWord) {
    // PS3.3 C.8.6.3: identity rescale, and a presentation LUT so the display is defined.
    ds.setString(T.RescaleIntercept, 'DS', '0');
    ds.setString(T.RescaleSlope, 'DS', '1');
    ds.setString(T.RescaleType, 'LO', 'US');
    ds.setString(T.PresentationLUTShape, 'CS', 'IDENTITY');
  }
  if (p.frames > 1) {
    ds.setNumbers(T.NumberOfFrames, 'IS', [p.frames]);
    ds.setNumbers(T.FrameIncrementPointer, 'AT', [T.PageNumberVector]);
    ds.setNumbers(T.PageNumberVector, 'IS', Array.from({ length: p.frames }, (_, i) => i + 1));
  }
  return ds;
}

export interface VolumeRescale {
  slope: number;
  intercept: number;
  min: number;
  max: number;
}

export type VolumeKind = 'CT' | 'MR' | 'SC';

export interface SliceInstance {
  format: PixelFormat;
  sopInstanceUID: string;
  instanceNumber: number;
  plane: ImagePlane;
  slice: number;
  /** 0-based volume index and count along NIfTI dim[4]. */
  t: number;
  nt: number;
  rescale: VolumeRescale;
}

/** One slice of a volume as CT Image (A.3) or MR Image (A.4), with the Image Plane module. */
export function sliceDataset(study: StudyContext, series: SeriesContext, kind: 'CT' | 'MR', s: SliceInstance): Dataset {
  const ds = common(study, series, kind === 'CT' ? SOP.CTImageStorage : SOP.MRImageStorage, s.sopInstanceUID, s.instanceNumber);
  // Value 3: AXIAL is a CT defined term (C.8.2.1.1.1); MR has none that fits a derived volume.
  ds.setString(T.ImageType, 'CS', ['DERIVED', 'SECONDARY', kind === 'CT' ? 'AXIAL' : 'OTHER']);
  // General Series 2C: required for CT and MR; unknown for a converted volume, so empty.
  ds.setEmpty(T.PatientPosition, 'CS');
  ds.setString(T.FrameOfReferenceUID, 'UI', series.frameOfReferenceUID!);
  ds.setEmpty(T.PositionReferenceIndicator, 'LO');
  ds.setNumbers(T.AcquisitionNumber, 'IS', [s.t + 1]);
  plane(ds, s.plane, s.slice);
  imagePixel(ds, s.format);
  // The MR IOD has no Modality LUT module: rescale is written only when the values need it
  // (float or out-of-range data), accepting dciodvfy's warning rather than losing real values.
  if (kind === 'CT' || s.rescale.slope !== 1 || s.rescale.intercept !== 0) rescale(ds, s.rescale);
  else window(ds, s.rescale);
  lossy(ds, false);
  if (kind === 'CT') {
    ds.setEmpty(T.KVP, 'DS');
  } else {
    // MR Image module (C.8.3.1): "RM" research mode and no variant say nothing false about how
    // the volume was made; the other type 2 attributes are present and empty.
    ds.setString(T.ScanningSequence, 'CS', 'RM');
    ds.setString(T.SequenceVariant, 'CS', 'NONE');
    for (const [t, vr] of [[T.ScanOptions, 'CS'], [T.MRAcquisitionType, 'CS'], [T.EchoTime, 'DS'], [T.EchoTrainLength, 'IS'],
      [T.RepetitionTime, 'DS']] as [Tag, VR][]) ds.setEmpty(t, vr);
    if (s.nt > 1) {
      ds.setNumbers(T.TemporalPositionIdentifier, 'IS', [s.t + 1]);
      ds.setNumbers(T.NumberOfTemporalPositions, 'IS', [s.nt]);
    }
  }
  return ds;
}

function plane(ds: Dataset, p: ImagePlane, k: number): void {
  ds.setNumbers(T.PixelSpacing, 'DS', p.pixelSpacing.map(round6));
  ds.setNumbers(T.ImageOrientationPatient, 'DS', p.orientation.map(round6));
  ds.setNumbers(T.ImagePositionPatient, 'DS', p.position(k).map(round6));
  ds.setNumbers(T.SliceThickness, 'DS', [round6(p.sliceSpacing)]);
  ds.setNumbers(T.SpacingBetweenSlices, 'DS', [round6(p.sliceSpacing)]);
  ds.setNumbers(T.SliceLocation, 'DS', [round6(p.location(k))]);
}

function rescale(ds: Dataset, r: VolumeRescale): void {
  ds.setNumbers(T.RescaleIntercept, 'DS', [r.intercept]);
  ds.setNumbers(T.RescaleSlope, 'DS', [r.slope]);
  window(ds, r);
}

function window(ds: Dataset, r: VolumeRescale): void {
  ds.setNumbers(T.WindowCenter, 'DS', [round6((r.min + r.max) / 2)]);
  ds.setNumbers(T.WindowWidth, 'DS', [Math.max(1, round6(r.max - r.min))]);
}

export interface VolumeScInstance {
  format: PixelFormat;
  frames: number;
  sopInstanceUID: string;
  instanceNumber: number;
  plane: ImagePlane;
  rescale: VolumeRescale;
}

/** A whole volume as one Multi-frame Grayscale Word SC instance (A.8.3). The SC IOD has no
 *  patient geometry; Pixel Spacing and a Slice Location Vector keep what it can. */
export function volumeScDataset(study: StudyContext, series: SeriesContext, v: VolumeScInstance): Dataset {
  const ds = common(study, series, SC_SOP.grayWord, v.sopInstanceUID, v.instanceNumber);
  ds.setString(T.ConversionType, 'CS', 'WSD');
  ds.setEmpty(T.PatientOrientation, 'CS');
  ds.setString(T.ImageType, 'CS', ['DERIVED', 'SECONDARY']);
  imagePixel(ds, v.format);
  ds.setString(T.BurnedInAnnotation, 'CS', 'NO');
  lossy(ds, false);
  rescale(ds, v.rescale);
  ds.setString(T.RescaleType, 'LO', 'US');
  ds.setString(T.PresentationLUTShape, 'CS', 'IDENTITY');
  ds.setNumbers(T.PixelSpacing, 'DS', v.plane.pixelSpacing.map(round6));
  ds.setNumbers(T.NumberOfFrames, 'IS', [v.frames]);
  ds.setNumbers(T.FrameIncrementPointer, 'AT', [T.SliceLocationVector]);
  ds.setNumbers(T.SliceLocationVector, 'DS', Array.from({ length: v.frames }, (_, k) => round6(v.plane.location(k))));
  return ds;
}

function round6(v: number): number {
  const r = Math.round(v * 1e6) / 1e6;
  return Object.is(r, -0) ? 0 : r;
}
