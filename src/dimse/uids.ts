// UIDs the network layer needs to negotiate by itself (PS3.4, PS3.6 Annex A). The full registry
// with names lives in src/dicom/uids.ts; this list is only what association decisions depend on.

export { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/implementation.ts';

export const TS = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
} as const;

export const SOP = {
  Verification: '1.2.840.10008.1.1',
  PatientRootFind: '1.2.840.10008.5.1.4.1.2.1.1',
  PatientRootMove: '1.2.840.10008.5.1.4.1.2.1.2',
  PatientRootGet: '1.2.840.10008.5.1.4.1.2.1.3',
  StudyRootFind: '1.2.840.10008.5.1.4.1.2.2.1',
  StudyRootMove: '1.2.840.10008.5.1.4.1.2.2.2',
  StudyRootGet: '1.2.840.10008.5.1.4.1.2.2.3',
} as const;

export type QueryModel = 'patient' | 'study';

export const QR_SOP: Readonly<Record<QueryModel, { find: string; move: string; get: string }>> = {
  patient: { find: SOP.PatientRootFind, move: SOP.PatientRootMove, get: SOP.PatientRootGet },
  study: { find: SOP.StudyRootFind, move: SOP.StudyRootMove, get: SOP.StudyRootGet },
};

/** Storage SOP classes outside the 1.2.840.10008.5.1.4.1.1 arc (PS3.4 Table B.5-1). */
const STORAGE_OUTSIDE_ARC = new Set([
  '1.2.840.10008.5.1.4.34.7', // RT Beams Delivery Instruction Storage
  '1.2.840.10008.5.1.4.34.10', // RT Brachy Application Setup Delivery Instruction Storage
  '1.2.840.10008.5.1.4.38.1', // Hanging Protocol Storage
  '1.2.840.10008.5.1.4.39.1', // Color Palette Storage
  '1.2.840.10008.5.1.4.43.1', // Generic Implant Template Storage
  '1.2.840.10008.5.1.4.44.1', // Implant Assembly Template Storage
  '1.2.840.10008.5.1.4.45.1', // Implant Template Group Storage
]);

/**
 * Whether an abstract syntax is a storage SOP class. Standard storage classes sit under
 * 1.2.840.10008.5.1.4.1.1 (plus a few listed above); SOP classes outside the DICOM root are
 * vendor private, and in practice private storage classes (e.g. vendor raw data), so they count too.
 */
export function isStorageSopClass(uid: string): boolean {
  if (uid.startsWith('1.2.840.10008.5.1.4.1.1.')) return true;
  if (STORAGE_OUTSIDE_ARC.has(uid)) return true;
  return !uid.startsWith('1.2.840.10008.');
}

/** The transfer syntaxes whose datasets the network layer itself must parse (identifiers). */
export const UNCOMPRESSED_LE: readonly string[] = [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian];
