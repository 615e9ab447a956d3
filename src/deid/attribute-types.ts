// Which attributes the common IODs require (PS3.3 Type 1 or 2). Where Table E.1-1 leaves a choice
// (X/Z, X/D, X/Z/D, Z/D) the Type decides, and a Type 1/2 attribute is never removed: Type 1 gets a
// dummy value, Type 2 an empty one (PS3.15 E.1.1 "X unless Z is required to maintain IOD conformance").
// Only attributes Table E.1-1 lists matter here; 2C/1C are treated as 2/1 because their conditions
// (e.g. "required if the image is temporally related") usually hold for the objects we see.
import { T } from '../dicom/tag.ts';

export type AttributeType = 1 | 2;
export type IodFamily = 'image' | 'enhanced-image' | 'rt' | 'sr' | 'other';

const COMMON: Readonly<Record<number, AttributeType>> = {
  // Patient module (C.7.1.1)
  [T.PatientName]: 2,
  [T.PatientID]: 2,
  [T.PatientBirthDate]: 2,
  [T.PatientSex]: 2,
  // General Study (C.7.2.1)
  [T.StudyInstanceUID]: 1,
  [T.StudyDate]: 2,
  [T.StudyTime]: 2,
  [T.ReferringPhysicianName]: 2,
  [T.StudyID]: 2,
  [T.AccessionNumber]: 2,
  // General Series, Frame of Reference (C.7.4.1), General Equipment (C.7.5.1), SOP Common
  [T.SeriesInstanceUID]: 1,
  [T.FrameOfReferenceUID]: 1,
  [T.PositionReferenceIndicator]: 2,
  [T.Manufacturer]: 2,
  [T.SOPInstanceUID]: 1,
};

const BY_FAMILY: Readonly<Record<IodFamily, Readonly<Record<number, AttributeType>>>> = {
  // General Image (C.7.6.1): Content Date/Time 2C
  image: { [T.ContentDate]: 2, [T.ContentTime]: 2, [T.ContrastBolusAgent]: 2 },
  // Enhanced CT/MR/XA: Enhanced General Equipment (C.7.5.2), Multi-frame Functional Groups, Acquisition Context (C.7.6.14)
  'enhanced-image': {
    [T.ContentDate]: 1,
    [T.ContentTime]: 1,
    [T.AcquisitionDateTime]: 1,
    [T.DeviceSerialNumber]: 1,
    [T.AcquisitionContextSequence]: 2,
    [T.ContrastBolusAgent]: 2,
  },
  rt: {
    // RT Series (C.8.8.1)
    [T.OperatorsName]: 2,
    [T.ContentDate]: 2,
    [T.ContentTime]: 2,
    // Structure Set (C.8.8.5), RT ROI Observations (C.8.8.8)
    [T.StructureSetDate]: 2,
    [T.StructureSetTime]: 2,
    [T.ROIInterpreter]: 2,
    // RT General Plan (C.8.8.9), Approval (C.8.8.16), RT Beams (C.8.8.14)
    [T.RTPlanDate]: 2,
    [T.RTPlanTime]: 2,
    [T.ReviewDate]: 2,
    [T.ReviewTime]: 2,
    [T.ReviewerName]: 2,
    [T.TreatmentMachineName]: 2,
  },
  // SR Document Series (C.17.1), SR Document General (C.17.2), SR Document Content (C.17.3)
  sr: {
    [T.ContentDate]: 1,
    [T.ContentTime]: 1,
    [T.ReferencedPerformedProcedureStepSequence]: 2,
    [T.VerifyingObserverName]: 1,
    [T.VerifyingOrganization]: 2,
    [T.VerificationDateTime]: 1,
    [T.VerifyingObserverIdentificationCodeSequence]: 2,
    [T.PersonName]: 1,
    [T.DateTime]: 1,
    [T.Date]: 1,
    [T.Time]: 1,
    [T.UID]: 1,
    [T.ContentSequence]: 1,
    [T.VerifyingObserverSequence]: 1,
  },
  other: { [T.ContentDate]: 2, [T.ContentTime]: 2 },
};

const ENHANCED = new Set([
  '1.2.840.10008.5.1.4.1.1.2.1', // Enhanced CT
  '1.2.840.10008.5.1.4.1.1.4.1', // Enhanced MR
  '1.2.840.10008.5.1.4.1.1.4.3', // Enhanced MR Color
  '1.2.840.10008.5.1.4.1.1.12.1.1', // Enhanced XA
  '1.2.840.10008.5.1.4.1.1.130', // Enhanced PET
]);
const RT_PREFIX = '1.2.840.10008.5.1.4.1.1.481.';
const SR_PREFIX = '1.2.840.10008.5.1.4.1.1.88.';
const IMAGE = new Set([
  '1.2.840.10008.5.1.4.1.1.2', // CT
  '1.2.840.10008.5.1.4.1.1.4', // MR
  '1.2.840.10008.5.1.4.1.1.128', // PET
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture
  '1.2.840.10008.5.1.4.1.1.6.1', // US
  '1.2.840.10008.5.1.4.1.1.1', // CR
  '1.2.840.10008.5.1.4.1.1.1.1', // DX
  '1.2.840.10008.5.1.4.1.1.20', // NM
]);

export function iodFamily(sopClassUid: string | undefined): IodFamily {
  if (sopClassUid === undefined) return 'other';
  if (ENHANCED.has(sopClassUid)) return 'enhanced-image';
  if (sopClassUid.startsWith(RT_PREFIX)) return 'rt';
  if (sopClassUid.startsWith(SR_PREFIX)) return 'sr';
  return IMAGE.has(sopClassUid) ? 'image' : 'other';
}

/** 1, 2, or undefined (Type 3, or not in the IOD). */
export function attributeType(family: IodFamily, t: number): AttributeType | undefined {
  return BY_FAMILY[family][t] ?? COMMON[t];
}
