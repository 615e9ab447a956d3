// Dummy values for the D action (PS3.15 E.1.1: "replace with a non-zero length value that may be a dummy
// value and consistent with the VR"). They carry no information about the original.
import type { VR } from '../dicom/vr.ts';

const DUMMY: Partial<Record<VR, string>> = {
  AE: 'ANONYMIZED',
  AS: '000D',
  CS: 'ANONYMIZED',
  DA: '19000101',
  DS: '0',
  DT: '19000101000000',
  IS: '0',
  LO: 'ANONYMIZED',
  LT: 'ANONYMIZED',
  PN: 'ANONYMIZED^', // with a component separator: a bare name reads as the retired PN form
  SH: 'ANONYMIZED',
  ST: 'ANONYMIZED',
  TM: '000000',
  UC: 'ANONYMIZED',
  UT: 'ANONYMIZED',
};

/** Dummy text for a string VR; undefined for VRs without one (binary, UI, SQ, UR). */
export function dummyValue(vr: VR): string | undefined {
  return DUMMY[vr];
}

/** VRs that hold free text or names: what "clean" and dummy content sequences act on. */
export const TEXT_VRS: ReadonlySet<VR> = new Set<VR>(['AE', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);
