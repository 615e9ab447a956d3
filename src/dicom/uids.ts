// Well-known UIDs (PS3.6 Annex A): transfer syntaxes with their encoding, and common storage SOP classes.

export interface TransferSyntax {
  uid: string;
  name: string;
  explicitVR: boolean;
  littleEndian: boolean;
  /** Dataset after the file meta is a raw deflate stream (PS3.5 A.5). */
  deflated: boolean;
  /** Pixel data is encapsulated (PS3.5 A.4). */
  encapsulated: boolean;
  retired?: boolean;
}

export const TS = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  EncapsulatedUncompressedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.98',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JPEGBaseline8Bit: '1.2.840.10008.1.2.4.50',
  JPEGExtended12Bit: '1.2.840.10008.1.2.4.51',
  JPEGLossless: '1.2.840.10008.1.2.4.57',
  JPEGLosslessSV1: '1.2.840.10008.1.2.4.70',
  JPEGLSLossless: '1.2.840.10008.1.2.4.80',
  JPEGLSNearLossless: '1.2.840.10008.1.2.4.81',
  JPEG2000Lossless: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  JPEG2000MCLossless: '1.2.840.10008.1.2.4.92',
  JPEG2000MC: '1.2.840.10008.1.2.4.93',
  JPIPReferenced: '1.2.840.10008.1.2.4.94',
  JPIPReferencedDeflate: '1.2.840.10008.1.2.4.95',
  MPEG2MPML: '1.2.840.10008.1.2.4.100',
  MPEG2MPHL: '1.2.840.10008.1.2.4.101',
  MPEG4HP41: '1.2.840.10008.1.2.4.102',
  MPEG4HP41BD: '1.2.840.10008.1.2.4.103',
  HEVCMP51: '1.2.840.10008.1.2.4.107',
  HighThroughputJPEG2000Lossless: '1.2.840.10008.1.2.4.201',
  HighThroughputJPEG2000RPCLLossless: '1.2.840.10008.1.2.4.202',
  HighThroughputJPEG2000: '1.2.840.10008.1.2.4.203',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;

const NAMES: Record<string, string> = {
  [TS.ImplicitVRLittleEndian]: 'Implicit VR Little Endian',
  [TS.ExplicitVRLittleEndian]: 'Explicit VR Little Endian',
  [TS.EncapsulatedUncompressedExplicitVRLittleEndian]: 'Encapsulated Uncompressed Explicit VR Little Endian',
  [TS.DeflatedExplicitVRLittleEndian]: 'Deflated Explicit VR Little Endian',
  [TS.ExplicitVRBigEndian]: 'Explicit VR Big Endian (retired)',
  [TS.JPEGBaseline8Bit]: 'JPEG Baseline (Process 1)',
  [TS.JPEGExtended12Bit]: 'JPEG Extended (Process 2 & 4)',
  [TS.JPEGLossless]: 'JPEG Lossless, Non-Hierarchical (Process 14)',
  [TS.JPEGLosslessSV1]: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
  [TS.JPEGLSLossless]: 'JPEG-LS Lossless Image Compression',
  [TS.JPEGLSNearLossless]: 'JPEG-LS Lossy (Near-Lossless) Image Compression',
  [TS.JPEG2000Lossless]: 'JPEG 2000 Image Compression (Lossless Only)',
  [TS.JPEG2000]: 'JPEG 2000 Image Compression',
  [TS.JPEG2000MCLossless]: 'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)',
  [TS.JPEG2000MC]: 'JPEG 2000 Part 2 Multi-component Image Compression',
  [TS.JPIPReferenced]: 'JPIP Referenced',
  [TS.JPIPReferencedDeflate]: 'JPIP Referenced Deflate',
  [TS.MPEG2MPML]: 'MPEG2 Main Profile / Main Level',
  [TS.MPEG2MPHL]: 'MPEG2 Main Profile / High Level',
  [TS.MPEG4HP41]: 'MPEG-4 AVC/H.264 High Profile / Level 4.1',
  [TS.MPEG4HP41BD]: 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1',
  [TS.HEVCMP51]: 'HEVC/H.265 Main Profile / Level 5.1',
  [TS.HighThroughputJPEG2000Lossless]: 'High-Throughput JPEG 2000 Image Compression (Lossless Only)',
  [TS.HighThroughputJPEG2000RPCLLossless]: 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)',
  [TS.HighThroughputJPEG2000]: 'High-Throughput JPEG 2000 Image Compression',
  [TS.RLELossless]: 'RLE Lossless',
};

/** Encoding facts for a transfer syntax UID. Unknown UIDs are treated as encapsulated explicit VR
 *  little endian, which is what every compressed transfer syntax defined so far uses (PS3.5 A.4). */
export function transferSyntax(uid: string): TransferSyntax {
  const name = NAMES[uid] ?? `Unknown transfer syntax ${uid}`;
  if (uid === TS.ImplicitVRLittleEndian) return { uid, name, explicitVR: false, littleEndian: true, deflated: false, encapsulated: false };
  if (uid === TS.ExplicitVRLittleEndian) return { uid, name, explicitVR: true, littleEndian: true, deflated: false, encapsulated: false };
  if (uid === TS.ExplicitVRBigEndian) return { uid, name, explicitVR: true, littleEndian: false, deflated: false, encapsulated: false, retired: true };
  if (uid === TS.DeflatedExplicitVRLittleEndian || uid === TS.JPIPReferencedDeflate) {
    return { uid, name, explicitVR: true, littleEndian: true, deflated: true, encapsulated: false };
  }
  return { uid, name, explicitVR: true, littleEndian: true, deflated: false, encapsulated: uid !== TS.JPIPReferenced };
}

export function isKnownTransferSyntax(uid: string): boolean {
  return NAMES[uid] !== undefined;
}

/** Common storage SOP classes (PS3.4 Table B.5-1), the ones a radiotherapy research PACS meets. */
export const SOP = {
  Verification: '1.2.840.10008.1.1',
  MediaStorageDirectoryStorage: '1.2.840.10008.1.3.10',
  ComputedRadiographyImageStorage: '1.2.840.10008.5.1.4.1.1.1',
  DigitalXRayImageStorageForPresentation: '1.2.840.10008.5.1.4.1.1.1.1',
  DigitalMammographyXRayImageStorageForPresentation: '1.2.840.10008.5.1.4.1.1.1.2',
  CTImageStorage: '1.2.840.10008.5.1.4.1.1.2',
  EnhancedCTImageStorage: '1.2.840.10008.5.1.4.1.1.2.1',
  UltrasoundMultiFrameImageStorage: '1.2.840.10008.5.1.4.1.1.3.1',
  MRImageStorage: '1.2.840.10008.5.1.4.1.1.4',
  EnhancedMRImageStorage: '1.2.840.10008.5.1.4.1.1.4.1',
  MRSpectroscopyStorage: '1.2.840.10008.5.1.4.1.1.4.2',
  UltrasoundImageStorage: '1.2.840.10008.5.1.4.1.1.6.1',
  SecondaryCaptureImageStorage: '1.2.840.10008.5.1.4.1.1.7',
  MultiFrameGrayscaleWordSecondaryCaptureImageStorage: '1.2.840.10008.5.1.4.1.1.7.3',
  TwelveLeadECGWaveformStorage: '1.2.840.10008.5.1.4.1.1.9.1.1',
  GrayscaleSoftcopyPresentationStateStorage: '1.2.840.10008.5.1.4.1.1.11.1',
  XRayAngiographicImageStorage: '1.2.840.10008.5.1.4.1.1.12.1',
  XRay3DAngiographicImageStorage: '1.2.840.10008.5.1.4.1.1.13.1.1',
  NuclearMedicineImageStorage: '1.2.840.10008.5.1.4.1.1.20',
  RawDataStorage: '1.2.840.10008.5.1.4.1.1.66',
  SpatialRegistrationStorage: '1.2.840.10008.5.1.4.1.1.66.1',
  SpatialFiducialsStorage: '1.2.840.10008.5.1.4.1.1.66.2',
  DeformableSpatialRegistrationStorage: '1.2.840.10008.5.1.4.1.1.66.3',
  SegmentationStorage: '1.2.840.10008.5.1.4.1.1.66.4',
  SurfaceSegmentationStorage: '1.2.840.10008.5.1.4.1.1.66.5',
  RealWorldValueMappingStorage: '1.2.840.10008.5.1.4.1.1.67',
  VLPhotographicImageStorage: '1.2.840.10008.5.1.4.1.1.77.1.4',
  BasicTextSRStorage: '1.2.840.10008.5.1.4.1.1.88.11',
  EnhancedSRStorage: '1.2.840.10008.5.1.4.1.1.88.22',
  ComprehensiveSRStorage: '1.2.840.10008.5.1.4.1.1.88.33',
  Comprehensive3DSRStorage: '1.2.840.10008.5.1.4.1.1.88.34',
  KeyObjectSelectionDocumentStorage: '1.2.840.10008.5.1.4.1.1.88.59',
  XRayRadiationDoseSRStorage: '1.2.840.10008.5.1.4.1.1.88.67',
  EncapsulatedPDFStorage: '1.2.840.10008.5.1.4.1.1.104.1',
  PositronEmissionTomographyImageStorage: '1.2.840.10008.5.1.4.1.1.128',
  EnhancedPETImageStorage: '1.2.840.10008.5.1.4.1.1.130',
  RTImageStorage: '1.2.840.10008.5.1.4.1.1.481.1',
  RTDoseStorage: '1.2.840.10008.5.1.4.1.1.481.2',
  RTStructureSetStorage: '1.2.840.10008.5.1.4.1.1.481.3',
  RTBeamsTreatmentRecordStorage: '1.2.840.10008.5.1.4.1.1.481.4',
  RTPlanStorage: '1.2.840.10008.5.1.4.1.1.481.5',
  RTBrachyTreatmentRecordStorage: '1.2.840.10008.5.1.4.1.1.481.6',
  RTTreatmentSummaryRecordStorage: '1.2.840.10008.5.1.4.1.1.481.7',
  RTIonPlanStorage: '1.2.840.10008.5.1.4.1.1.481.8',
  RTIonBeamsTreatmentRecordStorage: '1.2.840.10008.5.1.4.1.1.481.9',
  RTPhysicianIntentStorage: '1.2.840.10008.5.1.4.1.1.481.10',
  RTSegmentAnnotationStorage: '1.2.840.10008.5.1.4.1.1.481.11',
  RTRadiationSetStorage: '1.2.840.10008.5.1.4.1.1.481.12',
  CArmPhotonElectronRadiationStorage: '1.2.840.10008.5.1.4.1.1.481.13',
  RTBeamsDeliveryInstructionStorage: '1.2.840.10008.5.1.4.34.7',
} as const;

const SOP_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(SOP).map(([k, v]) => [v, k.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')]),
);

/** Human name for a well-known UID (transfer syntax or SOP class), undefined when unknown. */
export function uidName(uid: string): string | undefined {
  return NAMES[uid] ?? SOP_NAMES[uid];
}

/** The storage SOP classes above (without Verification and the DICOMDIR class), for SCP presentation contexts. */
export const STORAGE_SOP_CLASSES: readonly string[] = Object.entries(SOP)
  .filter(([k]) => k !== 'Verification' && k !== 'MediaStorageDirectoryStorage')
  .map(([, v]) => v);
